"""Tenants, as Zuul's `main.yaml` declares them.

The dataclasses are the contract; `parse_tenants` (in `tenant_parse.py`)
reads them from the positioned values of a `main.yaml` (see `source.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from lockgate.core.config.source import NOWHERE, Where

# The object kinds a tenant project's `include` / `exclude` may name.
CONFIG_CLASSES = (
    "pipeline",
    "job",
    "semaphore",
    "project",
    "project-template",
    "nodeset",
    "secret",
    "queue",
)
# Kinds newer Zuul loads for its built-in node provider; accepted in
# include/exclude so that such tenants files load, but lockgate loads none of them.
PROVIDER_CLASSES = ("image", "flavor", "label", "section", "provider")


@dataclass(frozen=True, slots=True)
class TenantProject:
    name: str
    connection: str
    trusted: bool
    # which object kinds are loaded from it (CONFIG_CLASSES after include/exclude)
    load_classes: frozenset[str] = frozenset(CONFIG_CLASSES)
    shadow: tuple[str, ...] = ()
    include_branches: tuple[str, ...] = ()  # regexes; empty: every branch
    exclude_branches: tuple[str, ...] = ()
    load_branch: str | None = None  # config projects: the branch config is read from
    extra_config_paths: tuple[str, ...] = ()
    allow_base_jobs: bool | None = None
    where: Where = NOWHERE
    exclude_unprotected_branches: bool | None = None  # None: the tenant's setting
    exclude_locked_branches: bool | None = None
    always_dynamic_branches: tuple[str, ...] = ()  # regexes
    implied_branch_matchers: bool | None = None
    allow_circular_dependencies: bool | None = None
    configure_projects: tuple[str, ...] = ()  # regexes; untrusted projects only
    include_provider_config: bool | None = None


@dataclass(frozen=True, slots=True)
class TenantDef:
    name: str
    config_projects: tuple[TenantProject, ...] = ()
    untrusted_projects: tuple[TenantProject, ...] = ()
    max_nodes_per_job: int = 5
    max_job_timeout: int = 10800
    max_dependencies: int | None = None
    max_changes_per_pipeline: int | None = None
    default_parent: str = "base"
    exclude_unprotected_branches: bool = False
    default_ansible_version: str | None = None
    allowed_triggers: tuple[str, ...] | None = None
    allowed_reporters: tuple[str, ...] | None = None
    allowed_labels: tuple[str, ...] | None = None
    disallowed_labels: tuple[str, ...] = ()
    report_build_page: bool = False
    web_root: str | None = None
    admin_rules: tuple[str, ...] = ()
    where: Where = NOWHERE
    exclude_locked_branches: bool = False
    allow_circular_dependencies: bool = False
    access_rules: tuple[str, ...] = ()
    semaphores: tuple[str, ...] = ()  # global semaphores the tenant uses
    authentication_realm: str | None = None
    use_nodepool: bool = True

    @property
    def projects(self) -> tuple[TenantProject, ...]:
        """Config projects first, then untrusted ones: the order config loads in."""
        return self.config_projects + self.untrusted_projects

    def project(self, name: str) -> TenantProject | None:
        for project in self.projects:
            if project.name == name:
                return project
        return None
