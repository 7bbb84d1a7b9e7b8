"""The merger: an item's speculative state, built in git without a work tree.

For a `MergeRequest` it applies every change, in queue order, onto the tips
of their branches (each project's merge mode), freezes the result as refs of
the item that the executor fetches, and, when the changes edit configuration,
builds the item's dynamic layout. Merges are deterministic, so results are
cached by their inputs: the 20th item of a queue re-applies the 19 ahead of it
from the cache instead of git.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from lockgate.adapters.git.repos import RepoStore
from lockgate.adapters.git.speculative import MergeStep, SpeculativeMerger, StepResult
from lockgate.core.config.files import touches_config
from lockgate.core.gating.actions import MergeRequest
from lockgate.core.gating.events import MergeCompleted
from lockgate.services.layouts import LayoutService

log = logging.getLogger(__name__)

_CACHE_SIZE = 4096


class GateMerger:
    def __init__(self, repos: RepoStore, merger: SpeculativeMerger, layouts: LayoutService) -> None:
        self._repos = repos
        self._merger = merger
        self._layouts = layouts
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str, str, str], StepResult] = OrderedDict()
        # project -> item -> branch -> sha, published at the next flush
        self._pending: dict[str, dict[str, dict[str, str]]] = {}
        # project -> branch -> tip, read once per batch of merges
        self._tips: dict[str, dict[str, str]] = {}

    def merge(self, tenant: str, request: MergeRequest) -> MergeCompleted:
        if request.ref is not None:
            return self._freeze_ref(request)
        layout = self._layouts.layout(tenant)
        heads: dict[tuple[str, str], str] = {}
        edited: list[tuple[str, str]] = []
        for change in request.changes:
            key = (change.project, change.branch)
            onto = heads.get(key) or self._tip(*key)
            if onto is None:
                return MergeCompleted(
                    request.item,
                    request.buildset,
                    conflict=change.key,
                    conflict_paths=(),
                )
            step = MergeStep(change.key, change.commit, change.subject)
            result = self._apply(change.project, onto, step, layout.merge_mode(change.project))
            if result.head is None:
                return MergeCompleted(
                    request.item,
                    request.buildset,
                    conflict=change.key,
                    conflict_paths=result.conflicts,
                )
            heads[key] = result.head
            if touches_config(change.files) and key not in edited:
                edited.append(key)
        for key in request.projects:
            if key not in heads:
                tip = self._tip(*key)
                if tip is not None:
                    heads[key] = tip
        self._publish(request.item, heads)
        if not edited:
            return MergeCompleted(request.item, request.buildset, heads=heads)
        dynamic = self._layouts.dynamic(tenant, heads, edited)
        return MergeCompleted(
            request.item,
            request.buildset,
            heads=heads,
            layout=dynamic.layout,
            config_errors=dynamic.errors,
        )

    def close(self) -> None:
        """Stop the long-lived git processes the merges keep per repository."""
        self._merger.close()

    def drop(self, item: str, projects: set[str]) -> None:
        for project in projects:
            self._merger.drop(project, item)

    def _freeze_ref(self, request: MergeRequest) -> MergeCompleted:
        ref = request.ref
        assert ref is not None
        heads: dict[tuple[str, str], str] = {}
        if set(ref.newrev) != {"0"}:
            heads[(ref.project, ref.branch)] = ref.newrev
        for key in request.projects:
            tip = self._tip(*key)
            if tip is not None and key not in heads:
                heads[key] = tip
        self._publish(request.item, heads)
        return MergeCompleted(request.item, request.buildset, heads=heads)

    def _apply(self, project: str, onto: str, step: MergeStep, mode: str) -> StepResult:
        key = (project, onto, step.commit, mode)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        result = self._merger.apply(project, onto, step, mode)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def flush(self) -> None:
        """Write the refs of the states built since the last flush, one git
        transaction per project. The scheduler flushes after each batch of
        merges, before any build of theirs can start."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._tips.clear()
        for project, items in pending.items():
            self._merger.publish_many(project, items)

    def forget_tips(self) -> None:
        """Branch tips may have moved (a submit): read them again."""
        with self._lock:
            self._tips.clear()

    def _tip(self, project: str, branch: str) -> str | None:
        with self._lock:
            tips = self._tips.get(project)
        if tips is None:
            # every branch of the project in one read, kept until the next flush
            tips = (
                {
                    ref.removeprefix("refs/heads/"): sha
                    for ref, sha in self._repos.refs(project, "refs/heads/").items()
                }
                if self._repos.exists(project)
                else {}
            )
            with self._lock:
                self._tips[project] = tips
        return tips.get(branch)

    def _publish(self, item: str, heads: dict[tuple[str, str], str]) -> None:
        with self._lock:
            for (project, branch), sha in heads.items():
                self._pending.setdefault(project, {}).setdefault(item, {})[branch] = sha
