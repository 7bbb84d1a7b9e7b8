"""Configuration files read from a hosted repository at a commit, and from a folder."""

from __future__ import annotations

from pathlib import Path

from lockgate.adapters.git.config_files import read_config_at, read_config_in
from lockgate.adapters.git.repos import RepoStore
from tests.gitutil import git


def _work_tree(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=master")
    (root / "zuul.d" / "more").mkdir(parents=True)
    (root / "zuul.d" / "b.yaml").write_text("- job:\n    name: b\n")
    (root / "zuul.d" / "a.yaml").write_text("- job:\n    name: a\n")
    (root / "zuul.d" / "more" / "c.yaml").write_text("- job:\n    name: c\n")
    (root / "zuul.d" / "notes.txt").write_text("not config\n")
    (root / ".zuul.yaml").write_text("- job:\n    name: hidden\n")
    (root / "ci").mkdir()
    (root / "ci" / "extra.yaml").write_text("- job:\n    name: extra\n")
    git(root, "add", "-A")
    git(
        root,
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@example.org",
        "commit",
        "--quiet",
        "-m",
        "config",
    )
    return root


def test_files_at_a_commit_of_a_hosted_repository(tmp_path: Path) -> None:
    work = _work_tree(tmp_path / "work")
    repos = RepoStore(tmp_path / "repos")
    repos.create("org/project")
    git(work, "push", "--quiet", str(repos.path("org/project")), "master")
    commit = repos.resolve("org/project", "refs/heads/master")
    assert commit is not None
    files = read_config_at(repos, "org/project", commit, ["ci/extra.yaml"])
    assert files == [
        ("zuul.d/a.yaml", b"- job:\n    name: a\n"),
        ("zuul.d/b.yaml", b"- job:\n    name: b\n"),
        ("zuul.d/more/c.yaml", b"- job:\n    name: c\n"),
        ("ci/extra.yaml", b"- job:\n    name: extra\n"),
    ]
    assert read_config_in(work, ["ci/extra.yaml"]) == files


def test_a_repository_without_configuration_has_no_files(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "--quiet", "--initial-branch=master")
    (work / "README").write_text("hello\n")
    git(work, "add", "-A")
    git(work, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "x")
    repos = RepoStore(tmp_path / "repos")
    repos.create("org/empty")
    git(work, "push", "--quiet", str(repos.path("org/empty")), "master")
    commit = repos.resolve("org/empty", "refs/heads/master")
    assert commit is not None
    assert read_config_at(repos, "org/empty", commit) == []
    assert read_config_in(work) == []
