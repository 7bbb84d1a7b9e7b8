"""Diff content blocks as Gerrit's DiffInfo shows them: lines, edits, context,
whitespace and intraline marks, with properties that hold for any two texts."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.core.review.diff import (
    Block,
    Edit,
    Whitespace,
    build_blocks,
    content_type,
    intraline_edits,
    is_binary,
    joined,
    line_edits,
    lines_edits,
    split_lines,
)

# --- examples ----------------------------------------------------------------


def test_lines_keep_an_empty_last_line_after_a_final_newline() -> None:
    assert split_lines("a\nb\n") == ["a", "b", ""]
    assert split_lines("a\nb") == ["a", "b"]
    assert split_lines("") == []


def test_a_modified_line_with_context_and_skips() -> None:
    a = [f"line {i}" for i in range(1, 21)]
    b = list(a)
    b[9] = "line ten"
    blocks = build_blocks(a, b, [Edit(9, 10, 9, 10)], context=3)
    assert blocks == [
        Block(skip=6),
        Block(ab=("line 7", "line 8", "line 9")),
        Block(a=("line 10",), b=("line ten",)),
        Block(ab=("line 11", "line 12", "line 13")),
        Block(skip=7),
    ]


def test_changes_closer_than_twice_the_context_share_their_common_lines() -> None:
    a = [str(i) for i in range(10)]
    b = ["x" if i in (2, 7) else str(i) for i in range(10)]
    blocks = build_blocks(a, b, [Edit(2, 3, 2, 3), Edit(7, 8, 7, 8)], context=2)
    assert blocks == [
        Block(ab=("0", "1")),
        Block(a=("2",), b=("x",)),
        Block(ab=("3", "4", "5", "6")),
        Block(a=("7",), b=("x",)),
        Block(ab=("8", "9")),
    ]


def test_an_unchanged_file_is_whole_within_the_context_and_one_skip_beyond() -> None:
    lines = ["a", "b", "c", ""]
    assert build_blocks(lines, lines, []) == [Block(ab=("a", "b", "c", ""))]
    assert build_blocks(lines, lines, [], context=3) == [Block(skip=4)]
    assert build_blocks(lines, lines, [], context=None) == [Block(ab=("a", "b", "c", ""))]


def test_added_and_deleted_lines_leave_the_empty_side_out() -> None:
    assert build_blocks([], ["x", ""], [Edit(0, 0, 0, 2)]) == [Block(b=("x", ""))]
    assert build_blocks(["x", ""], [], [Edit(0, 2, 0, 0)]) == [Block(a=("x", ""))]


def test_lines_differing_only_in_ignored_whitespace_are_common_but_shown_on_both_sides() -> None:
    a = ["if x:", "  y()", "z"]
    b = ["if x:", "    y()", "z"]
    assert build_blocks(a, b, [], context=None) == [
        Block(ab=("if x:",)),
        Block(a=("  y()",), b=("    y()",), common=True),
        Block(ab=("z",)),
    ]


def test_git_edits_move_onto_gerrit_lines_at_the_end_of_the_file() -> None:
    # "Line 101" gains its newline: git changes the last line, Gerrit adds the empty line.
    old, new = "L\nLine 101", "L\nLine 101\n"
    assert lines_edits([Edit(1, 2, 1, 2)], old, new) == [Edit(1, 2, 1, 3)]
    # Ignoring whitespace git sees no change; the empty last line still appears.
    assert lines_edits([], old, new) == [Edit(2, 2, 2, 3)]
    # Both end with a newline: the empty last line is common.
    assert lines_edits([Edit(1, 2, 1, 2)], "L\nx\n", "L\ny\n") == [Edit(1, 2, 1, 2)]
    # A new file: its empty last line belongs to the added lines.
    assert lines_edits([Edit(0, 0, 0, 2)], "", "a\nb\n") == [Edit(0, 0, 0, 3)]


def test_python_line_edits_agree_with_gerrit_at_the_end_of_the_file() -> None:
    assert line_edits("L\nLine 101", "L\nLine 101\n") == [Edit(1, 2, 1, 3)]
    assert line_edits("L\nLine 101", "L\nLine 101\n", Whitespace.IGNORE_ALL) == [Edit(2, 2, 2, 3)]
    assert line_edits("a\n", "a\nb\n") == [Edit(1, 1, 1, 2)]
    assert line_edits("a b\n", "a  b \n", Whitespace.IGNORE_LEADING_AND_TRAILING) == []
    assert line_edits("a b\n", "a  b \n", Whitespace.IGNORE_TRAILING) == [Edit(0, 1, 0, 1)]
    assert line_edits("a b\n", "ab\n", Whitespace.IGNORE_ALL) == []


def test_intraline_marks_the_changed_characters_with_newlines_counted() -> None:
    a = ["/** Manages access control for Git references (aka branches, tags). */"]
    b = ["/** Manages access control for the Git references (aka branches, tags). */"]
    marks = intraline_edits(a, b)
    assert marks == ((), ((31, 4),))
    edit_a, edit_b = intraline_edits(["abc", "def"], ["abc", "dXf"]) or ((), ())
    assert edit_a == ((5, 1),) and edit_b == ((5, 1),)  # "abc\n" is four characters


def test_intraline_is_left_out_for_huge_blocks() -> None:
    assert intraline_edits(["x" * 5000], ["y" * 5000]) is None
    [block] = build_blocks(["x" * 5000], ["y" * 5000], [Edit(0, 1, 0, 1)], intraline=True)
    assert block.a and block.b and block.edit_a is None


def test_edits_that_do_not_fit_the_sides_are_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        build_blocks(["a"], ["b"], [Edit(0, 2, 0, 1)])
    with pytest.raises(ValueError, match="common lines"):
        build_blocks(["a", "b"], ["c"], [Edit(0, 1, 0, 1)])


def test_content_types_by_mode_name_and_bytes() -> None:
    assert content_type("/COMMIT_MSG", mode=None, binary=False, guessed=None) == (
        "text/x-gerrit-commit-message"
    )
    assert content_type("a/b.py", mode="100644", binary=False, guessed=None) == "text/x-python"
    assert content_type("link", mode="120000", binary=False, guessed=None) == "x-git/symlink"
    assert content_type("img.png", mode="100644", binary=True, guessed="image/png") == "image/png"
    assert content_type("blob", mode="100644", binary=True, guessed=None) == (
        "application/octet-stream"
    )
    assert content_type("NOTES", mode="100644", binary=False, guessed=None) == "text/plain"
    assert is_binary(b"PNG\0data") and not is_binary(b"x" * 9000 + b"\0")


# --- properties ----------------------------------------------------------------

_line = st.sampled_from(["", "a", "b", "  a", "a  ", "x = 1", "}", "\tb"])
_text = st.lists(_line, max_size=30).map("\n".join) | st.lists(_line, max_size=30).map(
    lambda lines: "".join(line + "\n" for line in lines)
)
_whitespace = st.sampled_from(list(Whitespace))
_context = st.none() | st.integers(min_value=0, max_value=6)


def _walk(blocks: Sequence[Block], a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """Check each block's lines against the sides at the running positions."""
    at_a = at_b = 0
    for block in blocks:
        if block.skip is not None:
            assert block.skip > 0
            at_a += block.skip
            at_b += block.skip
            continue
        if block.ab is not None:
            assert list(block.ab) == list(a[at_a : at_a + len(block.ab)])
            assert list(block.ab) == list(b[at_b : at_b + len(block.ab)])
            at_a += len(block.ab)
            at_b += len(block.ab)
            continue
        lines_a, lines_b = block.a or (), block.b or ()
        assert lines_a or lines_b
        assert list(lines_a) == list(a[at_a : at_a + len(lines_a)])
        assert list(lines_b) == list(b[at_b : at_b + len(lines_b)])
        at_a += len(lines_a)
        at_b += len(lines_b)
    return at_a, at_b


@settings(max_examples=200)
@given(old=_text, new=_text, whitespace=_whitespace)
def test_whole_file_blocks_give_back_both_sides_exactly(
    old: str, new: str, whitespace: Whitespace
) -> None:
    a, b = split_lines(old), split_lines(new)
    blocks = build_blocks(a, b, line_edits(old, new, whitespace), context=None)
    assert [line for blk in blocks for line in (blk.ab or blk.a or ())] == a
    assert [line for blk in blocks for line in (blk.ab or blk.b or ())] == b
    assert all(blk.skip is None for blk in blocks)


@settings(max_examples=200)
@given(old=_text, new=_text, context=_context, whitespace=_whitespace)
def test_skips_and_lines_add_up_to_both_sides(
    old: str, new: str, context: int | None, whitespace: Whitespace
) -> None:
    a, b = split_lines(old), split_lines(new)
    blocks = build_blocks(a, b, line_edits(old, new, whitespace), context=context)
    assert _walk(blocks, a, b) == (len(a), len(b))
    # No two skips or two `ab` runs follow each other.
    kinds = ["skip" if blk.skip else "ab" if blk.ab else "change" for blk in blocks]
    assert all(not (x == y and x != "change") for x, y in itertools.pairwise(kinds))


@settings(max_examples=200)
@given(old=_text, new=_text, context=st.integers(min_value=0, max_value=5))
def test_context_keeps_that_many_lines_around_each_change_and_no_more(
    old: str, new: str, context: int
) -> None:
    a, b = split_lines(old), split_lines(new)
    edits = line_edits(old, new)
    blocks = build_blocks(a, b, edits, context=context)
    skipped: set[int] = set()
    at = 0
    for block in blocks:
        if block.skip is not None:
            skipped.update(range(at, at + block.skip))
            at += block.skip
        else:
            at += len(block.ab or block.a or ())
    if not edits:
        assert skipped == (set(range(len(a))) if len(a) > context else set())
        return
    for line in range(len(a)):
        near = any(e.a_start - context <= line < e.a_end + context for e in edits)
        assert (line in skipped) == (not near), (line, edits)


@settings(max_examples=200)
@given(
    a=st.lists(st.text("ab ", max_size=8), min_size=1, max_size=4),
    b=st.lists(st.text("ab ", max_size=8), min_size=1, max_size=4),
)
def test_intraline_marks_leave_the_same_text_on_both_sides(a: list[str], b: list[str]) -> None:
    marks = intraline_edits(a, b)
    assert marks is not None
    kept = []
    for text, pairs in ((joined(a), marks[0]), (joined(b), marks[1])):
        at, rest = 0, []
        for skip, mark in pairs:
            assert skip >= 0 and mark > 0
            rest.append(text[at : at + skip])
            at += skip + mark
            assert at <= len(text)
        rest.append(text[at:])
        kept.append("".join(rest))
    assert kept[0] == kept[1]
