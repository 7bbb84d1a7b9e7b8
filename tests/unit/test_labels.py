"""Label functions, submittability and vote copying, as OpenStack runs its labels."""

from __future__ import annotations

import pytest

from lockgate.core.review.labels import (
    CODE_REVIEW,
    DEFAULT_LABELS,
    VERIFIED,
    WORKFLOW,
    LabelFunction,
    LabelState,
    LabelType,
    Vote,
    copied_votes,
    evaluate_label,
    format_value,
    format_vote,
    submit_record,
)


def vote(account: int, label: str, value: int, patch_set: int = 1) -> Vote:
    return Vote(account_id=account, label=label, value=value, patch_set=patch_set)


def test_an_approved_verified_change_is_submittable() -> None:
    record = submit_record(
        DEFAULT_LABELS,
        [vote(1, "Code-Review", 2), vote(2, "Verified", 2), vote(1, "Workflow", 1)],
    )
    assert record.submittable
    assert record.reason() == ""


def test_a_veto_blocks_even_with_an_approval() -> None:
    record = submit_record(
        DEFAULT_LABELS,
        [
            vote(1, "Code-Review", 2),
            vote(3, "Code-Review", -2),
            vote(2, "Verified", 2),
            vote(1, "Workflow", 1),
        ],
    )
    assert not record.submittable
    [unmet] = record.unmet
    assert unmet.state is LabelState.REJECT and unmet.rejected_by == 3
    assert "Code-Review is blocked by a -2 vote" in record.reason()


def test_missing_votes_are_named_with_the_value_they_need() -> None:
    record = submit_record(DEFAULT_LABELS, [vote(1, "Code-Review", 1)])
    assert [r.label.name for r in record.unmet] == ["Code-Review", "Verified", "Workflow"]
    assert "Code-Review needs a +2 vote" in record.reason()


@pytest.mark.parametrize(
    ("function", "votes", "state"),
    [
        (LabelFunction.MAX_WITH_BLOCK, [2], LabelState.OK),
        (LabelFunction.MAX_WITH_BLOCK, [1], LabelState.NEED),
        (LabelFunction.MAX_WITH_BLOCK, [2, -2], LabelState.REJECT),
        (LabelFunction.ANY_WITH_BLOCK, [], LabelState.OK),
        (LabelFunction.ANY_WITH_BLOCK, [-2], LabelState.REJECT),
        (LabelFunction.MAX_NO_BLOCK, [2, -2], LabelState.OK),
        (LabelFunction.MAX_NO_BLOCK, [1], LabelState.NEED),
        (LabelFunction.NO_BLOCK, [-2], LabelState.MAY),
        (LabelFunction.NO_OP, [], LabelState.MAY),
    ],
)
def test_label_functions(function: LabelFunction, votes: list[int], state: LabelState) -> None:
    label = LabelType("Review", {-2: "no", -1: "meh", 0: "", 1: "ok", 2: "yes"}, function)
    result = evaluate_label(label, [vote(i, "Review", v) for i, v in enumerate(votes)])
    assert result.state is state


def test_votes_are_formatted_as_gerrit_writes_them() -> None:
    assert format_vote("Code-Review", 2) == "Code-Review+2"
    assert format_vote("Verified", -1) == "Verified-1"
    assert format_vote("Workflow", 0) == "-Workflow"
    assert [format_value(v) for v in (-2, 0, 2)] == ["-2", " 0", "+2"]
    assert list(WORKFLOW.formatted_values()) == ["-1", " 0", "+1"]


def test_a_rework_keeps_only_vetoes_and_a_trivial_rebase_keeps_code_review() -> None:
    votes = [
        vote(1, "Code-Review", 2),
        vote(3, "Code-Review", -2),
        vote(2, "Verified", 1),
        vote(4, "Workflow", -1),
    ]
    rework = copied_votes(DEFAULT_LABELS, votes, kind="REWORK", new_patch_set=2)
    assert {(v.label, v.value) for v in rework} == {("Code-Review", -2), ("Workflow", -1)}
    assert all(v.patch_set == 2 for v in rework)
    rebase = copied_votes(DEFAULT_LABELS, votes, kind="TRIVIAL_REBASE", new_patch_set=2)
    assert {(v.label, v.value) for v in rebase} == {
        ("Code-Review", 2),
        ("Code-Review", -2),
        ("Workflow", -1),
    }
    unchanged = copied_votes(DEFAULT_LABELS, votes, kind="NO_CHANGE", new_patch_set=2)
    assert len(unchanged) == 4
    assert CODE_REVIEW.min == -2 and VERIFIED.max == 2
