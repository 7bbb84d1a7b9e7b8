"""The executor: runs the scheduler's builds with Ansible on nodes from the
launcher, over the item's frozen speculative state.

Each build takes one worker of a bounded pool for its whole life: it asks the
launcher for its nodeset's labels (at the build's precedence and relative
priority), waits, accepts the nodes, prepares its job folder (`BuildRun`),
reports `BuildStarted` with its log URL, runs its phases and reports
`BuildCompleted`; the nodes go back to the launcher whatever happened. A
build cancelled before it started vanishes, as a queued Zuul build does; one
cancelled after ends ABORTED, its ansible-playbook's process group killed.
Anything unexpected becomes an ERROR result with the reason, never a lost
build.

Before it asks for nodes, a build's secrets are decrypted (`SecretService`):
a post-review job in a pre-review pipeline, or a secret the build may not
see, ends it ERROR with the reason and no playbook runs. The values are
masked out of its logs and of its result's reason. What its playbooks
returned with `zuul_return` goes back with `BuildCompleted.data`, artifact
URLs resolved against the log URL.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockgate.adapters.git.repos import GitError, RepoStore
from lockgate.core.builds.results import build_result
from lockgate.core.builds.returns import resolve_artifacts
from lockgate.core.builds.variables import InventoryError
from lockgate.core.builds.workspace import item_project
from lockgate.core.gating.actions import StartBuild
from lockgate.core.gating.events import BuildCompleted, BuildStarted
from lockgate.core.nodes.autohold import HOLDING_RESULTS
from lockgate.core.nodes.log_paths import build_log_path
from lockgate.core.nodes.model import FULFILLED, Node
from lockgate.core.secrets import Masker
from lockgate.services.build_run import BuildRun
from lockgate.services.executor_port import BuildSink
from lockgate.services.node_ports import Launcher, LogStore
from lockgate.services.secrets import BuildSecrets, SecretService, SecretsUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExecutorSettings:
    work_root: Path  # job folders go below it, one per build
    workers: int = 4  # builds running at once
    canonical_hostname: str = "localhost"  # the <host> of work/src/<host>/<project>
    node_wait: float | None = None  # seconds to wait for nodes; None: as long as it takes
    keep_jobs: bool = False  # keep job folders after the build (for debugging)
    workspace_copy: str = "auto"  # see BuildRun.workspace_copy


@dataclass
class _Build:
    action: StartBuild
    cancelled: threading.Event
    started: float | None = None
    request: str | None = None
    masker: Masker = field(default_factory=lambda: Masker(()))
    data: dict[str, Any] = field(default_factory=dict)  # returned with zuul_return


class AnsibleExecutor:
    def __init__(
        self,
        repos: RepoStore,
        launcher: Launcher,
        logs: LogStore,
        settings: ExecutorSettings,
        clock: Callable[[], float] = time.time,
        *,
        register_logs: Callable[[str, str], object] | None = None,
        console_url: Callable[[str, str], str] | None = None,
        secrets: SecretService | None = None,
    ) -> None:
        """`register_logs(build, path)` records where a build writes its logs
        (BuildLogs.register, so the live console finds them); `console_url(tenant,
        build)` is the URL BuildStarted carries while the build runs (BuildLogs.
        console_url); without it, the log URL. `secrets` decrypts the builds'
        secrets; without it a job that uses secrets ends ERROR."""
        self._secrets = secrets
        self._repos = repos
        self._launcher = launcher
        self._logs = logs
        self._settings = settings
        self._clock = clock
        self._register_logs = register_logs
        self._console_url = console_url
        self._sink: BuildSink = lambda _event: None
        self._builds: dict[str, _Build] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max(1, settings.workers), thread_name_prefix="build")

    # --- the port -------------------------------------------------------------

    def bind(self, sink: BuildSink) -> None:
        self._sink = sink

    def start(self, build: StartBuild) -> None:
        with self._lock:
            if build.build in self._seen:
                return
            self._seen.add(build.build)
            self._builds[build.build] = _Build(build, threading.Event())
        self._pool.submit(self._guarded, build.build)

    def cancel(self, build: str) -> None:
        with self._lock:
            running = self._builds.get(build)
        if running is None:
            return
        running.cancelled.set()
        if running.request is not None and running.started is None:
            self._launcher.cancel(running.request)

    def close(self, wait: bool = True) -> None:
        with self._lock:
            builds = list(self._builds.values())
        for build in builds:
            build.cancelled.set()
        self._pool.shutdown(wait=wait)

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._builds)

    # --- one build --------------------------------------------------------------

    def _guarded(self, build_id: str) -> None:
        with self._lock:
            build = self._builds[build_id]
        try:
            self._run(build)
        except Exception as exc:  # a bug must not lose the build: it ends ERROR
            log.exception("build %s failed unexpectedly", build_id)
            self._complete(build, "ERROR", f"the executor failed: {exc}", "")
        finally:
            with self._lock:
                self._builds.pop(build_id, None)

    def _run(self, build: _Build) -> None:
        action = build.action
        if build.cancelled.is_set():
            return
        try:
            secrets = self._decrypt(action)
        except SecretsUnavailable as refused:
            self._complete(build, "ERROR", str(refused), "")
            return
        build.masker = Masker(secrets.values)
        labels = [nd.label for nd in action.job.nodeset.nodes for _ in nd.names]
        nodes: list[Node] = []
        request = None
        if labels:
            request = self._launcher.request(
                action.build,
                labels,
                precedence=action.precedence,
                relative_priority=action.relative_priority,
            )
            build.request = request
            fulfilled = self._launcher.wait(request, self._settings.node_wait)
            if build.cancelled.is_set():
                self._launcher.cancel(request)
                return
            if fulfilled.state != FULFILLED:
                why = fulfilled.reason or f"node request {fulfilled.state}"
                self._started(build, "")
                self._complete(
                    build, "NODE_FAILURE", f"no nodes for {', '.join(labels)}: {why}", ""
                )
                return
            nodes = self._launcher.accept(request)
        path = self._log_path(action)
        result, why, url = "ERROR", "", ""
        try:
            result, why, url = self._execute(build, nodes, path, secrets)
        finally:
            # the nodes go back before the build is reported: a retry may need them
            if nodes:
                hold = self._autohold(action, result)
                self._launcher.release([n.id for n in nodes], hold=hold)
        self._complete(build, result, why, url, path)

    def _autohold(self, action: StartBuild, result: str) -> str | None:
        """The autohold that keeps this build's nodes, if it failed and one matches."""
        if result == "RETRY" and action.attempt >= action.job.attempts:
            result = "RETRY_LIMIT"  # what the scheduler will make of it
        if result not in HOLDING_RESULTS:
            return None
        project, _branch = item_project(action)
        own = action.changes[-1] if action.changes else None
        ref = own.ref if own is not None else action.ref.ref if action.ref else ""
        try:
            return self._launcher.autohold_for(action.tenant, project, action.job.name, ref)
        except Exception:  # the nodes are deleted as usual; only the hold is missed
            log.warning("build %s: looking for an autohold failed", action.build, exc_info=True)
            return None

    def _decrypt(self, action: StartBuild) -> BuildSecrets:
        """The build's secrets; SecretsUnavailable when it may not run here or
        may not have them."""
        job = action.job
        if job.post_review and not action.post_review:
            raise SecretsUnavailable(
                f'job "{job.name}" is post-review (it uses a secret of an untrusted project '
                f'or sets post-review: true) and the pipeline "{action.pipeline}" runs before '
                "review; run the job in a post-review pipeline such as gate or post"
            )
        if not job.secrets:
            return BuildSecrets()
        if self._secrets is None:
            raise SecretsUnavailable(
                f'job "{job.name}" uses secrets and this executor has no key store to '
                "decrypt them with"
            )
        return self._secrets.for_build(
            job, pipeline_post_review=action.post_review, project=item_project(action)[0] or None
        )

    def _execute(
        self, build: _Build, nodes: list[Node], path: str, secrets: BuildSecrets
    ) -> tuple[str, str, str]:
        """The build's result, the reason for it and its log URL."""
        action = build.action
        log_dir = self._logs.folder(path)
        url = self._logs.url(path)
        if self._register_logs is not None:
            try:
                self._register_logs(action.build, path)
            except Exception:  # the build still runs; only its live console is missing
                log.warning("build %s: its log path was not recorded", action.build, exc_info=True)
        live = url if self._console_url is None else self._console_url(action.tenant, action.build)
        job_dir = self._settings.work_root / action.build
        if job_dir.exists():
            shutil.rmtree(job_dir)
        job_dir.mkdir(parents=True)
        run = BuildRun(
            action,
            self._repos,
            job_dir,
            log_dir,
            nodes,
            build.cancelled,
            host=self._settings.canonical_hostname,
            workspace_copy=self._settings.workspace_copy,
            secrets=secrets,
        )
        try:
            self._started(build, live)
            try:
                run.prepare()
            except (GitError, InventoryError, OSError, ValueError) as exc:
                return "ERROR", f"preparing the workspace: {exc}", url
            setup = run.push_workspace()
            result, why = build_result([setup] if setup.status != "ok" else run.run_phases())
            if build.cancelled.is_set():
                result, why = "ABORTED", "the build was cancelled"
            build.data = run.returned()
            return result, why, url
        finally:
            run.close()
            if not self._settings.keep_jobs:
                shutil.rmtree(job_dir, ignore_errors=True)

    def _log_path(self, action: StartBuild) -> str:
        project, branch = item_project(action)
        own = action.changes[-1] if action.changes else None
        return build_log_path(
            build=action.build,
            job=action.job.name,
            pipeline=action.pipeline,
            project=project,
            branch=branch,
            change=own.number if own else None,
            patchset=own.patchset if own else None,
            newrev=action.ref.newrev if action.ref else None,
        )

    def _started(self, build: _Build, url: str) -> None:
        build.started = self._clock()
        self._sink(BuildStarted(build.action.build, build.started, url))

    def _complete(self, build: _Build, result: str, error: str, url: str, path: str = "") -> None:
        if build.started is None:
            if build.cancelled.is_set():
                return  # cancelled before it started: it vanishes
            self._started(build, url)
        assert build.started is not None
        if path:
            try:
                url = self._logs.finish(path)
            except OSError as exc:
                error = error or f"storing the logs: {exc}"
        self._sink(
            BuildCompleted(
                build.action.build,
                result,
                build.started,
                self._clock(),
                url,
                build.masker.text(error),
                data=resolve_artifacts(build.data, url),
            )
        )
