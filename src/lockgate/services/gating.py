"""The gating scheduler's part of the composition root: tenants, layouts,
the merger, the review-server port, the executor and the scheduler, wired."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from lockgate.adapters.db.event_signal import EventLogSignal
from lockgate.adapters.git.repos import RepoStore
from lockgate.adapters.git.speculative import SpeculativeMerger
from lockgate.adapters.site import GatingSettings
from lockgate.core.gating.actions import StartBuild
from lockgate.services.clock import Clock
from lockgate.services.config_loading import ConfigReader, site_connections
from lockgate.services.executor_port import BuildSink, Executor
from lockgate.services.gate_inputs import GateInputs
from lockgate.services.gate_merger import GateMerger
from lockgate.services.gate_reporter import GateReporter
from lockgate.services.layouts import LayoutService
from lockgate.services.scheduler import GateScheduler
from lockgate.services.tenants import TenantCatalog

log = logging.getLogger(__name__)


class NoExecutor:
    """The executor of a site that has none yet: builds wait, queued, until one
    is configured (the status page shows them waiting)."""

    def bind(self, sink: BuildSink) -> None:
        self._sink = sink

    def start(self, build: StartBuild) -> None:
        log.info("build %s (%s) waits: no executor is configured", build.build, build.job.name)

    def cancel(self, build: str) -> None:
        return None


@dataclass
class Gating:
    catalog: TenantCatalog
    layouts: LayoutService
    inputs: GateInputs
    merger: GateMerger
    reporter: GateReporter
    executor: Executor
    scheduler: GateScheduler
    ci_account: str
    connection: str

    def reload(self) -> None:
        """Re-read the tenants and every tenant's layout (an admin's full reconfigure)."""
        self.catalog.refresh()
        for tenant in [t.name for t in self.catalog.tenants()]:
            self.layouts.reload(tenant)
            self.scheduler.reconfigure(tenant)

    async def start(self) -> None:
        self.scheduler.start()

    async def stop(self) -> None:
        self.scheduler.stop()


def build_gating(
    *,
    engine: Engine,
    signal: EventLogSignal | None,
    repos: RepoStore,
    catalog: TenantCatalog,
    inputs: GateInputs,
    reporter: GateReporter,
    executor: Executor,
    settings: GatingSettings,
    server_ident: tuple[str, str],
    clock: Clock,
) -> Gating:
    connections = site_connections(settings.connection)
    reader = ConfigReader(repos, connections)
    layouts = LayoutService(repos, catalog, reader)
    merger = GateMerger(repos, SpeculativeMerger(repos, server_ident), layouts)
    scheduler = GateScheduler(
        engine=engine,
        signal=signal,
        catalog=catalog,
        layouts=layouts,
        inputs=inputs,
        merger=merger,
        reporter=reporter,
        executor=executor,
        repos=repos,
        connection=settings.connection,
        clock=clock,
    )
    return Gating(
        catalog=catalog,
        layouts=layouts,
        inputs=inputs,
        merger=merger,
        reporter=reporter,
        executor=executor,
        scheduler=scheduler,
        ci_account=settings.ci_account,
        connection=settings.connection,
    )
