"""The node launcher on SQLite and PostgreSQL, against a fake provider: requests
filled whole, retries then a decline, release and delete, holds and their
expiry, quota, min-ready, and a restart that leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lockgate.adapters.db import node_store as store
from lockgate.adapters.db.engine import make_engine, read_transaction, write_transaction
from lockgate.adapters.db.migrate import upgrade
from lockgate.core.nodes.model import (
    CANCELED,
    DECLINED,
    FULFILLED,
    HOLD,
    IN_USE,
    READY,
    REQUESTED,
    Autohold,
)
from lockgate.services.launcher import NodeLauncher, NodeLost
from lockgate.services.node_ports import PoolInfo
from lockgate.testing.fake_provider import FakeProvider


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'nodes.db'}"
    made = make_engine(database_url)
    upgrade(made)
    yield made
    made.dispose()


def pool(max_servers: int = 4, retries: int = 3, boot_timeout: float = 60.0) -> PoolInfo:
    return PoolInfo("main", frozenset({"small", "big"}), max_servers, retries, boot_timeout)


def launcher_for(engine: Engine, provider: FakeProvider, **kwargs) -> NodeLauncher:
    kwargs.setdefault("clock", Clock())
    return NodeLauncher(engine, [provider], **kwargs)


def run(launcher: NodeLauncher, until: Callable[[], bool], limit: int = 60) -> None:
    for _ in range(limit):
        if until():
            return
        launcher.step()
    raise AssertionError("the launcher did not get there")


def settle(launcher: NodeLauncher) -> None:
    launcher.step()
    run(launcher, lambda: not launcher.busy())


def state(launcher: NodeLauncher, request: str) -> str:
    return launcher.get(request).state


def rows(engine: Engine) -> int:
    with read_transaction(engine) as conn:
        return len(store.nodes(conn))


def test_a_request_is_filled_whole_used_released_and_nothing_is_left(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool()], steps=3)
    launcher = launcher_for(engine, provider)
    rid = launcher.request("build-1", ["small", "big"], precedence=1, relative_priority=0)

    run(launcher, lambda: state(launcher, rid) == FULFILLED)
    done = launcher.wait(rid, timeout=1)
    labels = {n.id: n.label for n in launcher.nodes()}
    assert [labels[n] for n in done.nodes] == ["small", "big"]  # in the nodeset's order
    assert done.provider == "fake"

    nodes = launcher.accept(rid)
    assert [n.label for n in nodes] == ["small", "big"]
    assert {n.state for n in nodes} == {IN_USE}
    assert all(n.connection["ansible_connection"] == "local" for n in nodes)

    launcher.release([n.id for n in nodes])
    settle(launcher)
    assert rows(engine) == 0
    assert provider.held() == []


def test_the_launcher_thread_fills_requests_that_wait_blocks_on(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool()], steps=3)
    launcher = NodeLauncher(engine, [provider], interval=0.02)
    launcher.start()
    try:
        rid = launcher.request("b", ["small", "small"], precedence=1, relative_priority=0)
        assert launcher.wait(rid, timeout=30).state == FULFILLED
        nodes = launcher.accept(rid)
        launcher.release([n.id for n in nodes])
        for _ in range(300):
            if rows(engine) == 0:
                break
            time.sleep(0.02)
        assert rows(engine) == 0 and provider.held() == []
    finally:
        launcher.stop()
    with pytest.raises(TimeoutError, match="still requested"):
        launcher.wait(launcher.request("c", ["small"], precedence=1, relative_priority=0), 0.05)


def test_the_external_id_is_saved_as_soon_as_the_provider_has_one(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool()], steps=50)
    launcher = launcher_for(engine, provider)
    launcher.request("b", ["small"], precedence=1, relative_priority=0)
    launcher.step()  # takes the request and creates the launch
    launcher.step()  # first advance: the provider names its machine
    with read_transaction(engine) as conn:
        [stored] = store.nodes(conn)
    assert stored.external_id == provider.held()[0]


def test_failed_launches_are_retried_then_the_request_is_declined(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool(retries=3)])
    launcher = launcher_for(engine, provider)
    provider.fail(2)
    lucky = launcher.request("b1", ["small"], precedence=1, relative_priority=0)
    run(launcher, lambda: state(launcher, lucky) == FULFILLED)
    [node] = launcher.accept(lucky)
    assert node.launch_attempts == 3

    provider.fail(3, label="big")
    doomed = launcher.request("b2", ["small", "big"], precedence=1, relative_priority=0)
    run(launcher, lambda: state(launcher, doomed) == DECLINED)
    assert "failed 3 times (launch-retries 3)" in launcher.get(doomed).reason
    launcher.release([node.id])
    settle(launcher)
    # every attempt's leftovers, the failed node and the other one are gone
    assert provider.held() == []
    assert rows(engine) == 0


def test_a_launch_that_hangs_past_boot_timeout_counts_as_a_failure(engine: Engine) -> None:
    clock = Clock()
    provider = FakeProvider(pools=[pool(retries=1, boot_timeout=30)])
    launcher = launcher_for(engine, provider, clock=clock)
    provider.hang = True
    rid = launcher.request("b", ["small"], precedence=1, relative_priority=0)
    launcher.step()
    launcher.step()
    assert state(launcher, rid) == "pending"
    clock.now += 31
    launcher.step()
    assert state(launcher, rid) == DECLINED
    assert "boot-timeout 30 s" in launcher.get(rid).reason
    settle(launcher)
    assert provider.held() == [] and rows(engine) == 0


def test_a_label_no_pool_serves_is_declined_at_once(engine: Engine) -> None:
    launcher = launcher_for(engine, FakeProvider(pools=[pool()]))
    rid = launcher.request("b", ["small", "gpu"], precedence=1, relative_priority=0)
    launcher.step()
    found = launcher.get(rid)
    assert (found.state, found.reason) == (DECLINED, "no provider serves label gpu")


def test_an_empty_nodeset_is_fulfilled_without_the_loop(engine: Engine) -> None:
    launcher = launcher_for(engine, FakeProvider(pools=[pool()]))
    rid = launcher.request("b", [], precedence=1, relative_priority=0)
    assert launcher.wait(rid, timeout=0.1).state == FULFILLED
    assert launcher.accept(rid) == []


def test_at_max_servers_requests_wait_and_the_highest_priority_goes_first(engine: Engine) -> None:
    clock = Clock()
    provider = FakeProvider(pools=[pool(max_servers=1)], steps=1)
    launcher = launcher_for(engine, provider, clock=clock)
    first = launcher.request("first", ["small"], precedence=1, relative_priority=0)
    run(launcher, lambda: state(launcher, first) == FULFILLED)
    [node] = launcher.accept(first)

    clock.now += 1
    low = launcher.request("low", ["small"], precedence=2, relative_priority=0)
    clock.now += 1
    high = launcher.request("high", ["small"], precedence=0, relative_priority=0)
    for _ in range(5):
        launcher.step()
    assert (state(launcher, low), state(launcher, high)) == (REQUESTED, REQUESTED)
    assert len(provider.held()) == 1  # never past max-servers

    launcher.release([node.id])
    run(launcher, lambda: state(launcher, high) == FULFILLED)
    assert state(launcher, low) == REQUESTED


def test_min_ready_nodes_are_kept_booted_and_handed_out_first(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool()], steps=2)
    launcher = launcher_for(engine, provider, min_ready={"small": 2})
    run(launcher, lambda: len(launcher.nodes([READY])) == 2)
    spare = {n.id for n in launcher.nodes([READY])}
    launches = provider.launches

    rid = launcher.request("b", ["small"], precedence=1, relative_priority=0)
    launcher.step()
    assert state(launcher, rid) == FULFILLED
    assert set(launcher.get(rid).nodes) <= spare
    # the taken node is replaced
    run(launcher, lambda: provider.launches == launches + 1 and not launcher.busy())
    assert len([n for n in launcher.nodes([READY]) if n.request is None]) == 2


def test_a_canceled_request_gives_its_nodes_back_and_they_are_deleted(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool()], steps=5)
    launcher = launcher_for(engine, provider)
    rid = launcher.request("b", ["small", "small"], precedence=1, relative_priority=0)
    launcher.step()
    launcher.step()
    launcher.cancel(rid)
    assert state(launcher, rid) == CANCELED
    run(launcher, lambda: rows(engine) == 0 and not launcher.busy())
    assert provider.held() == []


def test_a_node_that_died_before_use_fails_the_accept(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool()], steps=1)
    launcher = launcher_for(engine, provider)
    rid = launcher.request("b", ["small"], precedence=1, relative_priority=0)
    run(launcher, lambda: state(launcher, rid) == FULFILLED)
    provider.gone.update(launcher.get(rid).nodes)
    with pytest.raises(NodeLost, match="is gone"):
        launcher.accept(rid)
    settle(launcher)
    assert provider.held() == [] and rows(engine) == 0


def test_an_autohold_keeps_the_nodes_of_a_failed_build_until_it_expires(engine: Engine) -> None:
    clock = Clock()
    provider = FakeProvider(pools=[pool()], steps=1)
    launcher = launcher_for(engine, provider, clock=clock)
    with write_transaction(engine) as conn:
        store.add_autohold(
            conn, Autohold("h1", "main", "org/app", "unit", ".*", "flaky", 1, 600.0, clock.now)
        )
    rid = launcher.request("b", ["small"], precedence=1, relative_priority=0)
    run(launcher, lambda: state(launcher, rid) == FULFILLED)
    [node] = launcher.accept(rid)

    hold = launcher.autohold_for("main", "org/app", "unit", "refs/changes/01/1/1")
    assert hold == "h1"
    assert launcher.autohold_for("main", "org/app", "unit", "refs/changes/01/1/1") is None
    launcher.release([node.id], hold=hold)
    settle(launcher)
    [held] = launcher.nodes()
    assert (held.state, held.hold_reason, held.hold_expires) == (HOLD, "flaky", clock.now + 600)
    assert len(provider.held()) == 1

    clock.now += 601
    settle(launcher)
    assert rows(engine) == 0 and provider.held() == []


def test_old_requests_are_forgotten_but_not_the_one_a_held_node_was_for(engine: Engine) -> None:
    clock = Clock()
    provider = FakeProvider(pools=[pool()], steps=1)
    launcher = launcher_for(engine, provider, clock=clock)
    with write_transaction(engine) as conn:
        store.add_autohold(conn, Autohold("h", "main", "p", "j", ".*", "", 1, None, clock.now))
    held = launcher.request("held-build", ["small"], precedence=1, relative_priority=0)
    used = launcher.request("used-build", ["small"], precedence=1, relative_priority=0)
    run(launcher, lambda: state(launcher, used) == FULFILLED == state(launcher, held))
    launcher.release([n.id for n in launcher.accept(held)], hold="h")
    launcher.release([n.id for n in launcher.accept(used)])
    clock.now += 2 * 86400
    settle(launcher)
    clock.now += 61  # finished requests are forgotten once a minute
    launcher.step()
    assert launcher.get(held).build == "held-build"
    with pytest.raises(KeyError, match="no node request"):
        launcher.get(used)
    [node] = launcher.nodes()
    assert (node.state, node.request) == (HOLD, held)


def test_two_launchers_on_one_database_never_give_out_a_node_twice(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool(max_servers=3)], steps=1)
    one = launcher_for(engine, provider)
    two = launcher_for(engine, provider)
    asked = [one.request(f"b{i}", ["small"], precedence=1, relative_priority=i) for i in range(4)]
    for _ in range(6):
        one.step()
        two.step()
    filled = [one.get(r) for r in asked if one.get(r).state == FULFILLED]
    given = [n for r in filled for n in r.nodes]
    assert len(given) == len(set(given)) == len(filled)
    assert len(filled) == 3  # max-servers


def test_two_launchers_racing_in_threads_stay_within_max_servers(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool(max_servers=3)], steps=2)
    launchers = [NodeLauncher(engine, [provider]) for _ in range(2)]
    asked = [
        launchers[0].request(f"b{i}", ["small"], precedence=1, relative_priority=0)
        for i in range(6)
    ]

    def spin(launcher: NodeLauncher) -> None:
        for _ in range(15):
            launcher.step()

    threads = [threading.Thread(target=spin, args=(launcher,)) for launcher in launchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = [launchers[0].get(r).state for r in asked]
    assert states.count(FULFILLED) == 3 and states.count(REQUESTED) == 3
    assert provider.records.peak == 3


def test_a_launcher_dropped_mid_launch_is_cleaned_up_by_the_next(engine: Engine) -> None:
    provider = FakeProvider(pools=[pool()], steps=100)
    dead = launcher_for(engine, provider)
    rid = dead.request("b", ["small", "big"], precedence=1, relative_priority=0)
    dead.step()
    dead.step()
    assert len(provider.held()) == 2
    leak = provider.leak()
    del dead  # its in-memory launches are gone; the rows and machines are not

    provider.steps = 2
    fresh = launcher_for(engine, provider, requeue_on_start=True)
    fresh.recover()
    assert leak not in provider.held()
    run(fresh, lambda: state(fresh, rid) == FULFILLED)
    nodes = fresh.accept(rid)
    fresh.release([n.id for n in nodes])
    settle(fresh)
    assert provider.held() == [] and rows(engine) == 0


def test_at_start_the_requests_of_dead_builds_are_declined_and_their_nodes_freed(
    engine: Engine,
) -> None:
    provider = FakeProvider(pools=[pool()], steps=1)
    dead = launcher_for(engine, provider)
    filled = dead.request("b1", ["small"], precedence=1, relative_priority=0)
    run(dead, lambda: state(dead, filled) == FULFILLED)
    provider.steps = 100
    pending = dead.request("b2", ["small"], precedence=1, relative_priority=0)
    dead.step()
    dead.step()  # and it is never stepped again: its process died

    fresh = launcher_for(engine, provider)
    queued = fresh.request("b3", ["gpu"], precedence=1, relative_priority=0)
    fresh.recover()
    for rid in (filled, pending):
        assert state(fresh, rid) == DECLINED
        assert "launcher restarted" in fresh.get(rid).reason
    assert state(fresh, queued) == DECLINED  # nobody is left to wait for it
    settle(fresh)
    assert provider.held() == [] and rows(engine) == 0  # the freed ready node is surplus


def test_a_launcher_killed_with_sigkill_mid_launch_leaves_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "machines"
    url = engine.url.render_as_string(hide_password=False)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2] / "src"))
    child = subprocess.Popen(
        [sys.executable, "-m", "lockgate.testing.launcher_process", url, str(folder)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "launching"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    provider = FakeProvider("fake", [pool()], steps=1, folder=folder)
    assert len(provider.held()) == 2
    with read_transaction(engine) as conn:
        [doomed] = store.requests(conn)
    assert doomed.state == "pending"

    launcher = NodeLauncher(engine, [provider])
    launcher.recover()
    settle(launcher)
    assert provider.held() == []
    assert rows(engine) == 0
    assert launcher.get(doomed.id).state == DECLINED
