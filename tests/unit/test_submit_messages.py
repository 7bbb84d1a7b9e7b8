"""The commit messages and change messages a submit writes, as Gerrit writes them."""

from __future__ import annotations

from lockgate.core.review.submit import (
    Approver,
    Landing,
    MergedChange,
    merge_commit_message,
    merged_message,
    message_on_submit,
)

KEY = "I" + "0123456789abcdef" * 2 + "01234567"
URL = "http://review.example.org/c/demo/+/5"


def test_a_merge_of_one_change_names_its_subject() -> None:
    assert merge_commit_message([MergedChange("Fix it", KEY)], "master") == 'Merge "Fix it"\n'
    assert merge_commit_message([MergedChange("Fix it", KEY)], "stable/1") == (
        'Merge "Fix it" into stable/1\n'
    )


def test_a_merge_of_several_lists_their_keys_or_their_topic() -> None:
    changes = [MergedChange(f"Step {n}", f"I{n}{'0' * 39}") for n in range(1, 7)]
    assert merge_commit_message(changes[:2], "master") == (
        "Merge changes I10000000,I20000000\n\n* changes:\n  Step 1\n  Step 2\n"
    )
    assert merge_commit_message(changes, "master").startswith(
        "Merge changes I10000000,I20000000,I30000000,I40000000,I50000000, ...\n\n"
    )
    topical = [MergedChange("A", KEY, "t"), MergedChange("B", KEY, "t")]
    assert merge_commit_message(topical, "master").startswith('Merge changes from topic "t"\n')


def test_a_cherry_pick_adds_reviewed_on_and_one_line_per_positive_vote() -> None:
    approvers = [
        Approver("Code-Review", 2, "Core Rev", "core@example.com"),
        Approver("Code-Review", -1, "Grumpy", "grumpy@example.com"),
        Approver("Verified", 2, "CI", "ci@example.com"),
        Approver("Workflow", 1, "Core Rev", "core@example.com"),
        Approver("Code-Review", 1, None, None),
    ]
    message = f"Fix it\n\nBody.\n\nChange-Id: {KEY}\n"
    assert message_on_submit(message, change_key=KEY, change_url=URL, approvers=approvers) == (
        f"Fix it\n\nBody.\n\nChange-Id: {KEY}\nReviewed-on: {URL}\n"
        "Reviewed-by: Core Rev <core@example.com>\nTested-by: CI <ci@example.com>\n"
        "Workflow: Core Rev <core@example.com>\n"
    )


def test_footers_start_a_paragraph_and_are_not_added_twice() -> None:
    approver = [Approver("Code-Review", 2, "Core Rev", "core@example.com")]
    once = message_on_submit("Fix it", change_key=KEY, change_url=URL, approvers=approver)
    assert once == (
        f"Fix it\n\nChange-Id: {KEY}\nReviewed-on: {URL}\n"
        "Reviewed-by: Core Rev <core@example.com>\n"
    )
    assert message_on_submit(once, change_key=KEY, change_url=URL, approvers=approver) == once
    signed = f"Fix it\n\nSigned-off-by: Core Rev <core@example.com>\nChange-Id: {KEY}\n"
    assert message_on_submit(signed, change_key=KEY, change_url=URL, approvers=approver) == (
        signed + f"Reviewed-on: {URL}\n"
    )


def test_merged_messages_name_the_landed_commit_and_the_submitter() -> None:
    sha = "a" * 40
    assert merged_message(Landing.MERGED, sha=sha, submitter_name="Ada") == (
        "Change has been successfully merged by Ada"
    )
    assert merged_message(Landing.CHERRY_PICKED, sha=sha, submitter_name=None) == (
        f"Change has been successfully cherry-picked as {sha}"
    )
    assert merged_message(Landing.REBASED, sha=sha, submitter_name="Ada") == (
        f"Change has been successfully rebased and submitted as {sha} by Ada"
    )
