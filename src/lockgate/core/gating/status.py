"""Zuul's status JSON (zuul.md 1.10) for one tenant, from the gate's state."""

from __future__ import annotations

from typing import Any

from lockgate.core.gating.layout_view import LayoutView
from lockgate.core.gating.state import Buildset, GateState, Item


def tenant_status(state: GateState, layout: LayoutView, now: float) -> dict[str, Any]:
    return {"zuul_version": "lockgate", "pipelines": []}
