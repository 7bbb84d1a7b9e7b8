"""git's hunks for one file, moved onto Gerrit's lines: the end-of-file cases
Gerrit's own tests pin down, a merge's parents, and, for any two texts and any
whitespace mode, blocks that give back both sides exactly."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockgate.adapters.git.diffs import DiffReader
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.review.diff import (
    Block,
    Whitespace,
    build_blocks,
    decode_text,
    lines_edits,
    split_lines,
)
from lockgate.core.review.model import FileStatus

PROJECT = "diffs"
_serial = itertools.count()


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> DiffReader:
    repos = RepoStore(tmp_path_factory.mktemp("repos"))
    repos.create(PROJECT)
    return DiffReader(repos)


def _commit(reader: DiffReader, files: dict[str, bytes], parents: tuple[str, ...] = ()) -> str:
    repos = reader.repos
    entries = []
    for name, data in files.items():
        blob = repos.git(PROJECT, "hash-object", "-w", "--stdin", input=data).strip()
        entries.append(f"100644 blob {blob}\t{name}")
    listing = "".join(entry + "\n" for entry in entries)
    tree = repos.git(PROJECT, "mktree", input=listing.encode()).strip()
    args = ["commit-tree", tree, "-m", f"commit {next(_serial)}"]
    for parent in parents:
        args += ["-p", parent]
    return repos.git(PROJECT, *args).strip()


def _blocks(
    reader: DiffReader, old: str | None, new: str | None, whitespace: Whitespace
) -> list[Block]:
    before = _commit(reader, {} if old is None else {"f.txt": old.encode()})
    after = _commit(reader, {} if new is None else {"f.txt": new.encode()})
    patch = reader.patch(PROJECT, before, after, ["f.txt"], whitespace)
    data_a, data_b = reader.blobs(PROJECT, [(before, "f.txt"), (after, "f.txt")])
    text_a, text_b = decode_text(data_a or b""), decode_text(data_b or b"")
    edits = lines_edits(patch.edits, text_a, text_b)
    return build_blocks(split_lines(text_a), split_lines(text_b), edits, context=None)


@pytest.mark.parametrize(
    ("old", "new", "whitespace", "expected"),
    [
        (
            "L\nLine 101",
            "L\nLine 101\n",
            Whitespace.IGNORE_NONE,
            [Block(ab=("L",)), Block(a=("Line 101",), b=("Line 101", ""))],
        ),
        (
            "L\nLine 101",
            "L\nLine 101\n",
            Whitespace.IGNORE_ALL,
            [Block(ab=("L", "Line 101")), Block(b=("",))],
        ),
        (
            "L\n",
            "L\nLine 101",
            Whitespace.IGNORE_NONE,
            [Block(ab=("L",)), Block(a=("",), b=("Line 101",))],
        ),
        (
            "L\n",
            "L\nLine 101\n",
            Whitespace.IGNORE_NONE,
            [Block(ab=("L",)), Block(b=("Line 101",)), Block(ab=("",))],
        ),
        (
            "Line 1\nLine 2\nLine 3",
            "Line 1\nLine 2\nLine three",
            Whitespace.IGNORE_NONE,
            [Block(ab=("Line 1", "Line 2")), Block(a=("Line 3",), b=("Line three",))],
        ),
        (None, "x\ny\n", Whitespace.IGNORE_NONE, [Block(b=("x", "y", ""))]),
        ("x\ny", None, Whitespace.IGNORE_NONE, [Block(a=("x", "y"))]),
        ("", "", Whitespace.IGNORE_NONE, []),
    ],
)
def test_end_of_file_cases_come_out_as_gerrit_shows_them(
    reader: DiffReader,
    old: str | None,
    new: str | None,
    whitespace: Whitespace,
    expected: list[Block],
) -> None:
    assert _blocks(reader, old, new, whitespace) == expected


def test_a_merge_is_compared_with_the_parent_asked_for(reader: DiffReader) -> None:
    left = _commit(reader, {"f.txt": b"left\n", "g.txt": b"same\n"})
    right = _commit(reader, {"f.txt": b"right\n", "g.txt": b"same\n"})
    merge = _commit(reader, {"f.txt": b"left\n", "g.txt": b"same\n"}, parents=(left, right))

    first = reader.patch(PROJECT, left, merge, ["f.txt"], Whitespace.IGNORE_NONE)
    second = reader.patch(PROJECT, right, merge, ["f.txt"], Whitespace.IGNORE_NONE)

    assert first.status is None and first.header == ()
    assert second.status is FileStatus.MODIFIED and len(second.edits) == 1
    assert second.header[0] == "diff --git a/f.txt b/f.txt"


def test_renames_are_found_and_named_by_git(reader: DiffReader) -> None:
    text = b"".join(b"line %d\n" % n for n in range(20))
    before = _commit(reader, {"old name.txt": text})
    after = _commit(reader, {"new name.txt": text.replace(b"line 3\n", b"line three\n")})

    assert reader.renamed_from(PROJECT, before, after, "new name.txt") == "old name.txt"
    patch = reader.patch(
        PROJECT, before, after, ["old name.txt", "new name.txt"], Whitespace.IGNORE_NONE
    )
    assert patch.status is FileStatus.RENAMED
    assert "rename from old name.txt" in patch.header
    assert [(e.a_start, e.a_end, e.b_start, e.b_end) for e in patch.edits] == [(3, 4, 3, 4)]
    assert reader.mode(PROJECT, after, "new name.txt") == "100644"
    assert reader.mode(PROJECT, after, "old name.txt") is None
    assert reader.blobs(PROJECT, [(after, "old name.txt"), (None, "x")]) == [None, None]


_line = st.sampled_from(["", "a", "b", " a", "a ", "a b", "ab", "}", "\tb"])
_text = st.none() | st.builds(
    lambda lines, newline: "\n".join(lines) + ("\n" if newline and lines else ""),
    st.lists(_line, max_size=12),
    st.booleans(),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(old=_text, new=_text, whitespace=st.sampled_from(list(Whitespace)))
def test_git_edits_on_gerrit_lines_give_back_both_sides(
    reader: DiffReader, old: str | None, new: str | None, whitespace: Whitespace
) -> None:
    blocks = _blocks(reader, old, new, whitespace)

    side_a = [line for b in blocks for line in (b.ab or b.a or ())]
    side_b = [line for b in blocks for line in (b.ab or b.b or ())]
    assert side_a == split_lines(old or "")
    assert side_b == split_lines(new or "")
    for block in blocks:
        if block.common:  # only whitespace differs, and only where it is ignored
            assert whitespace is not Whitespace.IGNORE_NONE
