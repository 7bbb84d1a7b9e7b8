"""How a text log reads in the viewer: each line's severity, the sections that
fold, and which lines a very long log leaves out.

A log is a stream of lines; `view` turns it into `Line`s, `Fold`s (a run of
lines shown collapsible under a title) and at most one `Gap` (lines a long log
leaves out between its head and its tail). It holds at most one section in
memory, so a caller can send the page while it reads the file.

- Severity: `ERROR`, `CRITICAL`, `FATAL`, `FAILED` and a host's `failed` /
  `unreachable` result are errors, `WARNING`/`WARN` warnings; a Python
  traceback is marked from `Traceback (most recent call last):` through its
  indented frames to the exception line.
- Sections: in a console log (job-output.txt) each `PLAY [..]`, `TASK [..]`,
  `HANDLER [..]`, `PLAY RECAP` and `RUN START/END` line starts a section that
  holds the lines up to the next one. A section with a body folds; it starts
  closed when its body is long and holds no error or warning.
- Quiet runs: outside sections (any other log), a run of more than
  `QUIET_FOLD` lines without an error or warning folds away, keeping
  `CONTEXT` lines visible at each end.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
TRACEBACK = "traceback"

TRACEBACK_START = "Traceback (most recent call last)"
# A section body longer than this starts closed unless it holds a problem.
OPEN_MAX = 10
# A section held in memory longer than this is sent in parts.
SECTION_MAX = 5000
# Quiet runs: fold at least this many lines, keep this many visible either side,
# and fold at most CHUNK lines in one piece.
QUIET_FOLD = 500
CONTEXT = 20
CHUNK = 2000
# A traceback longer than this is cut off (a log that indents forever).
TRACEBACK_MAX = 500
# Lines shown from the start and the end of a long log by default.
HEAD_LINES = 20_000
TAIL_LINES = 5_000

_STAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)? \| ")
_HEADER = re.compile(
    r"^(?:(?:TASK|HANDLER|RUNNING HANDLER|PLAY) \[|PLAY RECAP\b"
    r"|(?:PRE-|POST-|CLEANUP-)?RUN (?:START|END)\b)"
)
_ERROR = re.compile(r"\b(?:ERROR|CRITICAL|FATAL|FAILED!?)\b")
_WARNING = re.compile(r"\bWARN(?:ING)?\b")
# The executor's per-host result line: `<stamp> | <host> | failed: rc=1`.
_HOST_FAILED = re.compile(r"(?:^|\| )(?:failed|unreachable)(?:: rc=-?\d+)?$")
_HOST_IGNORED = re.compile(r"(?:^|\| )failed \(ignored\)(?:: rc=-?\d+)?$")
_RECAP_FAILED = re.compile(r"\b(?:failed|unreachable): [1-9]")


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # from 1
    text: str
    severity: str = ""  # "", ERROR, WARNING or TRACEBACK
    header: bool = False  # starts a section
    stamp: int = 0  # the length of its console timestamp, 0 without one


@dataclass(frozen=True, slots=True)
class Fold:
    """Lines shown collapsible: under `title` (a section's first line), or, for
    a run folded away, under `label`."""

    title: Line | None
    lines: tuple[Line, ...]
    closed: bool
    label: str = ""

    @property
    def problems(self) -> int:
        return sum(1 for line in self.lines if line.severity)


@dataclass(frozen=True, slots=True)
class Gap:
    """Lines `first` to `last` of a long log, not shown."""

    first: int
    last: int


Item = Line | Fold | Gap


def severity(line: str) -> str:
    """ERROR, WARNING or "" for one line on its own (tracebacks need context: `view`)."""
    lowered = "ail" in line or "unreach" in line
    if not (lowered or "ERR" in line or "WARN" in line or "FA" in line or "CRIT" in line):
        return ""  # most lines: no regex needed
    if _ERROR.search(line):
        return ERROR
    if lowered:
        if _HOST_IGNORED.search(line):
            return WARNING
        if _HOST_FAILED.search(line) or _RECAP_FAILED.search(line):
            return ERROR
    if _WARNING.search(line):
        return WARNING
    return ""


_HEADER_STARTS = ("TASK", "PLAY", "HANDLER", "RUNNING", "RUN ", "PRE-", "POST-", "CLEANUP-")


def stamp_length(line: str) -> int:
    """How long the line's console timestamp (`2026-12-01 22:00:01.123 | `) is; 0 without one."""
    if not line[:1].isdigit():
        return 0
    found = _STAMP.match(line)
    return found.end() if found else 0


def message(line: str) -> str:
    """The line without its console timestamp."""
    return line[stamp_length(line) :]


def _starts_section(text: str) -> bool:
    """Whether a message (a line without its timestamp) starts a section."""
    return text.startswith(_HEADER_STARTS) and _HEADER.match(text) is not None


def is_header(line: str) -> bool:
    return _starts_section(message(line))


class _Classifier:
    """Severity line by line, following a traceback from its first line through
    its indented frames to the exception line."""

    def __init__(self) -> None:
        self._column: int | None = None
        self._length = 0

    def reset(self) -> None:
        self._column = None

    def __call__(self, text: str) -> str:
        if self._column is not None:
            rest = text[self._column :]
            self._length += 1
            if rest[:1] in (" ", "\t") and self._length < TRACEBACK_MAX:
                return TRACEBACK
            self._column = None
            if rest.strip() and not is_header(text):
                return TRACEBACK  # `ValueError: ...` ends the block
        at = text.find(TRACEBACK_START)
        if at >= 0:
            self._column, self._length = at, 0
            return TRACEBACK
        return severity(text)


def _window(lines: Iterable[str], head: int | None, tail: int) -> Iterator[tuple[int, str] | Gap]:
    """The first `head` lines, a Gap, and the last `tail` lines (all of them
    when `head` is None or the log is short enough)."""
    kept: deque[tuple[int, str]] = deque(maxlen=max(tail, 0) or None)
    number = 0
    for number, text in enumerate(lines, 1):
        if head is None or number <= head:
            yield number, text
        elif tail:
            kept.append((number, text))
    if head is None or number <= head:
        return
    first_kept = kept[0][0] if kept else number + 1
    if first_kept > head + 1:
        yield Gap(head + 1, first_kept - 1)
    yield from kept


_NOTHING: list[Item] = []  # never appended to


class _Structure:
    def __init__(self) -> None:
        self._title: Line | None = None
        self._body: list[Line] | None = None  # None: outside any section
        self._continued = False
        self._quiet: list[Line] = []
        self._shown = 0  # lines of the current quiet run shown before folding starts

    # Each step returns what is ready to show (mostly nothing, while a section
    # collects): a list, not a generator, which costs less per line.
    def feed(self, line: Line) -> list[Item]:
        if line.header:
            out = self.flush()
            self._title, self._body, self._continued = line, [], False
            return out
        if self._body is not None:
            self._body.append(line)
            if len(self._body) >= SECTION_MAX:
                out = self._flush_section()
                self._title, self._body, self._continued = None, [], True
                return out
            return _NOTHING
        if line.severity:
            out = self._flush_quiet()
            out.append(line)
            return out
        if self._shown < CONTEXT:
            self._shown += 1
            return [line]
        self._quiet.append(line)
        if len(self._quiet) >= CHUNK + CONTEXT:
            chunk, self._quiet = self._quiet[:CHUNK], self._quiet[CHUNK:]
            return [_quiet_fold(chunk)]
        return _NOTHING

    def flush(self) -> list[Item]:
        out = self._flush_section() + self._flush_quiet()
        self._title, self._body = None, None
        return out

    def _flush_section(self) -> list[Item]:
        title, body = self._title, self._body
        if body is None:
            return []
        self._body = []
        # The blank lines the console writes before the next section stay outside.
        trailing: list[Item] = []
        while body and not body[-1].text[body[-1].stamp :].strip():
            trailing.insert(0, body.pop())
        if title is not None and len(body) <= 1:
            return [title, *body, *trailing]  # nothing worth folding under it
        if not body:
            return trailing
        quiet = not any(line.severity for line in body)
        label = ""
        if title is None:
            label = f"lines {body[0].number}\N{EN DASH}{body[-1].number}, the section continued"
        fold = Fold(title, tuple(body), closed=quiet and len(body) > OPEN_MAX, label=label)
        return [fold, *trailing]

    def _flush_quiet(self) -> list[Item]:
        quiet, self._quiet, self._shown = self._quiet, [], 0
        if len(quiet) >= QUIET_FOLD + CONTEXT:
            return [_quiet_fold(quiet[:-CONTEXT]), *quiet[-CONTEXT:]]
        return list(quiet)


def _quiet_fold(lines: list[Line]) -> Fold:
    label = (
        f"lines {lines[0].number:,}\N{EN DASH}{lines[-1].number:,}: "
        f"{len(lines):,} lines without errors or warnings"
    )
    return Fold(None, tuple(lines), closed=True, label=label)


def view(
    lines: Iterable[str], *, head: int | None = HEAD_LINES, tail: int = TAIL_LINES
) -> Iterator[Item]:
    """The log as the viewer shows it (see the module's docstring). `head`
    None shows every line."""
    classify = _Classifier()
    structure = _Structure()
    for piece in _window(lines, head, tail):
        if isinstance(piece, Gap):
            yield from structure.flush()
            classify.reset()
            yield piece
            continue
        number, text = piece
        cut = stamp_length(text)
        header = _starts_section(text[cut:] if cut else text)
        if header:
            classify.reset()
        ready = structure.feed(Line(number, text, classify(text), header, cut))
        if ready:
            yield from ready
    yield from structure.flush()
