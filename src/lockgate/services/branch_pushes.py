"""Pushes to branches and tags: who may make them, and what they close.

- Before a push (pre-receive): `refs/changes/*` and `refs/meta/*` belong to the
  server, and only accounts allowed to push directly update branches and tags.
- After it (post-receive): each branch or tag update is a `ref-updated` event,
  and the open changes of a branch whose commits it now contains are merged:
  a pushed commit that is one of their patch sets, or that carries their
  Change-Id (then it becomes their last patch set).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import change_store
from lockgate.adapters.db.engine import write_transaction
from lockgate.adapters.db.event_store import append_event
from lockgate.adapters.db.locks import lock_name
from lockgate.adapters.git.repos import ZERO_SHA, GitError, RepoStore
from lockgate.core.review import events
from lockgate.core.review.footers import change_id_of
from lockgate.core.review.model import (
    Account,
    ChangeStatus,
    CommitInfo,
    PatchSet,
    Project,
)
from lockgate.core.review.refs import CHANGES, FOR, HEADS, TAGS
from lockgate.services.accounts import AccountService
from lockgate.services.clock import Clock
from lockgate.services.permissions import Permissions
from lockgate.services.projects import ProjectService
from lockgate.services.push_records import (
    Command,
    HookReply,
    delete_refs,
    record_merged,
    record_patch_set,
)

log = logging.getLogger(__name__)

# Commits of one direct push that are looked at for changes to close.
MAX_PUSHED_COMMITS = 10_000


class BranchPushes:
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
    ) -> None:
        self.engine = engine
        self.repos = repos
        self.accounts = accounts
        self.projects = projects
        self.permissions = permissions
        self.clock = clock
        self.public_url = public_url

    def change_url(self, project: str, number: int) -> str:
        return events.change_url(self.public_url, project, number)

    def _who(self, username: str | None) -> Account | None:
        return self.accounts.find(username) if username else None

    def check(
        self,
        project_name: str,
        username: str | None,
        commands: Sequence[Command],
        push_options: Sequence[str] = (),
    ) -> HookReply:
        """Refuse the push unless every command may go ahead."""
        project = self.projects.find(project_name)
        account = self._who(username)
        results: list[str | None] = []
        messages: list[str] = []
        for command in commands:
            reason = self._ref_refusal(project, account, command)
            results.append(reason)
            if reason is not None:
                messages.append(f"ERROR: {command.ref}: {reason}")
        if any(results) and any(c.ref.startswith((HEADS, TAGS)) for c in commands):
            messages.append("")
            messages.append("To propose a commit for review, push to refs/for/<branch>:")
            messages.append("  git push origin HEAD:refs/for/master")
        return HookReply(tuple(messages), tuple(results))

    def _ref_refusal(
        self, project: Project | None, account: Account | None, command: Command
    ) -> str | None:
        if project is None:
            return "not a Gerrit project"
        ref = command.ref
        if ref.startswith(FOR):
            if FOR.rstrip("/") not in self.repos.config_values(
                project.name, "receive.procReceiveRefs"
            ):
                # Without it receive-pack would create a literal refs/for ref.
                self.repos.configure(project.name)
                return "repository settings were incomplete and are now restored; push again"
            # proc-receive refuses what else is wrong, with a reason of its own.
            return None
        if ref.startswith(CHANGES):
            return (
                "refs/changes/* are created by lockgate: push to refs/for/<branch> "
                "to upload a patch set"
            )
        if ref.startswith("refs/meta/"):
            return f"prohibited by Gerrit: {ref} is managed by lockgate"
        if not ref.startswith((HEADS, TAGS)):
            return "prohibited by Gerrit: only branches, tags and refs/for/* take pushes"
        refused = self.permissions.ref_update_refusal(
            account, project, ref, command.old, command.new, fast_forward=command.fast_forward
        )
        if refused is not None:
            return f"prohibited by Gerrit: not permitted: {refused}"
        return self.permissions.write_refusal(project)

    def after(
        self, project_name: str, username: str | None, commands: Sequence[Command]
    ) -> HookReply:
        """Events for updated branches and tags; close the changes a branch now contains."""
        project = self.projects.find(project_name)
        if project is None:
            return HookReply(results=tuple(None for _ in commands))
        account = self._who(username)
        updates = [c for c in commands if c.ref.startswith((HEADS, TAGS))]
        messages: list[str] = []
        if updates:
            pushed = {
                c.ref: self._pushed_commits(project.name, c)
                for c in updates
                if c.ref.startswith(HEADS) and c.new != ZERO_SHA
            }
            created: list[str] = []
            try:
                with write_transaction(self.engine) as conn:
                    now = self.clock()
                    for command in updates:
                        event = events.ref_updated(
                            project=project.name,
                            ref=command.ref,
                            old=command.old,
                            new=command.new,
                            submitter=account,
                            now=now,
                        )
                        append_event(conn, event, now=now, project=project.name)
                        if command.ref in pushed:
                            lock_name(conn, "push", project.name, command.ref[len(HEADS) :])
                            messages += self._close_merged(
                                conn,
                                project,
                                command,
                                pushed[command.ref],
                                account=account,
                                now=now,
                                created=created,
                            )
            except Exception:
                delete_refs(self.repos, project.name, created)
                log.exception("recording the push to %s failed", project.name)
                messages.append("ERROR: lockgate could not record this push; see its log")
        self._write_commit_graph(project.name)
        return HookReply(tuple(messages), tuple(None for _ in commands))

    def _write_commit_graph(self, project: str) -> None:
        try:
            self.repos.write_commit_graph(project)
        except GitError as error:
            # Another push writing it at the same moment holds its lock; the
            # next push writes it again.
            log.info("commit-graph of %s not written: %s", project, error)

    def _pushed_commits(self, project: str, command: Command) -> list[CommitInfo]:
        """The commits a branch update brought in, newest first."""
        if command.old != ZERO_SHA:
            exclude = [command.old]
        else:
            branches = self.repos.refs(project, HEADS)
            exclude = [sha for ref, sha in branches.items() if ref != command.ref]
        shas = self.repos.rev_list(project, command.new, exclude, MAX_PUSHED_COMMITS)
        return self.repos.read_commits(project, shas)

    def _close_merged(
        self,
        conn: Connection,
        project: Project,
        command: Command,
        commits: Sequence[CommitInfo],
        *,
        account: Account | None,
        now: int,
        created: list[str],
    ) -> list[str]:
        """Mark merged the open changes of the branch whose commits the push brought in."""
        branch = command.ref[len(HEADS) :]
        # First the changes one of whose patch sets is now on the branch...
        merged: dict[int, int] = {}
        for start in range(0, len(commits), 500):
            shas = [c.sha for c in commits[start : start + 500]]
            for number, ps_number, _sha in change_store.changes_with_commits(
                conn, project.name, shas
            ):
                merged[number] = max(ps_number, merged.get(number, 0))
        closed: dict[int, PatchSet] = {}
        for number, ps_number in sorted(merged.items()):
            row = change_store.lock_change(conn, number)
            if row is None or row.status != ChangeStatus.NEW.value or row.branch != branch:
                continue
            sets = change_store.load_patch_sets(conn, [number], with_files=True).get(number, [])
            closed[number] = next(ps for ps in sets if ps.number == ps_number)
        # ...then those whose Change-Id a pushed commit carries: that commit
        # becomes their last patch set. Newest first: the newest commit wins.
        for commit in commits:
            if account is None:
                break
            found = change_id_of(commit.message)
            if found.change_id is None:
                continue
            for change in change_store.find_changes_by_key(
                conn, found.change_id, project=project.name, branch=branch
            ):
                if not change.is_open or change.number in closed:
                    continue
                row = change_store.lock_change(conn, change.number)
                if row is None or row.status != ChangeStatus.NEW.value:
                    continue
                patch_set = PatchSet(
                    change_number=change.number,
                    number=change_store.next_patch_set_number(conn, change.number),
                    commit=commit,
                    uploader_id=account.id,
                    created_at=now,
                    files=tuple(self.repos.file_changes(project.name, commit)),
                    kind="REWORK",
                )
                record_patch_set(
                    conn,
                    self.repos,
                    project.name,
                    patch_set,
                    account,
                    message=None,
                    created=created,
                )
                closed[change.number] = patch_set
        messages = []
        for number, patch_set in sorted(closed.items()):
            change = record_merged(
                conn,
                project.name,
                patch_set,
                account,
                message="Change has been successfully pushed.",
                new_rev=patch_set.commit.sha,
                public_url=self.public_url,
                now=now,
            )
            messages.append(f"  {self.change_url(project.name, number)} {change.subject} [MERGED]")
        return messages
