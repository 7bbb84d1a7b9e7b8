"""OpenStack's configuration loads into the real `openstack` tenant of its
own main.yaml: every job of the corpus loads, and the only errors are root
causes that name something the corpus does not define (the jobs, nodesets
and templates of zuul-jobs, base-jobs and the other OpenStack projects, and
the stanzas project-config writes for the projects of other tenants). With
stubs of those, nova's check and gate graphs freeze."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from lockgate.adapters.config_yaml import read_yaml
from lockgate.adapters.git.config_files import read_config_in
from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.layout import Layout, LoadedConfig, build_layout
from lockgate.core.config.objects import (
    JobDef,
    NodeDef,
    NodesetDef,
    ParsedConfig,
    ProjectTemplateDef,
)
from lockgate.core.config.source import ConfigError, Mark, Source, Where
from lockgate.core.config.tenant_parse import parse_tenants
from lockgate.core.config.tenants import TenantDef
from lockgate.core.gating.changes import Change
from lockgate.core.gating.layout_view import ConfigProblem
from lockgate.services.config_check import DEFAULT_CONNECTIONS, parse_config_files

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "zuul-configs"
# corpus folder -> the project it is in OpenStack's tenant
PROJECTS = {
    "openstack-project-config": "openstack/project-config",
    "openstack-zuul-jobs": "openstack/openstack-zuul-jobs",
    "nova": "openstack/nova",
    "devstack": "openstack/devstack",
    "tempest": "openstack/tempest",
}
BASE_JOBS = "opendev/base-jobs"

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the Zuul corpus is not next to the repository ({CORPUS})"
)

# What each root-cause error says, with the name it is about.
ROOT_CAUSES = {
    "missing job": re.compile(r'^job "([^"]+)" is not defined in this tenant'),
    "missing nodeset": re.compile(r'^nodeset "([^"]+)" is not defined in this tenant'),
    "missing template": re.compile(r'^project-template "([^"]+)" is not defined in this tenant'),
    "project of another tenant": re.compile(r'^the tenant has no project "([^"]+)"'),
}
# The corpus's one rule violation of its own: a template of openstack-zuul-jobs
# sets `vars` on propose-update-constraints, a job project-config protects.
PROTECTED = re.compile(
    r'^job "propose-update-constraints" is protected by openstack/project-config'
)


def _openstack_tenant() -> TenantDef:
    main = CORPUS / "openstack-project-config" / "zuul" / "main.yaml"
    documents, error = read_yaml(
        main.read_bytes(), Source("openstack/project-config", "master", "zuul/main.yaml", True)
    )
    assert error is None
    tenants, errors = parse_tenants([documents])
    assert errors == []
    return next(t for t in tenants if t.name == "openstack")


def _corpus(tenant: TenantDef) -> list[LoadedConfig]:
    loaded = []
    for tenant_project in tenant.projects:
        folder = next((f for f, name in PROJECTS.items() if name == tenant_project.name), None)
        if folder is None:
            continue
        parsed = parse_config_files(
            read_config_in(CORPUS / folder),
            project=tenant_project.name,
            branch="master",
            trusted=tenant_project.trusted,
            connections=DEFAULT_CONNECTIONS,
        )
        loaded.append(LoadedConfig(tenant_project, "master", parsed))
    return loaded


@pytest.fixture(scope="module")
def tenant() -> TenantDef:
    return _openstack_tenant()


@pytest.fixture(scope="module")
def corpus(tenant: TenantDef) -> list[LoadedConfig]:
    return _corpus(tenant)


@pytest.fixture(scope="module")
def layout(tenant: TenantDef, corpus: list[LoadedConfig]) -> Layout:
    return build_layout(tenant, corpus)


def _kind(error: ConfigError) -> tuple[str, str]:
    for kind, pattern in ROOT_CAUSES.items():
        found = pattern.match(error.message)
        if found:
            return kind, found.group(1)
    if PROTECTED.match(error.message):
        return "protected job varied by another project", "propose-update-constraints"
    raise AssertionError(f"not a root cause: {error.render()}")


def _missing(layout: Layout) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for error in layout.errors:
        if error.severity != "error":
            continue
        kind, name = _kind(error)
        out.setdefault(kind, set()).add(name)
    return out


def nova_change() -> Change:
    return Change(
        project="openstack/nova",
        branch="master",
        number=1,
        patchset=1,
        commit="a" * 40,
        ref="refs/changes/01/1/1",
        url="http://review.example/c/1",
        owner="alice",
        subject="Fix the scheduler",
        message="Fix the scheduler\n",
        files=("nova/scheduler/manager.py",),
    )


def test_the_openstack_tenant_loads_every_corpus_repository(
    tenant: TenantDef, corpus: list[LoadedConfig]
) -> None:
    assert len(tenant.projects) > 1000
    assert [c.project.name for c in corpus] == [
        "openstack/project-config",
        "openstack/openstack-zuul-jobs",
        "openstack/devstack",
        "openstack/tempest",
        "openstack/nova",
    ]


def test_the_only_errors_are_root_causes(layout: Layout) -> None:
    errors = [e for e in layout.errors if e.severity == "error"]
    kinds = Counter(_kind(e)[0] for e in errors)
    print(dict(kinds))
    assert set(kinds) == {
        "missing job",
        "missing nodeset",
        "missing template",
        "project of another tenant",
        "protected job varied by another project",
    }
    # the connection drivers a lockgate site lacks are warnings, not errors
    warnings = {e.message for e in layout.errors if e.severity != "error"}
    assert warnings and all(m.startswith("unknown connection") for m in warnings)
    # no cascade: nothing is "could not be loaded" for want of an ancestor
    assert not [e for e in errors if "could not be loaded" in e.message]
    # each missing name is reported once per project
    keys = [(e.where.source.project, _kind(e)) for e in errors if "missing" in _kind(e)[0]]
    assert len(keys) == len(set(keys))
    base = [e for e in errors if e.message.startswith('job "base" is not defined')]
    assert {e.where.source.project for e in base} == {
        "openstack/project-config",
        "openstack/openstack-zuul-jobs",
        "openstack/devstack",
    }


def test_every_missing_name_is_indeed_not_in_the_corpus(
    tenant: TenantDef, corpus: list[LoadedConfig], layout: Layout
) -> None:
    missing = _missing(layout)
    defined = {
        "missing job": {j.name for c in corpus for j in c.parsed.jobs},
        "missing nodeset": {n.name for c in corpus for n in c.parsed.nodesets},
        "missing template": {t.name for c in corpus for t in c.parsed.templates},
        "project of another tenant": {p.name for p in tenant.projects},
    }
    for kind, names in defined.items():
        assert missing[kind], kind
        assert not missing[kind] & names, kind
    assert {"base", "tox", "tox-pep8", "opendev-buildset-registry"} <= missing["missing job"]
    assert "check-requirements" in missing["missing template"]
    assert "ubuntu-noble" in missing["missing nodeset"]


@pytest.mark.parametrize("folder", ["nova", "devstack", "tempest", "openstack-zuul-jobs"])
def test_every_job_of_a_repository_loads(
    folder: str, corpus: list[LoadedConfig], layout: Layout
) -> None:
    project = PROJECTS[folder]
    (config,) = [c for c in corpus if c.project.name == project]
    defined = {j.name for j in config.parsed.jobs}
    loaded = {
        name
        for name, variants in layout.jobs.items()
        if variants and variants[0].where.source.project == project
    }
    assert loaded == defined
    assert len(defined) > 10


def test_a_graph_that_needs_what_is_missing_says_why(layout: Layout) -> None:
    graph = layout.job_graph("check", nova_change())
    assert isinstance(graph, ConfigProblem)
    messages = {e.message for e in graph.errors}
    assert any(m.startswith('project-template "check-requirements"') for m in messages)


def _stub(tenant: TenantDef, project: str, parsed: ParsedConfig) -> LoadedConfig:
    tenant_project = tenant.project(project)
    assert tenant_project is not None, project
    return LoadedConfig(tenant_project, "master", parsed)


def _stubs(tenant: TenantDef, missing: dict[str, set[str]]) -> list[LoadedConfig]:
    """Small stand-ins for the projects the corpus lacks, each where the
    tenant loads it: `base` in opendev/base-jobs (which gives the tenant
    only jobs and secrets), the nodesets in opendev/zuul-providers (only
    nodesets), and every other missing job and template in zuul/zuul-jobs."""

    def where(project: str) -> Where:
        return Where(Source(project, "master", "zuul.d/stubs.yaml", False), Mark(1, 1))

    base = _stub(
        tenant,
        BASE_JOBS,
        ParsedConfig(jobs=[JobDef("base", where(BASE_JOBS), is_base=True, run=None)]),
    )
    providers = "opendev/zuul-providers"
    nodesets = _stub(
        tenant,
        providers,
        ParsedConfig(
            nodesets=[
                NodesetDef(name, nodes=(NodeDef(("controller",), name),), where=where(providers))
                for name in sorted(missing["missing nodeset"])
            ]
        ),
    )
    zuul_jobs = "zuul/zuul-jobs"
    others = _stub(
        tenant,
        zuul_jobs,
        ParsedConfig(
            jobs=[
                JobDef(name, where(zuul_jobs)) for name in sorted(missing["missing job"] - {"base"})
            ],
            templates=[
                ProjectTemplateDef(name, where(zuul_jobs))
                for name in sorted(missing["missing template"])
            ],
        ),
    )
    return [base, nodesets, others]


def test_with_stubs_for_what_is_missing_novas_graphs_freeze(
    tenant: TenantDef, corpus: list[LoadedConfig], layout: Layout
) -> None:
    order = {p.name: i for i, p in enumerate(tenant.projects)}
    configs = sorted(
        [*corpus, *_stubs(tenant, _missing(layout))], key=lambda c: order[c.project.name]
    )
    stubbed = build_layout(tenant, configs)
    kinds = {_kind(e)[0] for e in stubbed.errors if e.severity == "error"}
    assert kinds == {"project of another tenant", "protected job varied by another project"}

    check = stubbed.job_graph("check", nova_change())
    gate = stubbed.job_graph("gate", nova_change())
    assert isinstance(check, JobGraph), check
    assert isinstance(gate, JobGraph), gate
    print("check:", len(check.jobs), check.names())
    print("gate:", len(gate.jobs), gate.names())
    # the corpus's own count, for a change to nova's code on master: its
    # templates' jobs first, then its own
    assert (len(check.jobs), len(gate.jobs)) == (28, 20)
    assert set(gate.names()) <= set(check.names())
    assert {"nova-next", "nova-live-migration", "nova-tox-functional-py313"} <= set(gate.names())
    assert {"nova-whitebox", "nova-graceful-shutdown"} <= set(check.names()) - set(gate.names())
    for job in check.jobs:
        # every job reaches the stub base through its real parents
        assert job.ancestry[-1:] == ("base",) or job.name == "noop", job.name


def test_without_a_base_job_each_of_novas_jobs_says_it_inherits_from_a_missing_one(
    tenant: TenantDef, corpus: list[LoadedConfig], layout: Layout
) -> None:
    order = {p.name: i for i, p in enumerate(tenant.projects)}
    stubs = [s for s in _stubs(tenant, _missing(layout)) if s.project.name != BASE_JOBS]
    configs = sorted([*corpus, *stubs], key=lambda c: order[c.project.name])
    without_base = build_layout(tenant, configs)
    # every job still loads
    assert {"nova-next", "devstack", "tempest-full-py3"} <= set(without_base.jobs)
    graph = without_base.job_graph("check", nova_change())
    assert isinstance(graph, ConfigProblem)
    assert len(graph.errors) > 20
    for error in graph.errors:
        assert re.fullmatch(
            r'job "[^"]+" inherits from "base", which is not defined in this tenant', error.message
        ), error.message
    assert 'job "nova-next" inherits from "base", which is not defined in this tenant' in {
        e.message for e in graph.errors
    }
