"""Reading a project's Zuul configuration at a commit, parsed and cached.

Commits never change, so the parsed configuration of (project, branch,
commit) is kept: a reconfiguration re-reads only the branches that moved.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from lockgate.adapters.git.config_files import read_config_at
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.config.files import candidate_paths
from lockgate.core.config.objects import ParsedConfig
from lockgate.core.config.tenants import TenantProject
from lockgate.services.config_check import parse_config_files

_CACHE_SIZE = 2048


def site_connections(connection: str) -> dict[str, str]:
    """The connections a site's configuration may name: its review server under
    the configured name, and the built-in timer and zuul drivers."""
    return {connection: "gerrit", "timer": "timer", "zuul": "zuul"}


class ConfigReader:
    def __init__(self, repos: RepoStore, connections: Mapping[str, str]) -> None:
        self._repos = repos
        self._connections = dict(connections)
        self._lock = threading.Lock()
        self._parsed: OrderedDict[tuple[str, str, str, bool], ParsedConfig] = OrderedDict()
        self._digests: OrderedDict[tuple[str, str], str] = OrderedDict()

    @property
    def connections(self) -> Mapping[str, str]:
        return self._connections

    def read(self, project: TenantProject, branch: str, commit: str) -> ParsedConfig:
        key = (project.name, branch, commit, project.trusted)
        with self._lock:
            hit = self._parsed.get(key)
            if hit is not None:
                self._parsed.move_to_end(key)
                return hit
        files = read_config_at(self._repos, project.name, commit, project.extra_config_paths)
        parsed = parse_config_files(
            files,
            project=project.name,
            branch=branch,
            trusted=project.trusted,
            connections=self._connections,
        )
        with self._lock:
            self._parsed[key] = parsed
            while len(self._parsed) > _CACHE_SIZE:
                self._parsed.popitem(last=False)
        return parsed

    def config_digest(self, project: str, commit: str) -> str:
        """The blob ids of the config files at `commit`: equal digests mean the
        same configuration, whatever else the commit changed."""
        key = (project, commit)
        with self._lock:
            hit = self._digests.get(key)
            if hit is not None:
                return hit
        listed = self._repos.git(
            project, "ls-tree", "-r", "--full-tree", commit, "--", *candidate_paths()
        )
        with self._lock:
            self._digests[key] = listed
            while len(self._digests) > _CACHE_SIZE:
                self._digests.popitem(last=False)
        return listed
