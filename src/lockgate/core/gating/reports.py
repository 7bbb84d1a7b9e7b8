"""The text of the comments the scheduler posts, in the format Zuul users know:

Build succeeded (gate pipeline).

- nova-tox-py3 https://logs.example/… : SUCCESS in 1m 02s
- nova-docs https://logs.example/… : FAILURE in 43s (non-voting)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.core.config.objects import PipelineDef


@dataclass(frozen=True, slots=True)
class JobOutcome:
    name: str
    result: str  # SUCCESS, FAILURE, SKIPPED, ...
    voting: bool = True
    url: str = ""
    elapsed: float | None = None  # seconds; None when the job did not run
    detail: str = ""  # e.g. "Skipped due to failed job nova-tox"


def elapsed_text(seconds: float) -> str:
    """Zuul's durations: `45s`, `1m 02s`, `1h 02m 03s`."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def job_line(job: JobOutcome) -> str:
    parts = [f"- {job.name}"]
    if job.url:
        parts.append(f" {job.url}")
    parts.append(f" : {job.result}")
    if job.elapsed is not None and job.result not in ("SKIPPED", "CANCELED"):
        parts.append(f" in {elapsed_text(job.elapsed)}")
    if not job.voting:
        parts.append(" (non-voting)")
    if job.detail:
        parts.append(f" ({job.detail})")
    return "".join(parts)


def headline(pipeline: PipelineDef, action: str) -> str:
    """The first paragraph for a reporter action, with `{pipeline.name}` filled in."""
    text = {
        "start": pipeline.start_message,
        "success": pipeline.success_message,
        "failure": pipeline.failure_message,
        "merge-conflict": pipeline.merge_conflict_message,
        "config-error": pipeline.failure_message,
        "no-jobs": pipeline.no_jobs_message,
        "dequeue": pipeline.dequeue_message,
        "enqueue": pipeline.enqueue_message,
        "disabled": pipeline.failure_message,
    }.get(action, "")
    return text.replace("{pipeline.name}", pipeline.name).strip()


def report_message(
    pipeline: PipelineDef,
    action: str,
    jobs: Sequence[JobOutcome] = (),
    *,
    reason: str = "",
) -> str:
    """The whole comment for `action`: headline, an optional reason paragraph
    (why an item failed without its own jobs failing, or the config errors),
    the job lines for results, then the pipeline's footer."""
    paragraphs = [headline(pipeline, action)]
    if reason:
        paragraphs.append(reason.strip())
    if action in ("success", "failure", "dequeue") and jobs:
        paragraphs.append("\n".join(job_line(job) for job in jobs))
    if pipeline.footer_message:
        paragraphs.append(pipeline.footer_message.strip())
    return "\n\n".join(p for p in paragraphs if p)


# Why an item is reported as failing when none of its own jobs failed, in the
# words Zuul users know.
NEEDS_FAILED = "This change depends on a change that failed to merge."
MISSING_REQUIREMENT = "This change is unable to merge due to a missing merge requirement."
BAD_CONFIG_AHEAD = "This change depends on a change with an invalid configuration."
CYCLE_FAILED = "This change is part of a dependency cycle that failed."
CYCLE_FORBIDDEN = (
    "Dependency cycle detected and project {project} doesn't allow circular dependencies."
)
NOT_SHARED_QUEUE = (
    "Change {need} in project {need_project} does not share a change queue with "
    "{change} in project {project}."
)
UNKNOWN_DEPENDENCY = "This change depends on a change that could not be found: {footer}"
TOO_MANY_DEPENDENCIES = (
    "This change has {count} dependencies, more than the tenant's max-dependencies of {max}."
)
MERGE_FAILURE = "This change was not merged by the code review system: {error}"


def config_error_reason(errors: Sequence[str]) -> str:
    """The errors a change's proposed configuration has, one per paragraph, each
    with its file, line and column."""
    return "This change has configuration errors:\n\n" + "\n\n".join(errors)
