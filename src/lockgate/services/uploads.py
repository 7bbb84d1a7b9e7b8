"""Pushes: changes and patch sets from `refs/for/*`, and direct branch updates.

git's receive-pack calls the three entry points through the repository hooks
(`lockgate.cli.git_hook` and `web/hooks.py`):

- `check_ref_updates` (pre-receive) refuses refs nobody may push and direct
  pushes by accounts not allowed to make them; git then refuses the push;
- `receive_push` (proc-receive) turns each `refs/for/<branch>` command into
  changes and patch sets, in one write transaction per command, and creates
  their `refs/changes/NN/N/P`; a refused command writes nothing;
- `after_ref_updates` (post-receive) records `ref-updated` events and closes
  the open changes a direct push merged.

Replies carry the lines the pusher sees as `remote:` output, worded as Gerrit
words them, and the reason git prints for each refused ref.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import change_store
from lockgate.adapters.db.account_store import accounts_by_ids
from lockgate.adapters.db.engine import write_transaction
from lockgate.adapters.db.event_store import append_event
from lockgate.adapters.db.locks import lock_name
from lockgate.adapters.git.merges import MergeRefused, Merges
from lockgate.adapters.git.repos import ZERO_SHA, GitError, RepoStore
from lockgate.core.review import events
from lockgate.core.review.footers import change_id_of
from lockgate.core.review.model import (
    Account,
    Change,
    CommitInfo,
    FileChange,
    PatchSet,
    Project,
)
from lockgate.core.review.push_options import PushOptionError, PushOptions, parse_for_ref
from lockgate.core.review.refs import FOR, HEADS
from lockgate.core.review.upload import (
    MAX_BATCH_COMMITS,
    ExistingChange,
    NewChange,
    Rejection,
    UploadPlan,
    may_be_trivial_rebase,
    patch_set_kind,
    plan_upload,
)
from lockgate.services.accounts import AccountService
from lockgate.services.branch_pushes import BranchPushes
from lockgate.services.clock import Clock
from lockgate.services.labels import LabelConfig
from lockgate.services.permissions import Permissions
from lockgate.services.projects import ProjectService
from lockgate.services.push_records import (
    Command,
    HookReply,
    UploadRejected,
    delete_refs,
    record_patch_set,
)

__all__ = ["Command", "HookReply", "UploadRejected", "UploadService"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Uploaded:
    """A change that a push created or gave a new patch set."""

    project: str
    number: int
    subject: str
    new: bool
    work_in_progress: bool
    private: bool


@dataclass
class _Push:
    """One `refs/for/<branch>` command, resolved and read from git."""

    project: Project
    branch: str
    account: Account
    options: PushOptions
    commits: Sequence[CommitInfo]
    keys: Sequence[str]
    merges_allowed: bool
    reviewers: Sequence[Account]
    ccs: Sequence[Account]
    files: dict[str, list[FileChange]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # refs made so far, undone on failure


@dataclass
class _Outcome:
    uploaded: list[Uploaded] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class UploadService:
    def __init__(
        self,
        *,
        engine: Engine,
        repos: RepoStore,
        accounts: AccountService,
        projects: ProjectService,
        permissions: Permissions,
        clock: Clock,
        public_url: str,
        labels: LabelConfig,
    ) -> None:
        self.engine = engine
        self.repos = repos
        self.accounts = accounts
        self.projects = projects
        self.permissions = permissions
        self.labels = labels
        self.clock = clock
        self.public_url = public_url
        self.branches = BranchPushes(
            engine=engine,
            repos=repos,
            accounts=accounts,
            projects=projects,
            permissions=permissions,
            clock=clock,
            public_url=public_url,
        )

    def change_url(self, project: str, number: int) -> str:
        return events.change_url(self.public_url, project, number)

    @property
    def hook_hint(self) -> str:
        return (
            f"curl -Lo .git/hooks/commit-msg {self.public_url}tools/hooks/commit-msg "
            "&& chmod +x .git/hooks/commit-msg"
        )

    def _who(self, username: str | None) -> Account | None:
        return self.accounts.find(username) if username else None

    # --- pre-receive and post-receive: branches and tags ----------------------

    def check_ref_updates(
        self,
        project_name: str,
        username: str | None,
        commands: Sequence[Command],
        push_options: Sequence[str] = (),
    ) -> HookReply:
        """pre-receive: refuse the push unless every command may go ahead."""
        return self.branches.check(project_name, username, commands, push_options)

    def after_ref_updates(
        self, project_name: str, username: str | None, commands: Sequence[Command]
    ) -> HookReply:
        """post-receive: events for branch and tag updates; merge the changes they contain."""
        return self.branches.after(project_name, username, commands)

    # --- proc-receive ---------------------------------------------------------

    def receive_push(
        self,
        project_name: str,
        username: str | None,
        commands: Sequence[Command],
        push_options: Sequence[str] = (),
    ) -> HookReply:
        """Changes and patch sets for each `refs/for/*` command."""
        project = self.projects.find(project_name)
        account = self._who(username)
        results: list[str | None] = []
        errors: list[str] = []
        outcome = _Outcome()
        for command in commands:
            try:
                if project is None:
                    raise UploadRejected("not a Gerrit project")
                one = self._upload(project, account, command, tuple(push_options))
            except UploadRejected as rejected:
                results.append(rejected.reason)
                # git prints the reason itself; the details say more.
                if rejected.details:
                    errors.append(f"ERROR: {rejected.details[0]}")
                    errors.extend(rejected.details[1:])
                continue
            results.append(None)
            outcome.uploaded.extend(one.uploaded)
            outcome.warnings.extend(one.warnings)
        return HookReply(self._report(len(commands), outcome, errors), tuple(results))

    def _report(self, refs: int, outcome: _Outcome, errors: list[str]) -> tuple[str, ...]:
        counts = [f"refs: {refs}"]
        new = sum(1 for u in outcome.uploaded if u.new)
        updated = len(outcome.uploaded) - new
        if new:
            counts.append(f"new: {new}")
        if updated:
            counts.append(f"updated: {updated}")
        lines = [f"Processing changes: {', '.join(counts)}, done"]
        lines += [f"warning: {w}" for w in outcome.warnings]
        lines += errors
        if outcome.uploaded:
            lines += ["", "SUCCESS", ""]
            for u in outcome.uploaded:
                flags = "".join(
                    flag
                    for flag, on in (
                        (" [WIP]", u.work_in_progress),
                        (" [PRIVATE]", u.private),
                        (" [NEW]", u.new),
                    )
                    if on
                )
                lines.append(f"  {self.change_url(u.project, u.number)} {u.subject}{flags}")
            lines.append("")
        return tuple(lines)

    def _upload(
        self, project: Project, account: Account | None, command: Command, options: tuple[str, ...]
    ) -> _Outcome:
        if account is None or not self.permissions.can_upload(account, project):
            raise UploadRejected(
                "prohibited by Gerrit: sign in with your HTTP password to upload changes"
            )
        refusal = self.permissions.write_refusal(project)
        if refusal is not None:
            raise UploadRejected(refusal)
        try:
            target = parse_for_ref(command.ref, options)
        except PushOptionError as error:
            raise UploadRejected(str(error)) from error
        if command.new == ZERO_SHA:
            raise UploadRejected(f"{FOR}* refs cannot be deleted; abandon the change instead")
        branch = target.branch
        if not self.permissions.can_upload(account, project, branch):
            raise UploadRejected(
                f"prohibited by Gerrit: not permitted: push to {FOR}{HEADS}{branch}"
            )
        if self.repos.resolve(project.name, HEADS + branch) is None:
            raise UploadRejected(
                f"branch {branch} not found",
                (f"branch {branch} not found: push to refs/for/<an existing branch>",),
            )
        shas = self.repos.new_commits(project.name, command.new, MAX_BATCH_COMMITS)
        commits = self.repos.read_commits(project.name, shas)
        push = _Push(
            project=project,
            branch=branch,
            account=account,
            options=target.options,
            commits=commits,
            keys=_change_keys(commits),
            merges_allowed=self.permissions.can_upload_merges(account, project, branch),
            reviewers=self._accounts_named(target.options.reviewers, "r"),
            ccs=self._accounts_named(target.options.ccs, "cc"),
        )
        # A first plan without locks refuses bad pushes before any write and
        # tells which commits need their file lists.
        with self.engine.connect() as conn:
            first = self._plan(conn, push, lock=False)
        for step in first.steps:
            push.files[step.commit.sha] = self.repos.file_changes(project.name, step.commit)
        try:
            with write_transaction(self.engine) as conn:
                lock_name(conn, "push", project.name, branch)
                plan = self._plan(conn, push, lock=True)
                outcome = self._apply(conn, push, plan)
        except UploadRejected:
            delete_refs(self.repos, project.name, push.created)
            raise
        except Exception as error:
            delete_refs(self.repos, project.name, push.created)
            log.exception("push to %s of %s failed", command.ref, project.name)
            raise UploadRejected(
                "internal server error", (f"the push could not be recorded: {error}",)
            ) from error
        outcome.warnings[:0] = plan.warnings
        return outcome

    def _rebase_kind(self, project: str, prior: CommitInfo, new: CommitInfo) -> str:
        """TRIVIAL_REBASE when `prior` applied onto `new`'s parent gives `new`'s tree
        without conflict, as Gerrit decides it; else REWORK."""
        try:
            picked = Merges(self.repos).pick(project, prior, new.parents[0])
        except (MergeRefused, GitError):
            return "REWORK"
        return "TRIVIAL_REBASE" if picked.clean and picked.tree == new.tree else "REWORK"

    def _accounts_named(self, names: Sequence[str], option: str) -> list[Account]:
        found = []
        for name in names:
            account = self.accounts.find(name)
            if account is None or account.inactive:
                raise UploadRejected(
                    f"account {name} not found",
                    (f"{option}={name}: no active account has that username or email",),
                )
            found.append(account)
        return found

    def _plan(self, conn: Connection, push: _Push, *, lock: bool) -> UploadPlan:
        existing: dict[str, ExistingChange] = {}
        for key in push.keys:
            found = change_store.find_changes_by_key(
                conn, key, project=push.project.name, branch=push.branch
            )
            if not found:
                continue
            chosen = next((c for c in found if c.is_open), found[-1])
            if lock and chosen.is_open:
                # Another writer of this change (a push, an abandon) waits or is waited for.
                change_store.lock_change(conn, chosen.number)
                chosen = change_store.get_change(conn, chosen.number) or chosen
            current = change_store.load_patch_sets(conn, [chosen.number], current_only=True)
            sets = current.get(chosen.number, [])
            if not sets:
                continue
            existing[key] = ExistingChange(chosen.number, chosen.status, sets[-1].commit)
        result = plan_upload(
            new_commits=push.commits,
            changes_by_key=existing,
            merges_allowed=push.merges_allowed,
            change_url=self.public_url + "c/" + push.project.name + "/+/{number}",
            hook_hint=self.hook_hint,
        )
        if isinstance(result, Rejection):
            raise UploadRejected(result.reason, result.details)
        return result

    def _apply(self, conn: Connection, push: _Push, plan: UploadPlan) -> _Outcome:
        project, branch, account, options = push.project, push.branch, push.account, push.options
        now = self.clock()
        outcome = _Outcome()
        for step in plan.steps:
            commit = step.commit
            before: Change | None = None  # the change as it was before this push
            if isinstance(step, NewChange):
                number = change_store.insert_change(
                    conn,
                    project=project.name,
                    branch=branch,
                    change_key=step.change_id,
                    owner_id=account.id,
                    subject=commit.subject,
                    now=now,
                    topic=options.topic,
                    work_in_progress=bool(options.wip),
                    private=bool(options.private),
                )
                ps_number, kind = 1, "REWORK"
            else:
                number = step.change_number
                ps_number = change_store.next_patch_set_number(conn, number)
                kind = patch_set_kind(step.prior, commit)
                if kind == "REWORK" and may_be_trivial_rebase(step.prior, commit):
                    kind = self._rebase_kind(project.name, step.prior, commit)
                before = change_store.get_change(conn, number)
                updates: dict[str, object] = {}
                if options.topic is not None:
                    updates["topic"] = options.topic
                if options.wip is not None:
                    updates["work_in_progress"] = options.wip
                if options.private is not None:
                    updates["private"] = options.private
                if updates:
                    change_store.update_change(conn, number, **updates)
            commit_files = push.files.get(commit.sha)
            if commit_files is None:
                commit_files = self.repos.file_changes(project.name, commit)
            patch_set = PatchSet(
                change_number=number,
                number=ps_number,
                commit=commit,
                uploader_id=account.id,
                created_at=now,
                files=tuple(commit_files),
                kind=kind,
            )
            record_patch_set(
                conn,
                self.repos,
                project.name,
                patch_set,
                account,
                message=options.message,
                created=push.created,
            )
            if before is not None:
                # Votes the labels' copy rules keep for this kind of patch set.
                self.labels.copy_votes(
                    conn, before, prior=before.current_patch_set, new=ps_number, kind=kind
                )
            change_store.add_hashtags(conn, number, options.hashtags)
            change = change_store.get_change(conn, number)
            assert change is not None
            for cc in push.ccs:
                if cc.id != change.owner_id and cc.id not in change.reviewers:
                    change_store.set_reviewer(conn, number, cc.id, "CC")
            added = [
                reviewer
                for reviewer in push.reviewers
                if reviewer.id != change.owner_id
                and change_store.set_reviewer(conn, number, reviewer.id, "REVIEWER")
            ]
            change = change_store.get_change(conn, number)
            assert change is not None
            owner = accounts_by_ids(conn, [change.owner_id]).get(change.owner_id)
            event = events.patchset_created(
                change=change,
                patch_set=patch_set,
                owner=owner,
                uploader=account,
                public_url=self.public_url,
                now=now,
            )
            append_event(conn, event, now=now, project=project.name, change_number=number)
            subject = events.ChangeEventSubject(
                change, patch_set, owner, account, self.public_url, now
            )
            followers = _push_state_events(subject, before, account, added)
            for follower in followers:
                append_event(conn, follower, now=now, project=project.name, change_number=number)
            outcome.uploaded.append(
                Uploaded(
                    project=project.name,
                    number=number,
                    subject=commit.subject,
                    new=isinstance(step, NewChange),
                    work_in_progress=change.work_in_progress,
                    private=change.private,
                )
            )
        return outcome


def _push_state_events(
    subject: events.ChangeEventSubject,
    before: Change | None,
    pusher: Account,
    reviewers: Sequence[Account],
) -> list[events.Json]:
    """The events that follow `patchset-created` when a push also changed the
    topic or work-in-progress state of an existing change, or added reviewers
    (CCs get no event, as in Gerrit)."""
    found: list[events.Json] = []
    change = subject.change
    if before is not None and (before.topic or None) != (change.topic or None):
        found.append(events.topic_changed(subject, changer=pusher, old_topic=before.topic))
    if before is not None and before.work_in_progress != change.work_in_progress:
        found.append(events.wip_state_changed(subject, changer=pusher))
    found += [events.reviewer_added(subject, reviewer=r, adder=pusher) for r in reviewers]
    return found


def _change_keys(commits: Sequence[CommitInfo]) -> list[str]:
    keys: list[str] = []
    for commit in commits:
        found = change_id_of(commit.message)
        if found.change_id is not None and found.change_id not in keys:
            keys.append(found.change_id)
    return keys
