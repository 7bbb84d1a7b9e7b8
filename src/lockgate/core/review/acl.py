"""Access control in Gerrit's shape: rules per ref pattern, inherited from parents.

A project holds access sections keyed by a ref pattern (`refs/heads/*`, an
exact ref, or a `^regex`); a section grants permissions to groups with an
action: ALLOW, DENY or BLOCK. Projects inherit their parent's sections up to
`All-Projects`. Evaluation, for a user's groups, a permission and a ref:

1. A BLOCK that matches, anywhere in the chain, refuses, unless the same
   section also ALLOWs one of the user's groups (Gerrit's rule).
2. Walking from the project to its root, and within a project from the most
   specific pattern to the least, an *exclusive* section for the permission
   that names none of the user's groups refuses.
3. Otherwise the first ALLOW or DENY naming one of the user's groups decides.

Label permissions (`label-<Name>`) grant a range of values; the user's range
is the union of the ALLOWed ranges, with BLOCKed extremes cut off.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

LABEL_PREFIX = "label-"


class Permission(enum.StrEnum):
    READ = "read"
    PUSH = "push"
    PUSH_MERGE = "pushMerge"
    CREATE = "create"
    CREATE_TAG = "createTag"
    DELETE = "delete"
    SUBMIT = "submit"
    ABANDON = "abandon"
    OWNER = "owner"
    REBASE = "rebase"
    FORGE_AUTHOR = "forgeAuthor"
    FORGE_COMMITTER = "forgeCommitter"
    ADD_PATCH_SET = "addPatchSet"
    EDIT_TOPIC_NAME = "editTopicName"
    EDIT_HASHTAGS = "editHashtags"
    TOGGLE_WIP_STATE = "toggleWipState"
    REMOVE_REVIEWER = "removeReviewer"


KNOWN_PERMISSIONS = frozenset(p.value for p in Permission)


def is_valid_permission(name: str) -> bool:
    return name in KNOWN_PERMISSIONS or (name.startswith(LABEL_PREFIX) and len(name) > 6)


class Action(enum.StrEnum):
    ALLOW = "ALLOW"
    DENY = "DENY"
    BLOCK = "BLOCK"


@dataclass(frozen=True, slots=True)
class Rule:
    group: str  # group UUID
    action: Action = Action.ALLOW
    min: int | None = None  # label permissions only
    max: int | None = None
    force: bool = False


@dataclass(frozen=True, slots=True)
class PermissionRules:
    rules: tuple[Rule, ...] = ()
    exclusive: bool = False


@dataclass(frozen=True, slots=True)
class AccessSection:
    ref_pattern: str
    permissions: Mapping[str, PermissionRules] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    project: str
    parent: str | None
    sections: tuple[AccessSection, ...] = ()


def ref_matches(pattern: str, ref: str) -> bool:
    if pattern.startswith("^"):
        try:
            return re.fullmatch(pattern[1:], ref) is not None
        except re.error:
            return False
    if pattern.endswith("/*"):
        return ref.startswith(pattern[:-1])
    if pattern == "refs/*":
        return ref.startswith("refs/")
    return pattern == ref


def specificity(pattern: str) -> tuple[int, int]:
    """Sort key: exact refs first, then longer patterns, regexes last among equals."""
    if pattern.startswith("^"):
        return (1, -len(pattern))
    if pattern.endswith("*"):
        return (1, -len(pattern) - 1)
    return (0, -len(pattern))


def valid_ref_pattern(pattern: str) -> str | None:
    """None when the pattern is usable, else what is wrong with it."""
    if pattern.startswith("^"):
        try:
            re.compile(pattern[1:])
        except re.error as error:
            return f"invalid regular expression {pattern}: {error}"
        return None
    if not pattern.startswith("refs/"):
        return f"ref pattern {pattern} must start with refs/ or ^refs/"
    if "*" in pattern[:-1]:
        return f"ref pattern {pattern}: '*' may only end a pattern, as in refs/heads/*"
    return None


@dataclass(frozen=True, slots=True)
class Matched:
    depth: int  # 0 for the project itself, 1 for its parent, ...
    section: AccessSection
    rules: PermissionRules


def _matching(chain: Sequence[ProjectAccess], permission: str, ref: str) -> list[Matched]:
    found: list[Matched] = []
    for depth, access in enumerate(chain):
        sections = sorted(access.sections, key=lambda s: specificity(s.ref_pattern))
        for section in sections:
            rules = section.permissions.get(permission)
            if rules is not None and ref_matches(section.ref_pattern, ref):
                found.append(Matched(depth, section, rules))
    return found


def _blocked(matched: Sequence[Matched], groups: frozenset[str]) -> bool:
    for m in matched:
        mine = [r for r in m.rules.rules if r.group in groups]
        if any(r.action is Action.BLOCK for r in mine) and not any(
            r.action is Action.ALLOW for r in mine
        ):
            return True
    return False


def is_allowed(
    chain: Sequence[ProjectAccess], groups: Iterable[str], permission: str, ref: str
) -> bool:
    """Whether members of `groups` have `permission` on `ref`; `chain` runs from the
    project to its root (All-Projects)."""
    mine = frozenset(groups)
    matched = _matching(chain, permission, ref)
    if _blocked(matched, mine):
        return False
    for m in matched:
        rules = [r for r in m.rules.rules if r.group in mine and r.action is not Action.BLOCK]
        if m.rules.exclusive and not rules:
            return False
        if rules:
            return any(r.action is Action.ALLOW for r in rules)
    return False


def label_range(
    chain: Sequence[ProjectAccess], groups: Iterable[str], label: str, ref: str
) -> tuple[int, int] | None:
    """The values of `label` that members of `groups` may vote on `ref`, or None."""
    mine = frozenset(groups)
    matched = _matching(chain, LABEL_PREFIX + label, ref)
    low: int | None = None
    high: int | None = None
    block_low, block_high = None, None
    exclusive_seen = False
    for m in matched:
        for rule in m.rules.rules:
            if rule.group not in mine or rule.min is None or rule.max is None:
                continue
            if rule.action is Action.BLOCK:
                block_low = rule.min if block_low is None else max(block_low, rule.min)
                block_high = rule.max if block_high is None else min(block_high, rule.max)
            elif rule.action is Action.ALLOW and not exclusive_seen:
                low = rule.min if low is None else min(low, rule.min)
                high = rule.max if high is None else max(high, rule.max)
        if m.rules.exclusive:
            # An exclusive section ends inheritance for this label on this ref.
            exclusive_seen = True
    if low is None or high is None:
        return None
    # A BLOCK range cuts off its extremes: `block -2..+2` leaves -1..+1.
    if block_low is not None and block_low < 0:
        low = max(low, block_low + 1)
    if block_high is not None and block_high > 0:
        high = min(high, block_high - 1)
    if low > high:
        return None
    return low, high
