"""How the log viewer reads a log: severities, a traceback as one block,
console sections that fold (closed when long and quiet), quiet runs of other
logs folded away, and a long log's head and tail around a gap."""

from __future__ import annotations

from lockgate.core.builds.log_view import (
    CONTEXT,
    ERROR,
    OPEN_MAX,
    QUIET_FOLD,
    TRACEBACK,
    WARNING,
    Fold,
    Gap,
    Line,
    severity,
    view,
)

T = "2026-12-01 22:00:01.123456 | "


def _flat(items: list[Line | Fold | Gap]) -> list[Line]:
    out: list[Line] = []
    for item in items:
        if isinstance(item, Line):
            out.append(item)
        elif isinstance(item, Fold):
            out.extend([item.title] if item.title else [])
            out.extend(item.lines)
    return out


def test_lines_get_their_severity_and_a_traceback_is_marked_as_one_block() -> None:
    assert severity("ERROR: the thing broke") == ERROR
    assert severity(f"{T}node | fatal: [node]: FAILED! => {{}}") == ERROR
    assert severity(f"{T}node | failed: rc=2") == ERROR
    assert severity(f"{T}node | unreachable") == ERROR
    assert severity(f"{T}node | failed (ignored): rc=1") == WARNING
    assert severity(f"{T}node | ok: 3 changed: 0 unreachable: 0 failed: 1 skipped: 0") == ERROR
    assert severity(f"{T}node | ok: 3 changed: 0 unreachable: 0 failed: 0 skipped: 0") == ""
    assert severity("WARNING: deprecated") == WARNING
    assert severity("the test is available and did not fail us: errors=0") == ""

    log = [
        f"{T}node | before",
        f"{T}node | Traceback (most recent call last):",
        f'{T}node |   File "t.py", line 3, in <module>',
        f"{T}node |     main()",
        f"{T}node | ValueError: <script>",
        f"{T}node | after",
    ]
    marks = [line.severity for line in _flat(list(view(log)))]
    assert marks == ["", TRACEBACK, TRACEBACK, TRACEBACK, TRACEBACK, ""]


def test_console_sections_fold_closed_when_long_and_quiet_open_with_a_problem() -> None:
    log = [f"{T}Job console starting", f"{T}PLAY [all]", f"{T}"]
    log += [f"{T}TASK [quiet]", *[f"{T}node | item {n}" for n in range(OPEN_MAX + 5)], f"{T}"]
    log += [f"{T}TASK [short]", f"{T}node | ok", f"{T}"]
    log += [f"{T}TASK [broken]", *[f"{T}node | item {n}" for n in range(30)]]
    log += [f"{T}node | failed: rc=1"]

    items = list(view(log))

    folds = [item for item in items if isinstance(item, Fold)]
    assert [f.title.text.split("| ")[1] for f in folds if f.title] == [
        "TASK [quiet]",
        "TASK [broken]",
    ]
    quiet, broken = folds
    assert quiet.closed and len(quiet.lines) == OPEN_MAX + 5, "its trailing blank stays outside"
    assert not broken.closed and broken.problems == 1
    # short sections and the lines before the first task are plain lines
    plain = [item.text for item in items if isinstance(item, Line)]
    assert f"{T}TASK [short]" in plain and f"{T}Job console starting" in plain
    assert [line.number for line in _flat(items)] == list(range(1, len(log) + 1))


def test_quiet_runs_of_other_logs_fold_away_between_problems() -> None:
    run = QUIET_FOLD + 2 * CONTEXT + 10
    log = ["start", *[f"noise {n}" for n in range(run)], "ERROR: here", "short", "tail"]

    items = list(view(log))

    [fold] = [item for item in items if isinstance(item, Fold)]
    assert fold.closed and fold.title is None
    assert len(fold.lines) == run + 1 - 2 * CONTEXT
    assert fold.label.startswith(f"lines {CONTEXT + 1}\N{EN DASH}")
    assert "without errors or warnings" in fold.label
    assert [line.number for line in _flat(items)] == list(range(1, len(log) + 1))
    assert not [i for i in view([f"line {n}" for n in range(QUIET_FOLD)]) if isinstance(i, Fold)]


def test_a_long_log_shows_its_head_and_tail_around_a_gap() -> None:
    log = [f"line {n}" for n in range(1, 101)]

    items = list(view(log, head=10, tail=5))

    gaps = [item for item in items if isinstance(item, Gap)]
    assert gaps == [Gap(11, 95)]
    assert [line.number for line in _flat(items)] == [*range(1, 11), *range(96, 101)]
    assert len(_flat(list(view(log, head=None)))) == 100
    assert not [i for i in view(log, head=100, tail=5) if isinstance(i, Gap)]
