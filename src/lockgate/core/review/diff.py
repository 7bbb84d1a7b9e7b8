"""A file's diff as Gerrit shows it (DiffInfo): both sides' lines cut into blocks.

Lines follow Gerrit: a text is split at each `\\n`, so a text that ends with a
newline has an empty last line, and a file without one ends with its last
line's content (Gerrit's `meta_*.lines` counts that way too). The changed-line
regions ("edits") come from git, which counts lines without that empty last
line; `lines_edits` moves git's edits onto Gerrit's lines.

Blocks are `{ab}` for lines both sides share, `{a, b}` for changed lines (one
side may be empty, then it is left out), `{a, b, common}` for lines that differ
only in whitespace the caller asked to ignore, and `{skip}` for common lines
left out beyond the asked context. Intraline edits mark, in a changed block,
the characters that differ: lists of [skip, mark] pairs over the block's lines
joined with their newlines.
"""

from __future__ import annotations

import difflib
import enum
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.core.review.model import FileStatus

# Gerrit's DiffPreferencesInfo.DEFAULT_CONTEXT.
DEFAULT_CONTEXT = 10

# Character diffs cost the product of both texts' lengths in the worst case;
# past this many characters a changed block keeps its lines without marks.
INTRALINE_MAX_CHARS = 8000

_EOF = object()  # the empty last line of a text that ends with a newline


class Whitespace(enum.StrEnum):
    IGNORE_NONE = "IGNORE_NONE"
    IGNORE_TRAILING = "IGNORE_TRAILING"
    IGNORE_LEADING_AND_TRAILING = "IGNORE_LEADING_AND_TRAILING"
    IGNORE_ALL = "IGNORE_ALL"


# Gerrit's default when a request names no whitespace mode.
DEFAULT_WHITESPACE = Whitespace.IGNORE_LEADING_AND_TRAILING


class ChangeType(enum.StrEnum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    RENAMED = "RENAMED"
    COPIED = "COPIED"
    REWRITE = "REWRITE"


CHANGE_TYPES = {
    FileStatus.ADDED: ChangeType.ADDED,
    FileStatus.MODIFIED: ChangeType.MODIFIED,
    FileStatus.DELETED: ChangeType.DELETED,
    FileStatus.RENAMED: ChangeType.RENAMED,
    FileStatus.COPIED: ChangeType.COPIED,
    FileStatus.REWRITTEN: ChangeType.REWRITE,
}


@dataclass(frozen=True, slots=True)
class Edit:
    """Lines [a_start, a_end) of side A became lines [b_start, b_end) of side B."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int


@dataclass(frozen=True, slots=True)
class Block:
    """One entry of DiffInfo's `content`; the fields left None are absent."""

    ab: tuple[str, ...] | None = None
    a: tuple[str, ...] | None = None
    b: tuple[str, ...] | None = None
    edit_a: tuple[tuple[int, int], ...] | None = None
    edit_b: tuple[tuple[int, int], ...] | None = None
    common: bool = False
    skip: int | None = None


@dataclass(frozen=True, slots=True)
class FileMeta:
    name: str
    content_type: str
    lines: int


@dataclass(frozen=True, slots=True)
class FileDiff:
    """Everything a DiffInfo holds, computed; the web edge renders it."""

    change_type: ChangeType
    meta_a: FileMeta | None
    meta_b: FileMeta | None
    diff_header: tuple[str, ...]
    content: tuple[Block, ...]
    binary: bool = False
    intraline_status: str | None = None


# --- lines -------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Gerrit's lines of a text: an empty text has none; a final newline leaves an
    empty last line."""
    return text.split("\n") if text else []


def ends_with_newline(text: str) -> bool:
    return text.endswith("\n")


def normalize(line: str, whitespace: Whitespace) -> str:
    """The line as compared under `whitespace`."""
    if whitespace is Whitespace.IGNORE_TRAILING:
        return line.rstrip()
    if whitespace is Whitespace.IGNORE_LEADING_AND_TRAILING:
        return " ".join(line.split())
    if whitespace is Whitespace.IGNORE_ALL:
        return "".join(line.split())
    return line


def _keys(text: str, whitespace: Whitespace) -> list[object]:
    lines = split_lines(text)
    keys: list[object] = [normalize(line, whitespace) for line in lines]
    if lines and ends_with_newline(text):
        keys[-1] = _EOF
    elif lines and whitespace is Whitespace.IGNORE_NONE:
        # A last line without its newline is not the same line with one, as git sees it.
        keys[-1] = (keys[-1], "no newline")
    return keys


def line_edits(old: str, new: str, whitespace: Whitespace = Whitespace.IGNORE_NONE) -> list[Edit]:
    """The changed regions between two small texts (commit messages), by Python's
    sequence matcher; files are compared by git instead (`lines_edits`)."""
    matcher = difflib.SequenceMatcher(
        a=_keys(old, whitespace), b=_keys(new, whitespace), autojunk=False
    )
    return [Edit(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def lines_edits(git_edits: Sequence[Edit], old: str, new: str) -> list[Edit]:
    """git's edits (in git's lines) as edits of Gerrit's lines.

    The two agree except for the empty last line of a text that ends with a
    newline. When both texts end so, that line is common. When one does, the
    other's last line lacks its newline: git then changes that last line on
    both sides (or, ignoring whitespace, nothing), and the empty line joins
    that last change, or becomes a change of its own.
    """
    edits = list(git_edits)
    extra_a = 1 if old and ends_with_newline(old) else 0
    extra_b = 1 if new and ends_with_newline(new) else 0
    if extra_a == extra_b:
        return edits
    end_a = len(split_lines(old)) - extra_a
    end_b = len(split_lines(new)) - extra_b
    if edits and edits[-1].a_end == end_a and edits[-1].b_end == end_b:
        last = edits.pop()
        edits.append(Edit(last.a_start, end_a + extra_a, last.b_start, end_b + extra_b))
    else:
        edits.append(Edit(end_a, end_a + extra_a, end_b, end_b + extra_b))
    return edits


def _check_edits(edits: Sequence[Edit], size_a: int, size_b: int) -> None:
    next_a = next_b = 0
    for edit in edits:
        if not (
            next_a <= edit.a_start <= edit.a_end <= size_a
            and next_b <= edit.b_start <= edit.b_end <= size_b
            and edit.a_start - next_a == edit.b_start - next_b
            and (edit.a_start < edit.a_end or edit.b_start < edit.b_end)
        ):
            raise ValueError(f"edit {edit} does not fit sides of {size_a} and {size_b} lines")
        next_a, next_b = edit.a_end, edit.b_end
    if size_a - next_a != size_b - next_b:
        raise ValueError(f"edits leave {size_a - next_a} and {size_b - next_b} common lines")


# --- blocks ------------------------------------------------------------------


def build_blocks(
    a: Sequence[str],
    b: Sequence[str],
    edits: Sequence[Edit],
    *,
    context: int | None = DEFAULT_CONTEXT,
    intraline: bool = False,
) -> list[Block]:
    """DiffInfo's content for sides `a` and `b` changed by `edits` (sorted, apart).

    `context` is how many common lines to keep around each change (None: all).
    A file without changes is shown whole when it is no longer than the
    context, else as one skip, as Gerrit does.
    """
    _check_edits(edits, len(a), len(b))
    blocks: list[Block] = []
    next_a = next_b = 0
    for index, edit in enumerate(edits):
        common = edit.a_start - next_a
        keep_before = 0 if index == 0 else context
        _common(blocks, a, b, (next_a, next_b), common, head=keep_before, tail=context)
        blocks.append(
            _change(a[edit.a_start : edit.a_end], b[edit.b_start : edit.b_end], intraline)
        )
        next_a, next_b = edit.a_end, edit.b_end
    tail = len(a) - next_a
    if not edits:
        if context is not None and tail > context:
            _skip(blocks, tail)
        else:
            _common(blocks, a, b, (0, 0), tail, head=None, tail=None)
    else:
        _common(blocks, a, b, (next_a, next_b), tail, head=context, tail=0)
    return blocks


def _common(
    blocks: list[Block],
    a: Sequence[str],
    b: Sequence[str],
    start: tuple[int, int],
    count: int,
    *,
    head: int | None,
    tail: int | None,
) -> None:
    """`count` common lines: the first `head` and the last `tail` kept (None: all),
    those between skipped."""
    if count <= 0:
        return
    start_a, start_b = start
    if head is None or tail is None or head + tail >= count:
        _lines(blocks, a[start_a : start_a + count], b[start_b : start_b + count])
        return
    _lines(blocks, a[start_a : start_a + head], b[start_b : start_b + head])
    _skip(blocks, count - head - tail)
    end_a, end_b = start_a + count, start_b + count
    _lines(blocks, a[end_a - tail : end_a], b[end_b - tail : end_b])


def _skip(blocks: list[Block], count: int) -> None:
    if count > 0:
        blocks.append(Block(skip=count))


def _lines(blocks: list[Block], a: Sequence[str], b: Sequence[str]) -> None:
    """Common lines: runs of identical lines as `ab`, runs that differ only in
    ignored whitespace as `a`/`b` with `common`."""
    start = 0
    while start < len(a):
        same = a[start] == b[start]
        end = start + 1
        while end < len(a) and (a[end] == b[end]) == same:
            end += 1
        if same:
            blocks.append(Block(ab=tuple(a[start:end])))
        else:
            blocks.append(Block(a=tuple(a[start:end]), b=tuple(b[start:end]), common=True))
        start = end


def _change(a: Sequence[str], b: Sequence[str], intraline: bool) -> Block:
    edit_a = edit_b = None
    if intraline and a and b:
        marks = intraline_edits(a, b)
        if marks is not None:
            edit_a, edit_b = marks
    return Block(
        a=tuple(a) if a else None,
        b=tuple(b) if b else None,
        edit_a=edit_a,
        edit_b=edit_b,
    )


def joined(lines: Sequence[str]) -> str:
    """A block's lines as intraline offsets count them: each with its newline."""
    return "".join(line + "\n" for line in lines)


def intraline_edits(
    a: Sequence[str], b: Sequence[str]
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]] | None:
    """The characters that differ between two blocks of changed lines, as Gerrit's
    [skip, mark] pairs per side; None when the blocks are too large to compare."""
    text_a, text_b = joined(a), joined(b)
    if len(text_a) + len(text_b) > INTRALINE_MAX_CHARS:
        return None
    opcodes = difflib.SequenceMatcher(a=text_a, b=text_b, autojunk=False).get_opcodes()
    ranges_a: list[tuple[int, int]] = []
    ranges_b: list[tuple[int, int]] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            continue
        room = 0
        if index + 1 < len(opcodes) and opcodes[index + 1][0] == "equal":
            room = opcodes[index + 1][2] - opcodes[index + 1][1]
        if i1 < i2:
            shift = _slide(text_a, i1, i2, room) if j1 == j2 else 0
            _add_range(ranges_a, i1 + shift, i2 + shift)
        if j1 < j2:
            shift = _slide(text_b, j1, j2, room) if i1 == i2 else 0
            _add_range(ranges_b, j1 + shift, j2 + shift)
    return _pairs(ranges_a), _pairs(ranges_b)


def _slide(text: str, start: int, end: int, room: int) -> int:
    """How far a pure insertion or deletion moves towards the end while it keeps
    the same text, as git slides changed lines down: " the" inserted after
    "for" becomes "the " before "Git"."""
    shift = 0
    while shift < room and text[start + shift] == text[end + shift]:
        shift += 1
    return shift


def _add_range(ranges: list[tuple[int, int]], start: int, end: int) -> None:
    if ranges and ranges[-1][1] == start:
        ranges[-1] = (ranges[-1][0], end)
    else:
        ranges.append((start, end))


def _pairs(ranges: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    pairs: list[tuple[int, int]] = []
    last = 0
    for start, end in ranges:
        pairs.append((start - last, end - start))
        last = end
    return tuple(pairs)


# --- content types -------------------------------------------------------------

COMMIT_MESSAGE_TYPE = "text/x-gerrit-commit-message"
SYMLINK_TYPE = "x-git/symlink"
GITLINK_TYPE = "x-git/gitlink"
SYMLINK_MODE = "120000"
GITLINK_MODE = "160000"

# The `text/x-<lang>` names Gerrit's syntax highlighting knows files by; other
# names fall back to the standard MIME table, then to text/plain or
# application/octet-stream.
_LANGUAGE_TYPES = {
    ".py": "text/x-python",
    ".java": "text/x-java",
    ".c": "text/x-csrc",
    ".h": "text/x-chdr",
    ".cc": "text/x-c++src",
    ".cpp": "text/x-c++src",
    ".hpp": "text/x-c++hdr",
    ".go": "text/x-go",
    ".rs": "text/x-rustsrc",
    ".rb": "text/x-ruby",
    ".sh": "text/x-sh",
    ".bash": "text/x-sh",
    ".js": "text/javascript",
    ".ts": "application/typescript",
    ".kt": "text/x-kotlin",
    ".scala": "text/x-scala",
    ".sql": "text/x-sql",
    ".yaml": "text/x-yaml",
    ".yml": "text/x-yaml",
    ".toml": "text/x-toml",
    ".ini": "text/x-properties",
    ".properties": "text/x-properties",
    ".md": "text/x-markdown",
    ".rst": "text/x-rst",
    ".lua": "text/x-lua",
    ".pl": "text/x-perl",
    ".php": "text/x-php",
    ".swift": "text/x-swift",
    ".proto": "text/x-protobuf",
    ".css": "text/css",
    ".html": "text/html",
    ".xml": "application/xml",
    ".json": "application/json",
    ".txt": "text/plain",
}
_NAMED_TYPES = {
    "Makefile": "text/x-makefile",
    "Dockerfile": "text/x-dockerfile",
    "BUILD": "text/x-python",
    "WORKSPACE": "text/x-python",
}


def language_type(path: str) -> str | None:
    """The Gerrit-style content type of a source file by its name, if known."""
    name = posixpath.basename(path)
    if name in _NAMED_TYPES:
        return _NAMED_TYPES[name]
    return _LANGUAGE_TYPES.get(posixpath.splitext(name)[1].lower())


def content_type(path: str, *, mode: str | None, binary: bool, guessed: str | None) -> str:
    """A file's content type as Gerrit names it: by its git mode first, then by
    name (`guessed` is the standard MIME table's answer), then by its bytes."""
    if path == "/COMMIT_MSG":
        return COMMIT_MESSAGE_TYPE
    if mode == SYMLINK_MODE:
        return SYMLINK_TYPE
    if mode == GITLINK_MODE:
        return GITLINK_TYPE
    known = language_type(path) or guessed
    if known:
        return known
    return "application/octet-stream" if binary else "text/plain"


def is_binary(data: bytes) -> bool:
    """git's test: a NUL byte among the first 8000."""
    return b"\0" in data[:8000]


def decode_text(data: bytes) -> str:
    """A blob's text: UTF-8, or Latin-1 for bytes that are not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
