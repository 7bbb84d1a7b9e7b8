"""Inline comments: where they sit in a revision, how they thread, and whether
they are valid for the file they name.

A comment is on one patch set, on a path (a file of the revision, or one of
Gerrit's magic paths), on the revision's side or its parent's, and on the
whole file (no line), a line, or a character range. Replies name their
parent with `in_reply_to`; a thread is unresolved while its latest comment is.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from lockgate.core.review.magic_files import COMMIT_MSG, MERGE_LIST

PATCHSET_LEVEL = "/PATCHSET_LEVEL"
MAGIC_PATHS = frozenset({COMMIT_MSG, MERGE_LIST, PATCHSET_LEVEL})


class Side(enum.StrEnum):
    REVISION = "REVISION"
    PARENT = "PARENT"


class CommentError(ValueError):
    """A comment the revision cannot hold; the message names it and why."""


@dataclass(frozen=True, slots=True)
class CommentRange:
    start_line: int
    start_character: int
    end_line: int
    end_character: int

    @property
    def valid(self) -> bool:
        """Gerrit's Range.isValid: no negative position, and the start before the end."""
        if min(self.start_line, self.start_character, self.end_line, self.end_character) < 0:
            return False
        return self.start_line < self.end_line or (
            self.start_line == self.end_line and self.start_character <= self.end_character
        )

    def describe(self) -> str:
        return f"{self.start_line}:{self.start_character} - {self.end_line}:{self.end_character}"


@dataclass(frozen=True, slots=True)
class CommentInput:
    """A comment as a review posts it, before it is checked against the revision."""

    path: str
    message: str
    side: Side = Side.REVISION
    line: int | None = None
    range: CommentRange | None = None
    in_reply_to: str | None = None
    unresolved: bool | None = None  # None: inherit from the parent comment
    parent: int | None = None  # which parent of a merge, for side PARENT

    @property
    def position_line(self) -> int | None:
        """The line Gerrit files the comment under: a range's end line when given."""
        if self.range is not None:
            return self.range.end_line
        return self.line or None


@dataclass(frozen=True, slots=True)
class Comment:
    """A published comment."""

    id: str
    change_number: int
    patch_set: int
    path: str
    message: str
    author_id: int
    created_at: int
    side: Side = Side.REVISION
    line: int | None = None
    range: CommentRange | None = None
    in_reply_to: str | None = None
    unresolved: bool = False
    change_message_id: str | None = None
    tag: str | None = None
    parent: int | None = None

    def sort_key(self) -> tuple[str, int, int, int, int, str]:
        """Gerrit's order: path, patch set, parent side first, line, time, id."""
        side = 0 if self.side is Side.PARENT else 1
        return (self.path, self.patch_set, side, self.line or 0, self.created_at, self.id)


def check_position(comment: CommentInput, *, lines: int | None, patch_set: int) -> None:
    """Refuse a comment whose line or range lies outside the file it names.

    `lines` is how many lines the file has on the comment's side, or None when
    the file does not exist on that side (an added file's parent side, a
    deleted file's revision side): then only a comment on the whole file fits.
    """
    path = comment.path
    if comment.line is not None and comment.line < 0:
        raise CommentError(f"negative line number {comment.line} not allowed on {path}")
    if path == PATCHSET_LEVEL:
        if comment.line or comment.range is not None:
            raise CommentError(
                f"{PATCHSET_LEVEL} comments are on the whole patch set: leave out line and range"
            )
        return
    if comment.range is not None:
        if not comment.range.valid:
            raise CommentError(
                f"Range ({comment.range.describe()}) is not valid for the comment on {path}"
            )
        last = comment.range.end_line
    else:
        last = comment.line or 0
    if last == 0:
        return
    side = "its parent" if comment.side is Side.PARENT else f"revision {patch_set}"
    if lines is None:
        raise CommentError(
            f"line {last} of {path} does not exist: {path} is not in {side}; "
            "comment on the whole file (no line) or on the other side"
        )
    first = comment.range.start_line if comment.range is not None else last
    if first < 1 or last > lines:
        raise CommentError(
            f"line {last if last > lines else first} of {path} does not exist: "
            f"{path} has {lines} line{'s' if lines != 1 else ''} in {side}"
        )


def line_count(content: bytes) -> int:
    """Lines of a file as a reader counts them (a last line without newline counts)."""
    return len(content.decode("utf-8", errors="replace").splitlines())


def thread_counts(points: Iterable[tuple[str, str | None, int, bool]]) -> tuple[int, int]:
    """(comments, unresolved threads) of one change, from (id, in_reply_to,
    created_at, unresolved) of each comment; a thread is unresolved while the
    latest comment in it is."""
    items = list(points)
    parents = {cid: reply for cid, reply, _, _ in items}

    def root(cid: str) -> str:
        seen = {cid}
        parent = parents.get(cid)
        while parent is not None and parent in parents and parent not in seen:
            seen.add(parent)
            cid = parent
            parent = parents.get(cid)
        return cid

    latest: dict[str, tuple[int, str, bool]] = {}
    for cid, _, created, unresolved in items:
        key = root(cid)
        candidate = (created, cid, unresolved)
        if key not in latest or candidate[:2] > latest[key][:2]:
            latest[key] = candidate
    return len(items), sum(1 for _, _, unresolved in latest.values() if unresolved)
