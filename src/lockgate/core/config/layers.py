"""One project branch's configuration, ready to be combined into a layout.

A `Layer` is what one `LoadedConfig` contributes: its objects, filtered by
the tenant project's `include` / `exclude`, each tagged with the project,
branch and trust it came from, and the errors that can be found from that
configuration alone (a base job in an untrusted project, a pipeline outside
a config project, a project stanza for a project the tenant does not have).
Errors that need the other projects (undefined parents, nodesets, templates)
are found when the layers are indexed together (`index.py`).

A layout keeps its layers so that a speculative layout rebuilds only the
layers whose configuration a change replaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lockgate.core.config.matchers import compile_regex
from lockgate.core.config.objects import (
    JobDef,
    NodesetDef,
    ParsedConfig,
    PipelineDef,
    ProjectDef,
    ProjectTemplateDef,
    QueueDef,
    SecretDef,
    SemaphoreDef,
)
from lockgate.core.config.source import ConfigError
from lockgate.core.config.tenants import TenantDef, TenantProject


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """The parsed configuration of one branch of one tenant project."""

    project: TenantProject
    branch: str
    parsed: ParsedConfig


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a definition was read: which project and branch, and its trust."""

    project: str
    branch: str
    trusted: bool


@dataclass(frozen=True, slots=True)
class JobVariant:
    job: JobDef
    origin: Origin


@dataclass(frozen=True, slots=True)
class ProjectStanza:
    """A `project` stanza applied to one project (a regex name in a config
    project gives one stanza per matching project)."""

    project: str
    definition: ProjectDef
    origin: Origin


@dataclass(frozen=True, slots=True)
class TemplateVariant:
    definition: ProjectTemplateDef
    origin: Origin


@dataclass(slots=True)
class Layer:
    project: TenantProject
    branch: str
    origin: Origin
    pipelines: list[PipelineDef] = field(default_factory=list)
    jobs: list[JobVariant] = field(default_factory=list)
    stanzas: list[ProjectStanza] = field(default_factory=list)
    templates: list[TemplateVariant] = field(default_factory=list)
    nodesets: list[NodesetDef] = field(default_factory=list)
    secrets: list[SecretDef] = field(default_factory=list)
    semaphores: list[SemaphoreDef] = field(default_factory=list)
    queues: list[QueueDef] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    key: tuple[str, str] = ("", "")  # (project, branch)

    def __post_init__(self) -> None:
        self.key = (self.project.name, self.branch)


@dataclass(frozen=True, slots=True)
class ProjectNames:
    """A tenant's project names, in load order and as a set (computed once for many layers)."""

    ordered: tuple[str, ...]
    known: frozenset[str]

    @classmethod
    def of(cls, tenant: TenantDef) -> ProjectNames:
        ordered = tuple(p.name for p in tenant.projects)
        return cls(ordered, frozenset(ordered))


def build_layer(
    tenant: TenantDef, loaded: LoadedConfig, project_names: ProjectNames | None = None
) -> Layer:
    project = loaded.project
    origin = Origin(project.name, loaded.branch, project.trusted)
    parsed = loaded.parsed
    classes = project.load_classes
    layer = Layer(project, loaded.branch, origin, errors=list(parsed.errors))
    if "pipeline" in classes:
        for pipeline in parsed.pipelines:
            if not project.trusted:
                layer.errors.append(
                    ConfigError(
                        pipeline.where,
                        "pipelines may only be defined in a config project",
                        context=f'pipeline "{pipeline.name}"',
                        hint="move it to the tenant's config project",
                    )
                )
                continue
            layer.pipelines.append(pipeline)
    if "job" in classes:
        for job in parsed.jobs:
            error = _local_job_error(tenant, project, job)
            if error is not None:
                layer.errors.append(error)
                continue
            layer.jobs.append(JobVariant(job, origin))
    if "project" in classes:
        names = project_names if project_names is not None else ProjectNames.of(tenant)
        for definition in parsed.projects:
            targets = _stanza_targets(project, definition, names, layer.errors)
            layer.stanzas.extend(ProjectStanza(t, definition, origin) for t in targets)
    if "project-template" in classes:
        layer.templates.extend(TemplateVariant(t, origin) for t in parsed.templates)
    if "nodeset" in classes:
        layer.nodesets.extend(parsed.nodesets)
    if "secret" in classes:
        layer.secrets.extend(parsed.secrets)
    if "semaphore" in classes:
        layer.semaphores.extend(parsed.semaphores)
    if "queue" in classes:
        layer.queues.extend(parsed.queues)
    return layer


def _local_job_error(tenant: TenantDef, project: TenantProject, job: JobDef) -> ConfigError | None:
    context = f'job "{job.name}"'
    if job.is_base and not project.trusted and not project.allow_base_jobs:
        return ConfigError(
            job.where,
            "a base job (parent: null) may only be defined in a config project",
            attribute="parent",
            context=context,
            hint="give it a parent, or define it in the config project",
        )
    if job.intermediate and job.abstract is not True:
        return ConfigError(
            job.where,
            "an intermediate job must also be abstract",
            attribute="intermediate",
            context=context,
            hint="add `abstract: true`",
        )
    for attribute, patterns in (
        ("branches", job.branches),
        ("files", job.files),
        ("irrelevant-files", job.irrelevant_files),
    ):
        for pattern in patterns or ():
            if compile_regex(pattern) is None:
                return ConfigError(
                    job.where,
                    f"{pattern!r} is not a valid regular expression",
                    attribute=attribute,
                    context=context,
                )
    if isinstance(job.nodeset, NodesetDef):
        count = nodeset_size(job.nodeset)
        if count > tenant.max_nodes_per_job:
            return ConfigError(
                job.where,
                f"the nodeset has {count} nodes; the tenant allows {tenant.max_nodes_per_job}",
                attribute="nodeset",
                context=context,
                hint="use fewer nodes or raise the tenant's max-nodes-per-job",
            )
    return None


def nodeset_size(nodeset: NodesetDef) -> int:
    return sum(len(node.names) for node in nodeset.nodes)


def _stanza_targets(
    project: TenantProject,
    definition: ProjectDef,
    tenant_projects: ProjectNames,
    errors: list[ConfigError],
) -> list[str]:
    name = definition.name or project.name
    if not project.trusted:
        if name != project.name:
            errors.append(
                ConfigError(
                    definition.where,
                    f'an untrusted project may only configure itself, not "{name}"',
                    attribute="name",
                    context="project",
                    hint=f'remove `name` or set it to "{project.name}"',
                )
            )
            return []
        return [name]
    if name.startswith("^"):
        regex = compile_regex(name)
        if regex is None:
            errors.append(
                ConfigError(
                    definition.where,
                    f"{name!r} is not a valid regular expression",
                    attribute="name",
                    context="project",
                )
            )
            return []
        # Zuul matches a project regex against the whole name.
        return [p for p in tenant_projects.ordered if regex.fullmatch(p)]
    if name not in tenant_projects.known:
        errors.append(
            ConfigError(
                definition.where,
                f'the tenant has no project "{name}"',
                attribute="name",
                context=f'project "{name}"',
                hint="add it to the tenant's projects, or fix the name",
            )
        )
        return []
    return [name]
