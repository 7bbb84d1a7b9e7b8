"""Submitting a change: its branch gets its commit, by the project's submit type.

A submit is checked whole before anything is written: the change is open, not
work in progress, the caller may submit on its branch, and it and every
unmerged ancestor submitted with it are submittable. Then the new branch tip
is built in git (fast-forward, merge commit, rebased or cherry-picked
commits: objects no ref names yet), and one write transaction records the new
patch sets, the merged states, messages and events, and moves the branch last,
compare-and-swap against the tip it was built on.

What a crash leaves: the branch is moved just before the transaction commits,
and moved back if the commit fails. A process that dies between the two
leaves a branch holding commits that the database still calls open, and the
new patch sets' refs without rows. The next submit of such a change finds its
commit (or the commit of that leftover ref) on the branch and records the
change as merged, without building anything again; a leftover ref that is not
on the branch is removed before its number is used.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import change_store
from lockgate.adapters.db.account_store import accounts_by_ids
from lockgate.adapters.db.approval_store import current_votes, set_vote
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.db.event_store import append_event
from lockgate.adapters.db.locks import lock_name
from lockgate.adapters.db.relation_store import patch_sets_with_commits
from lockgate.adapters.git.merges import MergeRefused, Merges
from lockgate.adapters.git.repos import ZERO_SHA, GitError, RepoStore
from lockgate.core.review import events
from lockgate.core.review.acl import Permission
from lockgate.core.review.labels import Vote
from lockgate.core.review.model import (
    Account,
    Change,
    ChangeStatus,
    FileChange,
    PatchSet,
    Project,
    SubmitType,
)
from lockgate.core.review.refs import HEADS, change_ref
from lockgate.core.review.submit import (
    failed_to_submit,
    merged_message,
    submits_ancestors,
)
from lockgate.services.clock import Clock
from lockgate.services.errors import Conflict, NotFound
from lockgate.services.labels import LabelConfig
from lockgate.services.permissions import Permissions
from lockgate.services.projects import ProjectService
from lockgate.services.push_records import (
    clear_leftover_ref,
    delete_refs,
    record_merged,
    record_patch_set,
)
from lockgate.services.submit_tips import Landed, Member, Outcome, TipBuilder

log = logging.getLogger(__name__)

# A chain taller than this is refused rather than walked.
MAX_CHAIN = 500
# How often a submit is built again when the branch moved while it was built.
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Mergeable:
    submit_type: SubmitType
    mergeable: bool
    commit_merged: bool
    conflicts: tuple[str, ...] = ()


class _Moved(Exception):
    """The branch or a change moved after the submit was built: build it again."""


def status_conflict(change: Change) -> Conflict:
    return Conflict(f"change is {change.status.value.lower()}")


class SubmitService:
    def __init__(
        self,
        *,
        engine: Engine,
        repos: RepoStore,
        projects: ProjectService,
        permissions: Permissions,
        labels: LabelConfig,
        clock: Clock,
        public_url: str,
        server_ident: tuple[str, str],
    ) -> None:
        self.engine = engine
        self.repos = repos
        self.merges = Merges(repos)
        self.projects = projects
        self.permissions = permissions
        self.labels = labels
        self.clock = clock
        self.public_url = public_url
        self.tips = TipBuilder(
            repos=repos, clock=clock, public_url=public_url, server_ident=server_ident
        )

    # --- the request --------------------------------------------------------

    def project_of(self, change: Change) -> Project:
        project = self.projects.find(change.project)
        if project is None:
            raise NotFound(f"Not found: project {change.project}")
        return project

    def submit(self, change: Change, actor: Account) -> None:
        """Merge `change` (and the ancestors that go with it) into its branch."""
        project = self.project_of(change)
        if not change.is_open:
            raise status_conflict(change)
        self.permissions.require(
            actor,
            project,
            Permission.SUBMIT,
            HEADS + change.branch,
            action=f"submit change {change.number}",
        )
        refusal = self.permissions.write_refusal(project)
        if refusal is not None:
            raise Conflict(refusal)
        for _ in range(ATTEMPTS):
            tip = self.projects.branch_tip(project.name, change.branch)
            with read_transaction(self.engine) as conn:
                members = self._members(conn, project, change, tip)
                self._check_submittable(conn, members)
                votes = current_votes(conn, [m.change.number for m in members])
                people = accounts_by_ids(
                    conn, sorted({v.account_id for vs in votes.values() for v in vs})
                )
            outcome = self.tips.recovered(project, members, tip) or self.tips.build(
                project, members, tip, actor=actor, votes=votes, people=people
            )
            try:
                self._write(project, change.branch, outcome, actor, votes)
            except _Moved:
                continue
            return
        raise Conflict(
            f"branch {change.branch} of {project.name} kept moving while change "
            f"{change.number} was submitted; submit it again"
        )

    def submitted_together(self, change: Change) -> list[Change]:
        """The changes a submit of `change` merges, oldest first; [] when only itself."""
        project = self.project_of(change)
        if not change.is_open:
            return []
        tip = self.projects.branch_tip(project.name, change.branch)
        with read_transaction(self.engine) as conn:
            members = self._members(conn, project, change, tip)
        return [m.change for m in members] if len(members) > 1 else []

    def mergeable(self, change: Change, patch_set: PatchSet) -> Mergeable:
        """Whether `patch_set` would merge into its branch now, by a dry merge."""
        project = self.project_of(change)
        kind = project.submit_type
        tip = self.projects.branch_tip(project.name, change.branch)
        commit = patch_set.commit
        if tip is None or self.repos.is_ancestor(project.name, tip, commit.sha):
            return Mergeable(kind, True, False)
        if self.repos.is_ancestor(project.name, commit.sha, tip):
            return Mergeable(kind, True, True)
        if kind is SubmitType.FAST_FORWARD_ONLY:
            return Mergeable(kind, False, False)
        try:
            if kind in (SubmitType.MERGE_IF_NECESSARY, SubmitType.MERGE_ALWAYS):
                result = self.merges.merge(project.name, tip, commit.sha)
            else:
                result = self.merges.pick(project.name, commit, tip)
        except MergeRefused:
            return Mergeable(kind, False, False)
        return Mergeable(kind, result.clean, False, result.conflicts)

    # --- what is submitted --------------------------------------------------

    def _members(
        self, conn: Connection, project: Project, change: Change, tip: str | None
    ) -> list[Member]:
        """The change and its unmerged ancestors, oldest first."""
        current = change_store.load_patch_sets(conn, [change.number], current_only=True)
        top = Member(change, current[change.number][-1])
        if not submits_ancestors(project.submit_type):
            return [top]
        by_commit: dict[str, Member] = {top.commit.sha: top}
        pending = [top]
        while pending:
            child = pending.pop()
            for parent in child.commit.parents:
                if parent in by_commit:
                    continue
                if tip is not None and self.repos.is_ancestor(project.name, parent, tip):
                    # On the branch already. Still open only when a submit died
                    # between moving the branch and committing: it merges now.
                    landed = self._ancestor(conn, project, child, parent, required=False)
                    if landed is not None:
                        by_commit[parent] = landed
                        pending.append(landed)
                    continue
                member = self._ancestor(conn, project, child, parent, required=True)
                assert member is not None
                if len(by_commit) >= MAX_CHAIN:
                    raise Conflict(
                        f"change {change.number} has more than {MAX_CHAIN} unmerged "
                        "ancestors; submit them in parts"
                    )
                by_commit[parent] = member
                pending.append(member)
        ordered: list[Member] = []
        placed: set[str] = set()

        def place(member: Member) -> None:
            # Parents before children, iteratively so a tall chain needs no recursion.
            stack = [(member, False)]
            while stack:
                node, expanded = stack.pop()
                if node.commit.sha in placed:
                    continue
                if expanded:
                    placed.add(node.commit.sha)
                    ordered.append(node)
                    continue
                stack.append((node, True))
                for parent in reversed(node.commit.parents):
                    if parent in by_commit and parent not in placed:
                        stack.append((by_commit[parent], False))

        place(top)
        return ordered

    def _ancestor(
        self, conn: Connection, project: Project, child: Member, sha: str, *, required: bool
    ) -> Member | None:
        """The open change whose current patch set is commit `sha`, a parent of
        `child`; when there is none, a 409 that says why if it is `required`."""
        found = patch_sets_with_commits(
            conn, project.name, [sha], (ChangeStatus.NEW, ChangeStatus.MERGED)
        )
        same_branch = [ps for ps in found if ps.branch == child.change.branch]
        current = [
            ps
            for ps in same_branch
            if ps.status is ChangeStatus.NEW and ps.number == ps.current_patch_set
        ]
        short = child.commit.sha
        if current:
            ps = current[0]
            change = change_store.get_change(conn, ps.change_number)
            sets = change_store.load_patch_sets(conn, [ps.change_number], current_only=True)
            assert change is not None
            return Member(change, sets[ps.change_number][-1])
        if not required:
            return None
        outdated = [ps for ps in same_branch if ps.status is ChangeStatus.NEW]
        if outdated:
            ps = outdated[0]
            problem = (
                f"Commit {short} depends on commit {sha}, which is outdated patch set "
                f"{ps.number} of change {ps.change_number}. The latest patch set is "
                f"{ps.current_patch_set}."
            )
        elif same_branch:
            problem = (
                f"Commit {short} depends on commit {sha} of change "
                f"{same_branch[0].change_number} which cannot be merged."
            )
        else:
            problem = (
                f"Commit {short} depends on commit {sha} which cannot be merged. "
                "Is the change of this commit not visible or was it deleted?"
            )
        raise Conflict(failed_to_submit([(child.change.number, problem)]))

    def _check_submittable(self, conn: Connection, members: Sequence[Member]) -> None:
        problems: list[tuple[int, str]] = []
        changes = change_store.load_changes(conn, [m.change.number for m in members])
        records = self.labels.submit_records(conn, changes)
        for change in changes:
            number = change.number
            if change.work_in_progress:
                problems.append((number, f"Change {number} is work in progress"))
            record = records[number]
            if not record.submittable:
                problems.append((number, record.reason()))
        if problems:
            raise Conflict(failed_to_submit(problems))

    # --- the write ------------------------------------------------------------

    def _write(
        self,
        project: Project,
        branch: str,
        outcome: Outcome,
        actor: Account,
        votes: dict[int, list[Vote]],
    ) -> None:
        name = project.name
        ref = HEADS + branch
        created: list[str] = []
        moved = False
        files = {
            landed.new_commit.sha: self.repos.file_changes(name, landed.new_commit)
            for landed in outcome.landed
            if landed.new_commit is not None
        }
        try:
            with write_transaction(self.engine) as conn:
                lock_name(conn, "push", name, branch)
                if self.projects.branch_tip(name, branch) != outcome.tip:
                    raise _Moved()
                now = self.clock()
                members = [landed.member for landed in outcome.landed]
                for member in members:
                    row = change_store.lock_change(conn, member.change.number)
                    if (
                        row is None
                        or row.status != ChangeStatus.NEW.value
                        or row.current_patch_set != member.patch_set.number
                    ):
                        raise _Moved()
                # Votes may have changed since the submit was checked: check again
                # under the locks, so that what merges is what was submittable.
                self._check_submittable(conn, members)
                if outcome.new_tip is not None:
                    event = events.ref_updated(
                        project=name,
                        ref=ref,
                        old=outcome.tip or ZERO_SHA,
                        new=outcome.new_tip,
                        submitter=actor,
                        now=now,
                    )
                    append_event(conn, event, now=now, project=name)
                for landed in outcome.landed:
                    self._land(
                        conn,
                        project,
                        landed,
                        actor=actor,
                        votes=votes,
                        files=files,
                        now=now,
                        created=created,
                    )
                if outcome.new_tip is not None:
                    # Last, so that a failure before it leaves the branch as it was;
                    # compare-and-swap, so that a push that came in meanwhile wins.
                    try:
                        self.repos.update_ref(name, ref, outcome.new_tip, outcome.tip or ZERO_SHA)
                    except GitError as error:
                        raise _Moved() from error
                    moved = True
        except BaseException:
            if moved and outcome.new_tip is not None:
                self._move_back(name, ref, outcome)
            delete_refs(self.repos, name, created)
            raise
        try:
            self.repos.write_commit_graph(name)
        except GitError as error:
            log.info("commit-graph of %s not written: %s", name, error)

    def _move_back(self, project: str, ref: str, outcome: Outcome) -> None:
        assert outcome.new_tip is not None
        try:
            if outcome.tip is None:
                self.repos.git(project, "update-ref", "-d", ref, outcome.new_tip)
            else:
                self.repos.update_ref(project, ref, outcome.tip, outcome.new_tip)
        except GitError:
            log.exception("could not move %s of %s back after a failed submit", ref, project)

    def _land(
        self,
        conn: Connection,
        project: Project,
        landed: Landed,
        *,
        actor: Account,
        votes: dict[int, list[Vote]],
        files: dict[str, list[FileChange]],
        now: int,
        created: list[str],
    ) -> None:
        member = landed.member
        number = member.change.number
        patch_set = member.patch_set
        if landed.new_commit is not None:
            commit = landed.new_commit
            patch_set = PatchSet(
                change_number=number,
                number=change_store.next_patch_set_number(conn, number),
                commit=commit,
                uploader_id=actor.id,
                created_at=now,
                files=tuple(files.get(commit.sha) or self.repos.file_changes(project.name, commit)),
                kind=landed.kind,
            )
            clear_leftover_ref(self.repos, project.name, change_ref(number, patch_set.number))
            record_patch_set(
                conn,
                self.repos,
                project.name,
                patch_set,
                actor,
                message=None,
                created=created,
                announce=False,
            )
            # The votes the change was submitted with stay on the patch set that merged.
            for vote in votes.get(number, []):
                if vote.value != 0 and vote.patch_set == member.patch_set.number:
                    set_vote(
                        conn,
                        number,
                        Vote(
                            vote.account_id,
                            vote.label,
                            vote.value,
                            patch_set.number,
                            vote.date,
                            vote.tag,
                        ),
                        copied=True,
                    )
        record_merged(
            conn,
            project.name,
            patch_set,
            actor,
            message=merged_message(
                landed.landing, sha=landed.commit, submitter_name=actor.full_name
            ),
            new_rev=landed.commit,
            public_url=self.public_url,
            now=now,
        )
