"""Commit message footers (git trailers) and the Change-Id among them.

The footers are the `Key: value` lines of the last paragraph, when the message
has more than one (continuation lines start with whitespace). Other lines of
that paragraph are skipped, as JGit's footer parser (and so Gerrit) skips
them: `git interpret-trailers`, which the commit-msg hook uses, adds a
Change-Id to a paragraph in which only a quarter of the lines are trailers.
A malformed footer is kept verbatim in the message and otherwise ignored:
footers are facts people typed, never a reason to refuse a commit, except the
Change-Id that a review server needs to track the change.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

CHANGE_ID = re.compile(r"^I[0-9a-f]{40}$")
_FOOTER_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$")
_LINK_CHANGE_ID = re.compile(r"/id/(I[0-9a-f]{40})$")


@dataclass(frozen=True, slots=True)
class Footer:
    key: str
    value: str


def footers(message: str) -> tuple[Footer, ...]:
    """The footers of the last paragraph, in order; () for a one-paragraph message."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", message.strip()) if p.strip()]
    if len(paragraphs) < 2:
        # The subject is never a footer, even when it looks like one.
        return ()
    lines = [line for line in paragraphs[-1].splitlines() if not line.startswith("#")]
    found: list[Footer] = []
    continues = False
    for line in lines:
        if line[:1] in (" ", "\t"):
            if continues:
                last = found[-1]
                found[-1] = Footer(last.key, f"{last.value} {line.strip()}")
            continue
        match = _FOOTER_LINE.match(line)
        continues = match is not None
        if match is not None:
            found.append(Footer(match.group(1), match.group(2).strip()))
    return tuple(found)


def footer_values(message: str, key: str) -> tuple[str, ...]:
    lowered = key.lower()
    return tuple(f.value for f in footers(message) if f.key.lower() == lowered)


class ChangeIdProblem(enum.Enum):
    MISSING = "missing Change-Id in commit message footer"
    MULTIPLE = "multiple Change-Id lines in commit message footer"
    INVALID = "invalid Change-Id line format in commit message footer"


@dataclass(frozen=True, slots=True)
class ChangeIdResult:
    change_id: str | None
    problem: ChangeIdProblem | None


def change_id_of(message: str) -> ChangeIdResult:
    """The Change-Id of a commit message, or the problem that prevents one."""
    values = list(footer_values(message, "Change-Id"))
    if not values:
        # Recent Gerrit also accepts `Link: <url>/id/I...` written by the hook
        # when gerrit.reviewUrl is set.
        for link in footer_values(message, "Link"):
            match = _LINK_CHANGE_ID.search(link)
            if match:
                values.append(match.group(1))
    if not values:
        return ChangeIdResult(None, ChangeIdProblem.MISSING)
    if len(set(values)) > 1:
        return ChangeIdResult(None, ChangeIdProblem.MULTIPLE)
    if not CHANGE_ID.match(values[0]):
        return ChangeIdResult(None, ChangeIdProblem.INVALID)
    return ChangeIdResult(values[0], None)


# --- footers kept with each patch set for the bug tracker and cross-repo dependencies ---

# As OpenStack's Launchpad hooks and Zuul read them: keys in any case, on any
# line after the subject (Zuul's Depends-On regex is multi-line over the whole
# message), the value verbatim.
TRACKED_FOOTER_KEYS: tuple[str, ...] = ("Closes-Bug", "Partial-Bug", "Related-Bug", "Depends-On")
_TRACKED = {key.lower(): key for key in TRACKED_FOOTER_KEYS}
_TRACKED_LINE = re.compile(
    r"^(" + "|".join(re.escape(k) for k in TRACKED_FOOTER_KEYS) + r")[ \t]*:(.*)$",
    re.IGNORECASE,
)
_BUGS = re.compile(r"^#?(\d+)(?:[ \t]*,[ \t]*#?(\d+))*$")
_BUG = re.compile(r"#?(\d+)")
_URL = re.compile(r"^https?://\S+$")


def tracked_footers(message: str) -> tuple[Footer, ...]:
    """The Closes-Bug, Partial-Bug, Related-Bug and Depends-On lines of a commit
    message, in order, keys in their canonical spelling and values as typed
    (stripped of surrounding blanks). Never fails: whatever the value, it is kept."""
    lines = message.splitlines()
    # The subject paragraph is never a footer.
    start = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    found: list[Footer] = []
    for line in lines[start:]:
        match = _TRACKED_LINE.match(line)
        if match is not None:
            found.append(Footer(_TRACKED[match.group(1).lower()], match.group(2).strip()))
    return tuple(found)


def bug_numbers(value: str) -> tuple[int, ...]:
    """The bugs a `*-Bug:` value names (`#123`, `123`, `#1, #2`); () when it is
    malformed, which callers ignore."""
    text = value.strip()
    if not _BUGS.match(text):
        return ()
    return tuple(int(n) for n in _BUG.findall(text))


@dataclass(frozen=True, slots=True)
class Dependency:
    """What a Depends-On value names: a change by its Change-Id, or by URL."""

    change_id: str | None = None
    url: str | None = None


def dependency(value: str) -> Dependency | None:
    """The change a Depends-On value names; None when it is neither a URL nor a Change-Id."""
    text = value.strip()
    if CHANGE_ID.match(text):
        return Dependency(change_id=text)
    if _URL.match(text):
        return Dependency(url=text)
    return None
