"""Which projects a build's workspace holds and which branch of each it checks
out, as Zuul's executor chooses them (zuul.md 1.11)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lockgate.core.gating.actions import StartBuild


@dataclass(frozen=True, slots=True)
class ProjectCheckout:
    project: str
    src_dir: str  # relative to the work folder: src/<host>/<project>
    # branches the workspace gets, each at its frozen head (when the item froze
    # that branch) or else the branch tip; `checkout` is the one checked out
    checkout: str
    required: bool  # named in required-projects (Zuul's `required`)
    override: str | None = None  # the override-checkout that applied, if any


def src_dir(host: str, project: str) -> str:
    return f"src/{host}/{project}"


def item_project(build: StartBuild) -> tuple[str, str]:
    """The (project, branch) the item is for: its own change's, or its ref's."""
    if build.changes:
        last = build.changes[-1]
        return last.project, last.branch
    if build.ref is not None:
        return build.ref.project, build.ref.branch
    return "", ""


def plan(build: StartBuild, host: str) -> list[ProjectCheckout]:
    """The item's project, every change's project and every required project, in
    that order, each once; the branch each checks out is chosen later, by
    `choose_branch`, once the project's branches are known."""
    project, _ = item_project(build)
    order: list[str] = []
    required: set[str] = set()

    def add(name: str) -> None:
        if name and name not in order:
            order.append(name)

    add(project)
    for change in build.changes:
        add(change.project)
    for req in build.job.required_projects:
        add(req.name)
        required.add(req.name)
    return [
        ProjectCheckout(name, src_dir(host, name), "", name in required, _override(build, name))
        for name in order
    ]


def _override(build: StartBuild, project: str) -> str | None:
    for req in build.job.required_projects:
        if req.name == project and req.override_checkout:
            return req.override_checkout
    return build.job.override_checkout


def choose_branch(
    *,
    override: str | None,
    item_branch: str,
    default_branch: str,
    branches: Sequence[str],
) -> str:
    """Zuul's checkout rule: the override-checkout if the project has it, else
    the item's branch if the project has it, else the default branch."""
    if override and override in branches:
        return override
    if item_branch and item_branch in branches:
        return item_branch
    return default_branch
