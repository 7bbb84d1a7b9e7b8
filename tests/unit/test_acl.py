"""Access rules: inheritance, exclusive sections, DENY and BLOCK, label ranges."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lockgate.core.review.acl import (
    AccessError,
    AccessSection,
    Action,
    PermissionRules,
    ProjectAccess,
    Rule,
    access_revision,
    apply_access_changes,
    is_allowed,
    label_range,
    parse_access_changes,
    ref_matches,
    valid_ref_pattern,
)

REGISTERED = "global:Registered-Users"
CORE = "core-uuid"
BOTS = "bots-uuid"
ADMINS = "admins-uuid"


def section(pattern: str, **permissions: PermissionRules) -> AccessSection:
    return AccessSection(pattern, {k.replace("_", "-"): v for k, v in permissions.items()})


def rules(*rules: Rule, exclusive: bool = False) -> PermissionRules:
    return PermissionRules(tuple(rules), exclusive)


ALL_PROJECTS = ProjectAccess(
    "All-Projects",
    None,
    (
        section(
            "refs/*",
            read=rules(Rule(REGISTERED)),
        ),
        section(
            "refs/heads/*",
            label_Code_Review=rules(Rule(REGISTERED, min=-1, max=1)),
            submit=rules(Rule(ADMINS)),
        ),
        section("refs/for/*", push=rules(Rule(REGISTERED))),
    ),
)


def project(*sections: AccessSection) -> list[ProjectAccess]:
    return [ProjectAccess("nova", "All-Projects", sections), ALL_PROJECTS]


def test_ref_patterns() -> None:
    assert ref_matches("refs/heads/*", "refs/heads/stable/2024.1")
    assert not ref_matches("refs/heads/*", "refs/tags/1.0")
    assert ref_matches("^refs/heads/stable/.*", "refs/heads/stable/x")
    assert ref_matches("refs/heads/master", "refs/heads/master")
    assert valid_ref_pattern("heads/*") is not None
    assert valid_ref_pattern("^refs/(") is not None
    assert valid_ref_pattern("refs/heads/*/x") is not None


def test_permissions_are_inherited_from_all_projects() -> None:
    chain = project()
    assert is_allowed(chain, [REGISTERED], "read", "refs/heads/master")
    assert is_allowed(chain, [REGISTERED], "push", "refs/for/refs/heads/master")
    assert not is_allowed(chain, [REGISTERED], "submit", "refs/heads/master")
    assert not is_allowed(chain, [], "read", "refs/heads/master")


def test_a_project_widens_a_label_range_for_its_core_group() -> None:
    chain = project(section("refs/heads/*", label_Code_Review=rules(Rule(CORE, min=-2, max=2))))
    assert label_range(chain, [REGISTERED], "Code-Review", "refs/heads/master") == (-1, 1)
    assert label_range(chain, [REGISTERED, CORE], "Code-Review", "refs/heads/master") == (-2, 2)
    assert label_range(chain, [REGISTERED], "Verified", "refs/heads/master") is None


def test_an_exclusive_section_takes_away_what_the_parent_grants() -> None:
    chain = project(section("refs/heads/*", read=rules(Rule(CORE), exclusive=True)))
    assert not is_allowed(chain, [REGISTERED], "read", "refs/heads/master")
    assert is_allowed(chain, [REGISTERED, CORE], "read", "refs/heads/master")
    assert is_allowed(chain, [REGISTERED], "read", "refs/tags/1.0")


def test_deny_in_the_project_overrides_the_parents_allow() -> None:
    chain = project(section("refs/heads/*", read=rules(Rule(REGISTERED, Action.DENY))))
    assert not is_allowed(chain, [REGISTERED], "read", "refs/heads/master")


def test_block_in_the_parent_cannot_be_overridden_by_a_child() -> None:
    parent = ProjectAccess(
        "All-Projects",
        None,
        (section("refs/heads/*", push=rules(Rule(REGISTERED, Action.BLOCK))),),
    )
    child = ProjectAccess(
        "nova", "All-Projects", (section("refs/heads/*", push=rules(Rule(REGISTERED))),)
    )
    assert not is_allowed([child, parent], [REGISTERED], "push", "refs/heads/master")


def test_a_blocked_label_range_cuts_off_its_extremes() -> None:
    chain = project(
        section(
            "refs/heads/*",
            label_Code_Review=rules(
                Rule(CORE, min=-2, max=2), Rule(BOTS, Action.BLOCK, min=-2, max=2)
            ),
        )
    )
    assert label_range(chain, [CORE, BOTS], "Code-Review", "refs/heads/master") == (-1, 1)


def test_force_needs_a_rule_marked_force_and_a_forced_block_spares_plain_pushes() -> None:
    plain = project(section("refs/heads/*", push=rules(Rule(CORE))))
    assert is_allowed(plain, [CORE], "push", "refs/heads/master")
    assert not is_allowed(plain, [CORE], "push", "refs/heads/master", force=True)
    forced = project(
        section("refs/heads/master", push=rules(Rule(CORE))),
        section("refs/heads/*", push=rules(Rule(CORE, force=True))),
    )
    # The exact section allows without force; the wider one still grants force.
    assert is_allowed(forced, [CORE], "push", "refs/heads/master", force=True)
    no_force = project(
        section("refs/heads/*", push=rules(Rule(CORE, force=True))),
        section("refs/heads/stable/*", push=rules(Rule(CORE, Action.BLOCK, force=True))),
    )
    assert is_allowed(no_force, [CORE], "push", "refs/heads/stable/x")
    assert not is_allowed(no_force, [CORE], "push", "refs/heads/stable/x", force=True)


def test_access_changes_remove_at_the_finest_level_then_add() -> None:
    current = (
        section("refs/heads/*", read=rules(Rule(CORE), Rule(BOTS)), push=rules(Rule(CORE))),
        section("refs/tags/*", createTag=rules(Rule(CORE))),
    )
    remove = parse_access_changes(
        {
            "refs/heads/*": {"permissions": {"read": {"rules": {BOTS: {}}}, "push": {}}},
            "refs/tags/*": {},
        },
        what="remove",
        removal=True,
    )
    add = parse_access_changes(
        {
            "refs/heads/*": {
                "permissions": {
                    "read": {"exclusive": True, "rules": {CORE: {"action": "DENY"}}},
                    "label-Code-Review": {"rules": {CORE: {"min": -2, "max": 2}}},
                }
            }
        },
        what="add",
    )

    changed = apply_access_changes(current, remove, add)

    assert changed == (
        section(
            "refs/heads/*",
            read=rules(Rule(CORE, Action.DENY), exclusive=True),
            label_Code_Review=rules(Rule(CORE, min=-2, max=2)),
        ),
    )
    assert access_revision(ProjectAccess("nova", None, changed)) != access_revision(
        ProjectAccess("nova", None, current)
    )


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"refs/heads/*": {"permissions": {"pull": {}}}}, "unknown permission 'pull'"),
        ({"heads/*": {}}, "must start with refs/"),
        ({"GLOBAL_CAPABILITIES": {}}, "global capabilities"),
        ({"refs/*": {"permissions": {"label-X": {"rules": {"g": {"min": 1}}}}}}, "both min"),
        ({"refs/*": {"permissions": {"label-X": {"rules": {"g": {"min": 2, "max": 1}}}}}}, "above"),
        ({"refs/*": {"permissions": {"read": {"rules": {"g": {"min": 1, "max": 1}}}}}}, "only to"),
        ({"refs/*": {"permissions": {"read": {"rules": {"g": {"force": "y"}}}}}}, "true or false"),
        ({"refs/*": {"permissions": {"label-X": {"label": "Y"}}}}, "does not match"),
        ({"refs/*": []}, "must be a JSON object"),
    ],
)
def test_malformed_access_changes_name_their_fault(raw: dict[str, Any], words: str) -> None:
    with pytest.raises(AccessError, match=re.escape(words)):
        parse_access_changes(raw, what="add")
