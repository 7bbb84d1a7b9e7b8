"""The job graph of one item in one pipeline.

The jobs come from every project stanza of the item's project that applies
to its branch (a config project's stanzas apply to every branch, an
untrusted project's to the branch they are read from, every stanza to an
item with no branch), in load order; within a stanza, from its templates
first, in the order listed, then from its own section. A job named several
times is one job: each mention's inline variant is applied, in order, after
the job's own variants.

A job runs when one of its variants (and one of each parent's) matches the
branch, one of its mentions does, and its final `files` /
`irrelevant-files` match the change (unless the change edits the
configuration and `match-on-config-updates` holds). Then, as Zuul does:
an abstract job, a job the project is not allowed to run, or a post-review
job in a pre-review pipeline is an error; a hard dependency on a job that
does not run is an error; a soft one is dropped; a dependency loop is an
error. Any error makes the whole graph a `ConfigProblem`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.core.config.freeze import (
    JobBuilder,
    collect_variants,
    deep_merge,
    inline_matches,
    strip_inline,
)
from lockgate.core.config.frozen import FrozenJob, JobGraph
from lockgate.core.config.index import Index, ResolvedStanza
from lockgate.core.config.layers import Origin
from lockgate.core.config.matchers import ItemContext, files_match, is_config_file
from lockgate.core.config.objects import JobDef, JobUse, PipelineDef
from lockgate.core.config.source import ConfigError
from lockgate.core.config.tenants import TenantDef
from lockgate.core.gating.layout_view import ConfigProblem


@dataclass(frozen=True, slots=True)
class Mention:
    """A job named in a project's or template's pipeline section."""

    use: JobUse
    origin: Origin


@dataclass(slots=True)
class ProjectPipeline:
    """What a project's stanzas say about one pipeline, for one item."""

    mentions: dict[str, list[Mention]]
    variables: dict[str, Any]
    variables_key: tuple[int, ...]  # which stanzas' vars made `variables`
    fail_fast: bool
    defined: bool  # some stanza or template has a section for the pipeline
    # templates an applying stanza names that are not defined: the jobs they
    # would add are unknown, so no graph can be trusted
    problems: list[ConfigError] = dataclasses.field(default_factory=list)


def stanza_applies(stanza: ResolvedStanza, item: ItemContext) -> bool:
    if stanza.origin.trusted or item.branch is None:
        return True
    return stanza.origin.branch == item.branch


def project_pipeline(
    index: Index, project: str, pipeline: str, item: ItemContext
) -> ProjectPipeline:
    result = ProjectPipeline({}, {}, (), False, False)
    fail_fast: bool | None = None
    for stanza in index.stanzas.get(project, ()):
        if not stanza_applies(stanza, item):
            continue
        for name in stanza.missing_templates:
            result.problems.append(
                ConfigError(
                    stanza.definition.where,
                    f'project-template "{name}" is not defined in this tenant; '
                    "the jobs it adds are unknown",
                    attribute="templates",
                    context=f'project "{stanza.definition.name or stanza.project}"',
                    hint="define the template, or remove it from the project",
                )
            )
        if stanza.definition.vars:
            result.variables = deep_merge(result.variables, stanza.definition.vars)
            result.variables_key += (id(stanza.definition),)
        sections = []
        for name in stanza.templates:
            for template in index.templates.get(name, ()):
                origin = template.origin
                if (
                    item.branch is not None
                    and origin.project in index.multi_branch
                    and origin.branch != item.branch
                ):
                    continue
                section = template.pipelines.get(pipeline)
                if section is not None:
                    sections.append((section, origin))
        own = stanza.pipelines.get(pipeline)
        if own is not None:
            sections.append((own, stanza.origin))
        for section, origin in sections:
            result.defined = True
            if fail_fast is None and section.fail_fast is not None:
                fail_fast = section.fail_fast
            for use in section.jobs:
                result.mentions.setdefault(use.name, []).append(Mention(use, origin))
    result.fail_fast = bool(fail_fast)
    return result


def touches_config(item: ItemContext, extra_paths: Sequence[str]) -> bool:
    return any(is_config_file(path, extra_paths) for path in item.files)


def freeze_job_graph(
    tenant: TenantDef,
    index: Index,
    pipeline: PipelineDef,
    item: ItemContext,
    config_paths: Sequence[str] = (),
    *,
    cache: FreezeCache | None = None,
) -> JobGraph | ConfigProblem:
    """`cache`: frozen jobs kept between calls on one layout (see `Built`)."""
    if cache is None:
        cache = {}
    wanted = project_pipeline(index, item.project, pipeline.name, item)
    if wanted.problems:
        return ConfigProblem(tuple(wanted.problems))
    if not wanted.mentions:
        return JobGraph(fail_fast=wanted.fail_fast)
    errors: list[ConfigError] = []
    frozen: dict[str, FrozenJob] = {}
    edits_config = touches_config(item, config_paths)
    for name, mentions in wanted.mentions.items():
        job = _freeze_one(
            tenant,
            index,
            pipeline,
            item,
            name=name,
            mentions=mentions,
            variables=wanted.variables,
            variables_key=wanted.variables_key,
            edits_config=edits_config,
            errors=errors,
            cache=cache,
        )
        if job is not None:
            frozen[name] = job
    ordered = _order(frozen, errors)
    if errors:
        return ConfigProblem(tuple(errors))
    return JobGraph(jobs=ordered, fail_fast=wanted.fail_fast)


@dataclass(frozen=True, slots=True)
class Built:
    """A job frozen for an item shape (branch, ref, mentions), before the checks
    that depend on the item's files, project and pipeline; shared by every
    item of that shape."""

    job: FrozenJob | None  # None: no variant matched, the job does not run
    errors: tuple[ConfigError, ...] = ()
    files: tuple[str, ...] | None = None
    irrelevant_files: tuple[str, ...] | None = None
    match_on_config_updates: bool = True
    defining_files: frozenset[tuple[str, str]] = frozenset()  # (project, path)
    abstract: bool = False
    allowed: frozenset[str] | None = None
    post_review: bool = False


NOT_RUN = Built(None)
FreezeCache = dict[tuple[object, ...], Built]


def _build(
    tenant: TenantDef,
    index: Index,
    item: ItemContext,
    *,
    name: str,
    mentions: Sequence[Mention],
    variables: Mapping[str, Any],
) -> Built:
    collected = collect_variants(tenant, index, name, item)
    if collected.cycle:
        error = ConfigError(
            mentions[0].use.where,
            "the parents of this job loop: " + " -> ".join(collected.cycle),
            attribute="parent",
            context=f'job "{name}"',
        )
        return Built(None, (error,))
    if collected.missing is not None:
        return Built(None, (_missing_job(index, name, collected.missing, mentions[0]),))
    if collected.unmatched is not None:
        return NOT_RUN
    applied = [m for m in mentions if m.use.variant is None or inline_matches(m.use.variant, item)]
    if not applied:
        return NOT_RUN
    builder = JobBuilder(name, tenant, index)
    for variant in collected.variants:
        builder.apply(variant.job, variant.origin)
        if builder.errors:
            return Built(None, tuple(builder.errors))
    for mention in applied:
        if mention.use.variant is not None:
            builder.apply(_inline(mention.use.variant, name), mention.origin)
            if builder.errors:
                return Built(None, tuple(builder.errors))
    defining = {(w.source.project, w.source.path) for w in builder.wheres}
    for playbooks in (builder.pre_run, builder.run, builder.post_run, builder.cleanup_run):
        defining.update((p.origin.project, p.ref.path) for p in playbooks)
    return Built(
        builder.freeze(collected.ancestry, variables),
        files=builder.files,
        irrelevant_files=builder.irrelevant_files,
        match_on_config_updates=builder.values.get("match_on_config_updates", True),
        defining_files=frozenset(defining),
        abstract=builder.abstract,
        allowed=builder.allowed,
        post_review=builder.post_review,
    )


def _missing_job(index: Index, name: str, missing: str, mention: Mention) -> ConfigError:
    broken = missing in index.checks.raw
    if missing == name:
        message = (
            f'job "{name}" could not be loaded; see its own error'
            if broken
            else f'job "{name}" is not defined in this tenant'
        )
    elif broken:
        message = f'job "{name}" inherits from "{missing}", which could not be loaded'
    else:
        message = f'job "{name}" inherits from "{missing}", which is not defined in this tenant'
    return ConfigError(
        mention.use.where,
        message,
        attribute="jobs",
        context=f'job "{name}"',
        hint="it may come from a project the tenant does not load, or be misspelt",
    )


def _freeze_one(
    tenant: TenantDef,
    index: Index,
    pipeline: PipelineDef,
    item: ItemContext,
    *,
    name: str,
    mentions: Sequence[Mention],
    variables: Mapping[str, Any],
    variables_key: tuple[int, ...],
    edits_config: bool,
    errors: list[ConfigError],
    cache: FreezeCache,
) -> FrozenJob | None:
    key = (name, item.branch, item.ref, variables_key, *(id(m.use) for m in mentions))
    built = cache.get(key)
    if built is None:
        built = _build(tenant, index, item, name=name, mentions=mentions, variables=variables)
        cache[key] = built
    if built.errors:
        errors.extend(built.errors)
        return None
    if built.job is None:
        return None
    first = mentions[0].use
    context = f'job "{name}"'
    if not files_match(built.files, built.irrelevant_files, item.files):
        own_files = {path for project, path in built.defining_files if project == item.project}
        if not (built.match_on_config_updates and (edits_config or own_files & set(item.files))):
            return None
    if built.abstract:
        errors.append(
            ConfigError(
                first.where, "the job is abstract; it can only be inherited from", "jobs", context
            )
        )
        return None
    trusted_use = any(m.origin.trusted for m in mentions)
    if built.allowed is not None and not trusted_use and item.project not in built.allowed:
        errors.append(
            ConfigError(
                first.where,
                f"{item.project} is not allowed to run this job (allowed-projects)",
                "jobs",
                context,
            )
        )
        return None
    if built.post_review and not pipeline.post_review:
        errors.append(
            ConfigError(
                first.where,
                "the job is post-review (it uses a secret or sets post-review); "
                f'the pipeline "{pipeline.name}" runs before review',
                "jobs",
                context,
                hint="run it in a post-review pipeline such as gate or post",
            )
        )
        return None
    return built.job


def _inline(variant: JobDef, name: str) -> JobDef:
    variant = strip_inline(variant)
    return variant if variant.name == name else dataclasses.replace(variant, name=name)


def _order(frozen: dict[str, FrozenJob], errors: list[ConfigError]) -> tuple[FrozenJob, ...]:
    """Drop soft dependencies on jobs that do not run, report hard ones, and
    order the jobs so each follows its dependencies (project order otherwise)."""
    kept: dict[str, FrozenJob] = {}
    for name, job in frozen.items():
        dependencies = []
        for dependency in job.dependencies:
            if dependency.name in frozen:
                dependencies.append(dependency)
            elif not dependency.soft:
                where = dependency.where if dependency.where.mark.line else job.where
                errors.append(
                    ConfigError(
                        where,
                        f'the job depends on "{dependency.name}", which does not run for this item',
                        "dependencies",
                        f'job "{name}"',
                        hint="make the dependency soft, or run that job too",
                    )
                )
        if len(dependencies) != len(job.dependencies):
            kept[name] = dataclasses.replace(job, dependencies=tuple(dependencies))
        else:
            kept[name] = job
    placed: dict[str, FrozenJob] = {}
    pending = list(kept)
    while pending:
        progress = False
        rest = []
        for name in pending:
            job = kept[name]
            if all(d.name in placed for d in job.dependencies):
                placed[name] = job
                progress = True
            else:
                rest.append(name)
        pending = rest
        if not progress:
            cycle = _dependency_cycle(kept, set(pending))
            job = kept[cycle[0]]
            errors.append(
                ConfigError(
                    job.where,
                    "the job dependencies loop: " + " -> ".join(cycle),
                    "dependencies",
                    f'job "{cycle[0]}"',
                    hint="remove one of the dependencies of the loop",
                )
            )
            break
    return tuple(placed.values())


def _dependency_cycle(jobs: Mapping[str, FrozenJob], stuck: set[str]) -> list[str]:
    node = next(iter(n for n in jobs if n in stuck))
    path: list[str] = []
    while node not in path:
        path.append(node)
        node = next(d.name for d in jobs[node].dependencies if d.name in stuck)
    return [*path[path.index(node) :], node]
