"""Access rules: inheritance, exclusive sections, DENY and BLOCK, label ranges."""

from __future__ import annotations

from lockgate.core.review.acl import (
    AccessSection,
    Action,
    PermissionRules,
    ProjectAccess,
    Rule,
    is_allowed,
    label_range,
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
