"""Each tenant's layout, loaded from the config files in its projects' repos.

Parsed configuration is cached by (project, commit): commits never change, so
a reconfiguration after a merge re-reads only the project whose branch moved,
and a dynamic layout for a change reads only the projects the change edits.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lockgate.adapters.git.repos import RepoStore
from lockgate.core.config.layout import Layout, LoadedConfig, build_layout
from lockgate.core.config.objects import ParsedConfig
from lockgate.core.config.source import ConfigError
from lockgate.core.config.tenants import TenantDef, TenantProject
from lockgate.services.config_loading import ConfigReader
from lockgate.services.tenants import TenantCatalog

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DynamicLayout:
    """A layout for an item whose changes edit configuration, or the errors
    that keep it from having one (those of the changed projects only)."""

    layout: Layout | None
    errors: tuple[ConfigError, ...]


class LayoutService:
    def __init__(self, repos: RepoStore, catalog: TenantCatalog, reader: ConfigReader) -> None:
        self._repos = repos
        self._catalog = catalog
        self._reader = reader
        self._lock = threading.Lock()
        self._layouts: dict[str, Layout] = {}
        # tenant -> (project, branch) -> commit the layout was built from
        self._tips: dict[str, dict[tuple[str, str], str]] = {}
        self._generation = 0

    def layout(self, tenant: str) -> Layout:
        with self._lock:
            layout = self._layouts.get(tenant)
        if layout is not None:
            # A project created since (auto-added to the tenant) or an edited
            # tenants file gives the tenant a new definition: load it again.
            current = self._catalog.tenant(tenant)
            if current is layout.tenant or current == layout.tenant:
                return layout
        return self.reload(tenant)

    def reload(self, tenant: str) -> Layout:
        definition = self._catalog.tenant(tenant)
        if definition is None:
            raise KeyError(f"no tenant {tenant!r}")
        tips = self._branch_tips(definition)
        configs = [
            LoadedConfig(project, branch, self._parsed(project, branch, commit))
            for (project, branch, commit) in tips
        ]
        with self._lock:
            self._generation += 1
            generation = f"{tenant}:{self._generation}"
        layout = build_layout(definition, configs, generation)
        with self._lock:
            self._layouts[tenant] = layout
            self._tips[tenant] = {(p.name, b): c for (p, b, c) in tips}
        log.info(
            "tenant %s: layout %s loaded from %d branches, %d errors",
            tenant,
            generation,
            len(configs),
            len(layout.errors),
        )
        return layout

    def is_stale(self, tenant: str, project: str, branch: str) -> bool:
        """Whether the config of `project`'s `branch` differs from what the
        tenant's layout was built from (a merge or push that edited it)."""
        with self._lock:
            known = self._tips.get(tenant)
        if known is None:
            return True
        definition = self._catalog.tenant(tenant)
        entry = None if definition is None else definition.project(project)
        if entry is None or not self._loads_branch(entry, branch):
            return False
        commit = self._repos.resolve(project, f"refs/heads/{branch}")
        old = known.get((project, branch))
        if commit is None:
            return old is not None
        if old is None:
            return True
        return self._reader.config_digest(project, old) != self._reader.config_digest(
            project, commit
        )

    def dynamic(
        self, tenant: str, heads: Mapping[tuple[str, str], str], edited: Sequence[tuple[str, str]]
    ) -> DynamicLayout:
        """The layout an item runs under when its speculative state (`heads`)
        edits the config of the `edited` (project, branch)es.

        Untrusted projects' edits take effect; a config project's edit is only
        checked and applies once it merges, as in Zuul.
        """
        definition = self._catalog.tenant(tenant)
        if definition is None:
            return DynamicLayout(None, ())
        base = self.layout(tenant)
        replacements: dict[tuple[str, str], ParsedConfig] = {}
        errors: list[ConfigError] = []
        for project, branch in edited:
            entry = definition.project(project)
            commit = heads.get((project, branch))
            if entry is None or commit is None:
                continue
            parsed = self._parsed(entry, branch, commit)
            errors.extend(e for e in parsed.errors if e.severity == "error")
            if not entry.trusted:
                replacements[(project, branch)] = parsed
        if not replacements:
            return DynamicLayout(None, tuple(errors))
        with self._lock:
            self._generation += 1
            generation = f"{tenant}:{self._generation}:dynamic"
        layout = base.with_config(replacements, generation)
        for project, _branch in replacements:
            errors.extend(e for e in layout.errors_for(project) if e.severity == "error")
        unique = tuple(dict.fromkeys(errors))
        return DynamicLayout(None if unique else layout, unique)

    # --- inside -------------------------------------------------------------------

    def _parsed(self, project: TenantProject, branch: str, commit: str) -> ParsedConfig:
        return self._reader.read(project, branch, commit)

    def _branch_tips(self, tenant: TenantDef) -> list[tuple[TenantProject, str, str]]:
        tips: list[tuple[TenantProject, str, str]] = []
        for project in tenant.projects:
            if not self._repos.exists(project.name):
                continue
            refs = self._repos.refs(project.name, "refs/heads/")
            for ref, commit in sorted(refs.items()):
                branch = ref.removeprefix("refs/heads/")
                if self._loads_branch(project, branch):
                    tips.append((project, branch, commit))
        return tips

    def _loads_branch(self, project: TenantProject, branch: str) -> bool:
        if project.trusted:
            wanted = project.load_branch or self._default_branch(project.name)
            return branch == wanted
        if project.include_branches and not any(
            re.fullmatch(p, branch) for p in project.include_branches
        ):
            return False
        return not any(re.fullmatch(p, branch) for p in project.exclude_branches)

    def _default_branch(self, project: str) -> str:
        head = self._repos.head(project)
        return head.removeprefix("refs/heads/")
