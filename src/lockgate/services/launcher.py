"""The node launcher: fills node requests from the providers' pools.

One loop (a thread, or `step()` called by tests) serves waiting requests in
priority order, drives each launch's state machine a step at a time, saves
the provider's id of what it made at once, retries failed launches up to the
pool's launch-retries, fills each request whole or declines it, keeps
min-ready, deletes used nodes and expired holds. At start it deletes what a
dead process left half done, so nothing leaks.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import node_store as store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.db.locks import lock_name
from lockgate.adapters.site import ProviderSettings
from lockgate.core.nodes import autohold as holds
from lockgate.core.nodes import planning
from lockgate.core.nodes.model import (
    BUILDING,
    CANCELED,
    DECLINED,
    DELETING,
    FAILED,
    FULFILLED,
    HOLD,
    IN_USE,
    PENDING,
    READY,
    REQUESTED,
    USED,
    Node,
    NodeRequest,
)
from lockgate.services.node_ports import (
    DeleteMachine,
    LaunchError,
    LaunchMachine,
    PoolInfo,
    Provider,
)

log = logging.getLogger("lockgate.launcher")

FINISHED = (FULFILLED, DECLINED, CANCELED)
# finished requests are kept this long for the status page, then forgotten
KEEP_FINISHED = 24 * 3600.0
FORGET_EVERY = 60.0


def pools_of(provider: ProviderSettings) -> list[PoolInfo]:
    """The pools of a `[[nodepool.providers]]` entry, as providers report them."""
    return [
        PoolInfo(
            name=pool.name,
            labels=frozenset(pool.labels),
            max_servers=pool.max_servers,
            launch_retries=pool.launch_retries,
            boot_timeout=pool.boot_timeout,
        )
        for pool in provider.pools
    ]


class NodeLost(LaunchError):
    """A node of a fulfilled request is no longer there; the build gets NODE_FAILURE."""


@dataclass(slots=True)
class _Launch:
    node: Node
    pool: PoolInfo
    machine: LaunchMachine
    started: float
    saved: str | None  # the external id saved in the row
    attempts: int


class _Conflict(Exception):
    """Another launcher took a node or request first; this plan is dropped."""


class NodeLauncher:
    def __init__(
        self,
        engine: Engine,
        providers: Sequence[Provider],
        *,
        min_ready: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.time,
        interval: float = 0.2,
        requeue_on_start: bool = False,
    ) -> None:
        self.engine = engine
        self.providers = {provider.name: provider for provider in providers}
        self.min_ready = dict(min_ready or {})
        self.clock = clock
        self.interval = interval
        self.requeue_on_start = requeue_on_start
        self._launches: dict[str, _Launch] = {}
        self._deletes: dict[str, DeleteMachine] = {}
        self._orphans: list[DeleteMachine] = []  # what failed attempts left behind
        self._orphaned: set[str] = set()  # nodes of providers the site no longer has
        self._forgot = float("-inf")  # when finished requests were last forgotten
        self._lock = threading.RLock()
        self._changed = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the pools --------------------------------------------------------------

    def _pools(self) -> list[planning.Pool]:
        return [
            planning.Pool(name, info.name, info.labels, info.max_servers)
            for name, provider in sorted(self.providers.items())
            for info in provider.pools()
        ]

    def _pool_info(self, provider: str, pool: str) -> PoolInfo:
        for info in self.providers[provider].pools():
            if info.name == pool:
                return info
        raise KeyError(f"provider {provider} has no pool {pool}")

    # --- the loop ---------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="node-launcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop. Launches in flight stay in the database with their
        external ids; the next start deletes them."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # the loop must outlive one bad step; the next retries
                log.exception("node launcher step failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def step(self) -> None:
        """One round: delete what is done with, advance launches, plan requests."""
        with self._lock:
            now = self.clock()
            self._start_deletes(now)
            self._advance_deletes()
            self._advance_launches(now)
            self._plan(now)
        with self._changed:
            self._changed.notify_all()

    def busy(self) -> bool:
        """Whether launches or deletes are in flight (tests step until not)."""
        return bool(self._launches or self._deletes or self._orphans)

    # --- recovery -----------------------------------------------------------------

    def recover(self) -> None:
        """Undo what a dead process left: nodes it was building, using or
        deleting go (resuming from their external ids), and what providers
        hold that no node names is removed. Its open requests are declined
        and their ready nodes freed, since the builds that asked died with it
        (the executor runs in the server); with `requeue_on_start` (requestors
        that outlive the launcher) pending requests are queued again and
        fulfilled ones kept for their requestors."""
        now = self.clock()
        with self._lock:
            with write_transaction(self.engine) as conn:
                for stored in store.nodes(conn, states=(BUILDING, IN_USE, USED, FAILED)):
                    store.move_node(conn, stored.node.id, stored.node.state, DELETING, now)
                for stored in store.nodes(conn, states=(READY,)):
                    provider = self.providers.get(stored.node.provider)
                    if provider is None or not provider.alive(stored.node):
                        store.move_node(conn, stored.node.id, READY, DELETING, now)
                for req in store.requests(conn, states=(REQUESTED, PENDING, FULFILLED)):
                    self._recover_request(conn, req)
            with read_transaction(self.engine) as conn:
                known = {name: store.external_ids(conn, name) for name in self.providers}
            for name, provider in self.providers.items():
                for external_id in provider.leaked(known[name]):
                    log.warning("removing %s of provider %s: no node names it", external_id, name)
                    provider.remove_leaked(external_id)
        self.step()

    def _recover_request(self, conn: Connection, req: NodeRequest) -> None:
        if req.state == FULFILLED:
            given = [store.node(conn, node_id) for node_id in req.nodes]
            if all(s is not None and s.node.state == READY for s in given):
                if self.requeue_on_start:
                    return  # its requestor may still take the nodes
                reason = "the launcher restarted before its build took the nodes"
            else:
                reason = "its nodes were lost when the launcher restarted"
            store.move_request(conn, req.id, (FULFILLED,), DECLINED, reason=reason)
            store.release_request_nodes(conn, req.id)
            return
        if req.state == PENDING:
            store.release_request_nodes(conn, req.id)
        if self.requeue_on_start:
            store.move_request(conn, req.id, (PENDING,), REQUESTED)
        else:
            store.move_request(
                conn,
                req.id,
                (REQUESTED, PENDING),
                DECLINED,
                reason="the launcher restarted before this request was filled",
            )

    # --- deleting -------------------------------------------------------------------

    def _start_deletes(self, now: float) -> None:
        """Move what is done with to deleting (used and failed nodes, expired
        holds, surplus ready nodes) and start deleting what is there. Reads
        first, so that a quiet round writes nothing."""
        with read_transaction(self.engine) as conn:
            stored_nodes = store.nodes(conn)
        everything = [s.node for s in stored_nodes]
        moves = [(n.id, n.state) for n in everything if n.state in (USED, FAILED)]
        moves += [(n.id, HOLD) for n in holds.expired(everything, now)]
        extra = planning.surplus(self.min_ready, everything)
        forget = now - self._forgot > FORGET_EVERY
        if moves or extra or forget:
            with write_transaction(self.engine) as conn:
                for node_id, old in moves:
                    store.move_node(conn, node_id, old, DELETING, now)
                for node_id in extra:
                    store.move_node(conn, node_id, READY, DELETING, now, unassigned=True)
                if forget:
                    store.remove_requests(conn, FINISHED, before=now - KEEP_FINISHED)
                    self._forgot = now
                deleting = store.nodes(conn, states=(DELETING,))
        else:
            deleting = [s for s in stored_nodes if s.node.state == DELETING]
        for stored in deleting:
            node = stored.node
            if node.id in self._deletes or node.id in self._launches:
                continue
            provider = self.providers.get(node.provider)
            if provider is None:
                if node.id in self._orphaned:
                    continue
                self._orphaned.add(node.id)
                log.error(
                    "node %s is of provider %s, which the site no longer has; "
                    "it stays until the provider is back",
                    node.id,
                    node.provider,
                )
                continue
            self._deletes[node.id] = provider.delete(node, stored.external_id)

    def _advance_deletes(self) -> None:
        for node_id, machine in list(self._deletes.items()):
            try:
                done = machine.advance()
            except Exception:
                log.exception("deleting node %s failed; retrying", node_id)
                continue
            if done:
                del self._deletes[node_id]
                with write_transaction(self.engine) as conn:
                    store.remove_node(conn, node_id, DELETING)
        for machine in list(self._orphans):
            try:
                if machine.advance():
                    self._orphans.remove(machine)
            except Exception:
                log.exception("deleting what a failed launch left failed; retrying")

    # --- launching ------------------------------------------------------------------

    def _advance_launches(self, now: float) -> None:
        for node_id, launch in list(self._launches.items()):
            error: str | None = None
            ready = False
            try:
                ready = launch.machine.advance()
            except LaunchError as failure:
                error = str(failure)
            except Exception as failure:  # a provider bug is one more failed attempt
                log.exception("launch of node %s failed", node_id)
                error = f"{type(failure).__name__}: {failure}"
            external_id = launch.machine.external_id
            if external_id != launch.saved:
                with write_transaction(self.engine) as conn:
                    store.set_node(conn, node_id, BUILDING, external_id=external_id)
                launch.saved = external_id
            if error is None and not ready and now - launch.started > launch.pool.boot_timeout:
                error = f"not ready within boot-timeout {launch.pool.boot_timeout:g} s"
            if error is not None:
                self._launch_failed(launch, error, now)
            elif ready:
                del self._launches[node_id]
                with write_transaction(self.engine) as conn:
                    store.move_node(
                        conn,
                        node_id,
                        BUILDING,
                        READY,
                        now,
                        connection=launch.machine.connection,
                        launch_attempts=launch.attempts,
                    )
                    stored = store.node(conn, node_id)
                if stored is not None and stored.node.request is not None:
                    self._try_fulfil(stored.node.request)

    def _launch_failed(self, launch: _Launch, error: str, now: float) -> None:
        node = launch.node
        provider = self.providers[node.provider]
        if launch.machine.external_id is not None:
            self._orphans.append(provider.delete(node, launch.machine.external_id))
        log.warning(
            "launch %d of node %s (%s) failed: %s", launch.attempts, node.id, node.label, error
        )
        if launch.attempts < launch.pool.launch_retries:
            launch.attempts += 1
            launch.machine = provider.create(node)
            launch.started = now
            launch.saved = None
            with write_transaction(self.engine) as conn:
                store.set_node(
                    conn, node.id, BUILDING, external_id=None, launch_attempts=launch.attempts
                )
            return
        del self._launches[node.id]
        reason = (
            f"launching a {node.label} node in {node.provider}/{node.pool} failed "
            f"{launch.attempts} times (launch-retries {launch.pool.launch_retries}): {error}"
        )
        with write_transaction(self.engine) as conn:
            store.move_node(
                conn,
                node.id,
                BUILDING,
                FAILED,
                now,
                external_id=None,
                launch_attempts=launch.attempts,
            )
            stored = store.node(conn, node.id)
            holder = None if stored is None else stored.node.request
            if holder is not None and store.move_request(
                conn, holder, (PENDING,), DECLINED, reason=reason
            ):
                store.release_request_nodes(conn, holder)

    def _launch(self, node: Node) -> None:
        provider = self.providers[node.provider]
        self._launches[node.id] = _Launch(
            node=node,
            pool=self._pool_info(node.provider, node.pool),
            machine=provider.create(node),
            started=self.clock(),
            saved=None,
            attempts=1,
        )

    def _try_fulfil(self, request_id: str) -> None:
        with write_transaction(self.engine) as conn:
            req = store.request(conn, request_id, lock=True)
            if req is None or req.state != PENDING:
                return
            mine = [s.node for s in store.nodes(conn) if s.node.request == request_id]
            if len(mine) != len(req.labels) or any(n.state != READY for n in mine):
                return
            slots: list[str] = []
            for label in req.labels:
                found = next(n for n in mine if n.label == label and n.id not in slots)
                slots.append(found.id)
            store.move_request(conn, request_id, (PENDING,), FULFILLED, nodes=slots)
        log.info("request %s fulfilled with %s", request_id, ", ".join(slots))

    # --- planning -------------------------------------------------------------------

    def _new_node(self, label: str, provider: str, pool: str, request: str | None) -> Node:
        now = self.clock()
        return Node(uuid.uuid4().hex, label, provider, pool, BUILDING, now, now, request=request)

    def _plan(self, now: float) -> None:
        """Plan and record one round in one transaction, under a lock that every
        launcher of the site takes, so that max-servers holds across them."""
        pools = self._pools()
        with read_transaction(self.engine) as conn:
            waiting = store.requests(conn, states=(REQUESTED,))
            everything = [s.node for s in store.nodes(conn)]
        if not waiting and not planning.top_ups(self.min_ready, pools, everything):
            return
        launches: list[Node] = []
        ready_now: list[str] = []
        try:
            with write_transaction(self.engine) as conn:
                lock_name(conn, "lockgate", "node-planning")
                waiting = store.requests(conn, states=(REQUESTED,))
                everything = [s.node for s in store.nodes(conn)]
                for plan in planning.plan_round(waiting, pools, everything):
                    if isinstance(plan, planning.Decline):
                        store.move_request(
                            conn, plan.request, (REQUESTED,), DECLINED, reason=plan.reason
                        )
                        log.info("request %s declined: %s", plan.request, plan.reason)
                    elif isinstance(plan, planning.Fill):
                        new = self._record_fill(conn, plan)
                        launches.extend(new)
                        if not new:
                            ready_now.append(plan.request)
                everything = [s.node for s in store.nodes(conn)]
                for top_up in planning.top_ups(self.min_ready, pools, everything):
                    node = self._new_node(top_up.label, top_up.provider, top_up.pool, None)
                    store.add_node(conn, node)
                    launches.append(node)
        except _Conflict:
            return  # a ready node went while planning; all rolled back, the next round plans again
        for node in launches:
            self._launch(node)
        for request_id in ready_now:
            self._try_fulfil(request_id)

    def _record_fill(self, conn: Connection, plan: planning.Fill) -> list[Node]:
        if not store.move_request(
            conn, plan.request, (REQUESTED,), PENDING, provider=plan.provider
        ):
            raise _Conflict
        for _, node_id in plan.reuse:
            # release and surplus deletes do not take the planning lock
            if not store.assign_node(conn, node_id, plan.request, was=None, state=READY):
                raise _Conflict
        new = [
            self._new_node(label, plan.provider, plan.pool, plan.request)
            for _, label in plan.launch
        ]
        for node in new:
            store.add_node(conn, node)
        return new

    # --- the Launcher port ---------------------------------------------------------

    def request(
        self, build: str, labels: Sequence[str], *, precedence: int, relative_priority: int
    ) -> str:
        req = NodeRequest(
            id=uuid.uuid4().hex,
            labels=tuple(labels),
            build=build,
            precedence=precedence,
            relative_priority=relative_priority,
            created=self.clock(),
            state=REQUESTED if labels else FULFILLED,
        )
        with write_transaction(self.engine) as conn:
            store.add_request(conn, req)
        self._wake.set()
        return req.id

    def get(self, request: str) -> NodeRequest:
        with read_transaction(self.engine) as conn:
            found = store.request(conn, request)
        if found is None:
            raise KeyError(f"no node request {request}")
        return found

    def wait(self, request: str, timeout: float | None = None) -> NodeRequest:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            found = self.get(request)
            if found.state in FINISHED:
                return found
            left = self.interval if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"node request {request} is still {found.state}")
            with self._changed:
                self._changed.wait(min(left, self.interval))

    def accept(self, request: str) -> list[Node]:
        found = self.get(request)
        if found.state != FULFILLED:
            raise ValueError(f"node request {request} is {found.state}, not fulfilled")
        with read_transaction(self.engine) as conn:
            given = [store.node(conn, node_id) for node_id in found.nodes]
        lost = [
            node_id
            for node_id, stored in zip(found.nodes, given, strict=True)
            if stored is None
            or stored.node.state != READY
            or not self.providers[stored.node.provider].alive(stored.node)
        ]
        now = self.clock()
        with write_transaction(self.engine) as conn:
            if lost:
                for node_id in lost:
                    store.move_node(conn, node_id, READY, DELETING, now)
                store.move_request(
                    conn,
                    request,
                    (FULFILLED,),
                    CANCELED,
                    reason=f"node {', '.join(lost)} was lost before use",
                )
                store.release_request_nodes(conn, request)
            else:
                for node_id in found.nodes:
                    if not store.move_node(conn, node_id, READY, IN_USE, now):
                        raise NodeLost(f"node {node_id} was taken by another launcher")
        if lost:
            self._wake.set()
            raise NodeLost(f"node {', '.join(lost)} of request {request} is gone")
        with read_transaction(self.engine) as conn:
            return [s.node for s in (store.node(conn, n) for n in found.nodes) if s is not None]

    def release(self, nodes: Sequence[str], *, hold: str | None = None) -> None:
        now = self.clock()
        with write_transaction(self.engine) as conn:
            autohold = None if hold is None else store.autohold(conn, hold)
            for node_id in nodes:
                stored = store.node(conn, node_id)
                if stored is None:
                    continue
                state = stored.node.state
                if state == IN_USE and autohold is not None:
                    store.move_node(
                        conn,
                        node_id,
                        IN_USE,
                        HOLD,
                        now,
                        hold_autohold=autohold.id,
                        hold_reason=autohold.reason,
                        hold_expires=holds.hold_expires(autohold, now),
                    )
                elif state == IN_USE:
                    store.move_node(conn, node_id, IN_USE, USED, now)
                elif state == READY:
                    store.move_node(conn, node_id, READY, DELETING, now)
        self._wake.set()

    def cancel(self, request: str) -> None:
        with write_transaction(self.engine) as conn:
            if store.move_request(conn, request, (REQUESTED, PENDING, FULFILLED), CANCELED):
                store.release_request_nodes(conn, request)
        self._wake.set()

    def autohold_for(self, tenant: str, project: str, job: str, ref: str) -> str | None:
        for _ in range(5):  # another build may use up the same count first
            with write_transaction(self.engine) as conn:
                found = holds.matching(store.autoholds(conn, tenant), tenant, project, job, ref)
                if found is None:
                    return None
                if store.count_hold(conn, found):
                    return found.id
        return None

    # --- views ----------------------------------------------------------------------

    def nodes(self, states: Iterable[str] | None = None) -> list[Node]:
        with read_transaction(self.engine) as conn:
            return [s.node for s in store.nodes(conn, states=states)]
