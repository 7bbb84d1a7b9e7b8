"""A configuration file's objects, validated: `parse_config`.

The YAML adapter hands over positioned values; this reads each top-level
item as one object, keeps the well-formed ones and reports every problem
with its file, line, column and attribute. References between objects
(parents, nodesets by name, pipelines of a project) are the layout's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lockgate.core.config.objects import ParsedConfig, QueueDef, SecretDef, SemaphoreDef
from lockgate.core.config.parse_common import Checker, describe, unknown_hint
from lockgate.core.config.parse_job import parse_job, parse_nodeset
from lockgate.core.config.parse_pipeline import parse_pipeline
from lockgate.core.config.parse_project import parse_project, parse_template
from lockgate.core.config.source import ConfigError, ConfigList, ConfigMap, Mark, Source, Where

OBJECT_KINDS = (
    "pipeline",
    "job",
    "project",
    "project-template",
    "nodeset",
    "secret",
    "semaphore",
    "queue",
    "pragma",
)
PRAGMA_ATTRIBUTES = ("implied-branch-matchers", "implied-branches")


def parse_config(documents: Any, source: Source, *, connections: Mapping[str, str]) -> ParsedConfig:
    """The objects of one file (`documents` as the YAML adapter read it).

    `connections` maps the site's connection names to their drivers;
    triggers, requirements and reporters of other connections are
    left out with a warning.
    """
    parsed = ParsedConfig()
    errors = parsed.errors
    if documents is None:
        return parsed
    if not isinstance(documents, ConfigList):
        where = getattr(documents, "where", None)
        if where is None:
            where = _file_start(source)
        errors.append(
            ConfigError(
                where,
                f"a configuration file is a list of objects, not {describe(documents)}",
                hint="start each object with - job:, - project:, ...",
            )
        )
        return parsed
    for index, item in enumerate(documents):
        where = documents.at(index)
        if not isinstance(item, ConfigMap) or len(item) != 1:
            extra = f" with {len(item)} keys" if isinstance(item, ConfigMap) else ""
            errors.append(
                ConfigError(
                    where,
                    "each item is a mapping of one object kind to its attributes,"
                    f" not {describe(item)}{extra}",
                    hint="kinds: " + ", ".join(OBJECT_KINDS),
                )
            )
            continue
        ((kind, body),) = item.items()
        if kind not in OBJECT_KINDS:
            errors.append(
                ConfigError(
                    item.at(kind),
                    f"unknown object kind {kind!r}",
                    hint=unknown_hint(str(kind), OBJECT_KINDS).replace("attributes", "kinds"),
                )
            )
            continue
        checker = Checker(source, kind, kind, errors)
        if not isinstance(body, ConfigMap):
            checker.error(
                item.at(kind), kind, f"must be a mapping of attributes, not {describe(body)}"
            )
            continue
        name = body.get("name")
        if isinstance(name, str) and name:
            checker.context = f'{kind} "{name}"'
        _parse_object(checker, kind, body, parsed, connections)
    return parsed


def _parse_object(
    checker: Checker,
    kind: str,
    body: ConfigMap,
    parsed: ParsedConfig,
    connections: Mapping[str, str],
) -> None:
    if kind == "job":
        job = parse_job(checker, body)
        if job is not None:
            parsed.jobs.append(job)
    elif kind == "project":
        project = parse_project(checker, body)
        if project is not None:
            parsed.projects.append(project)
    elif kind == "project-template":
        template = parse_template(checker, body)
        if template is not None:
            parsed.templates.append(template)
    elif kind == "pipeline":
        pipeline = parse_pipeline(checker, body, connections)
        if pipeline is not None:
            parsed.pipelines.append(pipeline)
    elif kind == "nodeset":
        nodeset = parse_nodeset(checker, body, "nodeset", named=True)
        if nodeset is not None:
            parsed.nodesets.append(nodeset)
    elif kind == "secret":
        secret = _secret(checker, body)
        if secret is not None:
            parsed.secrets.append(secret)
    elif kind == "semaphore":
        semaphore = _semaphore(checker, body)
        if semaphore is not None:
            parsed.semaphores.append(semaphore)
    elif kind == "queue":
        queue = _queue(checker, body)
        if queue is not None:
            parsed.queues.append(queue)
    else:
        _pragma(checker, body)


def _name(checker: Checker, body: ConfigMap) -> str | None:
    if not checker.required(body, "name", checker.kind):
        return None
    name = checker.string(body, "name", f"{checker.kind}.name")
    if name:
        checker.context = f'{checker.kind} "{name}"'
    return name


def _secret(checker: Checker, body: ConfigMap) -> SecretDef | None:
    checker.keys(body, ("name", "data"), "secret")
    name = _name(checker, body)
    data = None
    if checker.required(body, "data", "secret"):
        value = body["data"]
        if checker.is_mapping(value, body.at("data"), "secret.data"):
            data = value
    if checker.failed or name is None or data is None:
        return None
    return SecretDef(name=name, data=data, where=body.where)


def _semaphore(checker: Checker, body: ConfigMap) -> SemaphoreDef | None:
    checker.keys(body, ("name", "max"), "semaphore")
    name = _name(checker, body)
    maximum = checker.integer(body, "max", "semaphore.max", minimum=1) if "max" in body else 1
    if checker.failed or name is None or maximum is None:
        return None
    return SemaphoreDef(name=name, max=maximum, where=body.where)


_QUEUE_FLAGS = {
    "per-branch": "per_branch",
    "allow-circular-dependencies": "allow_circular_dependencies",
    "dependencies-by-topic": "dependencies_by_topic",
}


def _queue(checker: Checker, body: ConfigMap) -> QueueDef | None:
    checker.keys(body, ("name", *_QUEUE_FLAGS), "queue")
    name = _name(checker, body)
    flags = {
        field: checker.boolean(body, key, f"queue.{key}")
        for key, field in _QUEUE_FLAGS.items()
        if key in body
    }
    if checker.failed or name is None:
        return None
    if flags.get("dependencies_by_topic") and not flags.get("allow_circular_dependencies"):
        checker.error(
            body.at("dependencies-by-topic"),
            "queue.dependencies-by-topic",
            "needs allow-circular-dependencies: true",
            "changes of one topic depend on each other, which is a cycle",
        )
        return None
    return QueueDef(name=name, where=body.where, **{k: bool(v) for k, v in flags.items()})


def _pragma(checker: Checker, body: ConfigMap) -> None:
    checker.keys(body, PRAGMA_ATTRIBUTES, "pragma")
    if "implied-branch-matchers" in body:
        checker.boolean(body, "implied-branch-matchers", "pragma.implied-branch-matchers")
    if "implied-branches" in body:
        checker.strings(body, "implied-branches", "pragma.implied-branches", regex=True)
    if not checker.failed:
        checker.warning(
            body.where,
            "pragma",
            "is read but not applied: lockgate uses Zuul's default branch matching",
        )


def _file_start(source: Source) -> Where:
    return Where(source, Mark(1, 1))
