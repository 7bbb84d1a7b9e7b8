"""The layers of a tenant indexed together, with the errors of their references.

Definitions are indexed in tenant load order (config projects first). Each
kind of problem drops only the broken object, so the rest still loads:
job definitions are checked against each other in `job_checks.py`, the
references of project stanzas and templates in `references.py`, and the
names of the other kinds here (the first definition of a name wins).

A reference to something that is not defined is reported once per missing
name and per project, at its first use in load order, with the count of
the others. Undefined semaphores are not errors: Zuul gives them a max of 1.

Every tenant has Zuul's built-in `noop` job, unless it defines its own.

`update_index` builds the index of a speculative layout from the tenant's:
it re-checks only the jobs defined in the replaced layers and the jobs that
inherit from them, and resolves again only the layers whose references
name something that changed; the rest is shared with the tenant's index.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from lockgate.core.config.job_checks import (
    Definitions,
    JobChecks,
    MissingRef,
    check_names,
    dependants,
    effective_parent,
    set_variants,
)
from lockgate.core.config.layers import JobVariant, Layer, Origin
from lockgate.core.config.objects import (
    JobDef,
    NodesetDef,
    PipelineDef,
    QueueDef,
    SecretDef,
    SemaphoreDef,
)
from lockgate.core.config.references import (
    Known,
    LayerRefs,
    ResolvedStanza,
    ResolvedTemplate,
    resolve_layer,
)
from lockgate.core.config.source import ConfigError, Where
from lockgate.core.config.tenants import TenantDef

__all__ = [
    "Index",
    "ResolvedStanza",
    "ResolvedTemplate",
    "build_index",
    "effective_parent",
    "update_index",
]

LayerKey = tuple[str, str]

NOOP = "noop"
# Zuul's built-in job: it needs no nodes, no playbooks and no executor, and
# always succeeds (the scheduler finishes it by itself).
NOOP_VARIANT = JobVariant(
    JobDef(NOOP, is_base=True, description="A job that always succeeds"),
    Origin("", "", trusted=True),
)


@dataclass(slots=True)
class Index:
    layers: tuple[Layer, ...] = ()
    pipelines: dict[str, PipelineDef] = field(default_factory=dict)
    nodesets: dict[str, NodesetDef] = field(default_factory=dict)
    secrets: dict[str, tuple[Origin, SecretDef]] = field(default_factory=dict)
    semaphores: dict[str, SemaphoreDef] = field(default_factory=dict)
    queues: dict[str, QueueDef] = field(default_factory=dict)
    template_names: set[str] = field(default_factory=set)
    # the jobs that loaded, by name, with their variants in load order
    jobs: dict[str, list[JobVariant]] = field(default_factory=dict)
    templates: dict[str, list[ResolvedTemplate]] = field(default_factory=dict)
    stanzas: dict[str, list[ResolvedStanza]] = field(default_factory=dict)
    # untrusted projects with config on more than one branch: their job
    # definitions carry an implied branch matcher
    multi_branch: frozenset[str] = frozenset()
    errors: list[ConfigError] = field(default_factory=list)
    # what a speculative layout reuses
    checks: JobChecks = field(default_factory=JobChecks)
    refs: dict[LayerKey, LayerRefs] = field(default_factory=dict)
    refs_by_name: dict[tuple[str, str], frozenset[LayerKey]] = field(default_factory=dict)
    simple_errors: list[ConfigError] = field(default_factory=list)


def build_index(tenant: TenantDef, layers: Sequence[Layer]) -> Index:
    index = Index(layers=tuple(layers))
    _index_simple(index)
    checks = index.checks
    grouped: dict[str, list[JobVariant]] = {}
    for layer in layers:
        for variant in layer.jobs:
            grouped.setdefault(variant.job.name, []).append(variant)
    grouped.setdefault(NOOP, [NOOP_VARIANT])
    for name, variants in grouped.items():
        set_variants(tenant, checks, name, variants, shared=False)
    check_names(tenant, checks, dict.fromkeys(checks.raw), _definitions(index))
    index.jobs = checks.alive
    known = _known(index)
    for layer in layers:
        index.refs[layer.key] = resolve_layer(layer, known)
    by_name: dict[tuple[str, str], set[LayerKey]] = {}
    for key, refs in index.refs.items():
        for looked_up in refs.names:
            by_name.setdefault(looked_up, set()).add(key)
    index.refs_by_name = {looked_up: frozenset(keys) for looked_up, keys in by_name.items()}
    _finish(index)
    return index


def update_index(
    tenant: TenantDef, old: Index, layers: Sequence[Layer], replaced: Collection[LayerKey]
) -> Index:
    """The index of `layers`, which are `old.layers` with the layers of
    `replaced` rebuilt (or added)."""
    old_by_key = {layer.key: layer for layer in old.layers}
    removed = [old_by_key[key] for key in replaced if key in old_by_key]
    added = [layer for layer in layers if layer.key in replaced]
    changed = removed + added
    index = Index(layers=tuple(layers))
    _index_simple(index)

    checks = old.checks.copy()
    index.checks = checks
    new_variants: dict[str, list[JobVariant]] = {}
    for layer in added:
        for variant in layer.jobs:
            new_variants.setdefault(variant.job.name, []).append(variant)
    position = {layer.key: i for i, layer in enumerate(layers)}
    changed_jobs = dict.fromkeys(v.job.name for layer in changed for v in layer.jobs)
    for name in changed_jobs:
        kept = [
            v
            for v in old.checks.every.get(name, ())
            if (v.origin.project, v.origin.branch) not in replaced
        ]
        variants = sorted(
            kept + new_variants.get(name, []),
            key=lambda v: position.get((v.origin.project, v.origin.branch), len(position)),
        )
        if name == NOOP:
            # the tenant's own noop replaces the built-in one while it is defined
            variants = [v for v in variants if v is not NOOP_VARIANT] or [NOOP_VARIANT]
        set_variants(tenant, checks, name, variants)
    seeds = set(changed_jobs)
    for kind, names in (
        ("nodeset", {n.name for layer in changed for n in layer.nodesets}),
        ("secret", {s.name for layer in changed for s in layer.secrets}),
    ):
        for name in names:
            seeds |= checks.users.get((kind, name), set())
    affected = dependants(checks, seeds)
    ordered = {name: None for name in checks.raw if name in affected}
    ordered.update((name, None) for name in affected)
    check_names(tenant, checks, ordered, _definitions(index))
    index.jobs = checks.alive

    dirty_names = [("job", name) for name in affected]
    for layer in changed:
        dirty_names.extend(("project-template", t.definition.name) for t in layer.templates)
        dirty_names.extend(("pipeline", p.name) for p in layer.pipelines)
        dirty_names.extend(("nodeset", n.name) for n in layer.nodesets)
    dirty = {key for key in replaced if key in position}
    for looked_up in dirty_names:
        dirty |= old.refs_by_name.get(looked_up, frozenset())
    index.refs = {key: refs for key, refs in old.refs.items() if key in position}
    index.refs_by_name = dict(old.refs_by_name)
    known = _known(index)
    layer_by_key = {layer.key: layer for layer in layers}
    for key in dirty:
        previous = old.refs.get(key)
        if key in layer_by_key:
            index.refs[key] = resolve_layer(layer_by_key[key], known)
        _move_refs(index, key, previous, index.refs.get(key))
    for layer in removed:
        if layer.key not in position:
            _move_refs(index, layer.key, old.refs.get(layer.key), None)
    _finish(index)
    return index


def _move_refs(
    index: Index, key: LayerKey, before: LayerRefs | None, after: LayerRefs | None
) -> None:
    old_names = before.names if before is not None else set()
    new_names = after.names if after is not None else set()
    for name in old_names - new_names:
        index.refs_by_name[name] = index.refs_by_name.get(name, frozenset()) - {key}
    for name in new_names - old_names:
        index.refs_by_name[name] = index.refs_by_name.get(name, frozenset()) | {key}


def _definitions(index: Index) -> Definitions:
    return Definitions(index.nodesets, index.secrets)


def _known(index: Index) -> Known:
    return Known(
        jobs=index.checks.alive,
        defined_jobs=index.checks.raw,
        templates=index.template_names,
        pipelines=index.pipelines,
        nodesets=index.nodesets,
        flags=index.checks.flags,
    )


def _duplicate(where: Where, kind: str, name: str, first: Origin) -> ConfigError:
    return ConfigError(
        where,
        f'{kind} "{name}" is already defined in {first.project} ({first.branch})',
        context=f'{kind} "{name}"',
        hint="give it another name, or remove one of the definitions",
    )


def _index_simple(index: Index) -> None:
    # The first definition of a name wins. The same name again on another
    # branch of the same project is that project's branch copy, not a clash.
    seen: dict[tuple[str, str], Origin] = {}
    errors = index.simple_errors

    def first(kind: str, name: str, where: Where, origin: Origin) -> bool:
        prior = seen.get((kind, name))
        if prior is None:
            seen[(kind, name)] = origin
            return True
        if prior.project != origin.project or prior.branch == origin.branch:
            errors.append(_duplicate(where, kind, name, prior))
        return False

    for layer in index.layers:
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
        index.template_names.update(t.definition.name for t in layer.templates)


def _finish(index: Index) -> None:
    """Templates and stanzas in load order, branches, and every error."""
    template_errors: list[ConfigError] = []
    branches: dict[str, set[str]] = {}
    for layer in index.layers:
        refs = index.refs[layer.key]
        for template in refs.templates:
            name = template.definition.name
            variants = index.templates.setdefault(name, [])
            if variants and variants[0].origin.project != template.origin.project:
                where = template.definition.where
                template_errors.append(
                    _duplicate(where, "project-template", name, variants[0].origin)
                )
                continue
            variants.append(template)
        for stanza in refs.stanzas:
            index.stanzas.setdefault(stanza.project, []).append(stanza)
        if not layer.project.trusted:
            branches.setdefault(layer.project.name, set()).add(layer.branch)
    index.multi_branch = frozenset(p for p, b in branches.items() if len(b) > 1)

    checks = index.checks
    position = {layer.key: i for i, layer in enumerate(index.layers)}

    def place(error: ConfigError) -> tuple[int, int, int]:
        where = error.where
        layer = position.get((where.source.project, where.source.branch), len(position))
        return (layer, where.mark.line, where.mark.column)

    errors = [error for layer in index.layers for error in layer.errors]
    errors.extend(index.simple_errors)
    # in load order, whichever order the jobs were checked in
    job_errors = [e for errs in checks.ownership_errors.values() for e in errs]
    job_errors.extend(e for errs in checks.errors.values() for e in errs)
    job_errors.sort(key=lambda e: (place(e), e.context, e.message))
    errors.extend(job_errors)
    errors.extend(template_errors)
    for layer in index.layers:
        errors.extend(index.refs[layer.key].errors)
    missing = [ref for refs in checks.missing.values() for ref in refs]
    for layer in index.layers:
        missing.extend(index.refs[layer.key].missing)
    errors.extend(_missing_errors(missing, place))
    index.errors = errors


def _missing_errors(
    refs: Iterable[MissingRef], place: Callable[[ConfigError], tuple[int, int, int]]
) -> list[ConfigError]:
    """One error per (project, kind, name), at the first use in load order,
    with how many times it is used."""
    first: dict[tuple[str, str, str], MissingRef] = {}
    uses: dict[tuple[str, str, str], list[MissingRef]] = {}
    for ref in refs:
        key = (ref.project, ref.kind, ref.name)
        prior = first.get(key)
        if prior is None or place(ref.error) < place(prior.error):
            first[key] = ref
        uses.setdefault(key, []).append(ref)
    out = []
    ordered = sorted(first.items(), key=lambda i: (place(i[1].error), i[1].error.message))
    for key, ref in ordered:
        error = ref.error
        if len(uses[key]) > 1:
            error = dataclasses.replace(
                error, message=f"{error.message} (used {_count_uses(uses[key])}; first here)"
            )
        out.append(error)
    return out


_USE_PHRASES = (
    ("parent", "as a parent by {} job", "s"),
    ("nodeset", "by {} job", "s"),
    ("pipeline", "in {} project pipeline", "s"),
    ("template", "by {} project stanza", "s"),
    ("", "by {} job", "s"),
)


def _count_uses(refs: Sequence[MissingRef]) -> str:
    parts = []
    for use, phrase, plural in _USE_PHRASES:
        of_use = [r for r in refs if r.use == use]
        if not of_use:
            continue
        # jobs are counted once however many variants name it; pipelines per mention
        count = len(of_use) if use == "pipeline" else len({r.error.context for r in of_use})
        text = phrase.format(count) + (plural if count > 1 else "")
        if text not in parts:
            parts.append(text)
    return ", ".join(parts)
