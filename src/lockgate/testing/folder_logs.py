"""A log store over a plain folder, for tests of the executor: the site's
filesystem store (with web serving) implements the same port."""

from __future__ import annotations

from pathlib import Path


class FolderLogStore:
    def __init__(self, root: Path, base_url: str = "http://logs.test/") -> None:
        self.root = root
        self.base_url = base_url
        self.finished: list[str] = []

    def folder(self, path: str) -> Path:
        folder = self.root / path
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def finish(self, path: str) -> str:
        self.finished.append(path)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}/"
