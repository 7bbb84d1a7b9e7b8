"""Does a review-server (or timer) event match one of a pipeline's triggers?"""

from __future__ import annotations

import re

from lockgate.core.config.objects import ApprovalMatch, PipelineDef, TriggerDef
from lockgate.core.gating.events import EventApproval, TriggerEvent
from lockgate.core.gating.requirements import has_approvals, has_rejected_approval

ZERO_SHA = "0" * 40


def _added(event: TriggerEvent, match: ApprovalMatch) -> bool:
    """The event set every label of the entry to an accepted value, from a value
    it did not have, by an account the entry allows."""
    if match.username is not None and not re.search(match.username, event.username):
        return False
    if match.email is not None and not re.search(match.email, event.email):
        return False

    def changed_to(label: str, values: tuple[int, ...]) -> bool:
        return any(_changed(a) and a.label == label and a.value in values for a in event.approvals)

    return all(changed_to(label, values) for label, values in match.labels.items())


def _changed(approval: EventApproval) -> bool:
    return approval.old_value is not None and approval.old_value != approval.value


def trigger_matches(trigger: TriggerDef, event: TriggerEvent, pipeline: str, now: float) -> bool:
    if trigger.driver == "timer":
        return event.type == "timer" and event.pipeline == pipeline
    if event.type == "timer" or event.connection != trigger.connection:
        return False
    if trigger.events and event.type not in trigger.events:
        return False
    ref = event.ref or (event.ref_update.ref if event.ref_update else "")
    branch = event.branch or (event.change.branch if event.change else "")
    if trigger.branches and not any(re.match(rx, branch) for rx in trigger.branches):
        return False
    if trigger.refs and not any(re.match(rx, ref) for rx in trigger.refs):
        return False
    if (
        trigger.ignore_deletes
        and event.ref_update is not None
        and event.ref_update.newrev == ZERO_SHA
    ):
        return False
    if trigger.comments and not any(re.search(rx, event.comment) for rx in trigger.comments):
        return False
    if trigger.usernames and not any(re.search(rx, event.username) for rx in trigger.usernames):
        return False
    if trigger.emails and not any(re.search(rx, event.email) for rx in trigger.emails):
        return False
    if trigger.approvals and not any(_added(event, m) for m in trigger.approvals):
        return False
    if trigger.require_approvals or trigger.reject_approvals:
        if event.change is None:
            return False
        if not has_approvals(event.change, trigger.require_approvals, now):
            return False
        if has_rejected_approval(event.change, trigger.reject_approvals, now):
            return False
    return True


def pipeline_triggered(pipeline: PipelineDef, event: TriggerEvent, now: float) -> bool:
    return any(trigger_matches(t, event, pipeline.name, now) for t in pipeline.triggers)
