"""The pure rules of a review: which votes a caller may cast, Gerrit's message
layout, comment positions, threads, and the legacy submit requirements."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.review.comments import (
    CommentError,
    CommentInput,
    CommentRange,
    Side,
    check_position,
    line_count,
    thread_counts,
)
from lockgate.core.review.events import ApprovalChange
from lockgate.core.review.labels import DEFAULT_LABELS, Vote, submit_record
from lockgate.core.review.review_input import (
    ReviewError,
    VoteConflict,
    VoteRestricted,
    check_closed_change_votes,
    event_approvals,
    permitted_values,
    resolve_votes,
    review_message,
    vote_changes,
)
from lockgate.core.review.submit_requirements import is_submittable, legacy_requirements

CODE_REVIEW, VERIFIED, WORKFLOW = DEFAULT_LABELS
REGISTERED = {"Code-Review": (-1, 1), "Verified": None, "Workflow": None}


def test_votes_take_the_canonical_name_and_the_labels_order() -> None:
    votes = resolve_votes(
        {"workflow": 1, "CODE-REVIEW": 2},
        DEFAULT_LABELS,
        {"Code-Review": (-2, 2), "Workflow": (-1, 1)},
        strict=True,
    )
    assert list(votes.items()) == [("Code-Review", 2), ("Workflow", 1)]


def test_a_vote_beyond_the_callers_range_names_the_range() -> None:
    with pytest.raises(VoteRestricted) as refused:
        resolve_votes({"Code-Review": 2}, DEFAULT_LABELS, REGISTERED, strict=True)
    assert str(refused.value) == (
        'Applying label "Code-Review": +2 is restricted; you may vote -1..+1'
    )
    with pytest.raises(VoteRestricted, match="you may not vote on Verified"):
        resolve_votes({"Verified": -1}, DEFAULT_LABELS, REGISTERED, strict=True)


def test_unknown_labels_and_invalid_values_are_bad_requests() -> None:
    with pytest.raises(ReviewError, match='label "QA" is not a configured label'):
        resolve_votes({"QA": 1}, DEFAULT_LABELS, REGISTERED, strict=True)
    with pytest.raises(
        ReviewError, match="3 is not a valid value; valid values: -2, -1, 0, \\+1, \\+2"
    ):
        resolve_votes({"Code-Review": 3}, DEFAULT_LABELS, REGISTERED, strict=True)


def test_zero_is_always_permitted() -> None:
    assert resolve_votes({"Verified": 0}, DEFAULT_LABELS, REGISTERED, strict=True) == {
        "Verified": 0
    }


def test_without_strict_labels_votes_are_fitted_or_dropped() -> None:
    votes = resolve_votes(
        {"Code-Review": -2, "Verified": 1, "QA": 1, "Workflow": 5},
        DEFAULT_LABELS,
        REGISTERED,
        strict=False,
    )
    assert votes == {"Code-Review": -1}


@given(
    value=st.integers(-3, 3),
    low=st.integers(-2, 2),
    span=st.integers(0, 4),
)
def test_non_strict_votes_stay_within_both_ranges(value: int, low: int, span: int) -> None:
    allowed = (low, min(low + span, 2))
    votes = resolve_votes(
        {"Code-Review": value}, DEFAULT_LABELS, {"Code-Review": allowed}, strict=False
    )
    if "Code-Review" in votes and votes["Code-Review"] != 0:
        assert allowed[0] <= votes["Code-Review"] <= allowed[1]
        assert votes["Code-Review"] in CODE_REVIEW.values


def test_permitted_values_are_formatted_as_gerrit_lists_them() -> None:
    assert permitted_values(CODE_REVIEW, (-1, 1)) == ["-1", " 0", "+1"]
    assert permitted_values(WORKFLOW, (-2, 2)) == ["-1", " 0", "+1"]
    assert permitted_values(VERIFIED, None) == []


def test_message_layout_is_gerrits() -> None:
    changes = vote_changes({"Verified": 1}, {"Verified": 1, "Workflow": 1, "Code-Review": 2})
    assert changes == {"Workflow": 1, "Code-Review": 2}
    assert review_message(3, changes, comments=2, message=" LGTM \n", ready=False) == (
        "Patch Set 3: Code-Review+2 Workflow+1\n\n(2 comments)\n\nLGTM"
    )
    assert review_message(1, {"Code-Review": 0}, comments=1, message="", ready=False) == (
        "Patch Set 1: -Code-Review\n\n(1 comment)"
    )
    assert review_message(2, {}, comments=0, message="recheck", ready=False) == (
        "Patch Set 2:\n\nrecheck"
    )
    assert review_message(2, {}, comments=0, message="", ready=True) == (
        "Patch Set 2:\n\nThis change is ready for review."
    )
    assert review_message(2, {}, comments=0, message="  ", ready=False) is None


def test_event_approvals_name_every_label_and_old_values_of_changed_ones() -> None:
    before = {"Code-Review": 1}
    after = {"Code-Review": 1, "Verified": -1}
    assert event_approvals(DEFAULT_LABELS, after, before) == [
        ApprovalChange("Code-Review", 1),
        ApprovalChange("Verified", -1, 0),
        ApprovalChange("Workflow", 0),
    ]


def test_closed_changes_take_only_rising_votes_after_submit() -> None:
    check_closed_change_votes(merged=True, before={"Code-Review": 1}, changes={"Code-Review": 2})
    with pytest.raises(VoteConflict, match=r"Cannot reduce vote .*: Code-Review, Verified"):
        check_closed_change_votes(
            merged=True,
            before={"Code-Review": 2, "Verified": 1},
            changes={"Verified": 0, "Code-Review": 1},
        )
    with pytest.raises(VoteConflict, match="abandoned change takes no votes"):
        check_closed_change_votes(merged=False, before={}, changes={"Code-Review": 1})
    check_closed_change_votes(merged=False, before={}, changes={})


def _at(line: int | None = None, span: CommentRange | None = None, **kw: object) -> CommentInput:
    return CommentInput(path="a.txt", message="m", line=line, range=span, **kw)  # type: ignore[arg-type]


def test_comment_positions_must_lie_within_the_file() -> None:
    check_position(_at(3), lines=3, patch_set=1)
    check_position(_at(None), lines=None, patch_set=1)  # a file comment needs no lines
    check_position(_at(span=CommentRange(1, 0, 3, 4)), lines=3, patch_set=1)
    with pytest.raises(CommentError, match=r"line 4 of a\.txt does not exist: a\.txt has 3 lines"):
        check_position(_at(4), lines=3, patch_set=1)
    with pytest.raises(CommentError, match="not in its parent"):
        check_position(_at(1, side=Side.PARENT), lines=None, patch_set=1)
    with pytest.raises(CommentError, match=r"Range \(2:5 - 2:1\) is not valid"):
        check_position(_at(span=CommentRange(2, 5, 2, 1)), lines=3, patch_set=1)
    with pytest.raises(CommentError, match="negative line number -2"):
        check_position(_at(-2), lines=3, patch_set=1)
    with pytest.raises(CommentError, match="leave out line and range"):
        check_position(
            CommentInput(path="/PATCHSET_LEVEL", message="m", line=1), lines=None, patch_set=1
        )


def test_line_count_counts_a_last_line_without_newline() -> None:
    assert line_count(b"a\nb\n") == 2
    assert line_count(b"a\nb") == 2
    assert line_count(b"") == 0


def test_a_thread_is_unresolved_while_its_latest_comment_is() -> None:
    points = [
        ("a", None, 1, True),
        ("b", "a", 2, False),  # resolves a's thread
        ("c", None, 3, True),
        ("d", "c", 4, True),
        ("e", None, 5, False),
    ]
    assert thread_counts(points) == (5, 1)
    assert thread_counts([("x", "y", 1, True), ("y", "x", 2, False)]) == (2, 1)
    assert thread_counts([]) == (0, 0)


def test_legacy_requirements_and_submittability() -> None:
    votes = [
        Vote(1, "Code-Review", 2, 1),
        Vote(2, "Verified", -2, 1),
        Vote(3, "Workflow", 1, 1),
    ]
    record = submit_record(DEFAULT_LABELS, votes)
    code_review, verified, workflow = legacy_requirements(record)
    assert code_review.satisfied and code_review.passing_atoms == ("label:Code-Review=MAX",)
    assert code_review.failing_atoms == ("label:Code-Review=MIN",)
    assert not verified.satisfied
    assert verified.passing_atoms == ("label:Verified=MIN",)
    assert verified.expression == "label:Verified=MAX -label:Verified=MIN"
    assert workflow.satisfied
    assert not is_submittable(record, open=True, work_in_progress=False)
    good = submit_record(DEFAULT_LABELS, [*votes[:1], Vote(2, "Verified", 2, 1), votes[2]])
    assert is_submittable(good, open=True, work_in_progress=False)
    assert not is_submittable(good, open=True, work_in_progress=True)
    assert not is_submittable(good, open=False, work_in_progress=False)
