"""The configuration a new site's config project starts with is valid Zuul
configuration, for any connection name the site may use."""

from __future__ import annotations

import pytest

from lockgate.adapters.config_yaml import read_yaml
from lockgate.core.config.parse import parse_config
from lockgate.core.config.source import Source
from lockgate.core.config.tenant_parse import parse_tenants
from lockgate.services.gating_setup import (
    CONFIG_PROJECT,
    RECHECK_COMMENT,
    config_project_files,
    tenants_yaml,
)


@pytest.mark.parametrize("connection", ["gerrit", "review.example.org"])
def test_every_file_of_the_config_project_parses_without_an_error(connection: str) -> None:
    parsed = {}
    for path, text in config_project_files(connection).items():
        source = Source(CONFIG_PROJECT, "master", path, True)
        value, syntax = read_yaml(text, source)
        assert syntax is None
        config = parse_config(
            value, source, connections={connection: "gerrit", "timer": "timer", "zuul": "zuul"}
        )
        assert [e.render() for e in config.errors] == []
        parsed[path] = config

    pipelines = parsed["zuul.d/pipelines.yaml"].pipelines
    assert [(p.name, p.manager) for p in pipelines] == [
        ("check", "independent"),
        ("gate", "dependent"),
        ("post", "independent"),
        ("periodic", "independent"),
        ("release", "independent"),
    ]
    gate = pipelines[1]
    assert gate.precedence == "high" and gate.post_review
    (base,) = parsed["zuul.d/jobs.yaml"].jobs
    assert base.name == "base"
    (project,) = parsed["zuul.d/projects.yaml"].projects
    assert project.name == CONFIG_PROJECT


def test_the_recheck_expression_matches_what_people_write() -> None:
    import re

    recheck = re.compile(RECHECK_COMMENT)
    assert recheck.search("recheck")
    assert recheck.search("Patch Set 3:\n\nrecheck")
    assert recheck.search("Patch Set 3: Code-Review+1\n\nrecheck please")
    assert recheck.search("RECHECK")
    assert not recheck.search("Patch Set 3:\n\nlooks good, no recheck needed")


def test_the_tenants_file_of_a_new_site_parses_without_an_error() -> None:
    value, syntax = read_yaml(tenants_yaml("gerrit", "main"), Source("", "", "etc/main.yaml", True))
    assert syntax is None
    tenants, errors = parse_tenants([value])
    assert errors == []
    ((name, projects),) = [(t.name, t.projects) for t in tenants]
    assert name == "main"
    assert [(p.name, p.trusted, p.connection) for p in projects] == [
        (CONFIG_PROJECT, True, "gerrit")
    ]
