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
import hashlib
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


def _blocked(matched: Sequence[Matched], groups: frozenset[str], force: bool) -> bool:
    for m in matched:
        mine = [r for r in m.rules.rules if r.group in groups]
        # A BLOCK marked force blocks only forced updates; a plain one blocks all.
        blocks = any(r.action is Action.BLOCK and (force or not r.force) for r in mine)
        if blocks and not any(r.action is Action.ALLOW and (r.force or not force) for r in mine):
            return True
    return False


def is_allowed(
    chain: Sequence[ProjectAccess],
    groups: Iterable[str],
    permission: str,
    ref: str,
    *,
    force: bool = False,
) -> bool:
    """Whether members of `groups` have `permission` on `ref`; `chain` runs from the
    project to its root (All-Projects). With `force` (a non-fast-forward push, a
    delete by push) only ALLOW rules marked force grant it."""
    mine = frozenset(groups)
    matched = _matching(chain, permission, ref)
    if _blocked(matched, mine, force):
        return False
    for m in matched:
        rules = [r for r in m.rules.rules if r.group in mine and r.action is not Action.BLOCK]
        if m.rules.exclusive and not rules:
            return False
        if rules:
            allows = [r for r in rules if r.action is Action.ALLOW]
            if not allows:
                return False
            if not force or any(r.force for r in allows):
                return True
            # Allowed, but not forced: a less specific section may still grant force.
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


# --- changing a project's access: Gerrit's ProjectAccessInput ------------------------


class AccessError(ValueError):
    """A malformed or invalid access change; the message names the part at fault."""


@dataclass(frozen=True, slots=True)
class PermissionChange:
    """One permission of a section in an access change. In a removal, no rules
    means "the whole permission"; in an addition, `exclusive` None leaves the flag."""

    exclusive: bool | None = None
    rules: tuple[Rule, ...] = ()


# ref pattern -> permission name -> change; a removal with no permissions removes the section.
AccessChanges = Mapping[str, Mapping[str, PermissionChange]]


def _object(value: object, where: str) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AccessError(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def _bool(value: object, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise AccessError(f"{where} must be true or false, not {value!r}")


def _int(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise AccessError(f"{where} must be a whole number, not {value!r}")
    return value


def _rule(group: str, raw: object, where: str, *, label: bool, removal: bool) -> Rule:
    fields = _object(raw, where)
    if removal:
        return Rule(group)
    raw_action = fields.get("action", Action.ALLOW.value)
    try:
        action = Action(str(raw_action).upper())
    except ValueError:
        raise AccessError(
            f"{where}: action {raw_action!r} is not one of ALLOW, DENY, BLOCK"
        ) from None
    low = _int(fields.get("min"), f"{where}.min")
    high = _int(fields.get("max"), f"{where}.max")
    if label:
        if low is None or high is None:
            raise AccessError(f"{where}: a label permission needs both min and max, e.g. -1 and 1")
        if low > high:
            raise AccessError(f"{where}: min {low} is above max {high}")
    elif low is not None or high is not None:
        raise AccessError(f"{where}: min and max apply only to label-<Name> permissions")
    return Rule(group, action, low, high, bool(_bool(fields.get("force"), f"{where}.force")))


def parse_access_changes(raw: object, *, what: str, removal: bool = False) -> AccessChanges:
    """The `add` or `remove` map of a ProjectAccessInput, checked: ref patterns,
    permission names, actions and label ranges' shape (group UUIDs and label values
    need the site, and are checked by the caller)."""
    parsed: dict[str, dict[str, PermissionChange]] = {}
    for ref, section in _object(raw, what).items():
        where = f"{what}[{ref}]"
        if ref == "GLOBAL_CAPABILITIES":
            raise AccessError(f"{where}: global capabilities are not supported by lockgate")
        problem = valid_ref_pattern(ref)
        if problem is not None:
            raise AccessError(f"{where}: {problem}")
        permissions: dict[str, PermissionChange] = {}
        for name, permission in _object(_object(section, where).get("permissions"), where).items():
            at = f"{where}.{name}"
            if not is_valid_permission(name):
                known = ", ".join(sorted(KNOWN_PERMISSIONS))
                raise AccessError(
                    f"{at}: unknown permission {name!r}; use one of {known} or label-<Name>"
                )
            fields = _object(permission, at)
            is_label = name.startswith(LABEL_PREFIX)
            label = fields.get("label")
            if label is not None and (not is_label or label != name[len(LABEL_PREFIX) :]):
                raise AccessError(f"{at}: label {label!r} does not match the permission's name")
            rules = tuple(
                _rule(str(group), rule, f"{at}.rules[{group}]", label=is_label, removal=removal)
                for group, rule in _object(fields.get("rules"), at).items()
            )
            exclusive = _bool(fields.get("exclusive"), f"{at}.exclusive")
            permissions[name] = PermissionChange(exclusive, rules)
        parsed[ref] = permissions
    return parsed


def apply_access_changes(
    sections: Sequence[AccessSection], remove: AccessChanges, add: AccessChanges
) -> tuple[AccessSection, ...]:
    """Gerrit's set-access: first removals at the finest level given (a section, a
    permission, or rules by group), dropping what they leave empty; then additions,
    a group's rule replacing the one it had."""
    current: dict[str, dict[str, PermissionRules]] = {
        s.ref_pattern: dict(s.permissions) for s in sections
    }
    for ref, permissions in remove.items():
        if ref not in current:
            continue
        if not permissions:
            del current[ref]
            continue
        for name, change in permissions.items():
            held = current[ref].get(name)
            if held is None:
                continue
            gone = {r.group for r in change.rules}
            kept = tuple(r for r in held.rules if r.group not in gone) if gone else ()
            if kept:
                current[ref][name] = PermissionRules(kept, held.exclusive)
            else:
                del current[ref][name]
        if not current[ref]:
            del current[ref]
    for ref, permissions in add.items():
        section = current.setdefault(ref, {})
        for name, change in permissions.items():
            held = section.get(name, PermissionRules())
            replaced = {r.group for r in change.rules}
            rules = tuple(r for r in held.rules if r.group not in replaced) + change.rules
            exclusive = held.exclusive if change.exclusive is None else change.exclusive
            section[name] = PermissionRules(rules, exclusive)
        if not section:
            # Adding a section with nothing in it leaves nothing to keep.
            del current[ref]
    return tuple(AccessSection(ref, perms) for ref, perms in current.items())


def groups_named(sections: Iterable[AccessSection]) -> set[str]:
    return {r.group for s in sections for p in s.permissions.values() for r in p.rules}


def label_permissions(sections: Iterable[AccessSection]) -> Iterable[tuple[str, str, Rule]]:
    """(ref pattern, label name, rule) of every label-<Name> rule."""
    for section in sections:
        for name, permission in section.permissions.items():
            if name.startswith(LABEL_PREFIX):
                for rule in permission.rules:
                    yield section.ref_pattern, name[len(LABEL_PREFIX) :], rule


def access_revision(access: ProjectAccess) -> str:
    """A digest of the project's access and parent: changes whenever either does,
    standing in for the `refs/meta/config` commit Gerrit reports."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"parent {access.parent or ''}\n".encode())
    for section in access.sections:
        digest.update(f"[{section.ref_pattern}]\n".encode())
        for name, permission in section.permissions.items():
            digest.update(f"{name} exclusive={permission.exclusive}\n".encode())
            for r in permission.rules:
                digest.update(f"{r.group} {r.action} {r.min} {r.max} {r.force}\n".encode())
    return digest.hexdigest()
