"""The generated tenant of `layout_load` written out as Zuul YAML files, so
that its load can be timed from files on disk, parsing included.

Each project gets a folder: the config project `zuul.d/pipelines.yaml`,
`zuul.d/nodesets.yaml` and `zuul.d/jobs.yaml`; the shared-jobs project
`zuul.d/jobs.yaml` and `zuul.d/templates.yaml`; every other project one
`.zuul.yaml`. Only the attributes the generator sets are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from lockgate.core.config.layout import LoadedConfig
from lockgate.core.config.objects import (
    JobDef,
    JobUse,
    NodesetDef,
    PipelineDef,
    ProjectDef,
    ProjectPipelineDef,
    ProjectTemplateDef,
)

_TRIGGERS = {
    "independent": [{"event": "patchset-created"}],
    "dependent": [{"event": "comment-added", "approval": [{"Workflow": 1}]}],
}


def _job(job: JobDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": job.name}
    if job.is_base:
        out["parent"] = None
    elif job.parent is not None:
        out["parent"] = job.parent
    for attribute in ("abstract", "voting", "timeout", "vars"):
        value = getattr(job, attribute)
        if value is not None:
            out[attribute] = value
    if job.branches is not None:
        out["branches"] = list(job.branches)
    if job.irrelevant_files is not None:
        out["irrelevant-files"] = list(job.irrelevant_files)
    if isinstance(job.nodeset, str):
        out["nodeset"] = job.nodeset
    for attribute in ("pre_run", "run", "post_run"):
        playbooks = getattr(job, attribute)
        if playbooks is not None:
            out[attribute.replace("_", "-")] = [p.path for p in playbooks]
    if job.required_projects is not None:
        out["required-projects"] = [p.name for p in job.required_projects]
    if job.dependencies is not None:
        out["dependencies"] = [d.name for d in job.dependencies]
    return {"job": out}


def _use(use: JobUse) -> str | dict[str, Any]:
    if use.variant is None:
        return use.name
    body = _job(use.variant)["job"]
    del body["name"]
    return {use.name: body}


def _pipelines(pipelines: dict[str, ProjectPipelineDef] | Any) -> dict[str, Any]:
    return {name: {"jobs": [_use(u) for u in section.jobs]} for name, section in pipelines.items()}


def _project(project: ProjectDef) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if project.templates:
        body["templates"] = list(project.templates)
    if project.queue:
        body["queue"] = project.queue
    body.update(_pipelines(project.pipelines))
    return {"project": body}


def _template(template: ProjectTemplateDef) -> dict[str, Any]:
    return {"project-template": {"name": template.name, **_pipelines(template.pipelines)}}


def _pipeline(pipeline: PipelineDef) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": pipeline.name,
        "manager": pipeline.manager,
        "trigger": {"gerrit": _TRIGGERS[pipeline.manager]},
    }
    if pipeline.post_review:
        body["post-review"] = True
    return {"pipeline": body}


def _nodeset(nodeset: NodesetDef) -> dict[str, Any]:
    nodes = [{"name": list(n.names), "label": n.label} for n in nodeset.nodes]
    return {"nodeset": {"name": nodeset.name, "nodes": nodes}}


def _write(path: Path, documents: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(list(documents), Dumper=yaml.CSafeDumper, sort_keys=False))


def write_tenant(configs: Sequence[LoadedConfig], root: Path) -> dict[str, Path]:
    """Write every project's configuration under `root`; project -> folder."""
    folders: dict[str, Path] = {}
    for loaded in configs:
        parsed = loaded.parsed
        folder = root / loaded.project.name.replace("/", "__")
        folders[loaded.project.name] = folder
        if loaded.project.trusted:
            _write(folder / "zuul.d" / "pipelines.yaml", map(_pipeline, parsed.pipelines))
            _write(folder / "zuul.d" / "nodesets.yaml", map(_nodeset, parsed.nodesets))
            _write(folder / "zuul.d" / "jobs.yaml", map(_job, parsed.jobs))
        elif parsed.templates:
            _write(folder / "zuul.d" / "jobs.yaml", map(_job, parsed.jobs))
            _write(folder / "zuul.d" / "templates.yaml", map(_template, parsed.templates))
        else:
            _write(
                folder / ".zuul.yaml", [*map(_job, parsed.jobs), *map(_project, parsed.projects)]
            )
    return folders
