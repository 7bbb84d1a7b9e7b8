"""The site's tenants: the tenants file, plus the hosted projects it does not list.

`TenantCatalog` answers from the tenants file (`[gating] tenants_file`) and,
with `[gating] auto_add_projects`, adds every hosted project that no tenant
lists to the default tenant as an untrusted project.

Every question re-evaluates, cheaply: one `stat` of the tenants file (it is
parsed again only when its size, time or inode changed) and one query that
tells whether a project was added (`ProjectService.names`). So a project
created a moment ago, or an edit of the file, is seen by the next call without
a restart; `refresh()` forces a new parse.

A broken tenants file never stops the server: its errors are in `errors`, and
the tenants of the last file that loaded without an error stay in force. On
the first load there is no such file, and the tenants are what could be read
(a stanza with an error is left out, or loaded without the bad attribute).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from lockgate.adapters.config_yaml import read_yaml
from lockgate.adapters.site import Settings, Site
from lockgate.core.config.source import ConfigError, Mark, Source, Where
from lockgate.core.config.tenant_parse import parse_tenants
from lockgate.core.config.tenants import TenantDef, TenantProject
from lockgate.core.review.model import ALL_PROJECTS, ALL_USERS
from lockgate.services.projects import ProjectService

# Projects that hold the review server's own settings, never code to gate.
NOT_GATED = frozenset({ALL_PROJECTS, ALL_USERS})

_Stamp = tuple[int, int, int]


class TenantCatalog:
    def __init__(self, site: Site, settings: Settings, projects: ProjectService) -> None:
        self._path = site.tenants_file(settings)
        self._source = Source("", "", settings.gating.tenants_file, True)
        self._gating = settings.gating
        self._projects = projects
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = None
        self._loaded = False
        self._declared: tuple[TenantDef, ...] = ()
        self._errors: tuple[ConfigError, ...] = ()
        # (declared tenants, hosted names) -> effective tenants, so that
        # repeated questions with nothing changed build nothing.
        self._cache: tuple[tuple[TenantDef, ...], tuple[str, ...], tuple[TenantDef, ...]] | None
        self._cache = None

    @property
    def connection(self) -> str:
        """The connection name under which the tenants file lists this server's projects."""
        return self._gating.connection

    # --- questions ------------------------------------------------------------

    def tenants(self) -> list[TenantDef]:
        """Every tenant, in file order, the default tenant with its auto-added projects."""
        return list(self._current())

    def tenant(self, name: str) -> TenantDef | None:
        for tenant in self._current():
            if tenant.name == name:
                return tenant
        return None

    def tenant_of(self, project: str) -> list[str]:
        """The tenants that hold `project` of this server, in file order."""
        return [
            tenant.name
            for tenant in self._current()
            if any(p.name == project and p.connection == self.connection for p in tenant.projects)
        ]

    @property
    def errors(self) -> list[ConfigError]:
        """The problems of the tenants file as it is now (empty when it loads clean)."""
        self._reload_if_changed()
        errors = list(self._errors)
        clean = not any(e.severity == "error" for e in errors)
        default = self._gating.default_tenant
        if (
            self._gating.auto_add_projects
            and self._loaded
            and clean
            and not any(t.name == default for t in self._declared)
        ):
            errors.append(
                ConfigError(
                    Where(self._source, Mark(1, 1)),
                    f"the default tenant {default!r} is not defined; "
                    "projects that no tenant lists are in no tenant",
                    context="[gating] default_tenant",
                    hint="define that tenant in the file or set [gating] default_tenant",
                )
            )
        return errors

    def refresh(self) -> None:
        """Parse the tenants file again, whether or not it looks changed."""
        with self._lock:
            self._stamp = None
        self._reload_if_changed()

    # --- loading --------------------------------------------------------------

    def _current(self) -> tuple[TenantDef, ...]:
        self._reload_if_changed()
        declared = self._declared
        if not self._gating.auto_add_projects:
            return declared
        hosted = tuple(name for name in self._projects.names() if name not in NOT_GATED)
        cache = self._cache
        if cache is not None and cache[0] is declared and cache[1] == hosted:
            return cache[2]
        effective = _with_auto_added(declared, hosted, self._gating.default_tenant, self.connection)
        self._cache = (declared, hosted, effective)
        return effective

    def _reload_if_changed(self) -> None:
        stamp = _stamp(self._path)
        if self._loaded and stamp == self._stamp:
            return
        with self._lock:
            if self._loaded and stamp == self._stamp:
                return
            tenants, errors = self._read(stamp)
            blocking = [e for e in errors if e.severity == "error"]
            if not blocking or not self._loaded:
                self._declared = tuple(tenants)
            self._errors = tuple(errors)
            self._stamp = stamp
            self._loaded = True

    def _read(self, stamp: _Stamp | None) -> tuple[Sequence[TenantDef], list[ConfigError]]:
        where = Where(self._source, Mark(1, 1))
        if stamp is None:
            return [], [
                ConfigError(
                    where,
                    "the tenants file does not exist",
                    hint="create it (docs/gating.md shows one) or set [gating] tenants_file",
                )
            ]
        try:
            text = self._path.read_bytes()
        except OSError as error:
            return [], [ConfigError(where, f"cannot read the tenants file: {error.strerror}")]
        value, syntax = read_yaml(text, self._source)
        if syntax is not None:
            return [], [syntax]
        return parse_tenants([value])


def _stamp(path: Path) -> _Stamp | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _with_auto_added(
    declared: tuple[TenantDef, ...], hosted: tuple[str, ...], default: str, connection: str
) -> tuple[TenantDef, ...]:
    listed = {p.name for tenant in declared for p in tenant.projects if p.connection == connection}
    missing = [name for name in hosted if name not in listed]
    if not missing:
        return declared
    added = tuple(
        TenantProject(name=name, connection=connection, trusted=False) for name in missing
    )
    return tuple(
        replace(tenant, untrusted_projects=tenant.untrusted_projects + added)
        if tenant.name == default
        else tenant
        for tenant in declared
    )
