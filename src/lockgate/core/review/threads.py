"""Comment threads: a published comment and the replies under it, with the
reader's own drafts in the thread they answer.

A thread is anchored where its first comment sits (patch set, path, side,
line); replies name their parent with `in_reply_to`, and a thread is
unresolved while its latest published comment is, as Gerrit counts it. A
draft is not yet part of the count: publishing it may resolve the thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lockgate.core.review.comments import Comment, Side


@dataclass(frozen=True, slots=True)
class Anchor:
    patch_set: int
    path: str
    side: Side
    line: int  # 0: the whole file


@dataclass(frozen=True, slots=True)
class Thread:
    comments: tuple[Comment, ...]  # published, oldest first
    drafts: tuple[Comment, ...] = ()  # the reader's, oldest first

    @property
    def root(self) -> Comment:
        return self.comments[0] if self.comments else self.drafts[0]

    @property
    def id(self) -> str:
        return self.root.id

    @property
    def anchor(self) -> Anchor:
        root = self.root
        return Anchor(root.patch_set, root.path, root.side, root.line or 0)

    @property
    def unresolved(self) -> bool:
        """Whether the published thread waits for an answer (a draft-only thread does not)."""
        return bool(self.comments) and self.comments[-1].unresolved

    @property
    def resolved_with_drafts(self) -> bool:
        """Whether the thread will be resolved once the reader's drafts are published."""
        latest = self.drafts[-1] if self.drafts else self.comments[-1]
        return not latest.unresolved

    @property
    def last(self) -> Comment:
        """The latest published comment (or the draft of a thread only drafted): the
        one a reply answers."""
        return self.comments[-1] if self.comments else self.drafts[-1]


def _order(comment: Comment) -> tuple[int, str]:
    return (comment.created_at, comment.id)


def build_threads(published: Iterable[Comment], drafts: Iterable[Comment] = ()) -> list[Thread]:
    """The threads of a change's comments and one reader's drafts, in Gerrit's order
    of their first comments. A reply whose parent is missing starts its own thread;
    a draft answering a published comment joins that comment's thread."""
    comments = sorted(published, key=_order)
    by_id = {c.id: c for c in comments}

    def root_of(comment: Comment) -> str:
        seen = {comment.id}
        current = comment
        while current.in_reply_to in by_id and current.in_reply_to not in seen:
            current = by_id[current.in_reply_to]
            seen.add(current.id)
        return current.id

    members: dict[str, list[Comment]] = {}
    for comment in comments:
        members.setdefault(root_of(comment), []).append(comment)
    answering: dict[str, list[Comment]] = {}
    for draft in sorted(drafts, key=_order):
        parent = by_id.get(draft.in_reply_to or "")
        key = root_of(parent) if parent is not None else draft.id
        answering.setdefault(key, []).append(draft)
    threads = [
        Thread(tuple(members.get(key, ())), tuple(answering.get(key, ())))
        for key in [*members, *(k for k in answering if k not in members)]
    ]
    return sorted(threads, key=lambda thread: thread.root.sort_key())


def unresolved_count(threads: Sequence[Thread]) -> int:
    return sum(1 for thread in threads if thread.unresolved)
