"""Submitting: the words and commit messages a submit writes, as Gerrit writes them.

- A merge commit is `Merge "<subject>"` for one change; for several, `Merge
  changes I1234abcd,I5678ef01` (at most five, then `, ...`) or `Merge changes
  from topic "t"`, followed by a `* changes:` list of their subjects; ` into
  <branch>` is added for a branch other than master.
- A cherry-pick (and a REBASE_ALWAYS rebase) keeps the message and adds the
  footers Gerrit adds: `Change-Id` when missing, `Reviewed-on: <change url>`,
  and one line per positive vote: `Reviewed-by` for Code-Review, `Tested-by`
  for Verified, the label's name for any other label. A line the message
  already carries is not added twice, and nobody is credited for a vote when
  the message has their Signed-off-by.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.core.review.footers import footers
from lockgate.core.review.model import SubmitType

MASTER = "master"

NOT_FAST_FORWARD = (
    "Project policy requires all submissions to be a fast-forward. "
    "Please rebase the change locally and upload again for review."
)
PATH_CONFLICT = (
    "Change could not be merged due to a path conflict. "
    "Please rebase the change locally and upload the rebased commit for review."
)
IDENTICAL_TREE = (
    "Marking change merged without cherry-picking to branch, "
    "as the resulting commit would be empty."
)


class Landing(enum.Enum):
    """How a change's commit reached the branch, which its merged message names."""

    MERGED = "merged"  # fast-forward or merge commit
    REBASED = "rebased"
    CHERRY_PICKED = "cherry-picked"
    SKIPPED = "skipped"  # its cherry-pick would have been an empty commit


@dataclass(frozen=True, slots=True)
class MergedChange:
    subject: str
    change_key: str
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Approver:
    """A vote as a footer credits it: the label, the value, who cast it."""

    label: str
    value: int
    name: str | None
    email: str | None


def merge_commit_message(merged: Sequence[MergedChange], branch: str) -> str:
    """The message of the merge commit that brings `merged` (oldest first) onto `branch`."""
    if len(merged) == 1:
        summary = f'Merge "{merged[0].subject}"'
    else:
        topics = sorted({f'"{c.topic}"' for c in merged if c.topic})
        if topics:
            plural = "s" if len(topics) > 1 else ""
            summary = f"Merge changes from topic{plural} {', '.join(topics)}"
        else:
            keys = ",".join(c.change_key[:9] for c in merged[:5])
            summary = f"Merge changes {keys}{', ...' if len(merged) > 5 else ''}"
    if branch != MASTER:
        summary += f" into {branch}"
    if len(merged) > 1:
        summary += "\n\n* changes:\n" + "".join(f"  {c.subject}\n" for c in merged)
    return summary + ("" if summary.endswith("\n") else "\n")


def footer_tag(label: str) -> str:
    if label.lower() == "code-review":
        return "Reviewed-by"
    if label.lower() == "verified":
        return "Tested-by"
    return label


def message_on_submit(
    message: str, *, change_key: str, change_url: str, approvers: Sequence[Approver]
) -> str:
    """`message` with the footers a cherry-pick or a REBASE_ALWAYS submit adds."""
    existing = footers(message)
    present = {(f.key.lower(), f.value) for f in existing}
    signed_off = {f.value for f in existing if f.key.lower() == "signed-off-by"}
    text = message if message.strip() else "<no commit message provided>"
    if not text.endswith("\n"):
        text += "\n"
    if not existing:
        text += "\n"
    lines: list[str] = []

    def add(key: str, value: str) -> None:
        if (key.lower(), value) not in present:
            present.add((key.lower(), value))
            lines.append(f"{key}: {value}\n")

    add("Change-Id", change_key)
    add("Reviewed-on", change_url)
    for approver in approvers:
        if approver.value <= 0:
            continue
        parts = []
        if approver.name:
            parts.append(approver.name)
        if approver.email:
            if any(f"<{approver.email}>" in value for value in signed_off):
                continue
            parts.append(f"<{approver.email}>")
        if not parts:
            continue
        add(footer_tag(approver.label), " ".join(parts))
    return text + "".join(lines)


def merged_message(landing: Landing, *, sha: str, submitter_name: str | None) -> str:
    """The change message a submit leaves on each change it merges."""
    by = f" by {submitter_name}" if submitter_name else ""
    if landing is Landing.REBASED:
        return f"Change has been successfully rebased and submitted as {sha}{by}"
    if landing is Landing.CHERRY_PICKED:
        return f"Change has been successfully cherry-picked as {sha}{by}"
    if landing is Landing.SKIPPED:
        return IDENTICAL_TREE
    return f"Change has been successfully merged{by}"


def failed_to_submit(problems: Sequence[tuple[int, str]]) -> str:
    """The body of a 409 that refuses a submit, one line per change and problem."""
    count = len({number for number, _ in problems})
    plural = "s" if count > 1 else ""
    head = f"Failed to submit {count} change{plural} due to the following problems:"
    return "\n".join([head, *(f"Change {number}: {text}" for number, text in problems)])


def conflict_text(paths: Sequence[str]) -> str:
    return PATH_CONFLICT + " Conflicting paths: " + ", ".join(paths)


def submits_ancestors(submit_type: SubmitType) -> bool:
    """Whether submitting a change also submits its unmerged ancestors (all but
    cherry-pick, which takes the change alone)."""
    return submit_type is not SubmitType.CHERRY_PICK


def adds_footers(submit_type: SubmitType) -> bool:
    return submit_type in (SubmitType.CHERRY_PICK, SubmitType.REBASE_ALWAYS)
