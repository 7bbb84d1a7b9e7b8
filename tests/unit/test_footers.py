"""Commit message footers and the Change-Id among them."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.review.footers import ChangeIdProblem, Footer, change_id_of, footers

KEY = "I" + "0123456789abcdef" * 2 + "01234567"
OTHER = "I" + "f" * 40


def test_footers_are_the_key_value_lines_of_the_last_paragraph() -> None:
    message = (
        "Subject\n\nBody text: not a footer.\n\n"
        "Closes-Bug: #12\nSigned-off-by: A <a@example.com>\n  continued\n"
    )
    assert footers(message) == (
        Footer("Closes-Bug", "#12"),
        Footer("Signed-off-by", "A <a@example.com> continued"),
    )


def test_the_subject_is_never_a_footer() -> None:
    assert footers(f"Change-Id: {KEY}\n") == ()
    assert change_id_of(f"Change-Id: {KEY}").problem is ChangeIdProblem.MISSING


def test_prose_lines_in_the_footer_paragraph_are_skipped_as_jgit_skips_them() -> None:
    message = f"Fix it\n\nSee the bug for details\nChange-Id: {KEY}\n"
    assert change_id_of(message).change_id == KEY


def test_change_id_problems_are_named_as_gerrit_names_them() -> None:
    assert change_id_of("Subject\n\nBody\n").problem is ChangeIdProblem.MISSING
    assert change_id_of("Subject\n\nChange-Id: I1234\n").problem is ChangeIdProblem.INVALID
    assert (
        change_id_of(f"Subject\n\nChange-Id: {KEY}\nChange-Id: {OTHER}\n").problem
        is ChangeIdProblem.MULTIPLE
    )
    assert ChangeIdProblem.MISSING.value == "missing Change-Id in commit message footer"


def test_a_change_id_line_repeated_verbatim_is_one_change_id() -> None:
    assert change_id_of(f"S\n\nChange-Id: {KEY}\nChange-Id: {KEY}\n").change_id == KEY


def test_a_link_footer_carries_the_change_id_when_there_is_no_change_id_line() -> None:
    message = f"Subject\n\nLink: https://review.example.org/id/{KEY}\n"
    assert change_id_of(message).change_id == KEY


def test_the_key_is_case_insensitive() -> None:
    assert change_id_of(f"Subject\n\nchange-id: {KEY}\n").change_id == KEY


_text = st.text(alphabet=string.printable, max_size=200)
_key = st.text(alphabet="0123456789abcdef", min_size=40, max_size=40).map(lambda h: "I" + h)


@given(_text)
def test_any_message_parses_without_error(message: str) -> None:
    result = change_id_of(message)
    assert (result.change_id is None) != (result.problem is None)
    assert all(f.key and ":" not in f.key for f in footers(message))


@given(
    subject=st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=60),
    body=st.lists(st.text(alphabet=string.ascii_letters + " .,", max_size=60), max_size=5),
    key=_key,
)
def test_the_hook_layout_always_yields_its_change_id(
    subject: str, body: list[str], key: str
) -> None:
    # What the commit-msg hook writes: subject, optional body, then the footer.
    message = subject.strip() or "x"
    if any(line.strip() for line in body):
        message += "\n\n" + "\n".join(body)
    message += f"\n\nChange-Id: {key}\n"
    assert change_id_of(message).change_id == key
