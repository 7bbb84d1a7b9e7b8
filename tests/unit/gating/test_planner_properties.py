"""Properties of the gate under random histories: approvals, build results,
new patch sets, abandons and merge conflicts over a few projects, two of them
sharing a queue."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockgate.testing.gate_driver import FakeChange, GateDriver, baseline_layout

PROJECTS = ("org/project", "org/project1", "org/project2")
QUEUE = {"org/project": "org/project", "org/project1": "integrated", "org/project2": "integrated"}
RESULTS = (*("SUCCESS",) * 8, "FAILURE", "RETRY", "NODE_FAILURE")

KINDS = (
    *("add",) * 3,
    *("approve",) * 4,
    *("finish",) * 5,
    "new_patchset",
    "abandon",
    "conflict",
    "unapprove",
)
step = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 30),
    st.integers(0, 30),
    st.booleans(),
    st.sampled_from(RESULTS),
)


def run(
    steps: list[tuple[object, ...]], restart_at: int | None = None
) -> tuple[GateDriver, list[FakeChange]]:
    d = GateDriver(baseline_layout(window=3, window_floor=1))
    d.hold_jobs_in_build = True
    changes: list[FakeChange] = []

    def pick(n: object) -> FakeChange | None:
        assert isinstance(n, int)
        return changes[n % len(changes)] if changes else None

    for n, (kind, first, second, flag, result) in enumerate(steps):
        if n == restart_at:
            d.restart()
        if kind == "add":
            change = d.add_change(PROJECTS[int(first) % 3], f"C{len(changes) + 1}")
            parent = pick(second)
            if parent is not None and parent.status == "NEW" and flag and int(first) % 2:
                if parent.project == change.project:
                    d.set_parent(change, parent)
                else:
                    d.depends_on(change, parent)
            changes.append(change)
            if flag:
                d.upload(change)
            if int(second) % 3:  # most changes are approved as soon as they are up
                d.approve(change)
            continue
        target = pick(first)
        if kind == "finish":
            d.finish_one(int(first), str(result))
        elif target is None or target.status != "NEW":
            continue
        elif kind == "approve":
            d.approve(target)
        elif kind == "unapprove":
            d.vote(target, "Workflow", 0)
        elif kind == "new_patchset":
            d.new_patchset(target)
        elif kind == "abandon":
            d.abandon(target)
        elif kind == "conflict":
            other = pick(second)
            if other is not None and other is not target:
                d.conflict(target, other)
    d.hold_jobs_in_build = False
    d.release()
    return d, changes


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=1, max_size=40))
def test_the_gate_merges_only_what_it_tested_in_queue_order_and_settles(
    steps: list[tuple[object, ...]],
) -> None:
    d, changes = run(steps)
    # every voting job of the final build set passed, on exactly the branch tip
    # and the changes merged ahead of it
    assert not d.untested_merges
    assert not d.double_merges
    assert not d.out_of_order_merges
    # merges follow the order the changes entered their gate queue
    entered: dict[str, int] = {}
    for n, report in enumerate(d.reports):
        if report.pipeline == "gate" and report.action == "start":
            entered[report.change.key] = n  # a change back in the gate entered again
    by_key = {c.key: c for c in changes}
    for queue in set(QUEUE.values()):
        merged = [k for k in d.merges if QUEUE[by_key[k].project] == queue]
        assert merged == sorted(merged, key=lambda k: entered[k])
    # every queue settled: nothing left in any pipeline, nothing running
    assert not d.gate.state.items
    assert not d.running
    assert not d.gate.state.semaphores
    # the state still round-trips through its saved form
    from lockgate.core.gating.codec import from_dict, to_dict

    assert from_dict(to_dict(d.gate.state)) == d.gate.state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=30), st.integers(1, 30))
def test_a_restart_at_any_point_changes_nothing_about_what_merges(
    steps: list[tuple[object, ...]], cut: int
) -> None:
    d, _ = run(steps, restart_at=cut)
    assert not d.untested_merges
    assert not d.double_merges
    assert not d.gate.state.items
