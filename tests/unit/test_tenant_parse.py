"""Reading tenants files: what a site operator writes in `etc/main.yaml`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.config.source import Mark
from lockgate.core.config.tenant_parse import parse_tenants
from lockgate.core.config.tenants import CONFIG_CLASSES, TenantDef
from tests.unit.positioned import from_yaml, values

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "zuul-configs"
OPENSTACK_MAIN = CORPUS / "openstack-project-config" / "zuul" / "main.yaml"


def one_tenant(text: str) -> TenantDef:
    tenants, errors = parse_tenants(from_yaml(text))
    assert errors == []
    assert len(tenants) == 1
    return tenants[0]


def test_a_tenant_lists_trusted_config_projects_and_untrusted_projects() -> None:
    tenant = one_tenant(
        """
- tenant:
    name: main
    source:
      gerrit:
        config-projects:
          - project-config
        untrusted-projects:
          - nova
          - team/app
"""
    )
    assert tenant.name == "main"
    assert [(p.name, p.connection, p.trusted) for p in tenant.projects] == [
        ("project-config", "gerrit", True),
        ("nova", "gerrit", False),
        ("team/app", "gerrit", False),
    ]
    assert tenant.project("nova") is not None
    assert tenant.project("nova").load_classes == frozenset(CONFIG_CLASSES)  # type: ignore[union-attr]
    assert tenant.where.mark == Mark(2, 3)
    assert tenant.max_nodes_per_job == 5 and tenant.default_parent == "base"


def test_project_options_say_what_is_loaded_from_which_branches() -> None:
    tenant = one_tenant(
        """
- tenant:
    name: main
    source:
      gerrit:
        config-projects:
          - base-jobs:
              exclude: nodeset
              allow-base-jobs: true
              load-branch: stable
        untrusted-projects:
          - zuul-jobs:
              include: [job]
              shadow: base-jobs
          - nova:
              include-branches: ['^master$', '^stable/.*']
              exclude-branches: '^stable/old$'
              always-dynamic-branches: ['^feature/.*']
              extra-config-paths: [zuul-extra.d/, .zuul-more.yaml]
              exclude-unprotected-branches: true
"""
    )
    base = tenant.project("base-jobs")
    assert base is not None and base.trusted
    assert base.load_classes == frozenset(CONFIG_CLASSES) - {"nodeset"}
    assert base.allow_base_jobs is True and base.load_branch == "stable"
    jobs = tenant.project("zuul-jobs")
    assert jobs is not None
    assert jobs.load_classes == {"job"} and jobs.shadow == ("base-jobs",)
    nova = tenant.project("nova")
    assert nova is not None
    assert nova.include_branches == ("^master$", "^stable/.*")
    # As in Zuul, an always-dynamic branch is also excluded from static loading.
    assert nova.exclude_branches == ("^stable/old$", "^feature/.*")
    assert nova.always_dynamic_branches == ("^feature/.*",)
    assert nova.extra_config_paths == ("zuul-extra.d/", ".zuul-more.yaml")
    assert nova.exclude_unprotected_branches is True


def test_a_group_gives_its_include_to_every_project_in_it() -> None:
    tenant = one_tenant(
        """
- tenant:
    name: main
    source:
      gerrit:
        untrusted-projects:
          - include: []
            projects:
              - openstack/requirements
              - openstack/tempest:
                  include: [project]
          - exclude: [pipeline, secret]
            projects:
              - openstack/nova
"""
    )
    assert tenant.project("openstack/requirements").load_classes == frozenset()  # type: ignore[union-attr]
    assert tenant.project("openstack/tempest").load_classes == {"project"}  # type: ignore[union-attr]
    nova = tenant.project("openstack/nova")
    assert nova is not None
    assert nova.load_classes == frozenset(CONFIG_CLASSES) - {"pipeline", "secret"}


def test_tenant_options_are_read_with_zuul_defaults_for_the_rest() -> None:
    tenant = one_tenant(
        """
- tenant:
    name: openstack
    max-nodes-per-job: 10
    max-job-timeout: 3600
    max-dependencies: 8
    default-parent: base-minimal
    default-ansible-version: 9
    allowed-triggers: gerrit
    disallowed-labels: ['.*-huge']
    web-root: https://zuul.example.org/t/openstack
    exclude-unprotected-branches: true
    report-build-page: true
    admin-rules: [root]
- admin-rule:
    name: root
    conditions:
      - groups: infra-root
"""
    )
    assert tenant.max_nodes_per_job == 10 and tenant.max_job_timeout == 3600
    assert tenant.max_dependencies == 8 and tenant.max_changes_per_pipeline is None
    assert tenant.default_parent == "base-minimal"
    assert tenant.default_ansible_version == "9"
    assert tenant.allowed_triggers == ("gerrit",) and tenant.allowed_reporters is None
    assert tenant.disallowed_labels == (".*-huge",)
    assert tenant.web_root == "https://zuul.example.org/t/openstack/"
    assert tenant.exclude_unprotected_branches and tenant.report_build_page
    assert tenant.admin_rules == ("root",)
    assert tenant.projects == ()


def test_admin_and_authorization_rules_are_accepted_without_tenants() -> None:
    tenants, errors = parse_tenants(
        from_yaml(
            """
- authorization-rule:
    name: old-style
    conditions: [{username: alice}]
- api-root:
    authentication-realm: sso
- tenant:
    name: main
    admin-rules: old-style
"""
        )
    )
    assert errors == []
    assert [t.name for t in tenants] == ["main"]


def test_an_admin_rule_no_stanza_defines_is_a_warning_not_an_error() -> None:
    tenants, errors = parse_tenants(
        from_yaml("- tenant:\n    name: main\n    admin-rules: [nobody]\n")
    )
    assert [t.name for t in tenants] == ["main"]
    assert [(e.severity, e.where.mark.line) for e in errors] == [("warning", 3)]
    assert "nobody" in errors[0].message


def test_an_unknown_tenant_attribute_is_an_error_at_its_line() -> None:
    tenants, errors = parse_tenants(from_yaml("- tenant:\n    name: main\n    max-nodes: 3\n"))
    assert [t.name for t in tenants] == ["main"]  # the rest of the tenant still loads
    (error,) = errors
    assert error.where.mark == Mark(3, 5)
    assert error.attribute == "tenant.max-nodes"
    assert error.context == 'tenant "main"'
    assert error.hint.startswith("did you mean 'max-nodes-per-job'?")
    assert error.render() == (
        "etc/main.yaml:3:5 tenant \"main\": tenant.max-nodes: unknown attribute 'max-nodes' "
        f"({error.hint})"
    )


def test_an_unknown_project_option_names_the_project_and_its_place() -> None:
    text = """- tenant:
    name: main
    source:
      gerrit:
        untrusted-projects:
          - nova
          - cinder:
              includes: job
"""
    tenants, errors = parse_tenants(from_yaml(text))
    (error,) = errors
    assert error.where.mark == Mark(8, 15)
    assert error.attribute == "tenant.source.gerrit.untrusted-projects[1].cinder.includes"
    # the project is still a member of the tenant, with its other options
    assert [p.name for p in tenants[0].projects] == ["nova", "cinder"]


@pytest.mark.parametrize(
    ("tenant", "line", "attribute", "says"),
    [
        ({"name": "t", "max-job-timeout": "1h"}, 4, "tenant.max-job-timeout", "whole number"),
        ({"name": "t", "report-build-page": "yes"}, 4, "tenant.report-build-page", "true"),
        (
            {"name": "t", "source": {"gerrit": {"trusted-projects": ["a"]}}},
            6,
            "tenant.source.gerrit.trusted-projects",
            "unknown attribute",
        ),
        (
            {"name": "t", "source": {"gerrit": {"config-projects": [{"a": {"include": "jobs"}}]}}},
            9,
            "tenant.source.gerrit.config-projects[0].a.include",
            "unknown configuration kind 'jobs'",
        ),
        (
            {
                "name": "t",
                "source": {"gerrit": {"untrusted-projects": [{"a": {"include-branches": "("}}]}},
            },
            9,
            "tenant.source.gerrit.untrusted-projects[0].a.include-branches",
            "not a valid regular expression",
        ),
        (
            {
                "name": "t",
                "source": {"gerrit": {"config-projects": [{"a": {"configure-projects": "x"}}]}},
            },
            9,
            "tenant.source.gerrit.config-projects[0].a.configure-projects",
            "unknown attribute",
        ),
        (
            {"name": "t", "source": {"gerrit": {"untrusted-projects": ["a", 3]}}},
            8,
            "tenant.source.gerrit.untrusted-projects[1]",
            "must be a project name",
        ),
        (
            {"name": "t", "source": {"gerrit": {"untrusted-projects": ["a", "b", "a"]}}},
            9,
            "tenant.source.gerrit.untrusted-projects",
            "listed twice",
        ),
    ],
)
def test_bad_values_are_errors_naming_line_and_attribute(
    tenant: dict[str, object], line: int, attribute: str, says: str
) -> None:
    _tenants, errors = parse_tenants([values([{"tenant": tenant}])])
    (error,) = errors
    assert (error.where.mark.line, error.attribute) == (line, attribute)
    assert says in error.message
    assert error.where.source.path == "etc/main.yaml"


def test_stanzas_that_are_not_tenants_or_rules_are_errors() -> None:
    tenants, errors = parse_tenants(
        from_yaml("- tenant: {name: a}\n- pipeline: {name: check}\n- tenant: {name: a}\n")
    )
    assert [t.name for t in tenants] == ["a"]
    assert [(e.where.mark.line, e.message.split(" (")[0]) for e in errors] == [
        (2, "unknown stanza kind 'pipeline'"),
        (3, "tenant 'a' is defined twice"),
    ]


def test_a_tenant_without_a_name_is_reported_and_skipped() -> None:
    tenants, errors = parse_tenants(from_yaml("- tenant:\n    source: {}\n"))
    assert tenants == []
    assert errors[0].attribute == "tenant.name"


def test_a_file_that_is_not_a_list_of_stanzas_is_reported() -> None:
    tenants, errors = parse_tenants(from_yaml("tenant:\n  name: a\n"))
    assert tenants == []
    assert "list of stanzas" in errors[0].message
    assert parse_tenants(from_yaml("")) == ([], [])


@pytest.mark.skipif(not OPENSTACK_MAIN.is_file(), reason="the Zuul config corpus is not present")
def test_openstacks_real_tenants_file_loads_without_an_error() -> None:
    tenants, errors = parse_tenants(from_yaml(OPENSTACK_MAIN.read_text()))
    assert [e.render() for e in errors] == []
    names = [t.name for t in tenants]
    assert "openstack" in names and "opendev" in names
    openstack = next(t for t in tenants if t.name == "openstack")
    config = openstack.project("openstack/project-config")
    assert config is not None and config.trusted and config.connection == "gerrit"
    nova = openstack.project("openstack/nova")
    assert nova is not None and not nova.trusted
    assert len(openstack.untrusted_projects) > 500
    opendev = next(t for t in tenants if t.name == "opendev")
    assert opendev.max_nodes_per_job == 10 and opendev.default_ansible_version == "11"
    assert opendev.admin_rules == ("local-admin", "infra-root", "tenant-group")
    assert opendev.project("opendev/base-jobs").load_classes == (  # type: ignore[union-attr]
        frozenset(CONFIG_CLASSES) - {"nodeset"}
    )


# Any mix of names, projects with options, and groups gives one TenantProject per
# name, and never an exception.
_names = st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6})?", fullmatch=True)
_kinds = st.lists(st.sampled_from(CONFIG_CLASSES), max_size=3)
_options = st.fixed_dictionaries(
    {}, optional={"include": _kinds, "exclude": _kinds, "shadow": _names, "load-branch": _names}
)
_entry = st.one_of(
    _names,
    st.builds(lambda n, o: {n: o}, _names, _options),
    st.builds(
        lambda ps, inc: {"include": inc, "projects": ps}, st.lists(_names, min_size=1), _kinds
    ),
)


@given(st.lists(_entry, max_size=8))
def test_every_listed_project_becomes_one_member(entries: list[object]) -> None:
    tenants, errors = parse_tenants(
        [values([{"tenant": {"name": "t", "source": {"gerrit": {"untrusted-projects": entries}}}}])]
    )
    listed: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            listed.append(entry)
        elif isinstance(entry, dict) and "projects" in entry:
            listed += entry["projects"]
        elif isinstance(entry, dict):
            listed += list(entry)
    unique = list(dict.fromkeys(listed))
    assert [p.name for p in tenants[0].projects] == unique
    assert len(errors) == len(listed) - len(unique)
    assert all(not p.trusted for p in tenants[0].projects)
