"""Review labels: their types, votes, whether a change is submittable, and which
votes carry over to a new patch set.

A label type has a range of values and a function that says what its votes
mean for submitting: MaxWithBlock (needs the maximum, the minimum blocks),
AnyWithBlock (the minimum blocks), MaxNoBlock (needs the maximum), NoBlock /
NoOp (informational only), as Gerrit defines them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


class LabelFunction(enum.StrEnum):
    MAX_WITH_BLOCK = "MaxWithBlock"
    ANY_WITH_BLOCK = "AnyWithBlock"
    MAX_NO_BLOCK = "MaxNoBlock"
    NO_BLOCK = "NoBlock"
    NO_OP = "NoOp"

    @property
    def blocks_on_min(self) -> bool:
        return self in (LabelFunction.MAX_WITH_BLOCK, LabelFunction.ANY_WITH_BLOCK)

    @property
    def needs_max(self) -> bool:
        return self in (LabelFunction.MAX_WITH_BLOCK, LabelFunction.MAX_NO_BLOCK)

    @property
    def blocking(self) -> bool:
        return self.blocks_on_min or self.needs_max


@dataclass(frozen=True, slots=True)
class LabelType:
    name: str
    values: Mapping[int, str]
    function: LabelFunction = LabelFunction.MAX_WITH_BLOCK
    default_value: int = 0
    copy_min_score: bool = False
    copy_max_score: bool = False
    copy_all_scores_on_trivial_rebase: bool = False
    copy_all_scores_if_no_code_change: bool = False
    copy_all_scores_if_no_change: bool = True
    description: str | None = None

    @property
    def min(self) -> int:
        return min(self.values)

    @property
    def max(self) -> int:
        return max(self.values)

    def formatted_values(self) -> dict[str, str]:
        """`{"-2": "...", " 0": "...", "+2": "..."}`, Gerrit's sign and space formatting."""
        return {format_value(v): text for v, text in sorted(self.values.items())}


def format_value(value: int) -> str:
    if value > 0:
        return f"+{value}"
    if value == 0:
        return " 0"
    return str(value)


def format_vote(label: str, value: int) -> str:
    """`Code-Review+2`, `Verified-1`, `Workflow+1`, `Code-Review0` as change messages write it."""
    if value > 0:
        return f"{label}+{value}"
    if value < 0:
        return f"{label}{value}"
    return f"-{label}"


CODE_REVIEW = LabelType(
    "Code-Review",
    {
        -2: "Do not merge",
        -1: "This patch needs further work before it can be merged",
        0: "No score",
        1: "Looks good to me, but someone else must approve",
        2: "Looks good to me (core reviewer)",
    },
    copy_min_score=True,
    copy_all_scores_on_trivial_rebase=True,
    copy_all_scores_if_no_code_change=True,
)
VERIFIED = LabelType(
    "Verified",
    {-2: "Fails", -1: "Doesn't seem to work", 0: "No score", 1: "Works for me", 2: "Verified"},
)
WORKFLOW = LabelType(
    "Workflow",
    {-1: "Work in progress", 0: "Ready for reviews", 1: "Approved"},
    copy_min_score=True,
)
DEFAULT_LABELS: tuple[LabelType, ...] = (CODE_REVIEW, VERIFIED, WORKFLOW)


@dataclass(frozen=True, slots=True)
class Vote:
    account_id: int
    label: str
    value: int
    patch_set: int
    date: int = 0
    tag: str | None = None
    post_submit: bool = False


class LabelState(enum.StrEnum):
    OK = "OK"  # satisfied
    NEED = "NEED"  # a required vote is missing
    REJECT = "REJECT"  # blocked by a veto
    MAY = "MAY"  # informational


@dataclass(frozen=True, slots=True)
class LabelResult:
    label: LabelType
    state: LabelState
    approved_by: int | None = None  # account holding the maximum
    rejected_by: int | None = None  # account holding the minimum
    recommended_by: int | None = None
    disliked_by: int | None = None
    value: int = 0  # the summarising value: the veto, else the best vote
    votes: tuple[Vote, ...] = field(default=())

    @property
    def satisfied(self) -> bool:
        return self.state in (LabelState.OK, LabelState.MAY)


def evaluate_label(label: LabelType, votes: Iterable[Vote]) -> LabelResult:
    relevant = tuple(v for v in votes if v.label.lower() == label.name.lower() and v.value != 0)
    lowest = min(relevant, key=lambda v: v.value, default=None)
    highest = max(relevant, key=lambda v: v.value, default=None)
    rejected_by = lowest.account_id if lowest and lowest.value == label.min else None
    approved_by = highest.account_id if highest and highest.value == label.max else None
    disliked = lowest.account_id if lowest and label.min < lowest.value < 0 else None
    recommended = highest.account_id if highest and 0 < highest.value < label.max else None
    if label.function.blocks_on_min and rejected_by is not None:
        state = LabelState.REJECT
    elif label.function.needs_max and approved_by is None:
        state = LabelState.NEED
    elif label.function.blocking:
        state = LabelState.OK
    else:
        state = LabelState.MAY
    if rejected_by is not None and lowest is not None:
        value = lowest.value
    elif highest is not None:
        value = highest.value
    else:
        value = 0
    return LabelResult(
        label=label,
        state=state,
        approved_by=approved_by,
        rejected_by=rejected_by,
        recommended_by=recommended,
        disliked_by=disliked,
        value=value,
        votes=relevant,
    )


@dataclass(frozen=True, slots=True)
class SubmitRecord:
    submittable: bool
    labels: tuple[LabelResult, ...]

    @property
    def unmet(self) -> tuple[LabelResult, ...]:
        return tuple(r for r in self.labels if not r.satisfied)

    def reason(self) -> str:
        """Why the change cannot be submitted, in the words a 409 carries."""
        parts = []
        for result in self.unmet:
            if result.state is LabelState.REJECT:
                veto = format_value(result.label.min)
                parts.append(f"{result.label.name} is blocked by a {veto} vote")
            else:
                parts.append(f"{result.label.name} needs a {format_value(result.label.max)} vote")
        return "submit requirement not satisfied: " + "; ".join(parts) if parts else ""


def submit_record(labels: Sequence[LabelType], votes: Iterable[Vote]) -> SubmitRecord:
    current = tuple(votes)
    results = tuple(evaluate_label(label, current) for label in labels)
    return SubmitRecord(all(r.satisfied for r in results), results)


def copied_votes(
    labels: Sequence[LabelType], votes: Iterable[Vote], *, kind: str, new_patch_set: int
) -> list[Vote]:
    """The votes of the previous patch set that carry over to `new_patch_set`.

    `kind` is Gerrit's change kind of the new patch set: REWORK, TRIVIAL_REBASE,
    NO_CODE_CHANGE or NO_CHANGE.
    """
    by_name = {label.name.lower(): label for label in labels}
    kept: list[Vote] = []
    for vote in votes:
        label = by_name.get(vote.label.lower())
        if label is None or vote.value == 0:
            continue
        if _copies(label, vote.value, kind):
            kept.append(
                Vote(
                    account_id=vote.account_id,
                    label=label.name,
                    value=vote.value,
                    patch_set=new_patch_set,
                    date=vote.date,
                    tag=vote.tag,
                )
            )
    return kept


def _copies(label: LabelType, value: int, kind: str) -> bool:
    if label.copy_min_score and value == label.min:
        return True
    if label.copy_max_score and value == label.max:
        return True
    if kind == "NO_CHANGE" and label.copy_all_scores_if_no_change:
        return True
    if kind in ("NO_CODE_CHANGE", "NO_CHANGE") and label.copy_all_scores_if_no_code_change:
        return True
    return kind in ("TRIVIAL_REBASE", "NO_CHANGE") and label.copy_all_scores_on_trivial_rebase
