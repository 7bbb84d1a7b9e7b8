"""When a job variant or a project stanza applies to an item.

Zuul's matchers, as its documentation describes them:

- `branches` regexes are matched with `re.match` (anchored at the start)
  against the item's branch, or, for an item with no branch (a tag),
  against its full ref, so that a tag variant can say `refs/tags/.*`;
- an *implied* branch matcher (a definition in a branch of an untrusted
  project that has several branches) matches that branch exactly; an item
  with no branch (a tag) matches it, since which branches hold a tag's
  commit is not known here;
- `files` runs a job when any changed file matches; `irrelevant-files`
  skips it when every changed file matches; both are ignored when the item
  has no files (a ref, a merge commit, an empty commit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from lockgate.core.gating.changes import Change, Ref, Subject

# Gerrit lists these pseudo-files with a change's files; they are no file of the tree.
PSEUDO_FILES = frozenset({"/COMMIT_MSG", "/MERGE_LIST", "/PATCHSET_LEVEL"})
CONFIG_FILES = ("zuul.yaml", ".zuul.yaml")
CONFIG_DIRS = ("zuul.d/", ".zuul.d/")


@lru_cache(maxsize=8192)
def compile_regex(pattern: str) -> re.Pattern[str] | None:
    """The compiled pattern, or None when it is not a valid regex (the
    parser reports those; here an invalid pattern matches nothing)."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _negated(pattern: str) -> bool:
    # The parser writes `{regex: ..., negate: true}` as a str subclass named
    # NegatedRegex; it is recognised by name so that this module does not
    # depend on when that class lands in objects.py.
    return type(pattern).__name__ == "NegatedRegex"


def any_match(patterns: Iterable[str], value: str) -> bool:
    """Whether one pattern matches `value` at its start (a negated one: does not)."""
    for pattern in patterns:
        regex = compile_regex(str(pattern))
        if regex is None:
            continue
        if (regex.match(value) is None) == _negated(pattern):
            return True
    return False


@dataclass(frozen=True, slots=True)
class ItemContext:
    """What the matchers need of the item a job graph is frozen for."""

    project: str
    branch: str | None  # None for a tag or another non-branch ref
    ref: str
    files: tuple[str, ...]  # empty: file matchers do not apply

    @classmethod
    def of(cls, subject: Subject) -> ItemContext:
        if isinstance(subject, Change):
            files = tuple(f for f in subject.files if f not in PSEUDO_FILES)
            return cls(subject.project, subject.branch, f"refs/heads/{subject.branch}", files)
        assert isinstance(subject, Ref)
        branch = subject.branch if subject.ref.startswith("refs/heads/") else None
        return cls(subject.project, branch, subject.ref, ())


def branch_matches(
    branches: Sequence[str] | None, implied_branch: str | None, item: ItemContext
) -> bool:
    """Whether a definition with these `branches` (and implied branch) applies."""
    if branches:
        return any_match(branches, item.ref if item.branch is None else item.branch)
    if implied_branch is not None and item.branch is not None:
        return implied_branch == item.branch
    return True


def files_match(
    files: Sequence[str] | None, irrelevant: Sequence[str] | None, changed: Sequence[str]
) -> bool:
    """Whether a job with these matchers runs for these changed files."""
    if not changed:
        return True
    if files and not any(any_match(files, path) for path in changed):
        return False
    return not (irrelevant and all(any_match(irrelevant, path) for path in changed))


def is_config_file(path: str, extra_paths: Sequence[str] = ()) -> bool:
    """Whether `path` is one Zuul reads configuration from."""
    if path in CONFIG_FILES or path.startswith(CONFIG_DIRS):
        return True
    for extra in extra_paths:
        if path == extra or (extra.endswith("/") and path.startswith(extra)):
            return True
    return False
