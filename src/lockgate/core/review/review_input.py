"""The rules of a review (Gerrit's ReviewInput): which votes a caller may cast,
what the change message says, and what the `comment-added` event carries.

The message layout is Gerrit's, which CI systems match their triggers
against: `Patch Set 3: Code-Review+2 Verified+1`, then `(2 comments)`, then
the reviewer's text, each after a blank line.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lockgate.core.review.comments import CommentInput
from lockgate.core.review.events import ApprovalChange
from lockgate.core.review.labels import LabelType, Vote, format_value, format_vote

START_REVIEW_MESSAGE = "This change is ready for review."

# A voter's allowed values of one label, or None when they may not vote on it.
Range = tuple[int, int] | None


class ReviewError(ValueError):
    """A review refused as malformed (HTTP 400)."""


class VoteRestricted(ReviewError):
    """A vote outside what the caller may cast (HTTP 403)."""


class VoteConflict(ReviewError):
    """A vote the change's state refuses (HTTP 409)."""


class Drafts(enum.StrEnum):
    KEEP = "KEEP"
    PUBLISH = "PUBLISH"
    PUBLISH_ALL_REVISIONS = "PUBLISH_ALL_REVISIONS"


class Notify(enum.StrEnum):
    NONE = "NONE"
    OWNER = "OWNER"
    OWNER_REVIEWERS = "OWNER_REVIEWERS"
    ALL = "ALL"


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    message: str = ""
    tag: str | None = None
    labels: Mapping[str, int] = field(default_factory=dict)
    comments: Sequence[CommentInput] = ()
    # Gerrit's default: the author's drafts on every patch set are published.
    drafts: Drafts = Drafts.PUBLISH_ALL_REVISIONS
    notify: Notify = Notify.ALL
    omit_duplicate_comments: bool = False
    ready: bool = False
    work_in_progress: bool = False
    strict_labels: bool = True


def describe_range(label: str, allowed: Range) -> str:
    if allowed is None:
        return f"you may not vote on {label}"
    low, high = allowed
    return f"you may vote {format_value(low).strip()}..{format_value(high).strip()}"


def clip_range(label: LabelType, allowed: Range) -> Range:
    """The caller's range within the values the label defines."""
    if allowed is None:
        return None
    low, high = max(allowed[0], label.min), min(allowed[1], label.max)
    return (low, high) if low <= high else None


def permitted_values(label: LabelType, allowed: Range) -> list[str]:
    """`["-1", " 0", "+1"]`: the label's values within the range, as Gerrit lists them."""
    clipped = clip_range(label, allowed)
    if clipped is None:
        return []
    low, high = clipped
    return [format_value(v) for v in sorted(label.values) if low <= v <= high]


def resolve_votes(
    requested: Mapping[str, int],
    labels: Sequence[LabelType],
    ranges: Mapping[str, Range],
    *,
    strict: bool,
) -> dict[str, int]:
    """The votes to record, by each label's canonical name, in the labels' order.

    `ranges` holds the caller's range per canonical label name. With `strict`,
    an unknown label or an invalid value is a ReviewError and a value outside
    the caller's range a VoteRestricted; without it they are dealt with as
    Gerrit does for gertty: unknown labels and invalid values are dropped, a
    value beyond the caller's range becomes the nearest value they may cast,
    and a label they may not vote on is dropped.
    """
    by_name = {label.name.lower(): label for label in labels}
    chosen: dict[str, int] = {}
    for name, value in requested.items():
        label = by_name.get(name.lower())
        if label is None:
            if strict:
                known = ", ".join(lt.name for lt in labels)
                raise ReviewError(
                    f'label "{name}" is not a configured label; the labels here are: {known}'
                )
            continue
        if value == 0:
            # Gerrit always permits 0: it removes the caller's vote.
            chosen[label.name] = 0
            continue
        if value not in label.values:
            if strict:
                valid = ", ".join(format_value(v).strip() for v in sorted(label.values))
                raise ReviewError(
                    f'label "{label.name}": {value} is not a valid value; valid values: {valid}'
                )
            continue
        allowed = clip_range(label, ranges.get(label.name))
        if allowed is None or not allowed[0] <= value <= allowed[1]:
            if strict:
                raise VoteRestricted(
                    f'Applying label "{label.name}": {format_value(value).strip()} is '
                    f"restricted; {describe_range(label.name, allowed)}"
                )
            if allowed is None:
                continue
            chosen[label.name] = min(max(value, allowed[0]), allowed[1])
            continue
        chosen[label.name] = value
    order = [label.name for label in labels]
    return {name: chosen[name] for name in order if name in chosen}


def vote_changes(before: Mapping[str, int], votes: Mapping[str, int]) -> dict[str, int]:
    """Of `votes`, those that differ from the voter's votes `before` (0 when none)."""
    return {name: value for name, value in votes.items() if before.get(name, 0) != value}


def check_closed_change_votes(
    *, merged: bool, before: Mapping[str, int], changes: Mapping[str, int]
) -> None:
    """Gerrit's rule for votes on a closed change: after submit a vote may rise but
    not fall, and an abandoned change takes none."""
    if not changes:
        return
    if not merged:
        raise VoteConflict("change is closed: an abandoned change takes no votes; restore it first")
    reduced = sorted(name for name, value in changes.items() if value < before.get(name, 0))
    if reduced:
        raise VoteConflict("Cannot reduce vote on labels for closed change: " + ", ".join(reduced))


def review_message(
    patch_set: int,
    changes: Mapping[str, int],
    *,
    comments: int,
    message: str,
    ready: bool,
) -> str | None:
    """The change message of a review, or None when it says nothing at all.

    Changed votes are listed as Gerrit formats and sorts them (`-Code-Review`
    for a vote taken back), then the count of comments, then the text.
    """
    buf = "".join(" " + vote for vote in sorted(format_vote(n, v) for n, v in changes.items()))
    if comments == 1:
        buf += "\n\n(1 comment)"
    elif comments > 1:
        buf += f"\n\n({comments} comments)"
    text = message.strip()
    if text:
        buf += "\n\n" + text
    elif ready:
        buf += "\n\n" + START_REVIEW_MESSAGE
    if not buf:
        return None
    return f"Patch Set {patch_set}:{buf}"


def event_approvals(
    labels: Sequence[LabelType], after: Mapping[str, int], before: Mapping[str, int]
) -> list[ApprovalChange]:
    """`comment-added` approvals: the author's vote on every label after the review,
    with the vote before it on the labels this review changed."""
    approvals = []
    for label in labels:
        value = after.get(label.name, 0)
        old = before.get(label.name, 0)
        approvals.append(ApprovalChange(label.name, value, old if old != value else None))
    return approvals


def votes_of(votes: Sequence[Vote], account_id: int) -> dict[str, int]:
    """One voter's votes by label name (zeros left out)."""
    return {v.label: v.value for v in votes if v.account_id == account_id and v.value != 0}
