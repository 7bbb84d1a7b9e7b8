"""Subjects of commits by sha, tolerating commits a repository does not hold.

The read API shows each parent's subject. Parents are read from git, where a
commit may be missing (benchmark data with synthetic shas, a parent pruned
after a rewrite): those are left out instead of failing the whole response.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from lockgate.adapters.git.repos import GitError, RepoStore

_CACHE_SIZE = 100_000


class SubjectCache:
    """Subjects are immutable per sha, so a bounded cache spares a git call for the
    parents that every listing of a busy project shows again."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, shas: Iterable[str]) -> dict[str, str]:
        with self._lock:
            found = {sha: self._items[sha] for sha in shas if sha in self._items}
            for sha in found:
                self._items.move_to_end(sha)
        return found

    def put_many(self, subjects: dict[str, str]) -> None:
        with self._lock:
            self._items.update(subjects)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_cache = SubjectCache()


def commit_subjects(repos: RepoStore, project: str, shas: Iterable[str]) -> dict[str, str]:
    """sha → subject for the commits of `shas` that the project's repository holds."""
    wanted = list(dict.fromkeys(shas))
    found = _cache.get_many(wanted)
    missing = [sha for sha in wanted if sha not in found]
    if not missing or not repos.exists(project):
        return found
    try:
        checked = repos.git(
            project,
            "cat-file",
            "--batch-check=%(objectname) %(objecttype)",
            input=("\n".join(missing) + "\n").encode(),
        )
        present = [
            parts[0]
            for parts in (line.split() for line in checked.splitlines())
            if len(parts) == 2 and parts[1] == "commit"
        ]
        fresh = {c.sha: c.subject for c in repos.read_commits(project, present)}
    except GitError:
        return found
    _cache.put_many(fresh)
    return {**found, **fresh}
