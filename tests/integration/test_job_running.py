"""The site chooses its executor: its own launcher and Ansible executor by
default, none when `[executor] enabled = false`, and none, with the reason
logged, when a provider cannot start; the site is served either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.adapters.providers import sandbox
from lockgate.adapters.providers.sandbox import SandboxUnavailable
from lockgate.services.bootstrap import init_site, open_site
from lockgate.services.executor import AnsibleExecutor
from lockgate.services.gating import NoExecutor


def make_site(tmp_path: Path, extra: str = "") -> Path:
    init_site(tmp_path / "site").services.close()
    settings = tmp_path / "site" / "lockgate.toml"
    settings.write_text(settings.read_text() + extra)
    return tmp_path / "site"


def test_without_bubblewrap_the_reason_is_logged_and_builds_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(tmp_path)

    def missing() -> None:
        raise SandboxUnavailable("bwrap and prlimit not found on PATH")

    monkeypatch.setattr(sandbox, "check_sandbox_tools", missing)
    services = open_site(site)
    try:
        assert services.jobs is None
        assert services.gating is not None
        assert isinstance(services.gating.executor, NoExecutor)
        assert "jobs will not run on this site" in caplog.text
        assert "bwrap and prlimit not found on PATH" in caplog.text
    finally:
        services.close()


def test_executor_disabled_gives_no_executor(tmp_path: Path) -> None:
    services = open_site(make_site(tmp_path, "\n[executor]\nenabled = false\n"))
    try:
        assert services.jobs is None and services.launcher is None
        assert services.gating is not None
        assert isinstance(services.gating.executor, NoExecutor)
    finally:
        services.close()


def test_the_executor_settings_reach_the_site_executor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "check_sandbox_tools", lambda: None)
    monkeypatch.setattr(sandbox, "check_reachable", lambda base, uid: None)
    site = make_site(tmp_path, "\n[executor]\nworkers = 2\nnode_wait = 30\nkeep_jobs = true\n")
    services = open_site(site)
    try:
        assert services.jobs is not None
        executor = services.jobs.executor
        assert isinstance(executor, AnsibleExecutor)
        assert services.gating is not None and services.gating.executor is executor
        assert services.launcher is services.jobs.launcher
        assert executor._settings.workers == 2
        assert executor._settings.node_wait == 30
        assert executor._settings.keep_jobs
        assert executor._settings.work_root == site.resolve() / "run" / "jobs"
    finally:
        services.close()
