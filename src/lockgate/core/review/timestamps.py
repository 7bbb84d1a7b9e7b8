"""Gerrit's timestamp format: `YYYY-MM-DD hh:mm:ss.nnnnnnnnn`, UTC, no `T`, no zone."""

from __future__ import annotations

import datetime as dt
import re

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_FORMAT = re.compile(r"^(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d(?::\d\d)?)(?:\.(\d{1,9}))?)?$")


def gerrit_timestamp(micros: int) -> str:
    when = _EPOCH + dt.timedelta(microseconds=micros)
    return when.strftime("%Y-%m-%d %H:%M:%S") + f".{micros % 1_000_000:06d}000"


def parse_gerrit_timestamp(text: str) -> int:
    """Microseconds since the epoch of a Gerrit-style date, as search operators take it."""
    match = _FORMAT.match(text.strip())
    if match is None:
        raise ValueError(f"not a date: {text!r}; use YYYY-MM-DD[ hh:mm:ss[.fraction]]")
    day, clock, fraction = match.groups()
    clock = clock or "00:00:00"
    if clock.count(":") == 1:
        clock += ":00"
    when = dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=dt.UTC)
    micros = int((when - _EPOCH).total_seconds()) * 1_000_000
    if fraction:
        micros += int(fraction[:6].ljust(6, "0"))
    return micros
