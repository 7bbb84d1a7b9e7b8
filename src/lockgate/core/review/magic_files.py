"""Gerrit's magic file `/COMMIT_MSG`: a patch set's commit header and message as a file.

Reviewers comment on the commit message as on any file, so Gerrit lists it among
the files of a revision with the text below; clients (Zuul among them) expect
it in `/files`. The layout follows Gerrit's: parents, author and committer with
their dates in each person's own time zone, a blank line, the full message.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping

from lockgate.core.review.model import CommitInfo, FileChange, FileStatus, Person

COMMIT_MSG = "/COMMIT_MSG"
MERGE_LIST = "/MERGE_LIST"

_ABBREV = 8


def _date(person: Person) -> str:
    zone = dt.timezone(dt.timedelta(minutes=person.tz_minutes))
    when = dt.datetime.fromtimestamp(person.time, tz=zone)
    sign = "+" if person.tz_minutes >= 0 else "-"
    offset = abs(person.tz_minutes)
    # Java's "EEE MMM dd HH:mm:ss yyyy Z" in Locale.US, as Gerrit formats it.
    return when.strftime("%a %b %d %H:%M:%S %Y ") + f"{sign}{offset // 60:02d}{offset % 60:02d}"


def commit_message_text(commit: CommitInfo, parent_subjects: Mapping[str, str]) -> str:
    """The content of `/COMMIT_MSG` for `commit`; a parent missing from
    `parent_subjects` is shown with an empty subject."""
    lines: list[str] = []
    if len(commit.parents) == 1:
        parent = commit.parents[0]
        lines.append(f"Parent:     {parent[:_ABBREV]} ({parent_subjects.get(parent, '')})")
    elif len(commit.parents) > 1:
        for index, parent in enumerate(commit.parents):
            label = "Merge Of:   " if index == 0 else "            "
            lines.append(f"{label}{parent[:_ABBREV]} ({parent_subjects.get(parent, '')})")
    for field, person in (("Author", commit.author), ("Commit", commit.committer)):
        lines.append(f"{field}:     {person.name} <{person.email}>")
        lines.append(f"{field}Date: {_date(person)}")
    return "\n".join(lines) + "\n\n" + commit.message


def _line_count(text: str) -> int:
    return len(text.splitlines())


def commit_message_file(
    commit: CommitInfo,
    parent_subjects: Mapping[str, str],
    *,
    base: CommitInfo | None = None,
) -> FileChange:
    """`/COMMIT_MSG` as a changed file: added against the parent (Gerrit's view of a
    revision on its own), modified when compared with another patch set `base`."""
    text = commit_message_text(commit, parent_subjects)
    size = len(text.encode("utf-8"))
    if base is None:
        return FileChange(
            path=COMMIT_MSG,
            status=FileStatus.ADDED,
            lines_inserted=_line_count(text),
            size=size,
            size_delta=size,
        )
    old = commit_message_text(base, parent_subjects)
    inserted, deleted = line_diff_counts(old, text)
    return FileChange(
        path=COMMIT_MSG,
        status=FileStatus.MODIFIED,
        lines_inserted=inserted,
        lines_deleted=deleted,
        size=size,
        size_delta=size - len(old.encode("utf-8")),
    )


def line_diff_counts(old: str, new: str) -> tuple[int, int]:
    """(lines inserted, lines deleted) from `old` to `new`."""
    inserted = deleted = 0
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            deleted += i2 - i1
        if tag in ("replace", "insert"):
            inserted += j2 - j1
    return inserted, deleted
