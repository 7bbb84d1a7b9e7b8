"""`project` and `project-template` objects and their per-pipeline job lists."""

from __future__ import annotations

from typing import Any

from lockgate.core.config.objects import (
    MERGE_MODES,
    JobUse,
    ProjectDef,
    ProjectPipelineDef,
    ProjectTemplateDef,
)
from lockgate.core.config.parse_common import Checker, check_vars, closest, describe
from lockgate.core.config.parse_job import parse_job
from lockgate.core.config.source import ConfigMap, Where

PROJECT_ATTRIBUTES = (
    "name",
    "description",
    "templates",
    "queue",
    "merge-mode",
    "default-branch",
    "vars",
)
TEMPLATE_ATTRIBUTES = ("name", "description", "queue")
PROJECT_PIPELINE_ATTRIBUTES = ("jobs", "queue", "debug", "fail-fast")


def parse_project(checker: Checker, body: ConfigMap) -> ProjectDef | None:
    fields: dict[str, Any] = {}
    name = ""
    if "name" in body:
        name = checker.string(body, "name", "project.name") or ""
        if name:
            checker.context = f'project "{name}"'
        if name.startswith("^"):
            checker.regex(name, body.at("name"), "project.name")
            if not checker.source.trusted:
                checker.error(
                    body.at("name"),
                    "project.name",
                    "a project name regex is only allowed in a config project",
                    "name the project itself, or leave name out",
                )
    if "description" in body:
        fields["description"] = checker.string(body, "description", "project.description")
    if "templates" in body:
        fields["templates"] = checker.strings(body, "templates", "project.templates")
    if "queue" in body:
        fields["queue"] = checker.string(body, "queue", "project.queue")
    if "merge-mode" in body:
        fields["merge_mode"] = checker.choice(body, "merge-mode", "project.merge-mode", MERGE_MODES)
    if "default-branch" in body:
        fields["default_branch"] = checker.string(body, "default-branch", "project.default-branch")
    if "vars" in body:
        fields["vars"] = check_vars(checker, body, "vars", "project.vars")
    pipelines = _pipelines(checker, body, "project", PROJECT_ATTRIBUTES)
    if checker.failed:
        return None
    return ProjectDef(
        name=name,
        where=body.where,
        pipelines=pipelines,
        **{k: v for k, v in fields.items() if v is not None},
    )


def parse_template(checker: Checker, body: ConfigMap) -> ProjectTemplateDef | None:
    name = None
    if checker.required(body, "name", "project-template"):
        name = checker.string(body, "name", "project-template.name")
        if name:
            checker.context = f'project-template "{name}"'
    fields: dict[str, Any] = {}
    if "description" in body:
        fields["description"] = checker.string(body, "description", "project-template.description")
    if "queue" in body:
        fields["queue"] = checker.string(body, "queue", "project-template.queue")
    pipelines = _pipelines(checker, body, "project-template", TEMPLATE_ATTRIBUTES)
    if checker.failed or not name:
        return None
    return ProjectTemplateDef(
        name=name,
        where=body.where,
        pipelines=pipelines,
        **{k: v for k, v in fields.items() if v is not None},
    )


def _pipelines(
    checker: Checker, body: ConfigMap, kind: str, attributes: tuple[str, ...]
) -> dict[str, ProjectPipelineDef]:
    """Every key that is not an attribute names a pipeline; whether that
    pipeline exists is the layout's question."""
    result: dict[str, ProjectPipelineDef] = {}
    for key, value in body.items():
        if key in attributes:
            continue
        attribute = f"{kind}.{key}"
        if not isinstance(key, str):
            checker.error(
                body.at(key),
                kind,
                f"an attribute or pipeline name must be a string, not {describe(key)}",
            )
            continue
        if value is None:
            result[key] = ProjectPipelineDef(where=body.at(key))
            continue
        if not isinstance(value, ConfigMap):
            near = closest(key, attributes)
            checker.error(
                body.at(key),
                attribute,
                f"is read as a pipeline, which takes a mapping with jobs, not {describe(value)}",
                f"did you mean {near!r}?"
                if near
                else f"write {key}: {{jobs: [...]}}; attributes: " + ", ".join(attributes),
            )
            continue
        pipeline = _pipeline(checker, value, attribute)
        if pipeline is not None:
            result[key] = pipeline
    return result


def _pipeline(checker: Checker, body: ConfigMap, attribute: str) -> ProjectPipelineDef | None:
    checker.keys(body, PROJECT_PIPELINE_ATTRIBUTES, attribute)
    fields: dict[str, Any] = {}
    if "queue" in body:
        fields["queue"] = checker.string(body, "queue", f"{attribute}.queue")
    if "debug" in body:
        fields["debug"] = checker.boolean(body, "debug", f"{attribute}.debug")
    if "fail-fast" in body:
        fields["fail_fast"] = checker.boolean(body, "fail-fast", f"{attribute}.fail-fast")
    jobs: list[JobUse] = []
    if "jobs" in body and body["jobs"] is not None:
        jobs = _jobs(checker, body["jobs"], body.at("jobs"), f"{attribute}.jobs")
    if any(v is None for v in fields.values()):
        return None
    return ProjectPipelineDef(jobs=tuple(jobs), where=body.where, **fields)


def _jobs(checker: Checker, value: Any, where: Where, attribute: str) -> list[JobUse]:
    result: list[JobUse] = []
    kind, checker.kind = checker.kind, attribute
    try:
        for item, item_where in checker.items(value, where):
            if isinstance(item, str):
                result.append(JobUse(name=item, where=item_where))
                continue
            if not isinstance(item, ConfigMap) or len(item) != 1:
                checker.error(
                    item_where,
                    attribute,
                    "a job entry is a job name or a mapping of one job name to its attributes,"
                    f" not {describe(item)}"
                    + (f" with {len(item)} keys" if isinstance(item, ConfigMap) else ""),
                )
                continue
            ((name, attributes),) = item.items()
            if not isinstance(name, str):
                checker.error(
                    item_where, attribute, f"a job name must be a string, not {describe(name)}"
                )
                continue
            if attributes is None:
                result.append(JobUse(name=name, where=item.at(name)))
                continue
            if not isinstance(attributes, ConfigMap):
                checker.error(
                    item.at(name),
                    f"{attribute}.{name}",
                    f"a job's attributes are a mapping, not {describe(attributes)}",
                )
                continue
            checker.kind = f"{attribute}.{name}"
            variant = parse_job(checker, attributes, variant_of=name)
            checker.kind = attribute
            if variant is not None:
                result.append(JobUse(name=name, variant=variant, where=item.at(name)))
    finally:
        checker.kind = kind
    return result
