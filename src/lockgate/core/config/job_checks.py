"""The checks of job definitions against each other, kept per job name.

Every variant of a job must be in one project; a variant's parent must be
loadable, not final, not protected in another project, not intermediate
unless the child is abstract, and not lead back to the job; its secrets
must be defined in its own project. A variant that fails is dropped; a job
that loses every variant takes its children with it.

A parent or nodeset that is not defined at all is not the variant's own
fault (it usually lives in a project the tenant does not load, such as
zuul-jobs): the variant loads, the missing name is reported once as the
root cause, and freezing a job that needs it is a `ConfigProblem`.

The results are kept by job name (`JobChecks`) so that a speculative
layout re-checks only the jobs whose definitions changed and the jobs that
inherit from them (`check_names` over that closure); everything else is
reused as it stands.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from lockgate.core.config.cycles import find_cycle, looping_components
from lockgate.core.config.layers import JobVariant, Origin, nodeset_size
from lockgate.core.config.objects import JobDef, NodesetDef, SecretDef
from lockgate.core.config.source import ConfigError, Where
from lockgate.core.config.tenants import TenantDef


@dataclass(frozen=True, slots=True)
class MissingRef:
    """A reference to a name that is not defined (or could not be loaded)."""

    project: str
    kind: str
    name: str
    error: ConfigError
    # how it is used: "parent", "nodeset", "pipeline" (named in a project
    # pipeline) or "template" (named by a project stanza); "" for the rest
    use: str = ""


# What a final job's later variants, and another project's variants of a
# protected job, may not set (Zuul's execution attributes). `voting`,
# `dependencies`, `files`, `branches`, `tags` and the like stay settable.
EXECUTION_ATTRIBUTES = (
    "timeout",
    "post_timeout",
    "nodeset",
    "attempts",
    "pre_run",
    "run",
    "post_run",
    "cleanup_run",
    "roles",
    "vars",
    "extra_vars",
    "host_vars",
    "group_vars",
    "required_projects",
    "allowed_projects",
    "override_checkout",
    "semaphores",
    "secrets",
    "ansible_version",
    "workspace_scheme",
)


_Drop = Callable[[JobVariant, ConfigError | None, "MissingRef | None"], None]
_Note = Callable[[str, "MissingRef"], None]


@dataclass(frozen=True, slots=True)
class Flags:
    """What a child needs to know of its parent's variants."""

    owner: str
    final: bool
    protected: bool
    intermediate: bool
    sealed: bool = False  # final on every branch: a variant without `branches` is final


@dataclass(slots=True)
class JobChecks:
    # every variant under its name, in load order, before the ownership check
    every: dict[str, list[JobVariant]] = field(default_factory=dict)
    # the variants of the owning project
    raw: dict[str, list[JobVariant]] = field(default_factory=dict)
    ownership_errors: dict[str, list[ConfigError]] = field(default_factory=dict)
    parents_of: dict[int, str | None] = field(default_factory=dict)  # id(variant) -> parent
    children: dict[str, list[JobVariant]] = field(default_factory=dict)
    flags: dict[str, Flags] = field(default_factory=dict)
    users: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (kind, name) -> jobs
    # the outcome: the variants that loaded, and each job's errors
    alive: dict[str, list[JobVariant]] = field(default_factory=dict)
    errors: dict[str, list[ConfigError]] = field(default_factory=dict)
    missing: dict[str, list[MissingRef]] = field(default_factory=dict)

    def copy(self) -> JobChecks:
        """A copy whose dicts can be changed; the lists in them are shared and
        must be replaced, not changed."""
        return JobChecks(
            dict(self.every),
            dict(self.raw),
            dict(self.ownership_errors),
            dict(self.parents_of),
            dict(self.children),
            dict(self.flags),
            dict(self.users),
            dict(self.alive),
            dict(self.errors),
            dict(self.missing),
        )


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


def set_variants(
    tenant: TenantDef,
    checks: JobChecks,
    name: str,
    variants: list[JobVariant],
    *,
    shared: bool = True,
) -> None:
    """Record the definitions of `name` (in load order), replacing earlier ones.
    `shared`: the lists and sets in `checks` are shared with another index,
    so they are replaced rather than changed."""
    for variant in checks.every.get(name, ()):
        parent = checks.parents_of.get(id(variant))
        if parent is not None and parent in checks.children:
            checks.children[parent] = [c for c in checks.children[parent] if c is not variant]
        _unuse(checks, variant)
    if not variants:
        for table in (checks.every, checks.raw, checks.ownership_errors, checks.flags):
            table.pop(name, None)
        return
    checks.every[name] = variants
    owner = variants[0].origin.project
    kept = [v for v in variants if v.origin.project == owner]
    checks.raw[name] = kept
    checks.ownership_errors[name] = [
        ConfigError(
            v.job.where,
            f'job "{name}" is already defined in {owner}; '
            "every variant of a job must be defined in the same project",
            context=f'job "{name}"',
            hint="give this job another name, or inherit from it with `parent`",
        )
        for v in variants
        if v.origin.project != owner
    ]
    final = protected = intermediate = sealed = False
    for variant in kept:
        job = variant.job
        final = final or bool(job.final)
        sealed = sealed or (bool(job.final) and not job.branches)
        protected = protected or bool(job.protected)
        intermediate = intermediate or bool(job.intermediate)
        parent = effective_parent(tenant, job)
        checks.parents_of[id(variant)] = parent
        if parent is None:
            pass
        elif shared:
            checks.children[parent] = [*checks.children.get(parent, ()), variant]
        else:
            checks.children.setdefault(parent, []).append(variant)
        _use(checks, variant, shared)
    checks.flags[name] = Flags(owner, final, protected, intermediate, sealed)


def _references(variant: JobVariant) -> Iterable[tuple[str, str]]:
    job = variant.job
    if isinstance(job.nodeset, str):
        yield ("nodeset", job.nodeset)
    for use in job.secrets or ():
        yield ("secret", use.secret)


def _use(checks: JobChecks, variant: JobVariant, shared: bool) -> None:
    for key in _references(variant):
        if shared:
            checks.users[key] = checks.users.get(key, set()) | {variant.job.name}
        else:
            checks.users.setdefault(key, set()).add(variant.job.name)


def _unuse(checks: JobChecks, variant: JobVariant) -> None:
    for key in _references(variant):
        users = checks.users.get(key)
        if users is not None and variant.job.name in users:
            checks.users[key] = users - {variant.job.name}


def dependants(checks: JobChecks, names: Iterable[str]) -> set[str]:
    """`names` and every job that inherits from one of them, at any depth."""
    out = set(names)
    frontier = list(out)
    while frontier:
        name = frontier.pop()
        for child in checks.children.get(name, ()):
            if child.job.name not in out:
                out.add(child.job.name)
                frontier.append(child.job.name)
    return out


@dataclass(frozen=True, slots=True)
class Definitions:
    """The other objects job definitions refer to."""

    nodesets: Mapping[str, NodesetDef]
    secrets: Mapping[str, tuple[Origin, SecretDef]]


def check_names(
    tenant: TenantDef, checks: JobChecks, names: Collection[str], defs: Definitions
) -> None:
    """Check the variants of `names` (a set closed under inheritance: every
    job inheriting from one of them is in it) and record the outcome."""
    dropped: set[int] = set()
    touched: set[str] = set()
    for name in names:
        checks.errors.pop(name, None)
        checks.missing.pop(name, None)
        variants = checks.raw.get(name)
        if variants:
            checks.alive[name] = variants
        else:
            checks.alive.pop(name, None)

    def drop(variant: JobVariant, error: ConfigError | None, missing: MissingRef | None) -> None:
        dropped.add(id(variant))
        name = variant.job.name
        touched.add(name)
        if error is not None:
            checks.errors.setdefault(name, []).append(error)
        if missing is not None:
            checks.missing.setdefault(name, []).append(missing)

    def note(name: str, missing: MissingRef) -> None:
        # a root cause that does not drop the variant
        checks.missing.setdefault(name, []).append(missing)

    # A parent outside `names` that did not load stays so; its children here follow it.
    emptied: set[str] = set()
    for name in names:
        for variant in checks.raw.get(name, ()):
            parent = checks.parents_of[id(variant)]
            if parent is None or parent in names:
                pass
            elif parent in checks.raw and parent not in checks.alive:
                emptied.add(parent)
            _check_variant(tenant, checks, variant, defs, drop=drop, note=note)
    emptied |= _prune(checks, dropped, touched)
    for variant, cycle in _parent_cycles(checks, names):
        drop(
            variant,
            ConfigError(
                variant.job.at("parent"),
                "the parent chain loops back to this job: " + " -> ".join(cycle),
                attribute="parent",
                context=f'job "{variant.job.name}"',
                hint="one job of the loop must inherit from another job",
            ),
            None,
        )
    emptied |= _prune(checks, dropped, touched)
    while emptied:
        parent = emptied.pop()
        for child in checks.children.get(parent, ()):
            if id(child) in dropped or child.job.name not in names:
                continue
            error = ConfigError(
                child.job.at("parent"),
                f'the parent job "{parent}" could not be loaded; see its own error',
                attribute="parent",
                context=f'job "{child.job.name}"',
            )
            drop(child, None, MissingRef(child.origin.project, "job", parent, error))
        emptied |= _prune(checks, dropped, touched)


def _prune(checks: JobChecks, dropped: set[int], touched: set[str]) -> set[str]:
    emptied: set[str] = set()
    for name in touched:
        variants = checks.alive.get(name)
        if variants is None:
            continue
        kept = [v for v in variants if id(v) not in dropped]
        if len(kept) != len(variants):
            if kept:
                checks.alive[name] = kept
            else:
                del checks.alive[name]
                emptied.add(name)
    touched.clear()
    return emptied


def _check_variant(
    tenant: TenantDef,
    checks: JobChecks,
    variant: JobVariant,
    defs: Definitions,
    *,
    drop: _Drop,
    note: _Note,
) -> None:
    job = variant.job
    project = variant.origin.project
    context = f'job "{job.name}"'
    parent = checks.parents_of[id(variant)]
    if parent is not None:
        flags = checks.flags.get(parent)
        if flags is None:
            error = undefined_job(job.at("parent"), parent, context, "parent")
            note(job.name, MissingRef(project, "job", parent, error, "parent"))
        problem = None if flags is None else _parent_problem(variant, parent, flags)
        if problem is not None:
            drop(
                variant,
                ConfigError(job.at("parent"), problem, attribute="parent", context=context),
                None,
            )
            return
    if isinstance(job.nodeset, str):
        nodeset = defs.nodesets.get(job.nodeset)
        if nodeset is None:
            error = undefined(job.at("nodeset"), "nodeset", job.nodeset, context)
            note(job.name, MissingRef(project, "nodeset", job.nodeset, error, "nodeset"))
        count = 0 if nodeset is None else nodeset_size(nodeset)
        if count > tenant.max_nodes_per_job:
            message = (
                f'the nodeset "{job.nodeset}" has {count} nodes; '
                f"the tenant allows {tenant.max_nodes_per_job}"
            )
            drop(
                variant,
                ConfigError(job.at("nodeset"), message, attribute="nodeset", context=context),
                None,
            )
            return
    for use in job.secrets or ():
        where = use.where if use.where.mark.line else job.at("secrets")
        entry = defs.secrets.get(use.secret)
        if entry is None:
            error = undefined(where, "secret", use.secret, context)
            drop(variant, None, MissingRef(project, "secret", use.secret, error))
            return
        if entry[0].project != project:
            message = (
                f'the secret "{use.secret}" is defined in {entry[0].project}; '
                "a job may only use secrets of its own project"
            )
            drop(variant, ConfigError(where, message, attribute="secrets", context=context), None)
            return


def _parent_problem(variant: JobVariant, parent: str, flags: Flags) -> str | None:
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


def undefined_job(where: Where, name: str, context: str, attribute: str) -> ConfigError:
    return ConfigError(
        where,
        f'job "{name}" is not defined in this tenant',
        attribute=attribute,
        context=context,
        hint="it may come from a project the tenant does not load, or be misspelt",
    )


def undefined(where: Where, kind: str, name: str, context: str) -> ConfigError:
    return ConfigError(
        where,
        f'{kind} "{name}" is not defined in this tenant',
        attribute=kind if kind != "secret" else "secrets",
        context=context,
        hint="define it, or fix the name",
    )


def _parent_cycles(checks: JobChecks, names: Collection[str]) -> list[tuple[JobVariant, list[str]]]:
    """Variants of `names` whose parent is in a loop of parents, with the loop.
    A loop through a changed job lies wholly in the jobs inheriting from it,
    so looking inside `names` is enough."""
    graph: dict[str, list[str]] = {}
    alive = checks.alive
    for name in names:
        variants = alive.get(name)
        if variants is None:
            continue
        parents: list[str] = []
        for variant in variants:
            parent = checks.parents_of[id(variant)]
            if parent is not None and parent in alive and parent in names and parent not in parents:
                parents.append(parent)
        graph[name] = parents
    out: list[tuple[JobVariant, list[str]]] = []
    for component in looping_components(graph):
        members = set(component)
        # named from its first name, so that the message does not depend on check order
        cycle = find_cycle(graph, min(component), members)
        for name in component:
            for variant in alive[name]:
                if checks.parents_of[id(variant)] in members:
                    out.append((variant, cycle))
    return out
