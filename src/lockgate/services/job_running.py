"""The part of the composition root that runs jobs: the providers of the
site's `[nodepool]`, the node launcher over them and the Ansible executor.

A site whose local provider cannot sandbox (no bubblewrap, and
`allow_unsandboxed` not set) still serves: the reason goes to the log and
builds wait, queued, as on a site without an executor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from lockgate.adapters.git.repos import RepoStore
from lockgate.adapters.secret_keys import SecretKeys
from lockgate.adapters.site import Settings, Site
from lockgate.services.build_logs import BuildLogs
from lockgate.services.executor import AnsibleExecutor, ExecutorSettings
from lockgate.services.launcher import NodeLauncher
from lockgate.services.node_ports import LogStore
from lockgate.services.node_providers import build_provider
from lockgate.services.secrets import SecretService

log = logging.getLogger(__name__)

# How long the idle launcher sleeps between rounds; a request wakes it at once.
LAUNCHER_INTERVAL = 1.0


@dataclass
class JobRunning:
    launcher: NodeLauncher
    executor: AnsibleExecutor

    def start(self) -> None:
        self.launcher.start()  # recovers what a previous run left first

    def stop(self) -> None:
        """Cancel what runs (a build waiting for nodes stops waiting), wait for
        the builds to end, then stop the launcher."""
        for build in self.executor.running():
            self.executor.cancel(build)
        self.executor.close(wait=True)
        self.launcher.stop()


def build_job_running(
    site: Site,
    settings: Settings,
    engine: Engine,
    *,
    repos: RepoStore,
    logs: LogStore,
    build_logs: BuildLogs,
    canonical_hostname: str,
) -> JobRunning | None:
    """The launcher and executor of the site, or None (the reason logged) when
    `[executor] enabled = false` or a provider cannot start."""
    if not settings.executor.enabled:
        log.info("[executor] enabled = false: builds wait, queued, until an executor runs")
        return None
    try:
        providers = [
            build_provider(
                provider,
                settings.nodepool.labels,
                run_folder=site.run_dir,
                options=provider.options,
            )
            for provider in settings.nodepool.providers
        ]
    except Exception as problem:  # the server still serves reviews without jobs
        log.error(
            "jobs will not run on this site: %s. Builds wait, queued, until the "
            "provider can start (fix it and restart), or set [executor] enabled = false "
            "to say so on purpose",
            problem,
        )
        return None
    launcher = NodeLauncher(
        engine, providers, min_ready=settings.nodepool.min_ready, interval=LAUNCHER_INTERVAL
    )
    executor = AnsibleExecutor(
        repos,
        launcher,
        logs,
        ExecutorSettings(
            work_root=site.run_dir / "jobs",
            workers=settings.executor.workers,
            canonical_hostname=canonical_hostname,
            node_wait=settings.executor.node_wait,
            keep_jobs=settings.executor.keep_jobs,
        ),
        register_logs=build_logs.register,
        console_url=build_logs.console_url,
        # the site's key store, the one whose public keys the API serves
        secrets=SecretService(SecretKeys.of_site(site.root)),
    )
    return JobRunning(launcher, executor)
