"""The speculative merger: an item's state is the branch tip, the changes of the
items ahead and the item's own change, merged in queue order with the
project's merge mode, then frozen as refs the executor fetches.

Engine, chosen by measuring (``python -m benchmarks.speculative_merge``: a
generated repository of 20k commits and 5k files with a commit-graph, 20
changes on bases 20 to 400 commits behind the tip; git 2.39.5, 2 shared cores;
see docs/benchmarks.md):

- a work tree, ``git merge --no-ff`` per step (how Zuul's merger works):
  about 48 ms a merge, plus 0.4-1.3 s for ``git worktree add``;
- one ``git merge-tree --write-tree`` and one ``git commit-tree`` spawn per
  merge: about 9 ms a merge, nearly all of it process start and repository
  open;
- one long-lived ``git merge-tree --stdin`` per repository, commits read
  through a long-lived ``git cat-file --batch`` and merge commits written as
  loose objects from Python (`MergeEngine`): about 0.9 ms a merge for the
  20th item's whole state, 0.6 ms for its step alone onto the 19th's.

So the merger keeps those two processes per repository. A process start
(about 5 ms, the whole cost of a merge otherwise) is paid only to ask git about
history, and only when a merge's tree makes it a question: a change the head
contains merges to the head's own tree, and a change that can be
fast-forwarded to merges to the change's tree; any other result rules both out.
``rebase`` and ``squash-merge`` need which of the change's commits the head
lacks, and ask ``git rev-list --parents`` once per call. git 2.39's merge-tree
has no ``--merge-base``, so a 3-way merge over a chosen base (cherry-pick,
rebase) goes through the throwaway commit of `lockgate.adapters.git.merges`:
the head's tree with the picked commit's parent as its only parent.

Merge modes, as Zuul's merger runs them (``git merge``, ``git cherry-pick``,
``git merge --squash`` + ``git commit``, ``git rebase``):

- ``merge``, ``merge-resolve``, ``merge-recursive``, ``merge-ort``: a change
  already contained leaves the head alone; a change that descends from the head
  fast-forwards to it (git's default, which Zuul does not turn off); otherwise a
  merge commit with the head and the change as parents. The four differ in
  Zuul only in git's ``-s`` strategy; merge-tree has only ort, which gives the
  same tree as the others on every merge they all make cleanly (resolve and
  recursive may instead stop at a conflict that ort resolves, such as a
  rename on one side).
- ``cherry-pick``: the change's own diff (against its parent) applied onto the
  head, keeping its author and message; a merge commit is merged instead, and a
  diff that is already in the head adds nothing (Zuul backs the empty commit
  out). Like ``git cherry-pick``, it does not bring the change's parents along:
  a child merges cleanly behind its parent's item, or once the parent landed.
- ``squash-merge``: one commit whose tree is the merge of the head and the
  change, with the head as its only parent. Its message names the squashed
  commit (``Squashed-Commit:``), so that a child squashed later, in this call
  or another, merges over its parent rather than over the branch: git's own
  squash sees the parent's edits on both sides and may conflict.
- ``rebase``: the change's commits that the head does not contain, replayed one
  by one; commits whose parent is already the head are kept as they are (git
  rebase fast-forwards over them) and commits that become empty are dropped.

Commits the merger makes are dated by their inputs (the later of the head's
and the change's committer dates) and committed by the configured identity, so
the same inputs make the same commit, and a restarted scheduler that redoes a
merge gets the same sha.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lockgate.adapters.git.merge_engine import MergeEngine
from lockgate.adapters.git.merges import SCRATCH, MergeRefused
from lockgate.adapters.git.repos import GitError, RepoStore
from lockgate.core.review.model import CommitInfo, Person

MERGE_MODES = (
    "merge",
    "merge-resolve",
    "merge-recursive",
    "merge-ort",
    "cherry-pick",
    "squash-merge",
    "rebase",
)
_MERGING = frozenset(MERGE_MODES[:4])
ITEM_REFS = "refs/lockgate/items/"
_SQUASHED = "Squashed-Commit"
_SQUASHED_LINE = re.compile(rf"^{_SQUASHED}: ([0-9a-f]{{40,64}})$", re.MULTILINE)
# One ref path component git accepts (git check-ref-format), and no '/', so
# that an item's refs are exactly those below its own folder.
_ITEM = re.compile(r"^(?!\.)(?!.*\.\.)(?!.*\.lock$)[^\x00-\x20\x7f~^:?*\[\\/@]+(?<!\.)$")


@dataclass(frozen=True, slots=True)
class MergeStep:
    key: str  # the change as "N,P", used in messages and conflict reports
    commit: str  # sha of the patch set's commit
    message: str  # first line used in merge commit messages


@dataclass(frozen=True, slots=True)
class StepResult:
    head: str | None  # sha after applying the step; None on conflict
    conflicts: tuple[str, ...] = ()  # conflicting paths when head is None


@dataclass
class _History:
    """What `rev-list <steps> --not <onto>` said: the commits of the steps that
    `onto` lacks, with their parents, and which original commits the head
    being built contains so far, in its history or (squashed) in its tree."""

    onto: str
    parents: dict[str, tuple[str, ...]]
    contained: set[str] = field(default_factory=set)
    squashed: set[str] = field(default_factory=set)  # in the head's tree by squash-merge

    def contains(self, sha: str) -> bool:
        return sha not in self.parents or sha in self.contained

    def below(self, sha: str) -> set[str]:
        """`sha` and its ancestors that `onto` lacks."""
        seen: set[str] = set()
        todo = [sha]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.parents:
                continue
            seen.add(current)
            todo.extend(self.parents[current])
        return seen

    def take(self, sha: str) -> None:
        self.contained |= self.below(sha)


class SpeculativeMerger:
    # Two git processes stay running for each repository merged in lately.
    max_repositories = 32

    def __init__(self, repos: RepoStore, committer: tuple[str, str]) -> None:
        self.repos = repos
        self.committer = committer
        self._engines: dict[str, MergeEngine] = {}
        self._lock = threading.Lock()

    # --- building states ------------------------------------------------------

    def apply(self, project: str, onto: str, step: MergeStep, mode: str) -> StepResult:
        [result] = self.apply_all(project, onto, [step], mode)
        return result

    def apply_all(
        self, project: str, onto: str, steps: Sequence[MergeStep], mode: str
    ) -> list[StepResult]:
        """Each step onto the result of the one before, from `onto`; the list stops
        at the first conflict, which is its last entry."""
        if mode not in MERGE_MODES:
            raise ValueError(
                f"unknown merge mode {mode!r} for project {project}: "
                f"use one of {', '.join(MERGE_MODES)}"
            )
        engine = self._engine(project)
        onto = self._commit(engine, project, onto, "onto").sha
        for step in steps:
            self._commit(engine, project, step.commit, f"change {step.key}")
        history = None
        if mode in ("squash-merge", "rebase"):
            history = self._history(project, onto, [s.commit for s in steps])
            if mode == "squash-merge":
                history.squashed = self._squashed_into(engine, onto)
        results: list[StepResult] = []
        head = onto
        for step in steps:
            result = self._apply(engine, head, step, project=project, history=history, mode=mode)
            results.append(result)
            if result.head is None:
                break
            head = result.head
        return results

    def _apply(
        self,
        engine: MergeEngine,
        head: str,
        step: MergeStep,
        *,
        project: str,
        history: _History | None,
        mode: str,
    ) -> StepResult:
        change = engine.commit(step.commit)
        if change.sha == head:
            return StepResult(head)
        if mode in _MERGING or (mode == "cherry-pick" and len(change.parents) > 1):
            return self._merge(project, engine, head, change, step)
        if mode == "cherry-pick":
            if self._contains(project, engine, head, change):
                return StepResult(head)
            return self._pick(engine, head, change, change)
        assert history is not None
        if history.contains(change.sha):
            return StepResult(head)
        if mode == "squash-merge":
            return self._squash(engine, history, head, change, step)
        return self._rebase(engine, history, head, change)

    def _merge(
        self, project: str, engine: MergeEngine, head: str, change: CommitInfo, step: MergeStep
    ) -> StepResult:
        merged = engine.merge(head, change.sha)
        # Only a merge that gives the head's tree can be of a change the head contains,
        # and only one that gives the change's tree can be a fast-forward: git is asked
        # about the history just then, which spares a process start on every other merge.
        if not merged.clean:
            return StepResult(None, merged.conflicts)
        if merged.tree == engine.commit(head).tree and self.repos.is_ancestor(
            project, change.sha, head
        ):
            return StepResult(head)
        if merged.tree == change.tree and self.repos.is_ancestor(project, head, change.sha):
            return StepResult(change.sha)
        message = f"Merge change {step.key}: {_line(step.message)}\n"
        return StepResult(self._write(engine, merged.tree, [head, change.sha], message, change))

    def _contains(self, project: str, engine: MergeEngine, head: str, change: CommitInfo) -> bool:
        merged = engine.merge(head, change.sha)
        return (
            merged.clean
            and merged.tree == engine.commit(head).tree
            and self.repos.is_ancestor(project, change.sha, head)
        )

    def _squash(
        self,
        engine: MergeEngine,
        history: _History,
        head: str,
        change: CommitInfo,
        step: MergeStep,
    ) -> StepResult:
        ours = head
        # Ancestors squashed in ahead are in the head's tree but not its history:
        # merged over them as a base, a child applies on its parent's squash.
        squashed = sorted(history.squashed & history.below(change.sha))
        if squashed:
            ours = engine.write_commit(
                tree=engine.commit(head).tree,
                parents=[head, *squashed],
                message="",
                author=SCRATCH,
                committer=SCRATCH,
            )
        merged = engine.merge(ours, change.sha)
        if not merged.clean:
            return StepResult(None, merged.conflicts)
        history.squashed |= history.below(change.sha) - history.contained
        message = (
            f"Squash-merge change {step.key}: {_line(step.message)}\n\n{_SQUASHED}: {change.sha}\n"
        )
        return StepResult(self._write(engine, merged.tree, [head], message, change))

    def _squashed_into(self, engine: MergeEngine, head: str) -> set[str]:
        """The changes this merger squash-merged into `head` (their commits are not
        in its history): the squash commits on top of it name them."""
        found: set[str] = set()
        commit = engine.commit(head)
        while (commit.committer.name, commit.committer.email) == self.committer:
            match = _SQUASHED_LINE.search(commit.message)
            if match is None or len(commit.parents) != 1:
                break
            found.add(match.group(1))
            commit = engine.commit(commit.parents[0])
        return found

    def _pick(
        self, engine: MergeEngine, head: str, commit: CommitInfo, change: CommitInfo
    ) -> StepResult:
        """`commit`'s own diff onto `head`, dated by `change`; the head unchanged when
        the diff is already in it."""
        if not commit.parents:
            raise MergeRefused(
                f"commit {commit.sha[:7]} has no parent: an initial commit cannot be "
                "cherry-picked or rebased onto a branch; use a merge mode for this project"
            )
        base = commit.parents[0]
        ours = engine.commit(head)
        if base == head:
            tree = commit.tree
        else:
            scratch = engine.write_commit(
                tree=ours.tree, parents=[base], message="", author=SCRATCH, committer=SCRATCH
            )
            merged = engine.merge(scratch, commit.sha)
            if not merged.clean:
                return StepResult(None, merged.conflicts)
            tree = merged.tree
        if tree == ours.tree and commit.tree != engine.commit(base).tree:
            return StepResult(head)
        return StepResult(
            self._write(engine, tree, [head], commit.message, change, author=commit.author)
        )

    def _rebase(
        self, engine: MergeEngine, history: _History, head: str, change: CommitInfo
    ) -> StepResult:
        for sha in _topological(history.parents, history.below(change.sha) - history.contained):
            commit = engine.commit(sha)
            if len(commit.parents) > 1:
                continue  # git rebase drops merge commits and keeps what they bring
            if commit.parents[:1] == (head,):
                history.take(sha)  # already on the head: git rebase fast-forwards over it
                head = sha
                continue
            picked = self._pick(engine, head, commit, change)
            if picked.head is None:
                return picked
            head = picked.head
        return StepResult(head)

    def _write(
        self,
        engine: MergeEngine,
        tree: str,
        parents: list[str],
        message: str,
        change: CommitInfo,
        *,
        author: Person | None = None,
    ) -> str:
        when = max(engine.commit(parents[0]).committer.time, change.committer.time)
        committer = Person(self.committer[0], self.committer[1], when, 0)
        return engine.write_commit(
            tree=tree,
            parents=parents,
            message=message,
            author=author or committer,
            committer=committer,
        )

    # --- published states ---------------------------------------------------

    def publish(self, project: str, item: str, heads: Mapping[str, str]) -> None:
        """Freeze `item`'s state: `refs/lockgate/items/<item>/<branch>` for each
        branch, all in one transaction, and no other ref below the item's."""
        prefix = _item_prefix(item)
        commands = [f"update {prefix}{branch} {sha}" for branch, sha in sorted(heads.items())]
        for ref in self.repos.refs(project, prefix):
            if ref[len(prefix) :] not in heads:
                commands.append(f"delete {ref}")
        self._transaction(project, commands)

    def publish_many(self, project: str, items: Mapping[str, Mapping[str, str]]) -> None:
        """`publish` for several items of one project, in one transaction."""
        if not items:
            return
        commands: list[str] = []
        existing = self.repos.refs(project, "refs/lockgate/items/")
        for item, heads in sorted(items.items()):
            prefix = _item_prefix(item)
            commands.extend(
                f"update {prefix}{branch} {sha}" for branch, sha in sorted(heads.items())
            )
            commands.extend(
                f"delete {ref}"
                for ref in existing
                if ref.startswith(prefix) and ref[len(prefix) :] not in heads
            )
        self._transaction(project, commands)

    def drop(self, project: str, item: str) -> None:
        refs = self.repos.refs(project, _item_prefix(item))
        self._transaction(project, [f"delete {ref}" for ref in refs])

    def published(self, project: str, item: str) -> dict[str, str]:
        prefix = _item_prefix(item)
        return {ref[len(prefix) :]: sha for ref, sha in self.repos.refs(project, prefix).items()}

    def _transaction(self, project: str, commands: Iterable[str]) -> None:
        lines = list(commands)
        if lines:
            script = "start\n" + "".join(f"{line}\n" for line in lines) + "prepare\ncommit\n"
            self.repos.git(project, "update-ref", "--stdin", input=script.encode())

    # --- plumbing -----------------------------------------------------------

    def close(self) -> None:
        """Stop the git processes this merger keeps; later calls start them again."""
        with self._lock:
            engines, self._engines = self._engines, {}
        for engine in engines.values():
            engine.close()

    def __enter__(self) -> SpeculativeMerger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _engine(self, project: str) -> MergeEngine:
        with self._lock:
            engine = self._engines.pop(project, None)
            if engine is None:
                engine = MergeEngine(self.repos.path(project))
            self._engines[project] = engine  # the most recently used last
            idle = []
            while len(self._engines) > self.max_repositories:
                idle.append(self._engines.pop(next(iter(self._engines))))
        for old in idle:
            old.close()
        return engine

    def _commit(self, engine: MergeEngine, project: str, rev: str, what: str) -> CommitInfo:
        sha = rev if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", rev) else None
        sha = sha or self.repos.resolve(project, rev)
        if sha is None:
            raise ValueError(f"{what}: {rev!r} is not a commit of project {project}")
        try:
            return engine.commit(sha)
        except GitError as error:
            raise ValueError(f"{what}: {rev!r} is not a commit of project {project}") from error

    def _history(self, project: str, onto: str, commits: Sequence[str]) -> _History:
        if not commits:
            return _History(onto, {})
        out = self.repos.git(project, "rev-list", "--parents", *commits, "--not", onto)
        parents: dict[str, tuple[str, ...]] = {}
        for line in out.splitlines():
            sha, *rest = line.split()
            parents[sha] = tuple(rest)
        return _History(onto, parents)


def _item_prefix(item: str) -> str:
    if not _ITEM.match(item) or len(item) > 200:
        raise ValueError(
            f"invalid item name {item!r}: it names the folder of the item's refs, so it must "
            "be one ref path component (no '/', spaces, '..', '~^:?*[\\@' or a leading '.')"
        )
    return f"{ITEM_REFS}{item}/"


def _line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _topological(parents: Mapping[str, tuple[str, ...]], wanted: set[str]) -> list[str]:
    """`wanted` with every commit after its parents."""
    order: list[str] = []
    done: set[str] = set()
    for start in sorted(wanted):
        stack = [(start, False)]
        while stack:
            sha, expanded = stack.pop()
            if sha in done:
                continue
            if expanded:
                done.add(sha)
                order.append(sha)
                continue
            stack.append((sha, True))
            stack.extend((p, False) for p in parents[sha] if p in wanted and p not in done)
    return order
