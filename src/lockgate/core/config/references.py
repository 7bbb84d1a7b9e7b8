"""The references of one layer's project stanzas and templates.

A stanza or template keeps the pipelines it names that exist, and every job
and template it names: a job or template that is not defined (or could not
be loaded) is a `MissingRef`, reported once when the layout loads, and a
`ConfigProblem` when a job graph that needs it is frozen, so that a change
is never gated on fewer jobs than its project asks for. The outcome is kept per layer,
with the names it depended on, so that a speculative layout resolves again
only the layers whose references changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from lockgate.core.config.job_checks import (
    EXECUTION_ATTRIBUTES,
    Flags,
    MissingRef,
    undefined,
    undefined_job,
)
from lockgate.core.config.layers import Layer, Origin
from lockgate.core.config.objects import (
    JobUse,
    ProjectDef,
    ProjectPipelineDef,
    ProjectTemplateDef,
)
from lockgate.core.config.source import ConfigError


@dataclass(frozen=True, slots=True)
class ResolvedTemplate:
    definition: ProjectTemplateDef
    origin: Origin
    pipelines: Mapping[str, ProjectPipelineDef]


@dataclass(frozen=True, slots=True)
class ResolvedStanza:
    project: str
    definition: ProjectDef
    origin: Origin
    templates: tuple[str, ...]
    pipelines: Mapping[str, ProjectPipelineDef]
    missing_templates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Known:
    """The names references are resolved against."""

    jobs: Container[str]  # jobs that loaded
    defined_jobs: Container[str]  # jobs that were defined, loaded or not
    templates: Container[str]
    pipelines: Container[str]
    nodesets: Container[str]
    flags: Mapping[str, Flags]


@dataclass(slots=True)
class LayerRefs:
    templates: list[ResolvedTemplate] = field(default_factory=list)
    stanzas: list[ResolvedStanza] = field(default_factory=list)
    missing: list[MissingRef] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    names: set[tuple[str, str]] = field(default_factory=set)  # (kind, name) looked up


def resolve_layer(layer: Layer, known: Known) -> LayerRefs:
    refs = LayerRefs()
    for template in layer.templates:
        name = template.definition.name
        pipelines = _resolve_pipelines(
            refs,
            known,
            template.definition.pipelines,
            template.origin,
            f'project-template "{name}"',
        )
        refs.templates.append(ResolvedTemplate(template.definition, template.origin, pipelines))
    resolved: dict[int, tuple[tuple[str, ...], dict[str, ProjectPipelineDef], tuple[str, ...]]] = {}
    for stanza in layer.stanzas:
        definition = stanza.definition
        key = id(definition)
        if key not in resolved:
            # A regex stanza applies to many projects; its references are checked once.
            context = f'project "{definition.name or stanza.project}"'
            templates = []
            missing = []
            for name in definition.templates:
                refs.names.add(("project-template", name))
                if name in known.templates:
                    templates.append(name)
                else:
                    missing.append(name)
                    error = undefined(definition.where, "project-template", name, context)
                    refs.missing.append(
                        MissingRef(
                            stanza.origin.project, "project-template", name, error, "template"
                        )
                    )
            pipelines = _resolve_pipelines(
                refs, known, definition.pipelines, stanza.origin, context
            )
            resolved[key] = (tuple(templates), pipelines, tuple(missing))
        templates_ok, pipelines_ok, missing_templates = resolved[key]
        refs.stanzas.append(
            ResolvedStanza(
                stanza.project,
                definition,
                stanza.origin,
                templates_ok,
                pipelines_ok,
                missing_templates,
            )
        )
    return refs


def _resolve_pipelines(
    refs: LayerRefs,
    known: Known,
    pipelines: Mapping[str, ProjectPipelineDef],
    origin: Origin,
    context: str,
) -> dict[str, ProjectPipelineDef]:
    out: dict[str, ProjectPipelineDef] = {}
    for name, section in pipelines.items():
        refs.names.add(("pipeline", name))
        if name not in known.pipelines:
            error = undefined(section.where, "pipeline", name, context)
            refs.missing.append(MissingRef(origin.project, "pipeline", name, error))
            continue
        jobs = tuple(use for use in section.jobs if _use_ok(refs, known, use, origin, context))
        out[name] = (
            section if len(jobs) == len(section.jobs) else dataclasses.replace(section, jobs=jobs)
        )
    return out


def _use_ok(refs: LayerRefs, known: Known, use: JobUse, origin: Origin, context: str) -> bool:
    refs.names.add(("job", use.name))
    if use.name not in known.jobs:
        if use.name in known.defined_jobs:
            error = ConfigError(
                use.where,
                f'job "{use.name}" could not be loaded; see its own error',
                attribute="jobs",
                context=context,
            )
        else:
            error = undefined_job(use.where, use.name, context, "jobs")
        refs.missing.append(MissingRef(origin.project, "job", use.name, error, "pipeline"))
        # kept: freezing a graph that needs it says why it cannot run
        return True
    variant = use.variant
    if variant is None:
        return True
    flags = known.flags.get(use.name)
    if flags is not None and (flags.sealed or (flags.protected and flags.owner != origin.project)):
        why = "final" if flags.sealed else f"protected by {flags.owner}"
        for attribute in EXECUTION_ATTRIBUTES:
            if getattr(variant, attribute) is not None:
                name = attribute.replace("_", "-")
                refs.errors.append(
                    ConfigError(
                        use.where,
                        f'job "{use.name}" is {why}; this variant may not set {name}',
                        attribute=name,
                        context=context,
                    )
                )
                return False
    if isinstance(variant.nodeset, str):
        refs.names.add(("nodeset", variant.nodeset))
        if variant.nodeset not in known.nodesets:
            error = undefined(use.where, "nodeset", variant.nodeset, f'job "{use.name}"')
            refs.missing.append(
                MissingRef(origin.project, "nodeset", variant.nodeset, error, "nodeset")
            )
    return True
