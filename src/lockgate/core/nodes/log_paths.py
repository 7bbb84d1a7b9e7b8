"""Where a build's logs go, in Zuul's layout (zuul-jobs' set-zuul-log-path-fact)."""

from __future__ import annotations


def build_log_path(
    *,
    build: str,
    job: str,
    pipeline: str,
    project: str,
    branch: str,
    change: int | None,
    patchset: int | None,
    newrev: str | None,
) -> str:
    """`<change[-2:]>/<change>/<patchset>/<pipeline>/<job>/<uuid[:7]>` for a change,
    `<newrev[:2]>/<newrev>/<pipeline>/<job>/<uuid[:7]>` for a ref update, and
    `<pipeline>/<project>/<branch>/<job>/<uuid[:7]>` for a periodic build."""
    short = build.replace("-", "")[:7] if len(build) > 7 else build
    if change is not None and patchset is not None:
        return f"{str(change)[-2:]}/{change}/{patchset}/{pipeline}/{job}/{short}"
    if newrev and set(newrev) != {"0"}:
        return f"{newrev[:2]}/{newrev}/{pipeline}/{job}/{short}"
    return f"{pipeline}/{project}/{branch}/{job}/{short}"
