"""Cron specs of timer triggers, as Zuul's timer driver reads them.

Five fields (minute hour day-of-month month day-of-week), or six with a
trailing seconds field as Zuul allows; each field `*`, `N`, `A-B`, `*/S`,
`A-B/S` or a comma list of those. Day-of-week 0 and 7 are Sunday. When both
day fields are restricted, a day matching either fires, as in cron. Times are
UTC.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

_UTC = datetime.UTC
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7), (0, 59))
_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week", "second")


class CronError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CronSpec:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 Monday .. 6 Sunday, Python's numbering
    seconds: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool

    def matches_day(self, day: datetime.date) -> bool:
        in_days = day.day in self.days
        in_weekdays = day.weekday() in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays


def parse_cron(text: str) -> CronSpec:
    fields = text.split()
    if len(fields) not in (5, 6):
        raise CronError(
            f"{text!r}: a timer spec has 5 fields (minute hour day month weekday) "
            "or 6 with seconds last"
        )
    if len(fields) == 5:
        fields.append("0")
    values = [_field(f, i) for i, f in enumerate(fields)]
    weekdays = frozenset((d - 1) % 7 for d in values[4])  # cron 0/7 Sunday -> 6
    return CronSpec(
        minutes=values[0],
        hours=values[1],
        days=values[2],
        months=values[3],
        weekdays=weekdays,
        seconds=values[5],
        days_restricted=fields[2] != "*",
        weekdays_restricted=fields[4] != "*",
    )


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _RANGES[index]
    out: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{_NAMES[index]} {part!r}: the step must be a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _number(a, index), _number(b, index)
        else:
            start = _number(base, index)
            end = high if step_text else start
        if start > end:
            raise CronError(f"{_NAMES[index]} {part!r}: the range runs backwards")
        out.update(range(start, end + 1, step))
    return frozenset(out)


def _number(text: str, index: int) -> int:
    low, high = _RANGES[index]
    if not text.isdigit() or not low <= int(text) <= high:
        raise CronError(f"{_NAMES[index]} {text!r}: expected a number from {low} to {high}")
    return int(text)


def next_fire(spec: CronSpec, after: float) -> float:
    """The first time strictly after `after` (epoch seconds) that `spec` fires."""
    moment = datetime.datetime.fromtimestamp(int(after) + 1, _UTC)
    # Walk days, then the matching hours, minutes and seconds of each; the spec
    # fires within eight years if it ever fires (Feb 29 on a weekday restriction).
    day = moment.date()
    for _ in range(366 * 8):
        if day.month in spec.months and spec.matches_day(day):
            for hour in sorted(spec.hours):
                for minute in sorted(spec.minutes):
                    for second in sorted(spec.seconds):
                        when = datetime.datetime(
                            day.year, day.month, day.day, hour, minute, second, tzinfo=_UTC
                        )
                        if when >= moment:
                            return when.timestamp()
        day += datetime.timedelta(days=1)
    raise CronError("the timer spec never fires")
