"""A shared queue's window (zuul.md 1.3): how many items at its head may run
jobs. It grows when an item merges and shrinks when one fails, like TCP's."""

from __future__ import annotations

from lockgate.core.config.objects import PipelineDef


def initial_window(pipeline: PipelineDef) -> int:
    if pipeline.manager in ("serial", "supercedent"):
        return 1
    if pipeline.manager == "independent":
        return 0
    return pipeline.window


def grown(pipeline: PipelineDef, window: int) -> int:
    if pipeline.manager != "dependent" or window == 0:
        return window
    if pipeline.window_increase_type == "exponential":
        window *= max(pipeline.window_increase_factor, 1)
    else:
        window += pipeline.window_increase_factor
    if pipeline.window_ceiling is not None:
        window = min(window, pipeline.window_ceiling)
    return window


def shrunk(pipeline: PipelineDef, window: int) -> int:
    if pipeline.manager != "dependent" or window == 0:
        return window
    if pipeline.window_decrease_type == "linear":
        window -= pipeline.window_decrease_factor
    else:
        window //= max(pipeline.window_decrease_factor, 1)
    return max(window, pipeline.window_floor, 1)


def is_active(position: int, window: int) -> bool:
    return window == 0 or position < window
