"""The layers of a tenant indexed together, with the errors of their references.

Definitions are indexed in tenant load order (config projects first). Each
kind of problem drops only the broken object, so the rest still loads:

- a job variant from another project than the job's first definition
  (Zuul keeps every variant of a job in one project);
- a job whose parent is not defined, cannot be loaded, is final, is
  protected in another project, is intermediate while the child is not
  abstract, or whose parent chain loops back to itself;
- a job naming a nodeset or secret that is not defined (a secret must be
  the job's own project's);
- in a project stanza or a template: a template, pipeline or job that is
  not defined (the reference is dropped, the stanza stays).

A reference to something that is not defined is reported once per missing
name and per project, at its first use, with the count of the others.
Undefined semaphores are not errors: Zuul gives them a max of 1.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lockgate.core.config.layers import (
    JobVariant,
    Layer,
    Origin,
    ProjectStanza,
    nodeset_size,
)
from lockgate.core.config.objects import (
    JobDef,
    JobUse,
    NodesetDef,
    PipelineDef,
    ProjectDef,
    ProjectPipelineDef,
    ProjectTemplateDef,
    QueueDef,
    SecretDef,
    SemaphoreDef,
)
from lockgate.core.config.source import ConfigError, Where
from lockgate.core.config.tenants import TenantDef


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


@dataclass(slots=True)
class Index:
    pipelines: dict[str, PipelineDef] = field(default_factory=dict)
    nodesets: dict[str, NodesetDef] = field(default_factory=dict)
    secrets: dict[str, tuple[Origin, SecretDef]] = field(default_factory=dict)
    semaphores: dict[str, SemaphoreDef] = field(default_factory=dict)
    queues: dict[str, QueueDef] = field(default_factory=dict)
    jobs: dict[str, list[JobVariant]] = field(default_factory=dict)
    templates: dict[str, list[ResolvedTemplate]] = field(default_factory=dict)
    stanzas: dict[str, list[ResolvedStanza]] = field(default_factory=dict)
    # untrusted projects with config on more than one branch: their job
    # definitions carry an implied branch matcher
    multi_branch: frozenset[str] = frozenset()
    errors: list[ConfigError] = field(default_factory=list)


class _Missing:
    """Collects references to undefined names: one error per (project, kind, name)."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, str, str], ConfigError] = {}
        self._count: dict[tuple[str, str, str], int] = {}

    def add(self, project: str, kind: str, name: str, error: ConfigError) -> None:
        key = (project, kind, name)
        if key not in self._first:
            self._first[key] = error
            self._count[key] = 1
        else:
            self._count[key] += 1

    def errors(self) -> list[ConfigError]:
        out = []
        for key, error in self._first.items():
            more = self._count[key] - 1
            if more:
                hint = f"{error.hint}; " if error.hint else ""
                plural = "s" if more > 1 else ""
                hint += f"{more} more use{plural} in {key[0]} dropped too"
                out.append(dataclasses.replace(error, hint=hint))
            else:
                out.append(error)
        return out


def build_index(tenant: TenantDef, layers: Sequence[Layer]) -> Index:
    index = Index()
    missing = _Missing()
    errors: list[ConfigError] = []
    for layer in layers:
        errors.extend(layer.errors)
    _index_simple(index, layers, errors)
    defined = _index_jobs(index, layers, errors)
    _check_jobs(tenant, index, defined, missing, errors)
    _index_templates(index, layers, defined, missing, errors)
    _index_stanzas(index, layers, defined, missing, errors)
    branches: dict[str, set[str]] = {}
    for layer in layers:
        if not layer.project.trusted:
            branches.setdefault(layer.project.name, set()).add(layer.branch)
    index.multi_branch = frozenset(p for p, b in branches.items() if len(b) > 1)
    errors.extend(missing.errors())
    index.errors = errors
    return index


def _duplicate(where: Where, kind: str, name: str, first: Origin) -> ConfigError:
    return ConfigError(
        where,
        f'{kind} "{name}" is already defined in {first.project} ({first.branch})',
        context=f'{kind} "{name}"',
        hint="give it another name, or remove one of the definitions",
    )


def _index_simple(index: Index, layers: Sequence[Layer], errors: list[ConfigError]) -> None:
    # The first definition of a name wins. The same name again on another
    # branch of the same project is that project's branch copy, not a clash.
    seen: dict[tuple[str, str], Origin] = {}

    def first(kind: str, name: str, where: Where, origin: Origin) -> bool:
        prior = seen.get((kind, name))
        if prior is None:
            seen[(kind, name)] = origin
            return True
        if prior.project != origin.project or prior.branch == origin.branch:
            errors.append(_duplicate(where, kind, name, prior))
        return False

    for layer in layers:
        origin = layer.origin
        for pipeline in layer.pipelines:
            if first("pipeline", pipeline.name, pipeline.where, origin):
                index.pipelines[pipeline.name] = pipeline
        for nodeset in layer.nodesets:
            if first("nodeset", nodeset.name, nodeset.where, origin):
                index.nodesets[nodeset.name] = nodeset
        for secret in layer.secrets:
            if first("secret", secret.name, secret.where, origin):
                index.secrets[secret.name] = (origin, secret)
        for semaphore in layer.semaphores:
            if first("semaphore", semaphore.name, semaphore.where, origin):
                index.semaphores[semaphore.name] = semaphore
        for queue in layer.queues:
            if first("queue", queue.name, queue.where, origin):
                index.queues[queue.name] = queue


def _index_jobs(index: Index, layers: Sequence[Layer], errors: list[ConfigError]) -> set[str]:
    """Every variant under its name; returns every name that was defined."""
    for layer in layers:
        for variant in layer.jobs:
            name = variant.job.name
            variants = index.jobs.get(name)
            if variants is None:
                index.jobs[name] = [variant]
                continue
            owner = variants[0].origin
            if owner.project != variant.origin.project:
                errors.append(
                    ConfigError(
                        variant.job.where,
                        f'job "{name}" is already defined in {owner.project}; '
                        "every variant of a job must be defined in the same project",
                        context=f'job "{name}"',
                        hint="give this job another name, or inherit from it with `parent`",
                    )
                )
                continue
            variants.append(variant)
    return set(index.jobs)


def effective_parent(tenant: TenantDef, job: JobDef) -> str | None:
    """The parent a variant names, or the tenant's default parent when it
    names none (a default parent never inherits from itself)."""
    if job.is_base:
        return None
    if job.parent is not None:
        return job.parent
    if job.name == tenant.default_parent:
        return None
    return tenant.default_parent


def _check_jobs(
    tenant: TenantDef,
    index: Index,
    defined: set[str],
    missing: _Missing,
    errors: list[ConfigError],
) -> None:
    children: dict[str, list[JobVariant]] = {}
    parents_of: dict[int, str | None] = {}
    for variants in index.jobs.values():
        for variant in variants:
            parent = effective_parent(tenant, variant.job)
            parents_of[id(variant)] = parent
            if parent is not None:
                children.setdefault(parent, []).append(variant)
    dropped: set[int] = set()
    touched: set[str] = set()

    def drop(variant: JobVariant, error: ConfigError | None) -> None:
        dropped.add(id(variant))
        touched.add(variant.job.name)
        if error is not None:
            errors.append(error)

    flags = _parent_flags(index)
    for variants in index.jobs.values():
        for variant in variants:
            _check_variant(
                tenant,
                index,
                variant,
                parent=parents_of[id(variant)],
                flags=flags,
                missing=missing,
                drop=drop,
            )
    emptied = _prune(index, dropped, touched)
    for cycle_variant, cycle in _parent_cycles(index, parents_of):
        drop(
            cycle_variant,
            ConfigError(
                cycle_variant.job.where,
                "the parent chain loops back to this job: " + " -> ".join(cycle),
                attribute="parent",
                context=f'job "{cycle_variant.job.name}"',
                hint="one job of the loop must inherit from another job",
            ),
        )
    emptied |= _prune(index, dropped, touched)
    # A job that lost every variant takes its children with it.
    while emptied:
        name = emptied.pop()
        for child in children.get(name, ()):
            if id(child) in dropped:
                continue
            drop(child, None)
            missing.add(
                child.origin.project,
                "job",
                name,
                ConfigError(
                    child.job.where,
                    f'the parent job "{name}" could not be loaded; see its own error',
                    attribute="parent",
                    context=f'job "{child.job.name}"',
                ),
            )
        emptied |= _prune(index, dropped, touched)
    del defined


def _prune(index: Index, dropped: set[int], touched: set[str]) -> set[str]:
    emptied: set[str] = set()
    for name in touched:
        variants = index.jobs.get(name)
        if variants is None:
            continue
        kept = [v for v in variants if id(v) not in dropped]
        if len(kept) != len(variants):
            if kept:
                index.jobs[name] = kept
            else:
                del index.jobs[name]
                emptied.add(name)
    touched.clear()
    return emptied


@dataclass(frozen=True, slots=True)
class _Flags:
    """What a child needs to know of its parent's variants."""

    owner: str
    final: bool
    protected: bool
    intermediate: bool


def _parent_flags(index: Index) -> dict[str, _Flags]:
    out = {}
    for name, variants in index.jobs.items():
        final = protected = intermediate = False
        for variant in variants:
            job = variant.job
            final = final or bool(job.final)
            protected = protected or bool(job.protected)
            intermediate = intermediate or bool(job.intermediate)
        out[name] = _Flags(variants[0].origin.project, final, protected, intermediate)
    return out


def _check_variant(
    tenant: TenantDef,
    index: Index,
    variant: JobVariant,
    *,
    parent: str | None,
    flags: Mapping[str, _Flags],
    missing: _Missing,
    drop: Callable[[JobVariant, ConfigError | None], None],
) -> None:
    job = variant.job
    project = variant.origin.project
    context = f'job "{job.name}"'
    if parent is not None:
        parent_flags = flags.get(parent)
        if parent_flags is None:
            drop(variant, None)
            missing.add(
                project, "job", parent, _undefined_job(job.where, parent, context, "parent")
            )
            return
        problem = _parent_problem(variant, parent, parent_flags)
        if problem is not None:
            drop(variant, ConfigError(job.where, problem, attribute="parent", context=context))
            return
    if isinstance(job.nodeset, str):
        nodeset = index.nodesets.get(job.nodeset)
        if nodeset is None:
            drop(variant, None)
            missing.add(
                project,
                "nodeset",
                job.nodeset,
                _undefined(job.where, "nodeset", job.nodeset, context),
            )
            return
        count = nodeset_size(nodeset)
        if count > tenant.max_nodes_per_job:
            drop(
                variant,
                ConfigError(
                    job.where,
                    f'the nodeset "{job.nodeset}" has {count} nodes; '
                    f"the tenant allows {tenant.max_nodes_per_job}",
                    attribute="nodeset",
                    context=context,
                ),
            )
            return
    for use in job.secrets or ():
        entry = index.secrets.get(use.secret)
        if entry is None:
            drop(variant, None)
            missing.add(
                project,
                "secret",
                use.secret,
                _undefined(
                    use.where if use.where.mark.line else job.where, "secret", use.secret, context
                ),
            )
            return
        if entry[0].project != project:
            drop(
                variant,
                ConfigError(
                    use.where if use.where.mark.line else job.where,
                    f'the secret "{use.secret}" is defined in {entry[0].project}; '
                    "a job may only use secrets of its own project",
                    attribute="secrets",
                    context=context,
                ),
            )
            return


def _parent_problem(variant: JobVariant, parent: str, flags: _Flags) -> str | None:
    if flags.final:
        return f'the parent job "{parent}" is final; no job may inherit from it'
    if flags.protected and flags.owner != variant.origin.project:
        owner = flags.owner
        return f'the parent job "{parent}" is protected; only jobs of {owner} may inherit from it'
    if flags.intermediate and variant.job.abstract is not True:
        return (
            f'the parent job "{parent}" is intermediate; only an abstract job may inherit from it'
        )
    return None


def _undefined_job(where: Where, name: str, context: str, attribute: str) -> ConfigError:
    return ConfigError(
        where,
        f'job "{name}" is not defined in this tenant',
        attribute=attribute,
        context=context,
        hint="it may come from a project the tenant does not load, or be misspelt",
    )


def _undefined(where: Where, kind: str, name: str, context: str) -> ConfigError:
    return ConfigError(
        where,
        f'{kind} "{name}" is not defined in this tenant',
        attribute=kind if kind != "secret" else "secrets",
        context=context,
        hint="define it, or fix the name",
    )


def _parent_cycles(
    index: Index, parents_of: Mapping[int, str | None]
) -> list[tuple[JobVariant, list[str]]]:
    """Variants whose parent is in a loop of parents, with the loop."""
    graph: dict[str, list[str]] = {}
    for name, variants in index.jobs.items():
        parents: list[str] = []
        for variant in variants:
            parent = parents_of[id(variant)]
            if parent is not None and parent in index.jobs and parent not in parents:
                parents.append(parent)
        graph[name] = parents
    out: list[tuple[JobVariant, list[str]]] = []
    for component in looping_components(graph):
        members = set(component)
        cycle = find_cycle(graph, component[0], members)
        for name in component:
            for variant in index.jobs[name]:
                if parents_of[id(variant)] in members:
                    out.append((variant, cycle))
    return out


def looping_components(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The strongly connected components that hold a loop. Most jobs have one
    parent, so chains that reach a job already known to be outside any loop
    are settled without Tarjan's bookkeeping."""
    settled: set[str] = set()  # reach a base job without a loop: on no loop
    suspects: set[str] = set()
    for root in graph:
        if root in settled or root in suspects:
            continue
        walk: list[str] = []
        on_walk: set[str] = set()
        node: str | None = root
        while node is not None and node not in settled:
            parents = graph.get(node, ())
            if node in on_walk or node in suspects or len(parents) > 1:
                suspects.update(walk)
                suspects.add(node)
                break
            walk.append(node)
            on_walk.add(node)
            node = parents[0] if parents else None
        else:
            settled.update(walk)
    if not suspects:
        return []
    sub = {n: [p for p in graph.get(n, ()) if p in suspects] for n in suspects}
    return [c for c in strongly_connected(sub) if len(c) > 1 or c[0] in sub[c[0]]]


def strongly_connected(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so that deep chains do not recurse."""
    counter = 0
    indexes: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in graph:
        if root in indexes:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                indexes[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph.get(node, ())
            recursed = False
            while i < len(edges):
                target = edges[i]
                i += 1
                if target not in indexes:
                    work.append((node, i))
                    work.append((target, 0))
                    recursed = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], indexes[target])
            if recursed:
                continue
            if low[node] == indexes[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def find_cycle(graph: Mapping[str, Sequence[str]], start: str, members: set[str]) -> list[str]:
    """A path start -> ... -> start inside one strongly connected component."""
    path = [start]
    seen = {start}
    node = start
    while True:
        nxt = next((t for t in graph.get(node, ()) if t in members), None)
        if nxt is None:
            return path
        path.append(nxt)
        if nxt == start or nxt in seen:
            return path[path.index(nxt) :] if nxt != start else path
        seen.add(nxt)
        node = nxt


def _resolve_pipelines(
    index: Index,
    pipelines: Mapping[str, ProjectPipelineDef],
    origin: Origin,
    *,
    context: str,
    defined: set[str],
    missing: _Missing,
) -> dict[str, ProjectPipelineDef]:
    out: dict[str, ProjectPipelineDef] = {}
    for name, section in pipelines.items():
        if name not in index.pipelines:
            missing.add(
                origin.project,
                "pipeline",
                name,
                _undefined(section.where, "pipeline", name, context),
            )
            continue
        jobs = tuple(
            use
            for use in section.jobs
            if _use_ok(index, use, origin, context=context, defined=defined, missing=missing)
        )
        out[name] = (
            section if len(jobs) == len(section.jobs) else dataclasses.replace(section, jobs=jobs)
        )
    return out


def _use_ok(
    index: Index, use: JobUse, origin: Origin, *, context: str, defined: set[str], missing: _Missing
) -> bool:
    if use.name not in index.jobs:
        if use.name in defined:
            error = ConfigError(
                use.where,
                f'job "{use.name}" could not be loaded; see its own error',
                attribute="jobs",
                context=context,
            )
        else:
            error = _undefined_job(use.where, use.name, context, "jobs")
        missing.add(origin.project, "job", use.name, error)
        return False
    variant = use.variant
    if (
        variant is not None
        and isinstance(variant.nodeset, str)
        and variant.nodeset not in index.nodesets
    ):
        missing.add(
            origin.project,
            "nodeset",
            variant.nodeset,
            _undefined(use.where, "nodeset", variant.nodeset, f'job "{use.name}"'),
        )
        return False
    return True


def _index_templates(
    index: Index,
    layers: Sequence[Layer],
    defined: set[str],
    missing: _Missing,
    errors: list[ConfigError],
) -> None:
    for layer in layers:
        for template in layer.templates:
            name = template.definition.name
            variants = index.templates.setdefault(name, [])
            if variants and variants[0].origin.project != template.origin.project:
                errors.append(
                    _duplicate(
                        template.definition.where, "project-template", name, variants[0].origin
                    )
                )
                continue
            pipelines = _resolve_pipelines(
                index,
                template.definition.pipelines,
                template.origin,
                context=f'project-template "{name}"',
                defined=defined,
                missing=missing,
            )
            variants.append(ResolvedTemplate(template.definition, template.origin, pipelines))


def _index_stanzas(
    index: Index,
    layers: Sequence[Layer],
    defined: set[str],
    missing: _Missing,
    errors: list[ConfigError],
) -> None:
    resolved: dict[int, tuple[tuple[str, ...], dict[str, ProjectPipelineDef]]] = {}
    for layer in layers:
        for stanza in layer.stanzas:
            key = id(stanza.definition)
            if key not in resolved:
                # A regex stanza applies to many projects; its references are checked once.
                resolved[key] = _resolve_stanza(index, stanza, defined, missing)
            templates, pipelines = resolved[key]
            index.stanzas.setdefault(stanza.project, []).append(
                ResolvedStanza(
                    stanza.project, stanza.definition, stanza.origin, templates, pipelines
                )
            )


def _resolve_stanza(
    index: Index, stanza: ProjectStanza, defined: set[str], missing: _Missing
) -> tuple[tuple[str, ...], dict[str, ProjectPipelineDef]]:
    definition = stanza.definition
    context = f'project "{definition.name or stanza.project}"'
    templates = []
    for name in definition.templates:
        if name in index.templates:
            templates.append(name)
        else:
            missing.add(
                stanza.origin.project,
                "project-template",
                name,
                _undefined(definition.where, "project-template", name, context),
            )
    pipelines = _resolve_pipelines(
        index,
        definition.pipelines,
        stanza.origin,
        context=context,
        defined=defined,
        missing=missing,
    )
    return tuple(templates), pipelines


def iter_variants(index: Index) -> Iterable[JobVariant]:
    for variants in index.jobs.values():
        yield from variants
