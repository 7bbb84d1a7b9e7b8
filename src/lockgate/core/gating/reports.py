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
