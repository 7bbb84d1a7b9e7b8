"""The attributes a tenants file may hold, by where they stand, and the
`TenantDef` / `TenantProject` field each one sets: Zuul 14's tenant schema
plus the options newer Zuul writes (`allow-base-jobs`,
`include-provider-config`, `use-nodepool`), which OpenStack's file uses."""

from __future__ import annotations

from lockgate.core.config.tenants import CONFIG_CLASSES, PROVIDER_CLASSES

KNOWN_CLASSES = CONFIG_CLASSES + PROVIDER_CLASSES

TENANT_KEYS = frozenset(
    {
        "name",
        "source",
        "max-nodes-per-job",
        "max-job-timeout",
        "max-dependencies",
        "max-changes-per-pipeline",
        "exclude-unprotected-branches",
        "exclude-locked-branches",
        "allowed-triggers",
        "allowed-reporters",
        "allowed-labels",
        "disallowed-labels",
        "allow-circular-dependencies",
        "default-parent",
        "default-ansible-version",
        "access-rules",
        "admin-rules",
        "semaphores",
        "authentication-realm",
        "report-build-page",
        "web-root",
        "use-nodepool",
    }
)
PROJECT_KEYS = frozenset(
    {
        "include",
        "exclude",
        "shadow",
        "exclude-unprotected-branches",
        "exclude-locked-branches",
        "extra-config-paths",
        "load-branch",
        "include-branches",
        "exclude-branches",
        "always-dynamic-branches",
        "allow-circular-dependencies",
        "implied-branch-matchers",
        "allow-base-jobs",
        "include-provider-config",
    }
)
UNTRUSTED_PROJECT_KEYS = PROJECT_KEYS | {"configure-projects"}
GROUP_KEYS = frozenset({"include", "exclude", "projects"})
SOURCE_KEYS = ("config-projects", "untrusted-projects")
# Stanzas accepted beside `tenant`, with the attributes each may have.
OTHER_STANZAS: dict[str, frozenset[str]] = {
    "admin-rule": frozenset({"name", "conditions"}),
    "authorization-rule": frozenset({"name", "conditions"}),
    "api-root": frozenset({"authentication-realm", "access-rules"}),
    "global-semaphore": frozenset({"name", "max"}),
}
BOOL_TENANT_FIELDS = {
    "exclude-unprotected-branches": "exclude_unprotected_branches",
    "exclude-locked-branches": "exclude_locked_branches",
    "allow-circular-dependencies": "allow_circular_dependencies",
    "report-build-page": "report_build_page",
    "use-nodepool": "use_nodepool",
}
INT_TENANT_FIELDS = {
    "max-nodes-per-job": "max_nodes_per_job",
    "max-job-timeout": "max_job_timeout",
    "max-dependencies": "max_dependencies",
    "max-changes-per-pipeline": "max_changes_per_pipeline",
}
LIST_TENANT_FIELDS = {
    "allowed-triggers": "allowed_triggers",
    "allowed-reporters": "allowed_reporters",
    "allowed-labels": "allowed_labels",
}
TUPLE_TENANT_FIELDS = {
    "disallowed-labels": "disallowed_labels",
    "access-rules": "access_rules",
    "admin-rules": "admin_rules",
    "semaphores": "semaphores",
}
STR_TENANT_FIELDS = {
    "default-parent": "default_parent",
    "authentication-realm": "authentication_realm",
}
BOOL_PROJECT_FIELDS = {
    "exclude-unprotected-branches": "exclude_unprotected_branches",
    "exclude-locked-branches": "exclude_locked_branches",
    "allow-circular-dependencies": "allow_circular_dependencies",
    "implied-branch-matchers": "implied_branch_matchers",
    "allow-base-jobs": "allow_base_jobs",
    "include-provider-config": "include_provider_config",
}
REGEX_PROJECT_FIELDS = {
    "include-branches": "include_branches",
    "exclude-branches": "exclude_branches",
    "configure-projects": "configure_projects",
}
