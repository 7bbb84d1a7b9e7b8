"""Hashtags as the hashtag endpoint takes them: cleaned as Gerrit cleans them,
refused with a message naming the hashtag."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.review.hashtags import InvalidHashtag, clean_hashtags, hashtags_message


def test_leading_marks_and_whitespace_go_and_empty_ones_are_dropped() -> None:
    assert clean_hashtags([" #easy ", "##Easy", "easy", "  ", "#", "x-y_z"]) == [
        "Easy",
        "easy",
        "x-y_z",
    ]


@pytest.mark.parametrize(("raw", "problem"), [("a,b", "commas"), ("two words", "whitespace")])
def test_commas_and_inner_whitespace_are_refused_by_name(raw: str, problem: str) -> None:
    with pytest.raises(InvalidHashtag) as caught:
        clean_hashtags(["fine", raw])
    assert str(caught.value) == f"invalid hashtag {raw!r}: hashtags may not contain {problem}"
    assert caught.value.hashtag == raw


def test_the_change_message_says_what_was_added_and_removed() -> None:
    assert hashtags_message(["b", "a"], []) == "Hashtags added: a, b"
    assert hashtags_message(["a"], ["c"]) == "Hashtag added: a\nHashtag removed: c"
    assert hashtags_message([], ["c", "d"]) == "Hashtags removed: c, d"


@given(st.lists(st.text(max_size=12), max_size=6))
def test_cleaned_hashtags_are_sorted_distinct_and_searchable(raw: list[str]) -> None:
    try:
        cleaned = clean_hashtags(raw)
    except InvalidHashtag as error:
        assert error.hashtag in raw
        return
    assert cleaned == sorted(set(cleaned))
    for tag in cleaned:
        assert tag and "," not in tag and not tag.startswith("#")
        assert not any(ch.isspace() for ch in tag)
    assert clean_hashtags(cleaned) == cleaned  # cleaning twice changes nothing
