"""The footers kept with each patch set: Closes-Bug, Partial-Bug, Related-Bug, Depends-On."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.review.footers import (
    TRACKED_FOOTER_KEYS,
    Dependency,
    Footer,
    bug_numbers,
    dependency,
    tracked_footers,
)

KEY = "I" + "0123456789abcdef" * 2 + "01234567"


def test_tracked_footers_are_found_in_any_case_and_kept_verbatim() -> None:
    message = (
        "Fix the thing\n\nA body that mentions Closes-Bug: in passing.\n"
        "closes-bug: #123\n\n"
        "Partial-Bug: 7, #8\nRELATED-BUG: not-a-number\n"
        "Depends-On: https://review.example.org/c/other/+/12\n"
        f"Depends-On: {KEY}\nDepends-On: soon, I promise\n"
        f"Change-Id: {KEY}\n"
    )
    assert tracked_footers(message) == (
        Footer("Closes-Bug", "#123"),
        Footer("Partial-Bug", "7, #8"),
        Footer("Related-Bug", "not-a-number"),
        Footer("Depends-On", "https://review.example.org/c/other/+/12"),
        Footer("Depends-On", KEY),
        Footer("Depends-On", "soon, I promise"),
    )


def test_the_subject_is_never_a_tracked_footer() -> None:
    assert tracked_footers("Closes-Bug: #1\n\nbody\n") == ()
    assert tracked_footers("Closes-Bug: #1") == ()


def test_malformed_values_are_kept_and_read_as_nothing() -> None:
    assert bug_numbers("#123") == (123,)
    assert bug_numbers("7, #8") == (7, 8)
    assert bug_numbers("not-a-number") == ()
    assert bug_numbers("#12 and more") == ()
    assert dependency(KEY) == Dependency(change_id=KEY)
    assert dependency("https://example.org/c/x/+/1") == Dependency(
        url="https://example.org/c/x/+/1"
    )
    assert dependency("soon, I promise") is None
    assert dependency("I123") is None


_KEY = (
    st.sampled_from(TRACKED_FOOTER_KEYS)
    .map(lambda k: st.sampled_from([k, k.lower(), k.upper()]))
    .flatmap(lambda s: s)
)
_VALUE = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40
).map(str.strip)


@given(st.text())
def test_any_message_parses_without_error(message: str) -> None:
    for footer in tracked_footers(message):
        assert footer.key in TRACKED_FOOTER_KEYS
        assert footer.value in message
        bug_numbers(footer.value)
        dependency(footer.value)


@given(st.lists(st.tuples(_KEY, _VALUE), max_size=6), st.text(alphabet="abc \n", max_size=30))
def test_written_footers_are_read_back_in_order(pairs: list[tuple[str, str]], body: str) -> None:
    lines = "".join(f"{key}: {value}\n" for key, value in pairs)
    message = f"Subject\n\n{body.replace(':', '')}\n\n{lines}"
    found = tracked_footers(message)
    assert [(f.key.lower(), f.value) for f in found] == [(k.lower(), v) for k, v in pairs]


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=4), st.booleans())
def test_bug_lists_are_read_as_numbers(numbers: list[int], hashed: bool) -> None:
    text = ", ".join(f"{'#' if hashed else ''}{n}" for n in numbers)
    assert bug_numbers(text) == tuple(numbers)
