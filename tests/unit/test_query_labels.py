"""What a label: term asks of votes, under a label's definition, as Gerrit reads it."""

from __future__ import annotations

import pytest

from lockgate.core.query import ast
from lockgate.core.query.labels import (
    LabelScope,
    VoteMatch,
    label_names,
    label_scopes,
    vote_match,
)
from lockgate.core.query.parser import parse_query
from lockgate.core.review.labels import CODE_REVIEW, DEFAULT_LABELS, VERIFIED, LabelType

NOTHING = VoteMatch(1, 0, no_vote=False)
NO_VOTE = VoteMatch(1, 0, no_vote=True)


def _term(text: str) -> ast.LabelTerm:
    term = parse_query(text)
    assert isinstance(term, ast.LabelTerm)
    return term


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("label:Code-Review+2", VoteMatch(2, 2, False)),
        ("label:Code-Review-1", VoteMatch(-1, -1, False)),
        ("label:Code-Review=MAX", VoteMatch(2, 2, False)),
        ("label:Code-Review=MIN", VoteMatch(-2, -2, False)),
        ("label:Code-Review=ANY", VoteMatch(-2, 2, False)),
        ("label:Code-Review>=1", VoteMatch(1, 2, False)),
        ("label:Code-Review>1", VoteMatch(2, 2, False)),
        ("label:Code-Review<=-1", VoteMatch(-2, -1, False)),
        ("label:Code-Review<0", VoteMatch(-2, -1, False)),
        # 0 is "no non-zero vote"; a range through 0 takes it too
        ("label:Code-Review=0", NO_VOTE),
        ("label:Code-Review>=0", VoteMatch(0, 2, True)),
        ("label:Code-Review<=0", VoteMatch(-2, 0, True)),
        ("label:Code-Review>-3", VoteMatch(-2, 2, True)),
        # outside the label's values: nothing
        ("label:Code-Review+3", NOTHING),
        ("label:Code-Review-3", NOTHING),
        ("label:Code-Review>2", NOTHING),
        ("label:Code-Review<-2", NOTHING),
    ],
)
def test_vote_match_on_a_minus_two_to_plus_two_label(text: str, expected: VoteMatch) -> None:
    assert vote_match(_term(text), -2, 2) == expected


def test_max_and_min_of_a_label_without_positive_or_negative_values_match_nothing() -> None:
    assert vote_match(_term("label:Info=MAX"), -1, 0).never
    assert vote_match(_term("label:Info=MIN"), 0, 1).never
    assert vote_match(_term("label:Info=MAX"), 0, 1) == VoteMatch(1, 1, False)


def test_label_names_are_collected_lower_case_from_anywhere_in_the_query() -> None:
    query = parse_query(
        "status:open (label:Code-Review+2 OR -label:VERIFIED-1) label:code-review=0"
    )
    assert label_names(query) == {"code-review", "verified"}
    assert label_names(parse_query("status:open")) == set()
    assert label_names(None) == set()


def test_projects_defining_a_label_alike_share_one_scope() -> None:
    narrow = LabelType("Code-Review", {-1: "No", 0: "", 1: "Yes"})
    per_project = {
        "a": DEFAULT_LABELS,
        "b": DEFAULT_LABELS,
        "c": (narrow, VERIFIED),
        "d": (VERIFIED,),
    }
    assert label_scopes({"code-review", "verified", "nope"}, per_project) == {
        "code-review": (
            LabelScope("Code-Review", -2, 2, frozenset({"a", "b"})),
            LabelScope("Code-Review", -1, 1, frozenset({"c"})),
        ),
        "verified": (LabelScope("Verified", -2, 2, None),),
        "nope": (),
    }
    assert label_scopes({"code-review"}, {"a": (CODE_REVIEW,)}) == {
        "code-review": (LabelScope("Code-Review", -2, 2, None),)
    }
