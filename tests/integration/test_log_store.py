"""The filesystem log store: a build's folder, finishing it (gzip and Zuul's
manifest), finding served names in it, and pruning old builds."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from lockgate.adapters.logstore.filesystem import (
    MANIFEST,
    FilesystemLogStore,
    LogPathError,
    StoredDir,
    StoredFile,
)
from lockgate.core.nodes.log_paths import build_log_path

BUILD = build_log_path(
    build="0123456789abcdef",
    job="unit",
    pipeline="check",
    project="org/app",
    branch="main",
    change=1234,
    patchset=2,
    newrev=None,
)


@pytest.fixture
def store(tmp_path: Path) -> FilesystemLogStore:
    return FilesystemLogStore(tmp_path / "logs", "https://logs.example.org/", gzip_min_bytes=1024)


def test_a_build_writes_into_its_folder_in_zuuls_layout(store: FilesystemLogStore) -> None:
    folder = store.folder(BUILD)

    assert folder == store.root / "34" / "1234" / "2" / "check" / "unit" / "0123456"
    assert folder.is_dir()
    assert store.url(BUILD) == "https://logs.example.org/34/1234/2/check/unit/0123456/"


@pytest.mark.parametrize("path", ["../escape", "a/../../b", "a/./b", "", "a\x00b"])
def test_paths_that_climb_out_or_hide_are_refused(store: FilesystemLogStore, path: str) -> None:
    with pytest.raises(LogPathError):
        store.folder(path)
    assert store.locate(path) is None or path == ""


def test_finishing_gzips_large_text_and_writes_the_manifest(store: FilesystemLogStore) -> None:
    folder = store.folder(BUILD)
    big = "".join(f"line {n}\n" for n in range(500))
    (folder / "job-output.txt").write_text(big)
    (folder / "small.log").write_text("short\n")
    (folder / "logs").mkdir()
    (folder / "logs" / "syslog.txt").write_text(big)
    (folder / "logs" / "image.png").write_bytes(b"\x89PNG" + bytes(4000))
    (folder / "artifact.tar.gz").write_bytes(gzip.compress(b"tar"))

    url = store.finish(BUILD)

    assert url == store.url(BUILD)
    assert not (folder / "job-output.txt").exists()
    assert gzip.decompress((folder / "job-output.txt.gz").read_bytes()).decode() == big
    assert (folder / "small.log").read_text() == "short\n"
    assert (folder / "logs" / "image.png").exists(), "binary files stay as they are"

    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["index_links"] is False
    tree = manifest["tree"]
    assert [entry["name"] for entry in tree] == [
        "logs",
        "artifact.tar.gz",
        "job-output.txt",
        "small.log",
    ], "folders first, then files, each sorted; a gzipped log under its served name"
    logs = tree[0]
    assert logs["mimetype"] == "application/directory" and logs["encoding"] is None
    assert [(c["name"], c["mimetype"]) for c in logs["children"]] == [
        ("image.png", "image/png"),
        ("syslog.txt", "text/plain"),
    ]
    by_name = {entry["name"]: entry for entry in tree}
    assert by_name["job-output.txt"]["mimetype"] == "text/plain"
    assert by_name["job-output.txt"]["encoding"] is None
    assert by_name["artifact.tar.gz"]["encoding"] == "gzip"
    assert by_name["small.log"]["size"] == len("short\n")
    assert abs(by_name["small.log"]["last_modified"] - time.time()) < 3600


def test_served_names_find_the_gzipped_file_and_the_other_way(store: FilesystemLogStore) -> None:
    folder = store.folder(BUILD)
    (folder / "job-output.txt.gz").write_bytes(gzip.compress(b"x\n"))
    (folder / "job-output.json").write_text("[]")

    plain = store.locate(f"{BUILD}/job-output.txt")
    assert isinstance(plain, StoredFile) and plain.gzipped and plain.name == "job-output.txt"
    # Zuul's build page asks for job-output.json.gz before job-output.json.
    packed = store.locate(f"{BUILD}/job-output.json.gz")
    assert isinstance(packed, StoredFile) and not packed.gzipped
    assert packed.disk == folder / "job-output.json"
    assert isinstance(store.locate(BUILD), StoredDir)
    assert store.locate(f"{BUILD}/nothing.txt") is None


def test_a_symlink_out_of_the_store_is_never_followed(
    store: FilesystemLogStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the host's secret\n")
    folder = store.folder(BUILD)
    (folder / "leak.txt").symlink_to(secret)
    (folder / "leakdir").symlink_to(tmp_path)

    assert store.locate(f"{BUILD}/leak.txt") is None
    assert store.locate(f"{BUILD}/leakdir/secret.txt") is None
    store.finish(BUILD)
    names = [e["name"] for e in json.loads((folder / MANIFEST).read_text())["tree"]]
    assert "leak.txt" not in names and "leakdir" not in names
    assert secret.read_text() == "the host's secret\n"


def test_a_folder_symlinked_back_up_does_not_loop_the_manifest(
    store: FilesystemLogStore,
) -> None:
    folder = store.folder(BUILD)
    (folder / "job-output.txt").write_text("x\n")
    (folder / "up").symlink_to("..")
    (folder / "dangling.txt").symlink_to(folder / "gone.txt")

    store.finish(BUILD)

    names = [e["name"] for e in json.loads((folder / MANIFEST).read_text())["tree"]]
    assert names == ["job-output.txt"]


def _age(folder: Path, days: float) -> None:
    then = time.time() - days * 86400
    for path in folder.iterdir():
        os.utime(path, (then, then))


def test_pruning_removes_old_builds_and_their_empty_parents(store: FilesystemLogStore) -> None:
    old = store.folder(BUILD)
    (old / "job-output.txt").write_text("old\n")
    store.finish(BUILD)
    _age(old, 40)
    recent_path = BUILD.replace("0123456", "fedcba9")
    recent = store.folder(recent_path)
    (recent / "job-output.txt").write_text("new\n")
    store.finish(recent_path)
    other = store.folder("periodic/org/app/main/nightly/aaaaaaa")
    (other / "job-output.txt").write_text("old too\n")
    _age(other, 40)

    assert store.prune(now=time.time(), keep_days=30, dry_run=True) == [
        BUILD,
        "periodic/org/app/main/nightly/aaaaaaa",
    ]
    assert old.exists(), "a dry run removes nothing"

    removed = store.prune(now=time.time(), keep_days=30)

    assert removed == [BUILD, "periodic/org/app/main/nightly/aaaaaaa"]
    assert not old.exists() and recent.exists()
    assert not (store.root / "periodic").exists(), "empty parents go too"
    assert store.prune(now=time.time(), keep_days=0) == [], "0 keeps everything"
