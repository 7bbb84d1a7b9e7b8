"""The new branch tip of a submit, built in git before anything is recorded:
a fast-forward, a merge commit, or rebased and cherry-picked commits with the
footers their submit type adds; objects that no ref names yet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lockgate.adapters.git.merges import MergeRefused, Merges
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.review import events
from lockgate.core.review.labels import Vote
from lockgate.core.review.model import (
    Account,
    Change,
    CommitInfo,
    PatchSet,
    Person,
    Project,
    SubmitType,
)
from lockgate.core.review.refs import change_ref
from lockgate.core.review.submit import (
    NOT_FAST_FORWARD,
    Approver,
    Landing,
    MergedChange,
    adds_footers,
    conflict_text,
    failed_to_submit,
    merge_commit_message,
    message_on_submit,
)
from lockgate.services.clock import Clock
from lockgate.services.errors import Conflict


@dataclass(frozen=True, slots=True)
class Member:
    """A change submitted, with its current patch set."""

    change: Change
    patch_set: PatchSet

    @property
    def commit(self) -> CommitInfo:
        return self.patch_set.commit


@dataclass(frozen=True, slots=True)
class Landed:
    """How one change reached the branch: `commit` is what landed (its own commit,
    a merge commit, or a new one), `new_commit` a commit that becomes its new patch set."""

    member: Member
    landing: Landing
    commit: str
    new_commit: CommitInfo | None = None
    kind: str = "REWORK"


@dataclass
class Outcome:
    tip: str | None  # the branch tip it was built on (None: no such branch yet)
    new_tip: str | None  # None when the branch does not move
    landed: list[Landed] = field(default_factory=list)


class TipBuilder:
    def __init__(
        self,
        *,
        repos: RepoStore,
        clock: Clock,
        public_url: str,
        server_ident: tuple[str, str],
    ) -> None:
        self.repos = repos
        self.merges = Merges(repos)
        self.clock = clock
        self.public_url = public_url
        self.server_ident = server_ident

    def _people(self, actor: Account, now: int) -> tuple[Person, Person]:
        seconds = now // 1_000_000
        name, email = self.server_ident
        submitter = Person(
            actor.full_name or actor.username,
            actor.email or f"{actor.username}@{email.partition('@')[2] or 'localhost'}",
            seconds,
            0,
        )
        return submitter, Person(name, email, seconds, 0)

    def recovered(
        self, project: Project, members: Sequence[Member], tip: str | None
    ) -> Outcome | None:
        """The outcome of an earlier submit that moved the branch but did not commit."""
        if tip is None:
            return None
        landed: list[Landed] = []
        for member in members:
            if self.repos.is_ancestor(project.name, member.commit.sha, tip):
                landed.append(Landed(member, Landing.MERGED, member.commit.sha))
                continue
            ref = change_ref(member.change.number, member.patch_set.number + 1)
            left = self.repos.resolve(project.name, ref)
            if left is None or not self.repos.is_ancestor(project.name, left, tip):
                return None
            [commit] = self.repos.read_commits(project.name, [left])
            landing = (
                Landing.CHERRY_PICKED
                if project.submit_type is SubmitType.CHERRY_PICK
                else Landing.REBASED
            )
            landed.append(Landed(member, landing, left, commit))
        return Outcome(tip=tip, new_tip=None, landed=landed)

    def build(
        self,
        project: Project,
        members: Sequence[Member],
        tip: str | None,
        *,
        actor: Account,
        votes: dict[int, list[Vote]],
        people: dict[int, Account],
    ) -> Outcome:
        name = project.name
        done = [
            Landed(m, Landing.MERGED, m.commit.sha)
            for m in members
            if tip is not None and self.repos.is_ancestor(name, m.commit.sha, tip)
        ]
        landed = {d.commit for d in done}
        rest = [m for m in members if m.commit.sha not in landed]
        if not rest:
            return Outcome(tip, None, done)
        outcome = self._strategy(project, rest, tip, actor=actor, votes=votes, people=people)
        outcome.landed[:0] = done
        return outcome

    def _strategy(
        self,
        project: Project,
        members: Sequence[Member],
        tip: str | None,
        *,
        actor: Account,
        votes: dict[int, list[Vote]],
        people: dict[int, Account],
    ) -> Outcome:
        name = project.name
        kind = project.submit_type
        top = members[-1]
        fast_forward = tip is None or self.repos.is_ancestor(name, tip, top.commit.sha)
        own = [Landed(m, Landing.MERGED, m.commit.sha) for m in members]
        if kind is SubmitType.CHERRY_PICK and len(top.commit.parents) > 1:
            # A merge commit is not cherry-picked: it merges as it is (as Gerrit does).
            kind = SubmitType.MERGE_IF_NECESSARY
        if kind is SubmitType.FAST_FORWARD_ONLY:
            if not fast_forward:
                raise Conflict(failed_to_submit([(top.change.number, NOT_FAST_FORWARD)]))
            return Outcome(tip, top.commit.sha, own)
        if kind is SubmitType.MERGE_IF_NECESSARY and fast_forward:
            return Outcome(tip, top.commit.sha, own)
        if kind in (SubmitType.MERGE_IF_NECESSARY, SubmitType.MERGE_ALWAYS):
            if tip is None:
                return Outcome(tip, top.commit.sha, own)
            return self._merge_commit(project, members, tip, actor)
        now = self.clock()
        _submitter, server = self._people(actor, now)
        footers = adds_footers(kind)
        current = tip
        landed: list[Landed] = []
        for member in members:
            commit = member.commit
            if kind is SubmitType.REBASE_IF_NECESSARY and (
                current is None or self.repos.is_ancestor(name, current, commit.sha)
            ):
                landed.append(Landed(member, Landing.MERGED, commit.sha))
                current = commit.sha
                continue
            if current is None:
                raise Conflict(
                    failed_to_submit(
                        [(member.change.number, f"branch {member.change.branch} does not exist")]
                    )
                )
            try:
                result = self.merges.pick(name, commit, current)
            except MergeRefused as refused:
                raise Conflict(failed_to_submit([(member.change.number, str(refused))])) from None
            if not result.clean:
                raise Conflict(
                    failed_to_submit([(member.change.number, conflict_text(result.conflicts))])
                )
            if kind is SubmitType.CHERRY_PICK and result.tree == self.merges.tree_of(name, current):
                landed.append(Landed(member, Landing.SKIPPED, current))
                continue
            message = commit.message
            if footers:
                message = message_on_submit(
                    message,
                    change_key=member.change.change_key,
                    change_url=events.change_url(
                        self.public_url, member.change.project, member.change.number
                    ),
                    approvers=_approvers(votes.get(member.change.number, []), people),
                )
            made = self.merges.commit(
                name,
                tree=result.tree,
                parents=[current],
                message=message,
                author=commit.author,
                committer=server,
            )
            landing = Landing.CHERRY_PICKED if kind is SubmitType.CHERRY_PICK else Landing.REBASED
            kind_of = "REWORK" if footers else "TRIVIAL_REBASE"
            landed.append(Landed(member, landing, made.sha, made, kind_of))
            current = made.sha
        return Outcome(tip, current if current != tip else None, landed)

    def _merge_commit(
        self, project: Project, members: Sequence[Member], tip: str, actor: Account
    ) -> Outcome:
        top = members[-1]
        if self.repos.is_ancestor(project.name, top.commit.sha, tip):
            return Outcome(tip, None, [Landed(m, Landing.MERGED, m.commit.sha) for m in members])
        result = self.merges.merge(project.name, tip, top.commit.sha)
        if not result.clean:
            raise Conflict(failed_to_submit([(top.change.number, conflict_text(result.conflicts))]))
        submitter, server = self._people(actor, self.clock())
        message = merge_commit_message(
            [MergedChange(m.commit.subject, m.change.change_key, m.change.topic) for m in members],
            top.change.branch,
        )
        made = self.merges.commit(
            project.name,
            tree=result.tree,
            parents=[tip, top.commit.sha],
            message=message,
            author=submitter,
            committer=server,
        )
        return Outcome(tip, made.sha, [Landed(m, Landing.MERGED, made.sha) for m in members])


def _approvers(votes: Sequence[Vote], people: dict[int, Account]) -> list[Approver]:
    found = []
    for vote in votes:
        account = people.get(vote.account_id)
        if account is None:
            continue
        found.append(Approver(vote.label, vote.value, account.full_name, account.email))
    return found
