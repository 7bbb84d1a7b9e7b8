"""`lockgate config check` as a maintainer runs it before pushing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgate.cli.main", "config", "check", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _repository(root: Path) -> Path:
    (root / "zuul.d").mkdir(parents=True)
    (root / "zuul.d" / "jobs.yaml").write_text(
        "- job:\n    name: unit\n    parent: base\n    timout: 600\n"
    )
    (root / "zuul.d" / "project.yaml").write_text("- project:\n    check:\n      jobs: [unit\n")
    # not read: zuul.d/ comes first
    (root / ".zuul.yaml").write_text("- job:\n    nme: ignored\n")
    return root


def test_a_broken_repository_prints_file_line_column_and_fails(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "repo")
    result = _check(str(repo))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f'{repo}/zuul.d/jobs.yaml:4:5: job "unit": job.timout: unknown attribute '
        "(did you mean 'timeout'?"
    )
    assert lines[1] == (
        f"{repo}/zuul.d/project.yaml:4:1: YAML syntax error: while parsing a flow sequence: "
        "did not find expected ',' or ']' (started at line 3, column 13)"
    )
    assert lines[-1] == "2 errors, 0 warnings"
    assert len(lines) == 3


def test_a_good_file_passes_and_warnings_do_not_fail(tmp_path: Path) -> None:
    good = tmp_path / "pipelines.yaml"
    good.write_text(
        "- pipeline:\n    name: check\n    manager: independent\n"
        "    trigger:\n      gerrit:\n        - event: patchset-created\n"
        "      github:\n        - event: pull_request\n"
    )
    result = _check("--trusted", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f'{good}:7:7: warning: pipeline "check": pipeline.trigger.github: unknown connection '
        "'github'; its trigger is left out (connections of this site: gerrit, timer, zuul)",
        "0 errors, 1 warning",
    ]
    assert _check("--trusted", "--connection", "github=github", str(good)).stdout.splitlines() == [
        "0 errors, 0 warnings"
    ]


def test_untrusted_by_default(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("- job:\n    name: base\n    parent: null\n")
    untrusted = _check(str(base))
    assert untrusted.returncode == 1
    assert "a base job (parent: null) is only allowed in a config project" in untrusted.stdout
    assert _check("--trusted", str(base)).returncode == 0


def test_missing_paths_and_empty_folders_are_errors(tmp_path: Path) -> None:
    result = _check(str(tmp_path / "absent.yaml"), str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path}/absent.yaml:0:0: no such file or folder",
        f"{tmp_path}:0:0: holds no Zuul configuration (looked for zuul.yaml, zuul.d/, "
        ".zuul.yaml, .zuul.d/)",
        "2 errors, 0 warnings",
    ]


def test_a_bad_connection_option_is_a_usage_error(tmp_path: Path) -> None:
    result = _check("--connection", "github", str(tmp_path))
    assert result.returncode == 2
    assert "write NAME=DRIVER" in result.stdout
