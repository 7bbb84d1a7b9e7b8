"""Pipeline `require:` and `reject:` on a change."""

from __future__ import annotations

import pytest

from lockgate.core.config.objects import ApprovalMatch, RequirementDef
from lockgate.core.gating.changes import Approval, Change
from lockgate.core.gating.requirements import (
    age_seconds,
    approval_matches,
    hits_rejection,
    meets_requirement,
    unmet_requirements,
)

NOW = 1_000_000.0
HOUR = 3600.0


def change(*approvals: Approval, **fields: object) -> Change:
    base: dict[str, object] = dict(
        project="org/app",
        branch="master",
        number=1,
        patchset=1,
        commit="c" * 40,
        ref="refs/changes/01/1/1",
        url="u",
        owner="alice",
        subject="Fix",
        message="Fix\n",
        approvals=approvals,
    )
    base.update(fields)
    return Change(**base)  # type: ignore[arg-type]


def vote(label: str, value: int, user: str = "bob", age_hours: float = 0) -> Approval:
    return Approval(label, value, user, f"{user}@example.org", NOW - age_hours * HOUR)


def req(**fields: object) -> RequirementDef:
    return RequirementDef("gerrit", **fields)  # type: ignore[arg-type]


def test_ages_in_zuuls_syntax() -> None:
    assert [age_seconds(t) for t in ("90", "30s", "5m", "48h", "2d", "1w")] == [
        90,
        30,
        300,
        172800,
        172800,
        604800,
    ]
    with pytest.raises(ValueError, match=r"e\.g\. 48h"):
        age_seconds("two days")


def test_open_current_patchset_wip_and_status() -> None:
    assert meets_requirement(change(), req(open=True, current_patchset=True, wip=False), NOW)
    assert not meets_requirement(change(status="ABANDONED"), req(open=True), NOW)
    assert not meets_requirement(change(is_current=False), req(current_patchset=True), NOW)
    assert not meets_requirement(change(wip=True), req(wip=False), NOW)
    assert meets_requirement(change(status="MERGED"), req(status=("MERGED",)), NOW)
    assert not meets_requirement(change(), req(status=("MERGED",)), NOW)


def test_an_approval_requirement_needs_the_value_from_an_allowed_account_within_an_age() -> None:
    core = ApprovalMatch({"Code-Review": (2,)}, username="^bob$", newer_than="24h")
    assert approval_matches(change(vote("Code-Review", 2)), core, NOW)
    assert not approval_matches(change(vote("Code-Review", 1)), core, NOW)
    assert not approval_matches(change(vote("Code-Review", 2, user="eve")), core, NOW)
    assert not approval_matches(change(vote("Code-Review", 2, age_hours=25)), core, NOW)
    stale = ApprovalMatch({"Verified": (1, 2)}, older_than="1h")
    assert approval_matches(change(vote("Verified", 1, age_hours=2)), stale, NOW)
    assert not approval_matches(change(vote("Verified", 1)), stale, NOW)


def test_every_label_of_an_entry_must_be_there() -> None:
    both = ApprovalMatch({"Code-Review": (2,), "Workflow": (1,)})
    assert approval_matches(change(vote("Code-Review", 2), vote("Workflow", 1)), both, NOW)
    assert not approval_matches(change(vote("Code-Review", 2)), both, NOW)


def test_hashtags_must_all_be_found_in_a_require_and_any_rejects() -> None:
    tagged = change(hashtags=("security", "backport"))
    assert meets_requirement(tagged, req(hashtags=("^sec", "port$")), NOW)
    assert not meets_requirement(tagged, req(hashtags=("^urgent$",)), NOW)
    assert hits_rejection(tagged, req(hashtags=("^backport$",)), NOW)
    assert not hits_rejection(tagged, req(hashtags=("^wip$",)), NOW)


def test_reject_conditions() -> None:
    vetoed = change(vote("Verified", -1))
    assert hits_rejection(vetoed, req(approvals=(ApprovalMatch({"Verified": (-1, -2)}),)), NOW)
    assert hits_rejection(change(wip=True), req(wip=True), NOW)
    assert hits_rejection(change(status="ABANDONED"), req(status=("ABANDONED",)), NOW)
    assert not hits_rejection(change(), req(open=False), NOW)


def test_unmet_requirements_combines_require_and_reject() -> None:
    require = (req(approvals=(ApprovalMatch({"Code-Review": (2,)}),)),)
    reject = (req(approvals=(ApprovalMatch({"Code-Review": (-2,)}),)),)
    assert not unmet_requirements(change(vote("Code-Review", 2)), require, reject, NOW)
    assert unmet_requirements(change(), require, reject, NOW)
    blocked = change(vote("Code-Review", 2), vote("Code-Review", -2, user="eve"))
    assert unmet_requirements(blocked, require, reject, NOW)
