"""Gerrit's /COMMIT_MSG magic file."""

from __future__ import annotations

from lockgate.core.review.magic_files import (
    COMMIT_MSG,
    commit_message_file,
    commit_message_text,
    line_diff_counts,
)
from lockgate.core.review.model import CommitInfo, FileStatus, Person

ALICE = Person("Alice", "alice@example.com", 1_700_000_000, 60)
PARENT = "a" * 40


def _commit(message: str, parents: tuple[str, ...] = (PARENT,)) -> CommitInfo:
    return CommitInfo(sha="b" * 40, parents=parents, author=ALICE, committer=ALICE, message=message)


def test_the_text_shows_parent_people_dates_and_message() -> None:
    text = commit_message_text(_commit("Subject\n\nBody\n"), {PARENT: "Parent subject"})
    assert text == (
        "Parent:     aaaaaaaa (Parent subject)\n"
        "Author:     Alice <alice@example.com>\n"
        "AuthorDate: Tue Nov 14 23:13:20 2023 +0100\n"
        "Commit:     Alice <alice@example.com>\n"
        "CommitDate: Tue Nov 14 23:13:20 2023 +0100\n"
        "\n"
        "Subject\n\nBody\n"
    )


def test_merges_list_every_parent() -> None:
    text = commit_message_text(_commit("Merge\n", (PARENT, "c" * 40)), {})
    assert text.startswith("Merge Of:   aaaaaaaa ()\n            cccccccc ()\nAuthor:")


def test_as_a_file_it_is_added_or_modified_against_a_base() -> None:
    added = commit_message_file(_commit("One\n"), {})
    assert added.path == COMMIT_MSG and added.status is FileStatus.ADDED
    assert added.lines_inserted == 7 and added.size == added.size_delta > 0
    changed = commit_message_file(_commit("Two\n"), {}, base=_commit("One\n"))
    assert changed.status is FileStatus.MODIFIED
    assert (changed.lines_inserted, changed.lines_deleted, changed.size_delta) == (1, 1, 0)


def test_line_diff_counts() -> None:
    assert line_diff_counts("a\nb\nc\n", "a\nB\nc\nd\n") == (2, 1)
    assert line_diff_counts("", "x\n") == (1, 0)
