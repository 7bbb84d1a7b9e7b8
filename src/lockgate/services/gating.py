"""The gating scheduler's part of the composition root: tenants, layouts,
the merger, the review-server port, the executor and the scheduler, wired."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lockgate.adapters.git.speculative import SpeculativeMerger
from lockgate.core.gating.actions import StartBuild
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
        for tenant in self.catalog.tenant_names():
            self.layouts.reload(tenant)
            self.scheduler.reconfigure(tenant)

    async def start(self) -> None:
        self.scheduler.start()

    async def stop(self) -> None:
        self.scheduler.stop()


__all__ = ["Gating", "NoExecutor", "SpeculativeMerger"]
