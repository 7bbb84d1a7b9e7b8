"""How the outcomes of a build's playbooks make its result, as Zuul decides it.

A pre-run playbook that fails, or a host that is unreachable in any phase
but cleanup, makes the build RETRY (the scheduler's core retries it up to the
job's attempts): as in Zuul, a node lost in post-run is retried too, after
every post-run playbook had its chance to save the logs. The run phase fails
or times out into FAILURE or TIMED_OUT; a post-run playbook that fails or
times out makes an otherwise successful build POST_FAILURE. Cleanup
playbooks never change the result.
"""

from __future__ import annotations

from dataclasses import dataclass

# what one ansible-playbook run came to
OK = "ok"
FAILED = "failed"
UNREACHABLE = "unreachable"
TIMED_OUT = "timed_out"
ABORTED = "aborted"
ERROR = "error"  # the playbook could not be run at all: missing, invalid YAML


@dataclass(frozen=True, slots=True)
class PlaybookOutcome:
    phase: str  # pre, run, post, cleanup
    path: str
    status: str
    message: str = ""


def build_result(outcomes: list[PlaybookOutcome]) -> tuple[str, str]:
    """The build's result and a one-line reason (empty on SUCCESS)."""
    result = "SUCCESS"
    reason = ""
    lost_in_post = ""
    for outcome in outcomes:
        if outcome.status == ABORTED:
            return "ABORTED", outcome.message or "the build was cancelled"
        if outcome.phase == "cleanup" or outcome.status == OK:
            continue
        detail = outcome.message or outcome.status
        why = f"{phase_name(outcome.phase)} playbook {outcome.path}: {detail}"
        if outcome.status == ERROR:
            return "ERROR", why
        if outcome.phase in ("setup", "pre") or (
            outcome.status == UNREACHABLE and outcome.phase == "run"
        ):
            return "RETRY", why
        if outcome.phase == "run":
            result, reason = ("TIMED_OUT" if outcome.status == TIMED_OUT else "FAILURE"), why
        elif outcome.phase == "post" and outcome.status == UNREACHABLE:
            lost_in_post = lost_in_post or why
        elif outcome.phase == "post" and result == "SUCCESS":
            result, reason = "POST_FAILURE", why
    if lost_in_post:
        return "RETRY", lost_in_post
    return result, reason


def phase_name(phase: str) -> str:
    """As Zuul's console names them: pre-run, run, post-run, cleanup-run; and
    the executor's own step that puts the workspace on the nodes, setup."""
    return phase if phase in ("run", "setup") else f"{phase}-run"
