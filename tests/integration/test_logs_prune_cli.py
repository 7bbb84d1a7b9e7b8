"""`lockgate logs prune` as an operator runs it from cron."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def _prune(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgate.cli.main", "logs", "prune", "--site", str(site), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _build(site: Path, path: str, age_days: float) -> Path:
    folder = site / "build-logs" / path
    folder.mkdir(parents=True)
    (folder / "job-output.txt").write_text("done\n")
    then = time.time() - age_days * 86400
    os.utime(folder / "job-output.txt", (then, then))
    return folder


def test_prune_keeps_the_days_the_site_says_and_lists_what_goes(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "lockgate.toml").write_text('[logs]\nfolder = "build-logs"\nkeep_days = 30\n')
    old = _build(site, "check/org/app/main/unit/aaaaaaa", age_days=45)
    recent = _build(site, "check/org/app/main/unit/bbbbbbb", age_days=10)

    looked = _prune(site, "--dry-run")
    assert looked.returncode == 0, looked.stderr
    assert "would remove check/org/app/main/unit/aaaaaaa" in looked.stdout
    assert old.exists()

    done = _prune(site)
    assert done.returncode == 0, done.stderr
    assert "removed 1 build log folder(s) older than 30 day(s)" in done.stdout
    assert not old.exists() and recent.exists()

    shorter = _prune(site, "--days", "5")
    assert "removed check/org/app/main/unit/bbbbbbb" in shorter.stdout
    assert not recent.exists()


def test_prune_outside_a_site_says_how_to_make_one(tmp_path: Path) -> None:
    result = _prune(tmp_path / "nowhere")
    assert result.returncode == 1
    assert "lockgate init" in result.stderr
