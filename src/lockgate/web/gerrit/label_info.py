"""Gerrit's label entities in ChangeInfo: LabelInfo (with ApprovalInfo under
DETAILED_LABELS), permitted_labels, SubmitRequirementResultInfo, the legacy
SubmitRecordInfo, and ActionInfo for the change and revision actions.

Gerrit leaves a field out rather than sending false or null; so do these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lockgate.core.review.labels import LabelResult, LabelState, Vote
from lockgate.core.review.model import Change, PatchSet
from lockgate.core.review.review_input import permitted_values
from lockgate.core.review.submit_requirements import RequirementResult
from lockgate.core.review.timestamps import gerrit_timestamp
from lockgate.services.label_views import LabelSummary

AccountFn = Callable[[int], dict[str, Any]]

# name -> (method, label, title); Gerrit's UiAction descriptions.
_ACTIONS: dict[str, tuple[str, str, str | None]] = {
    "abandon": ("POST", "Abandon", "Abandon the change"),
    "restore": ("POST", "Restore", "Restore the change"),
    "topic": ("PUT", "Edit Topic", None),
    "hashtags": ("POST", "Edit Hashtags", None),
    "wip": ("POST", "WIP", "Set Work In Progress"),
    "ready": ("POST", "Start Review", "Set Ready For Review"),
    "rebase": ("POST", "Rebase", "Rebase onto tip of branch or parent change"),
    "submit": ("POST", "Submit", "Submit patch set {patch_set} into {branch}"),
}


def label_info(
    result: LabelResult,
    summary: LabelSummary,
    change: Change,
    account: AccountFn,
    *,
    detailed: bool,
) -> dict[str, Any]:
    label = result.label
    info: dict[str, Any] = {}
    if not label.function.blocking:
        info["optional"] = True
    if label.description:
        info["description"] = label.description
    # As Gerrit: the extremes name who holds them; otherwise the best (or worst)
    # vote in between, with its value.
    if result.rejected_by is not None:
        info["rejected"] = account(result.rejected_by)
    elif result.approved_by is not None:
        info["approved"] = account(result.approved_by)
    elif result.disliked_by is not None:
        info["disliked"] = account(result.disliked_by)
        info["value"] = result.value
    elif result.recommended_by is not None:
        info["recommended"] = account(result.recommended_by)
        info["value"] = result.value
    if result.state is LabelState.REJECT:
        info["blocking"] = True
    info["default_value"] = label.default_value
    if detailed:
        info["all"] = _approvals(label.name, summary, change, account)
        info["values"] = label.formatted_values()
    return info


def _approvals(
    label: str, summary: LabelSummary, change: Change, account: AccountFn
) -> list[dict[str, Any]]:
    """ApprovalInfo of every reviewer and voter: value 0 for those without a vote."""
    votes: dict[int, Vote] = {
        v.account_id: v for v in summary.votes if v.label.lower() == label.lower()
    }
    people = list(dict.fromkeys([*change.reviewers, *votes]))
    infos = []
    for account_id in people:
        info = account(account_id)
        vote = votes.get(account_id)
        info["value"] = vote.value if vote else 0
        if vote is not None and vote.value != 0:
            info["date"] = gerrit_timestamp(vote.date)
            if vote.tag:
                info["tag"] = vote.tag
            if vote.post_submit:
                info["post_submit"] = True
        allowed = summary.ranges.get((account_id, label))
        if allowed is not None:
            info["permitted_voting_range"] = {"min": allowed[0], "max": allowed[1]}
        infos.append(info)
    return infos


def labels_info(
    summary: LabelSummary, change: Change, account: AccountFn, *, detailed: bool
) -> dict[str, Any]:
    return {
        r.label.name: label_info(r, summary, change, account, detailed=detailed)
        for r in summary.record.labels
    }


def permitted_labels_info(summary: LabelSummary) -> dict[str, list[str]]:
    """`{"Code-Review": ["-1", " 0", "+1"]}` for the labels the viewer may vote on."""
    found: dict[str, list[str]] = {}
    for label in summary.labels:
        values = permitted_values(label, summary.permitted.get(label.name))
        if values:
            found[label.name] = values
    return found


def requirement_info(result: RequirementResult) -> dict[str, Any]:
    info: dict[str, Any] = {"name": result.name}
    if result.description:
        info["description"] = result.description
    info["status"] = "SATISFIED" if result.satisfied else "UNSATISFIED"
    info["is_legacy"] = True
    info["submittability_expression_result"] = {
        "expression": result.expression,
        "fulfilled": result.satisfied,
        "status": "PASS" if result.satisfied else "FAIL",
        "passing_atoms": list(result.passing_atoms),
        "failing_atoms": list(result.failing_atoms),
    }
    return info


def submit_records_info(
    summary: LabelSummary, change: Change, account: AccountFn
) -> list[dict[str, Any]]:
    """The legacy SubmitRecordInfo of Gerrit's default submit rule."""
    status = "OK" if summary.record.submittable else "NOT_READY"
    if not change.is_open:
        status = "CLOSED"
    labels = []
    for result in summary.record.labels:
        entry: dict[str, Any] = {"label": result.label.name, "status": result.state.value}
        holder = {
            LabelState.OK: result.approved_by,
            LabelState.REJECT: result.rejected_by,
        }.get(result.state)
        if holder is not None:
            entry["applied_by"] = account(holder)
        labels.append(entry)
    return [{"rule_name": "gerrit~DefaultSubmitRule", "status": status, "labels": labels}]


def actions_info(names: tuple[str, ...], change: Change, patch_set: int) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    for name in names:
        method, label, title = _ACTIONS[name]
        info: dict[str, Any] = {"method": method, "label": label}
        if title:
            info["title"] = title.format(patch_set=patch_set, branch=change.branch)
        info["enabled"] = True
        actions[name] = info
    return actions


def revision_actions_info(
    summary: LabelSummary | None, change: Change, ps: PatchSet
) -> dict[str, Any]:
    if summary is None or ps.number != change.current_patch_set:
        return {}
    return actions_info(summary.revision_actions, change, ps.number)


def removable_info(summary: LabelSummary, account: AccountFn) -> list[dict[str, Any]]:
    return [account(a) for a in summary.removable]
