"""A new site is ready for gating: its CI account, its config project with the
site's pipelines at a real commit, and its tenants, which follow the projects
people create and survive a broken edit of the tenants file."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from lockgate.adapters.config_yaml import read_yaml
from lockgate.core.config.source import Source
from lockgate.services import bootstrap
from lockgate.services.accounts import SERVICE_USERS
from lockgate.services.bootstrap import init_site, open_site
from lockgate.services.gating_setup import CONFIG_PROJECT, RECHECK_COMMENT
from lockgate.testing.server import LiveServer
from tests.system.rest import get, put


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={repo}", *args], capture_output=True, text=True, check=True
    ).stdout


def test_init_creates_the_config_project_at_a_real_commit(tmp_path: Path) -> None:
    result = init_site(tmp_path / "site")
    services = result.services
    try:
        project = services.projects.get(CONFIG_PROJECT)
        assert project.parent == "All-Projects"
        repo = services.repos.path(CONFIG_PROJECT)
        tip = services.projects.branch_tip(CONFIG_PROJECT, "master")
        assert tip is not None
        git(repo, "fsck", "--strict", "--no-progress")
        files = git(repo, "ls-tree", "-r", "--name-only", tip).split()
        assert files == ["zuul.d/jobs.yaml", "zuul.d/pipelines.yaml", "zuul.d/projects.yaml"]
        pipelines_text = git(repo, "show", f"{tip}:zuul.d/pipelines.yaml")
        value, error = read_yaml(
            pipelines_text, Source(CONFIG_PROJECT, "master", "zuul.d/pipelines.yaml", True)
        )
        assert error is None
        pipelines = {stanza["pipeline"]["name"]: stanza["pipeline"] for stanza in value}
        assert list(pipelines) == ["check", "gate", "post", "periodic", "release"]

        check = pipelines["check"]
        assert check["manager"] == "independent"
        events = [t["event"] for t in check["trigger"]["gerrit"]]
        assert events == ["patchset-created", "change-restored", "comment-added"]
        assert check["trigger"]["gerrit"][2]["comment"] == RECHECK_COMMENT
        assert (check["success"], check["failure"]) == (
            {"gerrit": {"Verified": 1}},
            {"gerrit": {"Verified": -1}},
        )

        gate = pipelines["gate"]
        assert (gate["manager"], gate["precedence"], gate["post-review"]) == (
            "dependent",
            "high",
            True,
        )
        required = gate["require"]["gerrit"]
        assert required["open"] and required["current-patchset"]
        assert required["approval"] == [{"Code-Review": 2}, {"Workflow": 1}]
        assert [t["approval"] for t in gate["trigger"]["gerrit"]] == [
            [{"Workflow": 1}],
            [{"Code-Review": 2}],
        ]
        assert gate["start"] == {"gerrit": {"Verified": 0}}
        assert gate["success"] == {"gerrit": {"Verified": 2, "submit": True}}
        assert gate["failure"] == {"gerrit": {"Verified": -2}}

        post = pipelines["post"]
        assert post["trigger"]["gerrit"] == [
            {"event": "ref-updated", "ref": "^refs/heads/.*$", "ignore-deletes": True}
        ]
        assert "success" not in post and "failure" not in post
        assert pipelines["periodic"]["trigger"] == {"timer": [{"time": "0 2 * * *"}]}
        assert pipelines["release"]["trigger"]["gerrit"][0]["ref"] == "^refs/tags/.*$"
        assert pipelines["release"]["precedence"] == "high"

        jobs_text = git(repo, "show", f"{tip}:zuul.d/jobs.yaml")
        jobs, error = read_yaml(jobs_text, Source(CONFIG_PROJECT, "master", "jobs.yaml", True))
        assert error is None
        (base,) = [stanza["job"] for stanza in jobs]
        assert base["name"] == "base" and base["parent"] is None
        assert base["nodeset"] == {"nodes": []}

        tenants = services.tenants.tenants()
        assert [t.name for t in tenants] == ["main"]
        assert [(p.name, p.trusted) for p in tenants[0].config_projects] == [(CONFIG_PROJECT, True)]
        assert services.tenants.errors == []
    finally:
        services.close()


def test_the_pipelines_use_the_configured_connection_name(tmp_path: Path) -> None:
    from lockgate.services.gating_setup import pipelines_yaml, tenants_yaml

    text = pipelines_yaml("review.example.org")
    value, error = read_yaml(text, Source("p", "master", "pipelines.yaml", True))
    assert error is None
    for stanza in value:
        pipeline = stanza["pipeline"]
        for key in ("trigger", "success", "failure", "start", "require"):
            if key in pipeline and pipeline["name"] != "periodic":
                assert list(pipeline[key]) == ["review.example.org"]
    tenants, error = read_yaml(tenants_yaml("review.example.org", "ci"), Source("", "", "t", True))
    assert error is None
    assert list(tenants[0]["tenant"]["source"]) == ["review.example.org"]


def test_the_ci_account_is_a_service_user_whose_password_works_over_http(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    credentials = server.site_path / "ci.credentials"
    assert credentials.stat().st_mode & 0o777 == 0o600
    fields = dict(line.split("=", 1) for line in credentials.read_text().splitlines())
    assert fields["username"] == "zuul"
    ci = (fields["username"], fields["password"])
    assert get(server, "accounts/self", auth=ci)["username"] == "zuul"
    groups = [g["name"] for g in get(server, "accounts/zuul/groups", auth=server.admin)]
    assert SERVICE_USERS in groups
    wrong = httpx.get(f"{server.url}a/accounts/self", auth=("zuul", "not-it"))
    assert wrong.status_code == 401


def test_a_site_made_before_gating_gets_it_when_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `lockgate init` made before this version: no CI account, no config
    # project, no tenants file.
    with monkeypatch.context() as older:
        older.setattr(bootstrap, "_ensure_gating", lambda services: None)
        old = init_site(tmp_path / "site")
    assert old.services.projects.find(CONFIG_PROJECT) is None
    assert old.services.accounts.find("zuul") is None
    old.services.close()

    services = open_site(tmp_path / "site")
    try:
        assert services.projects.find(CONFIG_PROJECT) is not None
        assert services.accounts.find("zuul") is not None
        assert (tmp_path / "site" / "ci.credentials").is_file()
        assert services.tenants.tenant_of(CONFIG_PROJECT) == ["main"]
        tip = services.projects.branch_tip(CONFIG_PROJECT, "master")
    finally:
        services.close()
    # Opening it again creates nothing more and changes nothing.
    again = open_site(tmp_path / "site")
    try:
        assert again.projects.branch_tip(CONFIG_PROJECT, "master") == tip
        assert len([p for p in again.projects.all() if p.name == CONFIG_PROJECT]) == 1
    finally:
        again.close()


def test_a_project_created_after_start_joins_the_default_tenant(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    catalog = server.services.tenants
    assert catalog.tenant_of("team/app") == []
    put(server, "projects/team%2Fapp", {"create_empty_commit": True}, auth=server.admin)

    assert catalog.tenant_of("team/app") == ["main"]
    main = catalog.tenant("main")
    assert main is not None
    app = main.project("team/app")
    assert app is not None and not app.trusted and app.connection == "gerrit"
    assert main.project("All-Projects") is None and main.project("All-Users") is None
    assert catalog.tenant_of("All-Projects") == []


def test_a_project_a_tenant_lists_is_not_added_to_the_default_tenant(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    tenants_file = server.site_path / "etc" / "main.yaml"
    tenants_file.write_text(
        tenants_file.read_text() + "\n- tenant:\n    name: other\n    source:\n      gerrit:\n"
        "        untrusted-projects:\n          - libs/core\n"
    )
    put(server, "projects/libs%2Fcore", {}, auth=server.admin)
    put(server, "projects/libs%2Fextra", {}, auth=server.admin)
    catalog = server.services.tenants
    assert catalog.tenant_of("libs/core") == ["other"]
    assert catalog.tenant_of("libs/extra") == ["main"]


def test_a_broken_tenants_file_is_reported_and_the_last_good_tenants_stay(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    catalog = server.services.tenants
    tenants_file = server.site_path / "etc" / "main.yaml"
    good = tenants_file.read_text()
    assert [t.name for t in catalog.tenants()] == ["main"]

    tenants_file.write_text("- tenant:\n    name: main\n  source: [\n")
    (error,) = catalog.errors
    assert error.where.source.path == "etc/main.yaml"
    assert error.where.mark.line >= 3
    assert [t.name for t in catalog.tenants()] == ["main"]
    assert catalog.tenant_of(CONFIG_PROJECT) == ["main"]

    _rewrite(tenants_file, good.replace("    name: main\n", "    name: main\n    max-nodes: 2\n"))
    (error,) = catalog.errors
    assert (error.where.mark.line, error.attribute) == (
        good.splitlines().index("    name: main") + 2,
        "tenant.max-nodes",
    )
    assert catalog.tenant("main").max_nodes_per_job == 5  # type: ignore[union-attr]

    _rewrite(
        tenants_file, good.replace("    name: main\n", "    name: main\n    max-nodes-per-job: 2\n")
    )
    assert catalog.errors == []
    assert catalog.tenant("main").max_nodes_per_job == 2  # type: ignore[union-attr]

    tenants_file.unlink()
    assert "does not exist" in catalog.errors[0].message
    assert catalog.tenant("main").max_nodes_per_job == 2  # type: ignore[union-attr]


def _rewrite(path: Path, text: str) -> None:
    """Write `path` so that its stat changes even within one clock tick."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns == before:
        time.sleep(0.01)
        path.write_text(text)


def test_a_config_project_left_without_its_first_commit_gets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as older:
        older.setattr(bootstrap, "_ensure_gating", lambda services: None)
        old = init_site(tmp_path / "site")
    # As if the process had stopped between creating the project and its commit.
    old.services.projects.create(CONFIG_PROJECT)
    assert old.services.projects.branch_tip(CONFIG_PROJECT, "master") is None
    old.services.close()

    services = open_site(tmp_path / "site")
    try:
        tip = services.projects.branch_tip(CONFIG_PROJECT, "master")
        assert tip is not None
        files = git(services.repos.path(CONFIG_PROJECT), "ls-tree", "-r", "--name-only", tip)
        assert "zuul.d/pipelines.yaml" in files.split()
    finally:
        services.close()


def test_lockgate_init_says_where_the_ci_account_and_config_project_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lockgate.cli.main import main

    assert main(["init", str(tmp_path / "site"), "--listen", "127.0.0.1:18080"]) == 0
    out = capsys.readouterr().out
    assert "CI account:     zuul" in out and "ci.credentials" in out
    assert "config project: project-config" in out
    assert (tmp_path / "site" / "etc" / "main.yaml").is_file()


def test_a_site_with_gating_turned_off_gets_none_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as older:
        older.setattr(bootstrap, "_ensure_gating", lambda services: None)
        init_site(tmp_path / "site").services.close()
    settings_file = tmp_path / "site" / "lockgate.toml"
    settings_file.write_text(
        settings_file.read_text().replace("[gating]\n", "[gating]\nenabled = false\n")
    )
    services = open_site(tmp_path / "site")
    try:
        assert services.projects.find(CONFIG_PROJECT) is None
        assert services.accounts.find("zuul") is None
        assert not (tmp_path / "site" / "etc" / "main.yaml").exists()
        assert not (tmp_path / "site" / "ci.credentials").exists()
    finally:
        services.close()
