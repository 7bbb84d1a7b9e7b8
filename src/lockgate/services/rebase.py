"""Rebasing a change: a new patch set with its commit on a new base.

The base is, by default, the current patch set of the open change its commit
sits on (when that change moved on), else the branch tip; or the one asked
for: a change, or a commit that is on the branch or is an open change's
current patch set. The rebased commit keeps the author and message; the
caller commits it and uploads the new patch set. A clean rebase is a
TRIVIAL_REBASE, whose votes carry over by the labels' copy rules.
"""

from __future__ import annotations

import re
import urllib.parse

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import change_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.db.relation_store import patch_sets_with_commits
from lockgate.adapters.git.merges import MergeRefused, Merges
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.review import events
from lockgate.core.review.acl import Permission
from lockgate.core.review.footers import CHANGE_ID
from lockgate.core.review.model import Account, Change, ChangeStatus, PatchSet, Person
from lockgate.core.review.refs import change_ref
from lockgate.services.change_writes import ChangeWriter
from lockgate.services.clock import Clock
from lockgate.services.errors import BadRequest, Conflict
from lockgate.services.labels import LabelConfig
from lockgate.services.permissions import Permissions
from lockgate.services.projects import ProjectService
from lockgate.services.push_records import clear_leftover_ref, delete_refs, record_patch_set
from lockgate.services.submit import status_conflict

UP_TO_DATE = "Change is already up to date."
_SHA = re.compile(r"^[0-9a-f]{4,40}$")


def rebase_conflict(paths: tuple[str, ...]) -> str:
    return (
        "The change could not be rebased due to a conflict during merge.\n\n"
        "merge conflict(s):\n" + "\n".join(paths)
    )


class RebaseService:
    def __init__(
        self,
        *,
        engine: Engine,
        repos: RepoStore,
        projects: ProjectService,
        permissions: Permissions,
        labels: LabelConfig,
        writer: ChangeWriter,
        clock: Clock,
        public_url: str,
    ) -> None:
        self.engine = engine
        self.repos = repos
        self.merges = Merges(repos)
        self.projects = projects
        self.permissions = permissions
        self.labels = labels
        self.writer = writer
        self.clock = clock
        self.public_url = public_url

    def rebase(
        self, change: Change, actor: Account, *, base: str | None, allow_conflicts: bool = False
    ) -> PatchSet:
        """The new patch set of `change` rebased onto `base` (see the module)."""
        project = self.projects.find(change.project)
        assert project is not None
        if not change.is_open:
            raise status_conflict(change)
        self.permissions.require_change(
            actor, project, change, Permission.REBASE, action=f"rebase change {change.number}"
        )
        refusal = self.permissions.write_refusal(project)
        if refusal is not None:
            raise Conflict(refusal)
        with read_transaction(self.engine) as conn:
            prior = change_store.load_patch_sets(conn, [change.number], current_only=True)[
                change.number
            ][-1]
            target = self._base(conn, change, prior, base)
        commit = prior.commit
        if commit.parents and commit.parents[0] == target:
            raise Conflict(UP_TO_DATE)
        if self.repos.is_ancestor(change.project, commit.sha, target):
            raise Conflict(
                "base change is a descendant of the current change - recursion not allowed"
            )
        try:
            result = self.merges.pick(change.project, commit, target)
        except MergeRefused as refused:
            raise Conflict(str(refused)) from None
        if not result.clean and not allow_conflicts:
            raise Conflict(rebase_conflict(result.conflicts))
        now = self.clock()
        made = self.merges.commit(
            change.project,
            tree=result.tree,
            parents=[target],
            message=commit.message,
            author=commit.author,
            committer=Person(
                actor.full_name or actor.username,
                actor.email or commit.committer.email,
                now // 1_000_000,
                0,
            ),
        )
        files = tuple(self.repos.file_changes(change.project, made))
        kind = "TRIVIAL_REBASE" if result.clean else "REWORK"
        created: list[str] = []
        try:
            with self.writer.write(change.number, actor) as w:
                if not w.change.is_open:
                    raise status_conflict(w.change)
                if w.patch_set.number != prior.number:
                    raise Conflict(
                        f"change {change.number} got patch set {w.patch_set.number} while it "
                        "was rebased; rebase it again"
                    )
                number = change_store.next_patch_set_number(w.conn, change.number)
                patch_set = PatchSet(
                    change_number=change.number,
                    number=number,
                    commit=made,
                    uploader_id=actor.id,
                    created_at=w.now,
                    files=files,
                    kind=kind,
                )
                clear_leftover_ref(self.repos, change.project, change_ref(change.number, number))
                note = None
                if result.conflicts:
                    note = "The following files contain Git conflicts:\n" + "\n".join(
                        f"* {path}" for path in result.conflicts
                    )
                record_patch_set(
                    w.conn,
                    self.repos,
                    change.project,
                    patch_set,
                    actor,
                    message=note,
                    created=created,
                    summary=f"Patch Set {number}: Patch Set {prior.number} was rebased",
                )
                self.labels.copy_votes(w.conn, w.change, prior=prior.number, new=number, kind=kind)
                w.event(
                    lambda s: events.patchset_created(
                        change=s.change,
                        patch_set=patch_set,
                        owner=s.owner,
                        uploader=actor,
                        public_url=self.public_url,
                        now=w.now,
                    )
                )
        except BaseException:
            delete_refs(self.repos, change.project, created)
            raise
        return patch_set

    # --- the base ---------------------------------------------------------------

    def _tip(self, change: Change) -> str:
        tip = self.projects.branch_tip(change.project, change.branch)
        if tip is None:
            raise Conflict(f"branch {change.branch} of {change.project} does not exist")
        return tip

    def _base(self, conn: Connection, change: Change, prior: PatchSet, base: str | None) -> str:
        if base is None:
            return self._default_base(conn, change, prior)
        wanted = urllib.parse.unquote(base.strip())
        if wanted == "":
            return self._tip(change)
        other = self._change_named(conn, change, wanted)
        if other is not None:
            return self._base_change(conn, change, other)
        if not _SHA.match(wanted):
            raise BadRequest(
                f"base {wanted!r} is neither a change nor a commit: give a change number, "
                "a Change-Id or a commit sha"
            )
        sha = self.repos.resolve(change.project, wanted)
        if sha is None:
            raise BadRequest(f"base revision {wanted} not found in {change.project}")
        tip = self._tip(change)
        if self.repos.is_ancestor(change.project, sha, tip):
            return sha
        for ps in patch_sets_with_commits(conn, change.project, [sha], (ChangeStatus.NEW,)):
            if ps.branch == change.branch and ps.number == ps.current_patch_set:
                if ps.change_number == change.number:
                    raise Conflict("cannot rebase change onto itself")
                return sha
        raise Conflict(f"base revision is missing from the destination branch: {wanted}")

    def _default_base(self, conn: Connection, change: Change, prior: PatchSet) -> str:
        """The parent change's current patch set when the commit sits on an open
        change, else the branch tip."""
        parents = prior.commit.parents
        if parents:
            for ps in patch_sets_with_commits(
                conn, change.project, [parents[0]], (ChangeStatus.NEW,)
            ):
                if ps.branch == change.branch and ps.change_number != change.number:
                    current = change_store.load_patch_sets(
                        conn, [ps.change_number], current_only=True
                    )[ps.change_number][-1]
                    return current.commit.sha
        return self._tip(change)

    def _change_named(self, conn: Connection, change: Change, ident: str) -> Change | None:
        """The change `ident` names, or None when it may be a commit sha."""
        if ident.isdigit():
            one = change_store.get_change(conn, int(ident)) if len(ident) < 10 else None
            if one is None and len(ident) < 7:
                raise BadRequest(f"base change {ident} not found")
            return one
        if CHANGE_ID.match(ident):
            found = change_store.find_changes_by_key(
                conn, ident, project=change.project, branch=change.branch
            )
            if not found:
                raise BadRequest(f"base change {ident} not found on {change.branch}")
            return next((c for c in found if c.is_open), found[-1])
        if "~" in ident:
            project, _, number = ident.rpartition("~")
            one = change_store.get_change(conn, int(number)) if number.isdigit() else None
            if one is None or one.project != project:
                raise BadRequest(f"base change {ident} not found")
            return one
        return None

    def _base_change(self, conn: Connection, change: Change, other: Change) -> str:
        if other.number == change.number:
            raise Conflict("cannot rebase change onto itself")
        if other.project != change.project or other.branch != change.branch:
            raise Conflict(
                f"base change is targeting wrong branch: change {other.number} is on "
                f"{other.project} {other.branch}, change {change.number} on {change.branch}"
            )
        if other.status is ChangeStatus.ABANDONED:
            raise Conflict(f"base change is abandoned: {other.number}")
        sets = change_store.load_patch_sets(conn, [other.number], current_only=True)
        return sets[other.number][-1].commit.sha
