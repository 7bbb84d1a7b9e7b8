"""Freezing one job for one item: its parents and variants, combined as Zuul does.

The variants that apply are collected parent first (`collect_variants`,
Zuul's `collectJobs`): for each matching variant of a job, its parent's
matching variants come before it, so a job's attributes are laid down from
its base job outwards; a later variant may name another parent, whose
variants are then collected too. `JobBuilder.apply` then lays each variant
over what is there:

- single values are replaced; `abstract`, `intermediate` and `final` stay
  set across variants of one job and start unset in a child; `protected`
  and `post-review` can never be unset;
- `vars`, `extra-vars`, `host-vars`, `group-vars` are deep-merged;
  `tags`, `provides`, `requires`, `required-projects`, `failure-output`
  are combined without duplicates; `dependencies`, `files`,
  `irrelevant-files` are replaced (`!inherit` / `!override` change each of
  these); `semaphores` are always combined; `allowed-projects` intersected;
- `pre-run` is appended (parents run first), `post-run` and `cleanup-run`
  prepended (children run first), `run` replaced; every playbook keeps the
  roles known at its level and the secrets of the variant that defined it
  (plus those a child passes to its parents);
- a final job may not be inherited from, nor have an execution attribute
  changed by a later variant; a protected job may be neither, from another
  project; an untrusted secret makes the job post-review and allowed only
  to its own project.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lockgate.core.config.frozen import (
    DEFAULT_ATTEMPTS,
    NO_NODES,
    FrozenJob,
    FrozenPlaybook,
    FrozenSecret,
)
from lockgate.core.config.index import Index, effective_parent
from lockgate.core.config.job_checks import EXECUTION_ATTRIBUTES
from lockgate.core.config.layers import JobVariant, Origin
from lockgate.core.config.matchers import ItemContext, branch_matches
from lockgate.core.config.objects import (
    JobDef,
    JobDependency,
    NodesetDef,
    PlaybookRef,
    RequiredProject,
    RoleRef,
)
from lockgate.core.config.source import NOWHERE, ConfigError, Where
from lockgate.core.config.tenants import TenantDef

_REPLACED = (
    "description",
    "voting",
    "attempts",
    "timeout",
    "post_timeout",
    "hold_following_changes",
    "override_checkout",
    "workspace_scheme",
    "deduplicate",
    "ansible_version",
    "match_on_config_updates",
)
_COMBINED = ("tags", "provides", "requires", "failure_output")  # !inherit by default
_DEEP_MERGED = ("vars", "extra_vars", "host_vars", "group_vars")


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`: mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in over.items():
        prior = out.get(key)
        if isinstance(value, Mapping) and isinstance(prior, Mapping):
            out[key] = deep_merge(prior, value)
        else:
            out[key] = value
    return out


def _tag(job: JobDef, attribute: str) -> str | None:
    tags = job.merge_tags
    if not tags:
        return None
    return tags.get(attribute) or tags.get(attribute.replace("_", "-"))


def variant_label(where: Where) -> str:
    source = where.source
    head = f"{source.project}/{source.path}" if source.project else source.path
    return f"{head}:{where.mark.line}"


@dataclass(slots=True)
class _Playbook:
    origin: Origin
    ref: PlaybookRef
    roles: tuple[RoleRef, ...]
    secrets: list[str]

    def freeze(self) -> FrozenPlaybook:
        return FrozenPlaybook(
            project=self.origin.project,
            branch=self.origin.branch,
            path=self.ref.path,
            trusted=self.origin.trusted,
            roles=self.ref.roles + tuple(r for r in self.roles if r not in self.ref.roles),
            semaphores=self.ref.semaphores,
            secrets=tuple(dict.fromkeys(self.secrets)),
        )


@dataclass(slots=True)
class JobBuilder:
    """The state of a job being frozen, as variants are laid over it."""

    name: str
    tenant: TenantDef
    index: Index
    level: str | None = None  # the job whose variants are being applied
    where: Where | None = None
    values: dict[str, Any] = field(default_factory=dict)
    abstract: bool = False
    intermediate: bool = False
    final: bool = False
    protected_by: str | None = None  # the project of the protected job
    post_review: bool = False
    allowed: frozenset[str] | None = None
    dependencies: tuple[JobDependency, ...] = ()
    files: tuple[str, ...] | None = None
    irrelevant_files: tuple[str, ...] | None = None
    semaphores: list[str] = field(default_factory=list)
    combined: dict[str, list[str]] = field(default_factory=dict)
    required: dict[str, RequiredProject] = field(default_factory=dict)
    merged: dict[str, dict[str, Any]] = field(default_factory=dict)
    nodeset: NodesetDef = NO_NODES
    roles: tuple[RoleRef, ...] = ()
    pre_run: list[_Playbook] = field(default_factory=list)
    run: list[_Playbook] = field(default_factory=list)
    post_run: list[_Playbook] = field(default_factory=list)
    cleanup_run: list[_Playbook] = field(default_factory=list)
    secrets: dict[str, FrozenSecret] = field(default_factory=dict)
    variants: list[str] = field(default_factory=list)
    wheres: list[Where] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)

    def _error(self, job: JobDef, message: str, attribute: str = "") -> None:
        self.errors.append(
            ConfigError(job.where, message, attribute=attribute, context=f'job "{job.name}"')
        )

    def apply(self, job: JobDef, origin: Origin) -> None:
        if job.name != self.level:
            self._inherit(job, origin)
        else:
            self._vary(job, origin)
        if self.errors:
            return
        if job.name == self.name and self.where is None:
            self.where = job.where
        self.variants.append(variant_label(job.where))
        self.wheres.append(job.where)
        self._apply_flags(job, origin)
        for attribute in _REPLACED:
            value = getattr(job, attribute)
            if value is not None:
                self.values[attribute] = value
        self._apply_lists(job)
        self._apply_mappings(job)
        if isinstance(job.nodeset, str):
            nodeset = self.index.nodesets.get(job.nodeset)
            if nodeset is None:
                self._error(
                    job,
                    f'job "{self.name}" uses the nodeset "{job.nodeset}", '
                    "which is not defined in this tenant",
                    "nodeset",
                )
                return
            self.nodeset = nodeset
        elif job.nodeset is not None:
            self.nodeset = job.nodeset
        if job.allowed_projects is not None:
            self._allow(frozenset(job.allowed_projects))
        self._apply_playbooks(job, origin)

    def _inherit(self, job: JobDef, origin: Origin) -> None:
        parent = self.level
        if parent is not None:
            if self.final:
                self._error(
                    job, f'the parent job "{parent}" is final; no job may inherit from it', "parent"
                )
            elif self.protected_by is not None and self.protected_by != origin.project:
                self._error(
                    job,
                    f'the parent job "{parent}" is protected; '
                    f"only jobs of {self.protected_by} may inherit from it",
                    "parent",
                )
            elif self.intermediate and job.abstract is not True:
                self._error(
                    job,
                    f'the parent job "{parent}" is intermediate; '
                    "only an abstract job may inherit from it",
                    "parent",
                )
        self.level = job.name
        self.abstract = self.intermediate = self.final = False

    def _vary(self, job: JobDef, origin: Origin) -> None:
        foreign = self.protected_by is not None and self.protected_by != origin.project
        if not (self.final or foreign):
            return
        for attribute in EXECUTION_ATTRIBUTES:
            if getattr(job, attribute) is not None:
                why = "final" if self.final else f"protected by {self.protected_by}"
                self._error(
                    job,
                    f'job "{job.name}" is {why}; '
                    f"this variant may not set {attribute.replace('_', '-')}",
                    attribute.replace("_", "-"),
                )
                return

    def _apply_flags(self, job: JobDef, origin: Origin) -> None:
        self.abstract = self.abstract or bool(job.abstract)
        self.intermediate = self.intermediate or bool(job.intermediate)
        self.final = self.final or bool(job.final)
        if job.protected and self.protected_by is None:
            self.protected_by = origin.project
        self.post_review = self.post_review or bool(job.post_review)

    def _allow(self, projects: frozenset[str]) -> None:
        self.allowed = projects if self.allowed is None else self.allowed & projects

    def _apply_lists(self, job: JobDef) -> None:
        if job.dependencies is not None:
            if _tag(job, "dependencies") == "inherit":
                merged = {d.name: d for d in self.dependencies}
                merged.update((d.name, d) for d in job.dependencies)
                self.dependencies = tuple(merged.values())
            else:
                self.dependencies = job.dependencies
        for attribute in ("files", "irrelevant_files"):
            value = getattr(job, attribute)
            if value is None:
                continue
            prior = getattr(self, attribute)
            if _tag(job, attribute) == "inherit" and prior is not None:
                value = tuple(dict.fromkeys(prior + value))
            setattr(self, attribute, value)
        if job.semaphores is not None:
            self.semaphores.extend(s for s in job.semaphores if s not in self.semaphores)
        for attribute in _COMBINED:
            value = getattr(job, attribute)
            if value is None:
                continue
            if _tag(job, attribute) == "override":
                self.combined[attribute] = list(dict.fromkeys(value))
            else:
                items = self.combined.setdefault(attribute, [])
                items.extend(v for v in value if v not in items)
        if job.required_projects is not None:
            if _tag(job, "required_projects") == "override":
                self.required = {}
            for project in job.required_projects:
                self.required[project.name] = project
        if job.roles is not None:
            self.roles = job.roles + tuple(r for r in self.roles if r not in job.roles)

    def _apply_mappings(self, job: JobDef) -> None:
        for attribute in _DEEP_MERGED:
            value = getattr(job, attribute)
            if value is None:
                continue
            if _tag(job, attribute) == "override":
                self.merged[attribute] = dict(value)
            else:
                self.merged[attribute] = deep_merge(self.merged.get(attribute, {}), value)

    def _apply_playbooks(self, job: JobDef, origin: Origin) -> None:
        own: list[str] = []
        to_parents: list[str] = []
        for use in job.secrets or ():
            entry = self.index.secrets.get(use.secret)
            secret_origin = entry[0] if entry is not None else origin
            self.secrets[use.name] = FrozenSecret(
                use.name,
                use.secret,
                secret_origin.project,
                secret_origin.trusted,
                data=entry[1].data if entry is not None else None,
            )
            own.append(use.name)
            if use.pass_to_parent:
                to_parents.append(use.name)
            if not secret_origin.trusted:
                # Zuul: an untrusted secret may only be used after review, by its own project.
                self.post_review = True
                self._allow(frozenset({origin.project}))
        if to_parents:
            for playbook in (*self.pre_run, *self.run, *self.post_run, *self.cleanup_run):
                playbook.secrets.extend(to_parents)

        def new(refs: Sequence[PlaybookRef]) -> list[_Playbook]:
            return [_Playbook(origin, ref, self.roles, list(own)) for ref in refs]

        if job.pre_run is not None:
            self.pre_run.extend(new(job.pre_run))
        if job.run is not None:
            self.run = new(job.run)
        if job.post_run is not None:
            posts = [p for p in job.post_run if not p.cleanup]
            cleanups = [p for p in job.post_run if p.cleanup]
            self.post_run[:0] = new(posts)
            self.cleanup_run[:0] = new(cleanups)
        if job.cleanup_run is not None:
            self.cleanup_run[:0] = new(job.cleanup_run)

    def freeze(self, ancestry: tuple[str, ...], project_vars: Mapping[str, Any]) -> FrozenJob:
        values = self.values
        max_timeout = self.tenant.max_job_timeout
        timeout = values.get("timeout")
        post_timeout = values.get("post_timeout")
        job_vars = self.merged.get("vars", {})
        return FrozenJob(
            name=self.name,
            where=self.where if self.where is not None else NOWHERE,
            description=values.get("description") or "",
            voting=values.get("voting", True),
            attempts=values.get("attempts", DEFAULT_ATTEMPTS),
            timeout=max_timeout if timeout is None else min(timeout, max_timeout),
            post_timeout=None if post_timeout is None else min(post_timeout, max_timeout),
            dependencies=self.dependencies,
            semaphores=tuple(self.semaphores),
            nodeset=self.nodeset,
            hold_following_changes=values.get("hold_following_changes", False),
            post_review=self.post_review,
            pre_run=tuple(p.freeze() for p in self.pre_run),
            run=tuple(p.freeze() for p in self.run),
            post_run=tuple(p.freeze() for p in self.post_run),
            cleanup_run=tuple(p.freeze() for p in self.cleanup_run),
            roles=self.roles,
            required_projects=tuple(self.required.values()),
            # Zuul: a job's own variables win over its project's.
            vars=deep_merge(project_vars, job_vars) if project_vars else job_vars,
            extra_vars=self.merged.get("extra_vars", {}),
            host_vars=self.merged.get("host_vars", {}),
            group_vars=self.merged.get("group_vars", {}),
            secrets=tuple(self.secrets.values()),
            override_checkout=values.get("override_checkout"),
            provides=tuple(self.combined.get("provides", ())),
            requires=tuple(self.combined.get("requires", ())),
            tags=tuple(self.combined.get("tags", ())),
            workspace_scheme=values.get("workspace_scheme", "golang"),
            deduplicate=values.get("deduplicate", "auto"),
            failure_output=tuple(self.combined.get("failure_output", ())),
            ansible_version=values.get("ansible_version", self.tenant.default_ansible_version),
            ancestry=ancestry,
            variants=tuple(self.variants),
        )


def variant_matches(index: Index, variant: JobVariant, item: ItemContext) -> bool:
    job = variant.job
    implied = None
    if not job.branches and variant.origin.project in index.multi_branch:
        implied = variant.origin.branch
    return branch_matches(job.branches, implied, item)


@dataclass(slots=True)
class Collected:
    variants: list[JobVariant]
    ancestry: tuple[str, ...]
    # None: every job of the chain had a matching variant
    unmatched: str | None = None
    cycle: tuple[str, ...] = ()
    # a job of the chain (or the job itself) that did not load: it is not
    # defined in the tenant, or it was dropped for its own error
    missing: str | None = None


def collect_variants(
    tenant: TenantDef,
    index: Index,
    name: str,
    item: ItemContext,
    matches: Callable[[Index, JobVariant, ItemContext], bool] = variant_matches,
) -> Collected:
    """The variants of `name` and of its parents that apply to `item`, in
    the order they are applied (Zuul's `collectJobs`)."""
    out: list[JobVariant] = []
    path: set[str] = set()
    chosen: dict[str, str] = {}
    result = Collected(out, ())

    def visit(job_name: str, stack: tuple[str, ...]) -> bool:
        path.add(job_name)
        matched = False
        variants = index.jobs.get(job_name)
        if variants is None:
            result.missing = job_name
            return False
        for variant in variants:
            if not matches(index, variant, item):
                continue
            job = variant.job
            if job.parent is not None:
                parent: str | None = job.parent
            elif not out and not matched:
                parent = effective_parent(tenant, job)
            else:
                parent = None
            if parent is not None and parent not in path:
                if parent in stack:
                    result.cycle = (*stack, job_name, parent)
                    return False
                chosen.setdefault(job_name, parent)
                if not visit(parent, (*stack, job_name)):
                    if result.unmatched is None and not result.cycle and result.missing is None:
                        result.unmatched = parent
                    return False
            elif parent is not None:
                chosen.setdefault(job_name, parent)
            out.append(variant)
            matched = True
        return matched

    found = visit(name, ())
    if not found and result.unmatched is None and not result.cycle and result.missing is None:
        result.unmatched = name
    ancestry: list[str] = []
    node = name
    while node in chosen and chosen[node] not in ancestry and chosen[node] != name:
        node = chosen[node]
        ancestry.append(node)
    result.ancestry = tuple(ancestry)
    return result


def inline_matches(job: JobDef, item: ItemContext) -> bool:
    return branch_matches(job.branches, None, item)


def strip_inline(job: JobDef) -> JobDef:
    """An inline variant is a variant of the job it names: it sets no parent."""
    if job.parent is None and not job.is_base:
        return job
    return dataclasses.replace(job, parent=None, is_base=False)
