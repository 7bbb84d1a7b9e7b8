"""Stories of the node planner: who is served first, whole or not at all,
waiting at max-servers, reusing ready nodes and keeping min-ready."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.core.nodes.model import BUILDING, DELETING, IN_USE, READY, Node, NodeRequest
from lockgate.core.nodes.planning import (
    COUNTED_STATES,
    Decline,
    Fill,
    Pool,
    Wait,
    plan_round,
    queue,
    surplus,
    top_ups,
)

SMALL = Pool("local", "main", frozenset({"small", "big"}), max_servers=2)


def request(rid: str, *labels: str, precedence: int = 1, priority: int = 0, age: float = 0.0):
    return NodeRequest(rid, tuple(labels), f"build-{rid}", precedence, priority, created=age)


def node(nid: str, label: str, state: str = READY, request: str | None = None, pool=SMALL):
    return Node(nid, label, pool.provider, pool.name, state, 0.0, 0.0, request=request)


def test_requests_are_served_by_precedence_then_relative_priority_then_age():
    low = request("low", "small", precedence=2)
    late = request("late", "small", age=5.0)
    early = request("early", "small", age=1.0)
    behind = request("behind", "small", priority=1)
    high = request("high", "small", precedence=0, age=9.0)
    assert [r.id for r in queue([low, late, early, behind, high])] == [
        "high",
        "early",
        "late",
        "behind",
        "low",
    ]


def test_a_request_for_a_label_nobody_serves_is_declined_naming_the_label():
    [plan] = plan_round([request("r", "small", "gpu")], [SMALL], [])
    assert plan == Decline("r", "no provider serves label gpu")


def test_labels_split_over_two_pools_are_declined_because_a_request_is_filled_whole():
    other = Pool("static", "hosts", frozenset({"arm"}), max_servers=5)
    [plan] = plan_round([request("r", "small", "arm")], [SMALL, other], [])
    assert isinstance(plan, Decline)
    assert "no single pool serves every label" in plan.reason


def test_a_request_larger_than_every_pool_is_declined_not_left_waiting():
    [plan] = plan_round([request("r", "small", "small", "small")], [SMALL], [])
    assert isinstance(plan, Decline)
    assert "max-servers 2" in plan.reason


def test_a_full_pool_makes_the_request_wait_and_lower_ones_behind_it_too():
    busy = [node("n1", "small", IN_USE, "x")]
    first = request("first", "small", "big", age=1.0)
    second = request("second", "small", age=2.0)
    plans = plan_round([second, first], [SMALL], busy)
    assert isinstance(plans[0], Wait) and plans[0].request == "first"
    # the pool paused for `first`: `second` does not take the one free server
    assert isinstance(plans[1], Wait) and plans[1].request == "second"


def test_deleting_nodes_do_not_count_against_max_servers():
    plans = plan_round([request("r", "small", "big")], [SMALL], [node("n", "small", DELETING)])
    assert isinstance(plans[0], Fill)


def test_ready_nodes_nobody_holds_are_reused_before_launching():
    roomy = Pool("local", "main", frozenset({"small", "big"}), max_servers=3)
    ready = [node("spare", "big"), node("taken", "small", request="other")]
    [plan] = plan_round([request("r", "small", "big")], [roomy], ready)
    assert plan == Fill("r", "local", "main", reuse=((1, "spare"),), launch=((0, "small"),))
    # with max-servers 2 the pool is full: the spare node alone cannot fill it
    [plan] = plan_round([request("r", "small", "big")], [SMALL], ready)
    assert isinstance(plan, Wait)


def test_the_pool_with_ready_nodes_wins_over_an_empty_one():
    other = Pool("local", "second", frozenset({"small"}), max_servers=9)
    ready = [node("spare", "small", pool=other)]
    [plan] = plan_round([request("r", "small")], [SMALL, other], ready)
    assert isinstance(plan, Fill) and plan.pool == "second" and plan.reuse == ((0, "spare"),)


def test_one_round_does_not_give_the_same_capacity_twice():
    plans = plan_round(
        [request("a", "small", age=1), request("b", "small", "big", age=2)], [SMALL], []
    )
    assert isinstance(plans[0], Fill)
    assert isinstance(plans[1], Wait)


def test_min_ready_tops_up_within_max_servers_counting_building_nodes():
    nodes = [node("b", "small", BUILDING)]
    assert [t.label for t in top_ups({"small": 3}, [SMALL], nodes)] == ["small"]
    assert top_ups({"small": 1}, [SMALL], nodes) == []


def test_surplus_ready_nodes_beyond_min_ready_go_oldest_first():
    nodes = [
        Node("old", "small", "local", "main", READY, 1.0, 1.0),
        Node("new", "small", "local", "main", READY, 2.0, 2.0),
        Node("held", "small", "local", "main", READY, 0.0, 0.0, request="r"),
    ]
    assert surplus({"small": 1}, nodes) == ["old"]
    assert surplus({}, nodes, keep={"old"}) == ["new"]


LABELS = ["a", "b", "c"]
POOLS = [
    Pool("p1", "one", frozenset({"a", "b"}), 3),
    Pool("p2", "two", frozenset({"b", "c"}), 2),
]
states = st.sampled_from([BUILDING, READY, IN_USE, DELETING])


@st.composite
def worlds(draw):
    existing = []
    for i in range(draw(st.integers(0, 6))):
        pool = draw(st.sampled_from(POOLS))
        label = draw(st.sampled_from(sorted(pool.labels)))
        holder = draw(st.sampled_from([None, "someone"]))
        existing.append(
            Node(f"n{i}", label, pool.provider, pool.name, draw(states), i, i, request=holder)
        )
    requests = [
        NodeRequest(
            f"r{i}",
            tuple(draw(st.lists(st.sampled_from(LABELS), max_size=4))),
            "b",
            draw(st.integers(0, 2)),
            draw(st.integers(0, 3)),
            float(i),
        )
        for i in range(draw(st.integers(1, 6)))
    ]
    return existing, requests


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_no_request_is_filled_partly_or_past_max_servers_or_with_a_node_twice(world):
    existing, requests = world
    plans = plan_round(requests, POOLS, existing)
    by_id = {r.id: r for r in requests}
    used = {
        p.key: sum(
            1 for n in existing if (n.provider, n.pool) == p.key and n.state in COUNTED_STATES
        )
        for p in POOLS
    }
    given_out: set[str] = set()
    for plan in plans:
        if not isinstance(plan, Fill):
            continue
        wanted = by_id[plan.request].labels
        slots = sorted([s for s, _ in plan.reuse] + [s for s, _ in plan.launch])
        assert slots == list(range(len(wanted)))  # whole: every slot exactly once
        pool = next(p for p in POOLS if p.key == (plan.provider, plan.pool))
        assert set(wanted) <= pool.labels
        for slot, nid in plan.reuse:
            reused = next(n for n in existing if n.id == nid)
            assert reused.state == READY and reused.request is None
            assert reused.label == wanted[slot] and nid not in given_out
            given_out.add(nid)
        used[pool.key] += len(plan.launch)
    for pool in POOLS:
        before = sum(
            1 for n in existing if (n.provider, n.pool) == pool.key and n.state in COUNTED_STATES
        )
        assert used[pool.key] <= max(pool.max_servers, before)
