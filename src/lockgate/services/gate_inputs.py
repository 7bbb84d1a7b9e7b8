"""What the gating scheduler reads of the review server: snapshots of changes
with everything the gating core decides on (votes, files, dependencies,
submittability), and the event log's events translated into trigger events.

Each call reads in one transaction and in a few queries whatever the number of
changes, since the scheduler asks for a snapshot with every event; a page of
events (`trigger_events`) costs about what one does. What a patch set's commit
holds (its parents, message, files and Depends-On footers) never changes and
is read once per process, and so is a merged change. The files are those the
upload recorded with `git diff-tree` against the first parent: no git process
runs at read time.

Dependencies, as Zuul's Gerrit driver finds them:

- the git parent, when its change is not merged: the patch set the commit
  sits on, which may be an outdated one (its snapshot says `is_current=False`
  and the gate refuses it, as Zuul does); an abandoned parent counts too, so
  that the gate can say why the change cannot merge;
- then each `Depends-On:` footer of the patch set, in order, as the review
  server stored it (keys in any case, on any line after the subject): a
  change number or address names that change's current patch set, unless it is
  merged; a Change-Id names every unmerged change carrying it, on any branch or
  project. A footer naming nothing of this server (another server's address, a
  change that does not exist, a typo) is kept verbatim in `unresolved_needs`.

`needed_by` is the reverse: git children on the branch, found through the
index on patch set parents, and changes whose Depends-On names the change,
found in an in-memory reverse index of the open changes' footers. The index is
built with one query and kept current from the event log (every event that
adds a patch set or opens or closes a change), so it is right whoever calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import gate_reads
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.db.event_store import StoredEvent, last_seq
from lockgate.core.gating.changes import Approval, Change, Ref
from lockgate.core.gating.depends_on import DependsOn, parse_depends_on
from lockgate.core.gating.events import EventApproval, TriggerEvent
from lockgate.core.review.events import change_url
from lockgate.core.review.labels import Vote, submit_record
from lockgate.core.review.model import subject_of
from lockgate.core.review.refs import CHANGES, HEADS, change_ref
from lockgate.services.labels import LabelConfig

log = logging.getLogger(__name__)

# A key as callers give it: "N,P", "N" or N (the current patch set), (N, P or None).
KeyLike = str | int | tuple[int, int | None]

# Who caused each kind of change event, by the account attribute Gerrit names.
_ACTOR = {
    "patchset-created": "uploader",
    "comment-added": "author",
    "change-merged": "submitter",
    "change-abandoned": "abandoner",
    "change-restored": "restorer",
    "topic-changed": "changer",
    "hashtags-changed": "editor",
    "vote-deleted": "remover",
    "wip-state-changed": "changer",
    "reviewer-added": "reviewer",
}
CHANGE_EVENTS = frozenset(_ACTOR)
REF_UPDATED = "ref-updated"
# Events after which a change's Depends-On footers or its being open may differ.
_REINDEX = ("patchset-created", "change-merged", "change-abandoned", "change-restored")
# More dependencies than this are not followed: the gate refuses far fewer
# (max-dependencies), and a runaway chain must not stall the scheduler.
MAX_DEPENDENCIES = 1000
# Patch sets whose commit parts are kept; beyond it the cache starts over.
CACHE_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class _Commit:
    """The parts of a patch set that never change."""

    row: gate_reads.PatchSetRow
    files: tuple[str, ...]
    depends_on: tuple[str, ...]


def parse_key(key: KeyLike) -> tuple[int, int | None]:
    """(change, patch set or None for the current one) of a key; ValueError when
    it is none of the accepted forms."""
    if isinstance(key, tuple):
        return key
    if isinstance(key, int):
        return key, None
    number, _, patch_set = key.partition(",")
    try:
        return int(number), int(patch_set) if patch_set else None
    except ValueError:
        raise ValueError(
            f"{key!r} is not a change key: write N,P (change and patch set) or N"
        ) from None


class _Dependents:
    """Open changes by what their current patch set's Depends-On names."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.seq: int | None = None
        self.names: dict[int, tuple[DependsOn, ...]] = {}
        self.by_number: dict[int, set[int]] = {}
        self.by_key: dict[str, set[int]] = {}
        self.lock = threading.Lock()

    def refresh(self, conn: Connection) -> None:
        with self.lock:
            if self.seq is None:
                # The seq first: an event committed meanwhile is replayed next time.
                seq = last_seq(conn)
                for number, values in gate_reads.open_depends_on(conn).items():
                    self._set(number, values)
                self.seq = seq
                return
            # Up to the newest seq, read first (as above), so that the next refresh
            # starts after every event this one looked at, not after the last one
            # that touched a change: most events (votes) touch none.
            newest = last_seq(conn)
            touched = gate_reads.changes_touched(conn, self.seq, newest, _REINDEX)
            if touched:
                current = gate_reads.open_depends_on(conn, sorted(touched))
                for number in touched:
                    self._set(number, current.get(number, ()))
            self.seq = newest

    def _set(self, number: int, values: Sequence[str]) -> None:
        for old in self.names.pop(number, ()):
            if old.number is not None:
                self.by_number.get(old.number, set()).discard(number)
            if old.change_id is not None:
                self.by_key.get(old.change_id, set()).discard(number)
        names = tuple(
            n for n in (parse_depends_on(v, self.server_url) for v in values) if n.resolvable
        )
        if not names:
            return
        self.names[number] = names
        for name in names:
            if name.number is not None:
                self.by_number.setdefault(name.number, set()).add(number)
            if name.change_id is not None:
                self.by_key.setdefault(name.change_id, set()).add(number)

    def naming(self, number: int, change_key: str) -> set[int]:
        with self.lock:
            return self.by_number.get(number, set()) | self.by_key.get(change_key, set())


class GateInputs:
    def __init__(self, *, engine: Engine, labels: LabelConfig, server_url: str) -> None:
        self.engine = engine
        self.labels = labels
        self.server_url = server_url
        self._commits: dict[tuple[int, int], _Commit] = {}
        self._change_keys: dict[int, str] = {}  # a change's Change-Id never changes
        self._owners: dict[str, list[gate_reads.CommitOwner]] = {}
        self._merged: set[int] = set()
        self._dependents = _Dependents(server_url)

    # --- snapshots ------------------------------------------------------------

    def change(self, number: int, patchset: int | None = None) -> Change | None:
        """Patch set `patchset` (the current one by default) of change `number`
        as it stands now; None when there is no such change or patch set."""
        found = self.changes([(number, patchset)])
        return next(iter(found.values()), None)

    def changes(self, keys: Iterable[KeyLike]) -> dict[str, Change]:
        """Snapshots of the patch sets `keys` name, keyed "N,P", in the order asked;
        those that do not exist are left out."""
        wanted = [parse_key(k) for k in keys]
        with read_transaction(self.engine) as conn:
            return self._snapshots(conn, wanted)

    def dependencies(self, change: Change) -> dict[str, Change]:
        """Every change `change` needs, directly or through others, keyed "N,P"."""
        with read_transaction(self.engine) as conn:
            return self._dependencies(conn, [change])[change.key]

    def needed_by(self, change: Change) -> tuple[Change, ...]:
        """Open changes whose current patch set needs `change`: its git children on
        the branch and the changes whose Depends-On names it, by number."""
        with read_transaction(self.engine) as conn:
            self._dependents.refresh(conn)
            return self._needed_by(conn, [change])[change.key]

    def trigger_event(self, stored: StoredEvent, connection: str) -> TriggerEvent | None:
        """The event as the pipelines' triggers see it, with the change as it is
        now; None for an event no trigger knows (or about a change gone)."""
        return self.trigger_events([stored], connection)[0]

    def trigger_events(
        self, stored: Sequence[StoredEvent], connection: str
    ) -> list[TriggerEvent | None]:
        """`trigger_event` of each, read together: a page of the log costs about
        what one event does."""
        wanted: dict[int, tuple[int, int | None]] = {}
        for i, event in enumerate(stored):
            if event.type not in CHANGE_EVENTS:
                continue
            payload = event.payload
            number = _int((payload.get("change") or {}).get("number")) or event.change_number
            if number is None:
                log.warning("event %s (%s) names no change; ignored", event.seq, event.type)
                continue
            wanted[i] = (number, _int((payload.get("patchSet") or {}).get("number")))
        if not wanted:
            return [self._ref_event(e, connection) for e in stored]
        with read_transaction(self.engine) as conn:
            if max(e.seq for e in stored) > (self._dependents.seq or 0):
                # Otherwise the reverse index has seen these events already.
                self._dependents.refresh(conn)
            found = self._snapshots(conn, list(wanted.values()))
            by_number: dict[tuple[int, int | None], Change] = {}
            for change in found.values():
                by_number[(change.number, change.patchset)] = change
                if change.is_current:
                    by_number[(change.number, None)] = change
            changes = list({c.key: c for c in by_number.values()}.values())
            needed_by = self._needed_by(conn, changes)
            dependencies = self._dependencies(conn, changes)
        result: list[TriggerEvent | None] = []
        for i, event in enumerate(stored):
            if i not in wanted:
                result.append(self._ref_event(event, connection))
                continue
            subject = by_number.get(wanted[i])
            if subject is None:
                log.warning(
                    "event %s names change %s,%s which is not here; ignored",
                    event.seq,
                    *wanted[i],
                )
                result.append(None)
                continue
            actor = event.payload.get(_ACTOR[event.type]) or {}
            result.append(
                TriggerEvent(
                    seq=event.seq,
                    type=event.type,
                    connection=connection,
                    project=subject.project,
                    branch=subject.branch,
                    ref=subject.ref,
                    change=subject,
                    username=str(actor.get("username") or ""),
                    email=str(actor.get("email") or ""),
                    comment=str(event.payload.get("comment") or ""),
                    approvals=_approvals(event.payload.get("approvals")),
                    needed_by=needed_by[subject.key],
                    dependencies=dependencies[subject.key],
                )
            )
        return result

    # --- the work, in one transaction ------------------------------------------

    def _ref_event(self, stored: StoredEvent, connection: str) -> TriggerEvent | None:
        if stored.type != REF_UPDATED:
            return None
        update = stored.payload.get("refUpdate") or {}
        ref = str(update.get("refName") or "")
        if not ref:
            return None
        if not ref.startswith("refs/"):
            # Old Gerrit versions named branches without refs/heads/.
            ref = HEADS + ref
        if ref.startswith(CHANGES):
            return None
        project = str(update.get("project") or stored.project or "")
        who = stored.payload.get("submitter") or {}
        zero = "0" * 40
        return TriggerEvent(
            seq=stored.seq,
            type=REF_UPDATED,
            connection=connection,
            project=project,
            branch=ref[len(HEADS) :] if ref.startswith(HEADS) else "",
            ref=ref,
            ref_update=Ref(
                project=project,
                ref=ref,
                oldrev=str(update.get("oldRev") or zero),
                newrev=str(update.get("newRev") or zero),
            ),
            username=str(who.get("username") or ""),
            email=str(who.get("email") or ""),
        )

    def _dependencies(
        self, conn: Connection, changes: Sequence[Change]
    ) -> dict[str, dict[str, Change]]:
        """What each of `changes` needs, transitively: read level by level for all
        of them at once, then walked for each."""
        loaded: dict[str, Change] = {c.key: c for c in changes}
        frontier = list(dict.fromkeys(k for c in changes for k in c.needs if k not in loaded))
        while frontier and len(loaded) < MAX_DEPENDENCIES + len(changes):
            batch = self._snapshots(conn, [parse_key(k) for k in frontier])
            loaded.update(batch)
            frontier = list(
                dict.fromkeys(k for dep in batch.values() for k in dep.needs if k not in loaded)
            )
        if frontier:
            log.warning("more than %s changes needed; the rest are not read", MAX_DEPENDENCIES)
        result: dict[str, dict[str, Change]] = {}
        for change in changes:
            found: dict[str, Change] = {}
            pending = list(change.needs)
            while pending:
                key = pending.pop(0)
                if key == change.key or key in found or key not in loaded:
                    continue
                found[key] = loaded[key]
                pending.extend(loaded[key].needs)
            result[change.key] = found
        return result

    def _needed_by(
        self, conn: Connection, changes: Sequence[Change]
    ) -> dict[str, tuple[Change, ...]]:
        """The open changes that need each of `changes` (see `needed_by`); the
        reverse index is refreshed by the caller."""
        missing = [c.number for c in changes if c.number not in self._change_keys]
        for number, row in gate_reads.changes(conn, missing).items():
            self._change_keys[number] = row.change_key
        children = gate_reads.open_children(
            conn, [(c.project, c.branch, c.commit) for c in changes]
        )
        candidates: dict[str, set[int]] = {}
        for change in changes:
            found = set(children.get((change.project, change.branch, change.commit), ()))
            key = self._change_keys.get(change.number)
            if key is not None:
                found |= self._dependents.naming(change.number, key)
            found.discard(change.number)
            candidates[change.key] = found
        everyone = sorted({n for found in candidates.values() for n in found})
        snapshots = self._snapshots(conn, [(n, None) for n in everyone])
        current = {c.number: c for c in snapshots.values()}
        # Only those that need this very patch set: a child of an older one, or
        # a footer naming a change that is merged, does not.
        return {
            change.key: tuple(
                current[n]
                for n in sorted(candidates[change.key])
                if n in current and current[n].is_open and change.key in current[n].needs
            )
            for change in changes
        }

    def _snapshots(
        self, conn: Connection, wanted: Sequence[tuple[int, int | None]]
    ) -> dict[str, Change]:
        numbers = sorted({n for n, _ in wanted})
        rows = gate_reads.changes(conn, numbers)
        # a page of the log names the same patch sets many times: one snapshot each
        unique: dict[tuple[int, int], tuple[gate_reads.ChangeRow, int]] = {}
        for number, patch_set in dict.fromkeys(wanted):
            row = rows.get(number)
            if row is None:
                continue
            self._change_keys[number] = row.change_key
            ps = row.current_patch_set if patch_set is None else patch_set
            if 0 < ps <= row.current_patch_set:
                unique[(number, ps)] = (row, ps)
        targets = list(unique.values())
        commits = self._load_commits(conn, [(r.number, ps) for r, ps in targets])
        targets = [(r, ps) for r, ps in targets if (r.number, ps) in commits]
        if not targets:
            return {}
        present = sorted({r.number for r, _ in targets})
        votes = gate_reads.current_votes(conn, present)
        resolved = self._resolve(conn, [(r, commits[(r.number, ps)]) for r, ps in targets])
        result: dict[str, Change] = {}
        for row, ps in targets:
            commit = commits[(row.number, ps)]
            change_votes = votes.get(row.number, [])
            # The rule labels.submit_records applies, on the votes read above.
            record = submit_record(
                self.labels.for_project(row.project),
                [
                    Vote(v.account_id, v.label, v.value, row.current_patch_set, v.granted_at)
                    for v in change_votes
                ],
            )
            is_current = ps == row.current_patch_set
            needs, unresolved = resolved[(row.number, ps)]
            result[f"{row.number},{ps}"] = Change(
                project=row.project,
                branch=row.branch,
                number=row.number,
                patchset=ps,
                commit=commit.row.commit_sha,
                ref=change_ref(row.number, ps),
                url=change_url(self.server_url, row.project, row.number),
                owner=row.owner,
                subject=subject_of(commit.row.message),
                message=commit.row.message,
                status=row.status,
                is_current=is_current,
                wip=row.work_in_progress,
                topic=row.topic or "",
                hashtags=row.hashtags,
                approvals=tuple(
                    Approval(v.label, v.value, v.username, v.email, v.granted_at / 1_000_000)
                    for v in change_votes
                ),
                files=commit.files,
                needs=needs,
                unresolved_needs=unresolved,
                submittable=(
                    row.status == "NEW"
                    and not row.work_in_progress
                    and is_current
                    and record.submittable
                ),
                missing_labels=tuple(r.label.name for r in record.unmet),
            )
        return result

    def _load_commits(
        self, conn: Connection, wanted: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], _Commit]:
        missing = [k for k in dict.fromkeys(wanted) if k not in self._commits]
        if missing:
            rows = gate_reads.patch_sets(conn, missing)
            files = gate_reads.files(conn, [r.id for r in rows.values()])
            footers = gate_reads.depends_on(conn, list(rows))
            if len(self._commits) + len(rows) > CACHE_SIZE:
                self._commits.clear()
                self._owners.clear()
            for key, row in rows.items():
                self._commits[key] = _Commit(row, files.get(row.id, ()), footers.get(key, ()))
        return {k: self._commits[k] for k in wanted if k in self._commits}

    def _commit_owners(
        self, conn: Connection, shas: Sequence[str]
    ) -> dict[str, list[gate_reads.CommitOwner]]:
        """The patch sets whose commit is each sha. A patch set found is kept (its
        commit never changes); a sha found in none is asked again next time,
        since it may be pushed for review later."""
        missing = [s for s in shas if s not in self._owners]
        if missing:
            for owner in gate_reads.commit_owners(conn, missing):
                self._owners.setdefault(owner.sha, []).append(owner)
        return {s: self._owners[s] for s in shas if s in self._owners}

    def _resolve(
        self, conn: Connection, items: Sequence[tuple[gate_reads.ChangeRow, _Commit]]
    ) -> dict[tuple[int, int], tuple[tuple[str, ...], tuple[str, ...]]]:
        """(needs, unresolved needs) of each patch set."""
        parsed = {
            (row.number, c.row.number): [parse_depends_on(v, self.server_url) for v in c.depends_on]
            for row, c in items
        }
        owners = self._commit_owners(conn, sorted({p for _, c in items for p in c.row.parents}))
        keys = sorted({d.change_id for ds in parsed.values() for d in ds if d.change_id})
        by_key = gate_reads.changes_with_keys(conn, keys)
        numbers = {d.number for ds in parsed.values() for d in ds if d.number is not None}
        numbers |= {n for ns in by_key.values() for n in ns}
        numbers |= {o.change_number for os in owners.values() for o in os}
        # A merged change stays merged: it is read once.
        named = gate_reads.changes(conn, sorted(numbers - self._merged))
        self._merged.update(n for n, r in named.items() if r.status == "MERGED")
        result = {}
        for row, commit in items:
            own = (row.number, commit.row.number)
            needs: list[str] = []
            unresolved: list[str] = []
            for parent in commit.row.parents:
                for o in owners.get(parent, ()):
                    if (o.project, o.branch) != (row.project, row.branch):
                        continue
                    if o.change_number in named and o.change_number not in self._merged:
                        needs.append(f"{o.change_number},{o.patch_set}")
            for dep in parsed[own]:
                if dep.number is not None:
                    known = dep.number in named or dep.number in self._merged
                    hits = [dep.number] if known else []
                elif dep.change_id is not None:
                    hits = by_key.get(dep.change_id, [])
                else:
                    hits = []
                if not hits:
                    unresolved.append(dep.value)
                for n in hits:
                    if n not in self._merged:
                        needs.append(f"{n},{named[n].current_patch_set}")
            mine = f"{row.number},{commit.row.number}"
            result[own] = (
                tuple(
                    k
                    for k in dict.fromkeys(needs)
                    if k != mine and not k.startswith(f"{row.number},")
                ),
                tuple(dict.fromkeys(unresolved)),
            )
        return result


def _approvals(raw: Any) -> tuple[EventApproval, ...]:
    if not isinstance(raw, list):
        return ()
    found = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        value = _int(item.get("value"))
        if value is None or not item.get("type"):
            continue
        found.append(EventApproval(str(item["type"]), value, _int(item.get("oldValue"))))
    return tuple(found)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
