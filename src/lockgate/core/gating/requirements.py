"""Pipeline `require:` and `reject:` (and a trigger's require-/reject-approval):
does a change stand as the pipeline asks, now?"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lockgate.core.config.objects import ApprovalMatch, PipelineDef, RequirementDef
from lockgate.core.gating.changes import Approval, Change

_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_AGE = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")


def age_seconds(text: str) -> int:
    """Zuul's age syntax: `48h`, `2d`, `30m`, `90s`, `1w`; a bare number is seconds."""
    found = _AGE.match(text)
    if found is None:
        raise ValueError(
            f"age {text!r} is not a number followed by one of s, m, h, d, w (e.g. 48h)"
        )
    return int(found.group(1)) * _AGE_UNITS[found.group(2) or "s"]


def _approval_fits(
    approval: Approval, label: str, values: Sequence[int], match: ApprovalMatch, now: float
) -> bool:
    if approval.label != label or approval.value not in values:
        return False
    if match.username is not None and not re.search(match.username, approval.username):
        return False
    if match.email is not None and not re.search(match.email, approval.email):
        return False
    if match.newer_than is not None and approval.granted_on < now - age_seconds(match.newer_than):
        return False
    return not (
        match.older_than is not None and approval.granted_on > now - age_seconds(match.older_than)
    )


def approval_matches(change: Change, match: ApprovalMatch, now: float) -> bool:
    """Every label of the entry carries an accepted value from an account, and
    at an age, that the entry allows."""
    return all(
        any(_approval_fits(a, label, values, match, now) for a in change.approvals)
        for label, values in match.labels.items()
    )


def has_approvals(change: Change, required: Sequence[ApprovalMatch], now: float) -> bool:
    return all(approval_matches(change, m, now) for m in required)


def has_rejected_approval(change: Change, rejected: Sequence[ApprovalMatch], now: float) -> bool:
    return any(approval_matches(change, m, now) for m in rejected)


def meets_requirement(change: Change, req: RequirementDef, now: float) -> bool:
    if req.open is not None and change.is_open != req.open:
        return False
    if req.current_patchset is not None and change.is_current != req.current_patchset:
        return False
    if req.wip is not None and change.wip != req.wip:
        return False
    if req.status and change.status not in req.status:
        return False
    if not has_approvals(change, req.approvals, now):
        return False
    return all(any(re.search(rx, tag) for tag in change.hashtags) for rx in req.hashtags)


def hits_rejection(change: Change, rej: RequirementDef, now: float) -> bool:
    """Whether any condition of a `reject:` holds for the change."""
    if rej.open is not None and change.is_open == rej.open:
        return True
    if rej.current_patchset is not None and change.is_current == rej.current_patchset:
        return True
    if rej.wip is not None and change.wip == rej.wip:
        return True
    if rej.status and change.status in rej.status:
        return True
    if has_rejected_approval(change, rej.approvals, now):
        return True
    return any(re.search(rx, tag) for rx in rej.hashtags for tag in change.hashtags)


def unmet_requirements(
    change: Change,
    require: Sequence[RequirementDef],
    reject: Sequence[RequirementDef],
    now: float,
) -> bool:
    """True when the change fails a `require` or hits a `reject` of the pipeline."""
    if any(not meets_requirement(change, r, now) for r in require):
        return True
    return any(hits_rejection(change, r, now) for r in reject)


def reporter_labels(pipeline: PipelineDef) -> frozenset[str]:
    """The labels a pipeline's reporters vote: a change the gate would submit
    may lack those, since the gate sets them itself (Zuul's `allow_needs`)."""
    return frozenset(
        label
        for reporters in pipeline.reporters.values()
        for reporter in reporters
        for label in reporter.labels
    )
