"""A file diff laid out for reading: numbered lines in rows, side by side or
unified, the changed characters of each line, and the common lines folded
away beyond the context around changes and comments.

The input is a whole-file diff (DiffInfo's blocks without skips). Gerrit's
empty last line of a text that ends with a newline is not a line anyone
wrote, so it is not shown.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from lockgate.core.review.diff import Block

# Fewer folded lines than this are shown instead: "⋯ 2 lines" saves no room.
MIN_FOLD = 4

Mark = tuple[int, int]  # [start, end) characters of one line


class Side(enum.StrEnum):
    A = "a"  # the older side: the parent, or the base patch set
    B = "b"  # the patch set


class RowKind(enum.StrEnum):
    COMMON = "common"
    CHANGE = "change"  # side by side: a changed line on either or both sides
    REMOVE = "remove"  # unified: a line only on side A
    ADD = "add"  # unified: a line only on side B


@dataclass(frozen=True, slots=True)
class Cell:
    line: int  # 1-based, on its side
    text: str
    marks: tuple[Mark, ...] = ()  # the characters that differ from the other side


@dataclass(frozen=True, slots=True)
class Section:
    """A run of lines both sides share, or one changed block."""

    common: bool
    a: tuple[Cell, ...]
    b: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Row:
    kind: RowKind
    a: Cell | None
    b: Cell | None


@dataclass(frozen=True, slots=True)
class Group:
    """Rows shown, or rows folded away behind "⋯ N lines" until expanded."""

    rows: tuple[Row, ...]
    folded: bool = False


class Mode(enum.StrEnum):
    SIDE_BY_SIDE = "sidebyside"
    UNIFIED = "unified"


# --- sections ------------------------------------------------------------------


def line_marks(lines: Sequence[str], pairs: Sequence[tuple[int, int]] | None) -> list[list[Mark]]:
    """Gerrit's intraline [skip, mark] pairs over a block's lines (each with its
    newline) as the marked characters of each line; a mark that runs over a
    newline goes on in the next line."""
    marks: list[list[Mark]] = [[] for _ in lines]
    if not pairs:
        return marks
    starts: list[int] = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    position = 0
    index = 0
    for skip, length in pairs:
        position += skip
        start, end = position, position + length
        position = end
        while index < len(lines) and starts[index] + len(lines[index]) < start:
            index += 1
        current = index
        while current < len(lines) and starts[current] < end:
            low = max(start, starts[current]) - starts[current]
            high = min(end, starts[current] + len(lines[current])) - starts[current]
            if high > low:
                marks[current].append((low, high))
            current += 1
    return marks


def sections(blocks: Sequence[Block]) -> list[Section]:
    """The blocks of a whole-file diff as sections of numbered cells, without a
    side's empty last line (its text ended with a newline)."""
    found: list[Section] = []
    all_a: list[str] = []
    all_b: list[str] = []
    for block in blocks:
        all_a.extend(block.ab or block.a or ())
        all_b.extend(block.ab or block.b or ())
    lines_a, lines_b = shown_lines(all_a), shown_lines(all_b)
    next_a = next_b = 1

    def cells(texts: Sequence[str], first: int, limit: int, marks: list[list[Mark]]) -> list[Cell]:
        return [
            Cell(first + i, text, tuple(marks[i]))
            for i, text in enumerate(texts)
            if first + i <= limit
        ]

    for block in blocks:
        if block.skip is not None:
            raise ValueError("sections need the whole file: ask for the diff without context")
        if block.ab is not None:
            none: list[list[Mark]] = [[] for _ in block.ab]
            a = cells(block.ab, next_a, lines_a, none)
            b = cells(block.ab, next_b, lines_b, none)
            next_a += len(block.ab)
            next_b += len(block.ab)
            if a or b:
                found.append(Section(True, tuple(a), tuple(b)))
            continue
        texts_a, texts_b = block.a or (), block.b or ()
        a = cells(texts_a, next_a, lines_a, line_marks(texts_a, block.edit_a))
        b = cells(texts_b, next_b, lines_b, line_marks(texts_b, block.edit_b))
        next_a += len(texts_a)
        next_b += len(texts_b)
        if a or b:
            found.append(Section(False, tuple(a), tuple(b)))
    return found


def shown_lines(lines: Sequence[str]) -> int:
    """How many of Gerrit's lines of a side are shown: all but an empty last one."""
    return len(lines) - 1 if lines and lines[-1] == "" else len(lines)


# --- rows ----------------------------------------------------------------------


def rows_of(section: Section, mode: Mode) -> list[Row]:
    if section.common:
        # One side is shorter only by an empty last line left out.
        return [Row(RowKind.COMMON, a, b) for a, b in itertools.zip_longest(section.a, section.b)]
    if mode is Mode.UNIFIED:
        return [Row(RowKind.REMOVE, a, None) for a in section.a] + [
            Row(RowKind.ADD, None, b) for b in section.b
        ]
    count = max(len(section.a), len(section.b))
    return [
        Row(
            RowKind.CHANGE,
            section.a[i] if i < len(section.a) else None,
            section.b[i] if i < len(section.b) else None,
        )
        for i in range(count)
    ]


def _kept(row: Row, keep: Collection[tuple[Side, int]]) -> bool:
    return (row.a is not None and (Side.A, row.a.line) in keep) or (
        row.b is not None and (Side.B, row.b.line) in keep
    )


def layout(
    found: Sequence[Section],
    mode: Mode,
    *,
    context: int | None,
    keep: Collection[tuple[Side, int]] = (),
) -> list[Group]:
    """The rows of the sections, with the common lines further than `context`
    from any change folded (None: nothing folded). Lines in `keep` (those with
    comments) stay shown wherever they are."""
    groups: list[Group] = []

    def add(rows: Sequence[Row], folded: bool) -> None:
        if not rows:
            return
        if groups and groups[-1].folded == folded:
            groups[-1] = Group(groups[-1].rows + tuple(rows), folded)
        else:
            groups.append(Group(tuple(rows), folded))

    for index, section in enumerate(found):
        rows = rows_of(section, mode)
        if not section.common or context is None:
            add(rows, False)
            continue
        after_change = index > 0
        before_change = index + 1 < len(found)
        shown = [
            (after_change and i < context)
            or (before_change and i >= len(rows) - context)
            or _kept(row, keep)
            for i, row in enumerate(rows)
        ]
        start = 0
        while start < len(rows):
            end = start + 1
            while end < len(rows) and shown[end] == shown[start]:
                end += 1
            run = rows[start:end]
            add(run, not shown[start] and len(run) >= MIN_FOLD)
            start = end
    return groups
