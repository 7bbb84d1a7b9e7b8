"""A tenant's layout: its loaded configuration, combined, and what it runs.

`build_layout` combines the parsed configuration of every project branch of
a tenant (config projects first) into a `Layout`, which answers the gating
core's `LayoutView` and the API's questions. Loading never raises: every
broken object is dropped with a `ConfigError` and the rest loads.

`Layout.with_config` gives the speculative layout of a change that edits
configuration: the same tenant with some project branches' configuration
replaced. Layers of the other branches are reused as they are; only the
replaced ones are rebuilt before the layers are indexed again, and
`errors_for(project)` tells a change's own errors from the others'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.index import Index, build_index, update_index
from lockgate.core.config.job_graph import FreezeCache, freeze_job_graph
from lockgate.core.config.layers import Layer, LoadedConfig, ProjectNames, build_layer
from lockgate.core.config.matchers import ItemContext
from lockgate.core.config.objects import (
    JobDef,
    ParsedConfig,
    PipelineDef,
    ProjectPipelineDef,
    SecretDef,
)
from lockgate.core.config.source import NOWHERE, ConfigError
from lockgate.core.config.tenants import TenantDef
from lockgate.core.gating.changes import Subject
from lockgate.core.gating.layout_view import ConfigProblem, LayoutView, QueueSpec

__all__ = ["Layout", "LoadedConfig", "build_layout"]

DEFAULT_MERGE_MODE = "merge"
DEFAULT_BRANCH = "master"
# Job graphs are cached per item shape; a bound keeps a long-lived layout small.
_GRAPH_CACHE_SIZE = 4096
_FROZEN_CACHE_SIZE = 65536


def build_layout(
    tenant: TenantDef, configs: Sequence[LoadedConfig], generation: str = "1"
) -> Layout:
    """The layout of `tenant` from its project branches' configuration, in
    tenant load order."""
    names = ProjectNames.of(tenant)
    layers = [build_layer(tenant, loaded, names) for loaded in configs]
    return Layout(tenant, layers, generation)


class Layout:
    def __init__(
        self,
        tenant: TenantDef,
        layers: Sequence[Layer],
        generation: str,
        index: Index | None = None,
    ) -> None:
        self.tenant = tenant
        self._layers = tuple(layers)
        self._generation = generation
        self._index: Index = index if index is not None else build_index(tenant, self._layers)
        self._errors_by_project: dict[str, list[ConfigError]] = {}
        for error in self._index.errors:
            self._errors_by_project.setdefault(error.where.source.project, []).append(error)
        self._graphs: dict[tuple[object, ...], JobGraph | ConfigProblem] = {}
        self._frozen: FreezeCache = {}
        # TenantDef.project is a scan; a graph per item would make it quadratic
        self._extra_paths = {p.name: p.extra_config_paths for p in tenant.projects}

    # --- LayoutView ----------------------------------------------------------

    @property
    def generation(self) -> str:
        return self._generation

    def pipeline_names(self) -> Sequence[str]:
        return tuple(self._index.pipelines)

    def pipeline(self, name: str) -> PipelineDef:
        try:
            return self._index.pipelines[name]
        except KeyError:
            raise KeyError(f'tenant "{self.tenant.name}" has no pipeline "{name}"') from None

    def queue_for(self, pipeline: str, project: str) -> QueueSpec | None:
        index = self._index
        involved = False
        name: str | None = None
        legacy: str | None = None
        for stanza in index.stanzas.get(project, ()):
            if name is None and stanza.definition.queue:
                name = stanza.definition.queue
            sections = [stanza.pipelines.get(pipeline)]
            for template_name in stanza.templates:
                for template in index.templates.get(template_name, ()):
                    if name is None and template.definition.queue:
                        name = template.definition.queue
                    sections.append(template.pipelines.get(pipeline))
            for section in sections:
                if section is None:
                    continue
                involved = True
                if legacy is None and section.queue:
                    legacy = section.queue
        if not involved:
            return None
        queue_name = name or legacy
        if queue_name is None:
            # Zuul: a project that names no queue has a queue of its own.
            return QueueSpec(project)
        queue = index.queues.get(queue_name)
        if queue is None:
            return QueueSpec(queue_name)
        return QueueSpec(
            queue_name,
            per_branch=queue.per_branch,
            allow_circular_dependencies=queue.allow_circular_dependencies,
            dependencies_by_topic=queue.dependencies_by_topic,
        )

    def job_graph(self, pipeline: str, subject: Subject) -> JobGraph | ConfigProblem:
        item = ItemContext.of(subject)
        key = (pipeline, item.project, item.branch, item.ref, item.files)
        cached = self._graphs.get(key)
        if cached is not None:
            return cached
        definition = self._index.pipelines.get(pipeline)
        if definition is None:
            return ConfigProblem(
                (ConfigError(NOWHERE, f'tenant "{self.tenant.name}" has no pipeline "{pipeline}"'),)
            )
        extra = self._extra_paths.get(item.project, ())
        if len(self._frozen) >= _FROZEN_CACHE_SIZE:
            self._frozen.clear()
        graph = freeze_job_graph(
            self.tenant, self._index, definition, item, extra, cache=self._frozen
        )
        if len(self._graphs) >= _GRAPH_CACHE_SIZE:
            self._graphs.clear()
        self._graphs[key] = graph
        return graph

    def semaphore_max(self, name: str) -> int:
        semaphore = self._index.semaphores.get(name)
        return 1 if semaphore is None else semaphore.max

    def max_dependencies(self) -> int | None:
        return self.tenant.max_dependencies

    # --- errors ----------------------------------------------------------------

    @property
    def errors(self) -> Sequence[ConfigError]:
        return self._index.errors

    def errors_for(self, project: str) -> Sequence[ConfigError]:
        """The errors in `project`'s own configuration files."""
        return tuple(self._errors_by_project.get(project, ()))

    # --- what the API shows ----------------------------------------------------

    @property
    def jobs(self) -> Mapping[str, tuple[JobDef, ...]]:
        """Every job that loaded, by name, with its variants in definition order."""
        return {name: tuple(v.job for v in variants) for name, variants in self._index.jobs.items()}

    def secret(self, name: str) -> SecretDef | None:
        """The secret object `name` (its data still encrypted), for the executor."""
        entry = self._index.secrets.get(name)
        return None if entry is None else entry[1]

    def project_names(self) -> Sequence[str]:
        return tuple(p.name for p in self.tenant.projects)

    def merge_mode(self, project: str) -> str:
        for stanza in self._index.stanzas.get(project, ()):
            if stanza.definition.merge_mode:
                return stanza.definition.merge_mode
        return DEFAULT_MERGE_MODE

    def default_branch(self, project: str) -> str:
        for stanza in self._index.stanzas.get(project, ()):
            if stanza.definition.default_branch:
                return stanza.definition.default_branch
        return DEFAULT_BRANCH

    def project_pipelines(self, project: str) -> Mapping[str, tuple[str, ...]]:
        """pipeline -> the jobs the project names there (any branch, templates included)."""
        index = self._index
        out: dict[str, dict[str, None]] = {}
        for stanza in index.stanzas.get(project, ()):
            sections: list[tuple[str, ProjectPipelineDef]] = []
            for template_name in stanza.templates:
                for template in index.templates.get(template_name, ()):
                    sections.extend(template.pipelines.items())
            sections.extend(stanza.pipelines.items())
            for pipeline, section in sections:
                names = out.setdefault(pipeline, {})
                for use in section.jobs:
                    names[use.name] = None
        return {pipeline: tuple(names) for pipeline, names in out.items()}

    # --- speculative layouts ---------------------------------------------------

    def with_config(
        self, replacements: Mapping[tuple[str, str], ParsedConfig], generation: str
    ) -> Layout:
        """This tenant with the configuration of some (project, branch) replaced."""
        pending = dict(replacements)
        names = ProjectNames.of(self.tenant)
        layers: list[Layer] = []
        for layer in self._layers:
            parsed = pending.pop(layer.key, None)
            if parsed is None:
                layers.append(layer)
            else:
                layers.append(
                    build_layer(
                        self.tenant, LoadedConfig(layer.project, layer.branch, parsed), names
                    )
                )
        extra_errors = []
        order = {p.name: i for i, p in enumerate(self.tenant.projects)}
        for (project_name, branch), parsed in pending.items():
            tenant_project = self.tenant.project(project_name)
            if tenant_project is None:
                extra_errors.append(project_name)
                continue
            new = build_layer(self.tenant, LoadedConfig(tenant_project, branch, parsed), names)
            # A branch that had no configuration goes after its project's other branches.
            position = len(layers)
            for i, layer in enumerate(layers):
                if order.get(layer.project.name, len(order)) > order[project_name]:
                    position = i
                    break
            layers.insert(position, new)
        replaced = {key for key in replacements if self.tenant.project(key[0]) is not None}
        index = update_index(self.tenant, self._index, layers, replaced)
        layout = Layout(self.tenant, layers, generation, index)
        for name in extra_errors:
            error = ConfigError(
                NOWHERE, f'the tenant has no project "{name}"; its configuration is ignored'
            )
            layout._index.errors.append(error)
            layout._errors_by_project.setdefault("", []).append(error)
        return layout


def as_view(layout: Layout) -> LayoutView:
    """A layout is what the gating core asks of a tenant (mypy checks it here)."""
    return layout
