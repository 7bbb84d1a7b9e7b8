"""Build logs in a folder of the site, laid out as Zuul's log paths.

While a build runs the executor writes straight into its folder, so the live
console can read `job-output.txt` as it grows. When the build finishes, text
files of some size are gzipped in place (`x.txt` becomes `x.txt.gz`, still
served as `x.txt`) and `zuul-manifest.json` lists the folder in the shape of
zuul-jobs' generate-zuul-manifest, which Zuul's build page reads for its Logs tab.

Everything in the store was written by jobs and is untrusted: names are checked
segment by segment and every file found is confirmed to lie inside the store
(a job can leave a symlink to anywhere).
"""

from __future__ import annotations

import gzip
import json
import mimetypes
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "zuul-manifest.json"
CONSOLE = "job-output.txt"
_GZ = ".gz"
# Types stored gzipped when large, and whose `.gz` is served under the plain name.
_TEXT_TYPES = {"application/json", "application/xml", "application/yaml", "application/x-yaml"}
_TEXT_SUFFIXES = {".txt", ".log", ".json", ".yaml", ".yml", ".conf", ".cfg", ".ini", ".xml"}
_OWN_TYPES = {
    ".txt": "text/plain",
    ".log": "text/plain",
    ".json": "application/json",
    ".yaml": "text/plain",
    ".yml": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
}


class LogPathError(ValueError):
    """A log path that would leave the store or name nothing a build can write."""


def mimetype(name: str) -> str:
    """The type a log file is served as, without a charset: ours for the usual
    log suffixes, the system's table for the rest, octet-stream when unknown."""
    suffix = Path(name).suffix.lower()
    if suffix in _OWN_TYPES:
        return _OWN_TYPES[suffix]
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is None or encoding is not None:
        return "application/octet-stream"
    return guessed


def is_text(name: str) -> bool:
    kind = mimetype(name)
    return (
        kind.startswith("text/")
        or kind in _TEXT_TYPES
        or Path(name).suffix.lower() in _TEXT_SUFFIXES
    )


def split_path(path: str) -> tuple[str, ...]:
    """The segments of a log path, refusing anything that climbs out or hides."""
    segments = tuple(s for s in path.replace("\\", "/").split("/") if s)
    for segment in segments:
        if segment in (".", "..") or "\x00" in segment:
            raise LogPathError(
                f"log path {path!r}: segment {segment!r} is not allowed; "
                "log paths are relative and never go up"
            )
    return segments


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file found for a served name: `gzipped` when the bytes on disk are
    gzip of the content named `name`."""

    disk: Path
    name: str
    gzipped: bool

    @property
    def mimetype(self) -> str:
        return mimetype(self.name)


@dataclass(frozen=True, slots=True)
class ListedEntry:
    name: str  # as served: a gzipped text file under its plain name
    is_dir: bool
    size: int
    mtime: float
    is_link: bool = False


@dataclass(frozen=True, slots=True)
class StoredDir:
    disk: Path
    path: str  # relative to the store, "" at its root

    def entries(self, root: Path) -> list[ListedEntry]:
        return _entries(self.disk, root)


def _entries(folder: Path, root: Path) -> list[ListedEntry]:
    names = {entry.name for entry in os.scandir(folder)}
    listed: list[ListedEntry] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        disk = Path(entry.path)
        if not _inside(disk, root):
            continue
        try:
            st = entry.stat()
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            continue  # a dangling symlink
        if is_dir:
            listed.append(ListedEntry(entry.name, True, 0, st.st_mtime, entry.is_symlink()))
            continue
        name = entry.name
        plain = name[: -len(_GZ)]
        if name.endswith(_GZ) and is_text(plain) and plain not in names:
            name = plain
        listed.append(ListedEntry(name, False, st.st_size, st.st_mtime, entry.is_symlink()))
    return listed


def _inside(disk: Path, root: Path) -> bool:
    try:
        return disk.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


class FilesystemLogStore:
    """The LogStore port (services/node_ports.py) on a local folder."""

    def __init__(self, root: Path, base_url: str, *, gzip_min_bytes: int = 64 * 1024) -> None:
        self.root = root.resolve()
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.gzip_min_bytes = gzip_min_bytes

    # --- the port ---------------------------------------------------------------

    def folder(self, path: str) -> Path:
        segments = split_path(path)
        if not segments:
            raise LogPathError("log path is empty; give the build's path from build_log_path")
        folder = self.root.joinpath(*segments)
        folder.mkdir(parents=True, exist_ok=True)
        if not _inside(folder, self.root):
            raise LogPathError(f"log path {path!r} leads outside the log store")
        return folder

    def finish(self, path: str) -> str:
        folder = self.folder(path)
        self._compress(folder)
        manifest = {"tree": self.manifest_tree(folder), "index_links": False}
        tmp = folder / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, separators=(",", ":")))
        tmp.replace(folder / MANIFEST)
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base_url + "/".join(split_path(path)) + "/"

    # --- finishing ----------------------------------------------------------------

    def _compress(self, folder: Path) -> None:
        for disk in _files_under(folder, self.root):
            name = disk.name
            if name == MANIFEST or name.endswith(_GZ) or not is_text(name):
                continue
            if disk.is_symlink() or disk.stat().st_size < self.gzip_min_bytes:
                continue
            target = disk.with_name(name + _GZ)
            partial = disk.with_name(name + _GZ + ".tmp")
            with disk.open("rb") as src, gzip.open(partial, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            shutil.copystat(disk, partial)
            partial.replace(target)
            disk.unlink()

    def manifest_tree(self, folder: Path) -> list[dict[str, Any]]:
        """generate-zuul-manifest's tree: folders first, then files, each sorted;
        a folder is `application/directory` with `children`, a file has its
        mimetype, `encoding` (gzip for a job's own `.gz` files), `size` and
        `last_modified` (seconds)."""
        tree: list[dict[str, Any]] = []
        entries = _entries(folder, self.root)
        # A symlinked folder could loop back up: Zuul's generator skips them too.
        for entry in (e for e in entries if e.is_dir and not e.is_link):
            tree.append(
                {
                    "name": entry.name,
                    "mimetype": "application/directory",
                    "encoding": None,
                    "children": self.manifest_tree(folder / entry.name),
                }
            )
        for entry in (e for e in entries if not e.is_dir):
            if entry.name in (MANIFEST, MANIFEST + ".tmp"):
                continue
            kind, encoding = mimetypes.guess_type(entry.name, strict=False)
            tree.append(
                {
                    "name": entry.name,
                    "mimetype": mimetype(entry.name) if encoding is None else kind,
                    "encoding": encoding,
                    "last_modified": int(entry.mtime),
                    "size": entry.size,
                }
            )
        return tree

    # --- reading --------------------------------------------------------------------

    def locate(self, path: str) -> StoredFile | StoredDir | None:
        """What a served path names: a folder, a file (maybe gzipped on disk), or
        nothing. A plain name finds its `.gz`; a `.gz` name finds the plain file
        when that was kept uncompressed (Zuul's build page asks for
        `job-output.json.gz` first)."""
        try:
            segments = split_path(path)
        except LogPathError:
            return None
        disk = self.root.joinpath(*segments)
        if not _inside(disk, self.root) and disk != self.root:
            return None
        if disk.is_dir():
            return StoredDir(disk, "/".join(segments))
        if disk.is_file():
            name = disk.name
            if name.endswith(_GZ):
                return StoredFile(disk, name[: -len(_GZ)], gzipped=True)
            return StoredFile(disk, name, gzipped=False)
        if not segments:
            return None
        packed = disk.with_name(disk.name + _GZ)
        if packed.is_file() and _inside(packed, self.root):
            return StoredFile(packed, disk.name, gzipped=True)
        if disk.name.endswith(_GZ):
            plain = disk.with_name(disk.name[: -len(_GZ)])
            if plain.is_file() and _inside(plain, self.root):
                return StoredFile(plain, plain.name, gzipped=False)
        return None

    def console_file(self, path: str) -> StoredFile | None:
        found = self.locate("/".join((*split_path(path), CONSOLE)))
        return found if isinstance(found, StoredFile) else None

    # --- retention ------------------------------------------------------------------

    def prune(self, *, now: float, keep_days: int, dry_run: bool = False) -> list[str]:
        """Remove the build folders whose newest file is older than `keep_days`
        (a build folder holds a manifest or a console log); returns their paths."""
        if keep_days <= 0 or not self.root.is_dir():
            return []
        cutoff = now - keep_days * 86400
        removed: list[str] = []
        for folder in list(self._build_folders()):
            newest = max(
                (p.lstat().st_mtime for p in folder.iterdir()), default=folder.stat().st_mtime
            )
            if newest >= cutoff:
                continue
            removed.append(folder.relative_to(self.root).as_posix())
            if not dry_run:
                shutil.rmtree(folder)
                self._drop_empty_parents(folder.parent)
        return sorted(removed)

    def _build_folders(self) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            names = set(filenames)
            if MANIFEST in names or CONSOLE in names or CONSOLE + _GZ in names:
                dirnames.clear()  # a build's own subfolders go with it
                yield Path(dirpath)

    def _drop_empty_parents(self, folder: Path) -> None:
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def _files_under(folder: Path, root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        # Symlinked folders are a job's business; never walk out through one.
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) / d).is_symlink()]
        for name in filenames:
            disk = Path(dirpath) / name
            if _inside(disk, root):
                found.append(disk)
    return found
