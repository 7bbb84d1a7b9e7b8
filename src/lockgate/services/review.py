"""The review service's read side: finding changes and loading what the API shows."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import change_store, project_store
from lockgate.adapters.db.account_store import accounts_by_ids
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.review import events
from lockgate.core.review.footers import CHANGE_ID
from lockgate.core.review.model import (
    Account,
    Change,
    ChangeDetail,
    CommitInfo,
    PatchSet,
    Project,
)
from lockgate.services.accounts import AccountService
from lockgate.services.clock import Clock
from lockgate.services.errors import NotFound
from lockgate.services.labels import LabelConfig
from lockgate.services.permissions import Caller, Permissions, Who
from lockgate.services.projects import ProjectService

_HEX = re.compile(r"^[0-9a-f]{4,40}$")


@dataclass(frozen=True, slots=True)
class QueryPage:
    """One page of a change query: change numbers in result order (most recently
    updated first) and whether more follow beyond the page."""

    numbers: list[int]
    more: bool


@dataclass(frozen=True, slots=True)
class RelatedChange:
    """An entry of `/related`: a patch set in the same relation chain."""

    project: str
    change_key: str
    change_number: int
    patch_set: int
    current_patch_set: int
    status: str
    commit: CommitInfo


@dataclass(frozen=True, slots=True)
class WriteTarget:
    """What a write to a change checks its input against, read in one transaction:
    the caller with its groups, the change with all its patch sets, its project."""

    caller: Caller
    detail: ChangeDetail
    project: Project


@dataclass(frozen=True, slots=True)
class LoadOptions:
    all_revisions: bool = False
    current_revision: bool = False
    files: bool = False
    messages: bool = False
    # What change_views adds: votes and labels (and with them the viewer's
    # permitted labels, reviewers' ranges, actions), and comment counts.
    labels: bool = False
    detailed_labels: bool = False
    actions: bool = False
    comment_counts: bool = True


def _one(change_id: str, found: list[Change]) -> Change:
    ident = urllib.parse.unquote(change_id)
    if len(found) > 1:
        raise NotFound(f"Multiple changes found for {ident}; use project~number to name one")
    if not found:
        raise NotFound(f"Not found: {ident}")
    return found[0]


class ReviewService:
    def __init__(
        self,
        *,
        engine: Engine,
        repos: RepoStore,
        accounts: AccountService,
        projects: ProjectService,
        clock: Clock,
        public_url: str,
        labels: LabelConfig,
        permissions: Permissions,
    ) -> None:
        self.engine = engine
        self.labels = labels
        self.permissions = permissions
        self.repos = repos
        self.accounts = accounts
        self.projects = projects
        self.clock = clock
        self.public_url = public_url

    def change_url(self, project: str, number: int) -> str:
        return events.change_url(self.public_url, project, number)

    # --- finding changes ----------------------------------------------------

    def resolve(self, change_id: str, viewer: Who) -> Change:
        """The change `change_id` names (N, project~N, project~branch~I..., I...)
        among those `viewer` may see: a change of a project the viewer may not
        read, or a private change of someone else, is 404 as Gerrit answers, just
        like one that does not exist."""
        found = [c for c in self._candidates(change_id) if self._visible(viewer, c)]
        return _one(change_id, found)

    def lookup(self, change_id: str) -> Change:
        """The change `change_id` names, whoever may see it: for the server's own
        work, never to answer a request (`resolve` is for those)."""
        return _one(change_id, self._candidates(change_id))

    def _visible(self, viewer: Who, change: Change) -> bool:
        project = self.projects.find(change.project)
        return project is not None and self.permissions.can_see_change(viewer, project, change)

    def target_in(
        self,
        conn: Connection,
        change_id: str,
        actor: Who,
        *,
        files: bool = False,
        lock: bool = False,
    ) -> WriteTarget:
        """`resolve` and the change's patch sets for a write by `actor`, with the
        change's project and the caller's groups, read in the caller's transaction
        `conn`; `lock` when that transaction writes to the change, which then holds
        its row lock (as `ChangeWriter.write` takes it) from this read on."""
        caller = self.permissions.caller(actor, conn=conn)
        candidates = self._candidates_in(conn, change_id, lock=lock)
        projects = {
            name: project_store.project_by_name(conn, name)
            for name in {c.project for c in candidates}
        }
        found = []
        for c in candidates:
            project = projects[c.project]
            if project is not None and self.permissions.can_see_change(caller, project, c):
                found.append(c)
        change = _one(change_id, found)
        if lock and not self._locked_by_read(change_id, conn):
            # Found by Change-Id: candidates on other branches are not locked;
            # the one chosen is, and read again under its lock.
            relocked = change_store.get_change(conn, change.number, for_update=True)
            if relocked is None:
                raise NotFound(f"Not found: {urllib.parse.unquote(change_id)}")
            change = relocked
        project = projects[change.project]
        assert project is not None
        sets = change_store.load_patch_sets(conn, [change.number], with_files=files)
        detail = ChangeDetail(change=change, patch_sets=tuple(sets.get(change.number, ())))
        return WriteTarget(caller=caller, detail=detail, project=project)

    def _candidates(self, change_id: str) -> list[Change]:
        with read_transaction(self.engine) as conn:
            return self._candidates_in(conn, change_id)

    @staticmethod
    def _by_number(change_id: str) -> tuple[str | None, int] | None:
        """(project or None, number) when `change_id` names a change by number."""
        ident = urllib.parse.unquote(change_id)
        parts = ident.split("~")
        if len(parts) == 1 and ident.isdigit():
            return None, int(ident)
        if len(parts) == 2 and parts[1].isdigit():
            return parts[0], int(parts[1])
        return None

    @classmethod
    def _locked_by_read(cls, change_id: str, conn: Connection) -> bool:
        """Whether `_candidates_in(lock=True)` locked the change it found: those
        named by number, and all of them on SQLite, whose write transactions
        exclude other writers from their start."""
        return conn.dialect.name == "sqlite" or cls._by_number(change_id) is not None

    @classmethod
    def _candidates_in(
        cls, conn: Connection, change_id: str, *, lock: bool = False
    ) -> list[Change]:
        by_number = cls._by_number(change_id)
        if by_number is not None:
            project, number = by_number
            one = change_store.get_change(conn, number, for_update=lock)
            return [one] if one and project in (None, one.project) else []
        ident = urllib.parse.unquote(change_id)
        parts = ident.split("~")
        if len(parts) == 1 and CHANGE_ID.match(ident):
            return change_store.find_changes_by_key(conn, ident)
        if len(parts) == 3:
            project, branch, key = parts
            branch = branch.removeprefix("refs/heads/")
            return change_store.find_changes_by_key(conn, key, project=project, branch=branch)
        return []

    def details(self, numbers: list[int], options: LoadOptions) -> list[ChangeDetail]:
        """The changes with the parts that `options` asks for, in the order of `numbers`."""
        with read_transaction(self.engine) as conn:
            changes = change_store.load_changes(conn, numbers)
            want_patch_sets = options.all_revisions or options.current_revision or options.files
            patch_sets = (
                change_store.load_patch_sets(
                    conn,
                    numbers,
                    with_files=options.files,
                    current_only=not options.all_revisions,
                )
                if want_patch_sets
                else {}
            )
            messages = change_store.load_messages(conn, numbers) if options.messages else {}
            account_ids: set[int] = set()
            for change in changes:
                account_ids.add(change.owner_id)
                account_ids.update(change.reviewers)
                account_ids.update(change.ccs)
                if change.submitter_id is not None:
                    account_ids.add(change.submitter_id)
            for sets in patch_sets.values():
                account_ids.update(ps.uploader_id for ps in sets)
            for msgs in messages.values():
                account_ids.update(m.author_id for m in msgs if m.author_id is not None)
            accounts = accounts_by_ids(conn, sorted(account_ids))
        return [
            ChangeDetail(
                change=change,
                patch_sets=tuple(patch_sets.get(change.number, ())),
                messages=tuple(messages.get(change.number, ())),
                accounts=accounts,
            )
            for change in changes
        ]

    def detail(self, change_id: str, options: LoadOptions, viewer: Who) -> ChangeDetail:
        """`resolve`, with the parts `options` asks for."""
        change = self.resolve(change_id, viewer)
        return self.details([change.number], options)[0]

    def with_patch_sets(self, change: Change, *, files: bool = False) -> ChangeDetail:
        """`change` with all its patch sets (and their files), without the accounts
        and messages the read API shows: what a write needs to check its input."""
        with read_transaction(self.engine) as conn:
            sets = change_store.load_patch_sets(conn, [change.number], with_files=files)
        return ChangeDetail(change=change, patch_sets=tuple(sets.get(change.number, ())))

    def patch_set(self, detail: ChangeDetail, revision: str) -> PatchSet:
        """A patch set by `current`, its number, or a full or abbreviated commit SHA."""
        sets = detail.patch_sets
        if revision in ("current", ""):
            return detail.current
        if revision.isdigit() and len(revision) < 4:
            for ps in sets:
                if ps.number == int(revision):
                    return ps
        if _HEX.match(revision):
            matches = [ps for ps in sets if ps.commit.sha.startswith(revision)]
            if len(matches) == 1:
                return matches[0]
        if revision.isdigit():
            for ps in sets:
                if ps.number == int(revision):
                    return ps
        raise NotFound(f"Not found: revision {revision} of change {detail.change.number}")

    def account_map(self, ids: list[int]) -> dict[int, Account]:
        return self.accounts.by_ids(ids)

    # --- searching and relations ---------------------------------------------

    def query(
        self, text: str, *, limit: int | None = None, start: int = 0, viewer: Account | None = None
    ) -> QueryPage:
        """Changes matching a query in Gerrit's search language, most recently updated first.

        `limit` is the caller's page size (`n=`), capped by any `limit:` in the
        query; a malformed query raises QueryError naming the token and position.
        """
        from lockgate.services.change_query import query_changes

        return query_changes(self, text, limit=limit, start=start, viewer=viewer)

    def query_many(
        self, queries: list[tuple[str, int | None]], *, viewer: Account | None = None
    ) -> list[QueryPage]:
        """`query` of each (text, limit) for one viewer, in one read: a dashboard."""
        from lockgate.services.change_query import query_many

        return query_many(self, queries, viewer=viewer)

    def related(self, detail: ChangeDetail, patch_set: PatchSet) -> list[RelatedChange]:
        """The relation chain of a patch set: descendants then ancestors, newest first,
        the patch set itself included; empty when it has no related change."""
        from lockgate.services.related import related_changes

        return related_changes(self, detail, patch_set)
