"""Timer specs: when a periodic pipeline fires."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.gating.cron import CronError, next_fire, parse_cron

UTC = datetime.UTC


def at(*parts: int) -> float:
    return datetime.datetime(*parts, tzinfo=UTC).timestamp()


def fire(spec: str, after: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(next_fire(parse_cron(spec), after), UTC)


def test_a_nightly_timer_fires_at_two_the_next_morning() -> None:
    assert fire("0 2 * * *", at(2026, 12, 1, 20, 0)) == datetime.datetime(
        2026, 12, 2, 2, 0, tzinfo=UTC
    )


def test_a_weekly_timer_waits_for_its_weekday_and_sunday_is_zero_or_seven() -> None:
    # 2026-12-01 is a Tuesday
    assert fire("0 0 * * 1", at(2026, 12, 1)).date() == datetime.date(2026, 12, 7)
    assert fire("0 0 * * 0", at(2026, 12, 1)).date() == datetime.date(2026, 12, 6)
    assert fire("0 0 * * 7", at(2026, 12, 1)).date() == datetime.date(2026, 12, 6)


def test_steps_ranges_lists_and_the_seconds_field() -> None:
    assert fire("*/15 * * * *", at(2026, 12, 1, 10, 16)).minute == 30
    assert fire("0 9-17/4 * * *", at(2026, 12, 1, 14, 0)).hour == 17
    assert fire("5,35 * * * *", at(2026, 12, 1, 10, 6)).minute == 35
    assert fire("0 * * * * 30", at(2026, 12, 1, 10, 0, 0)).second == 30


def test_day_of_month_or_weekday_when_both_are_restricted() -> None:
    # the 15th, or any Friday: the first after Tuesday 1 December is Friday the 4th
    assert fire("0 0 15 * 5", at(2026, 12, 1)).date() == datetime.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("0 2 * *", "5 fields"),
        ("61 * * * *", "minute '61'"),
        ("0 25 * * *", "hour '25'"),
        ("*/0 * * * *", "step"),
        ("0 5-2 * * *", "backwards"),
        ("x * * * *", "minute 'x'"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_field(spec: str, names: str) -> None:
    with pytest.raises(CronError, match=names):
        parse_cron(spec)


@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    after=st.floats(min_value=1.6e9, max_value=2.0e9, allow_nan=False),
)
def test_the_next_fire_is_after_the_moment_and_matches_the_spec(
    minute: int, hour: int, after: float
) -> None:
    when = next_fire(parse_cron(f"{minute} {hour} * * *"), after)
    assert when > after
    assert when - after <= 86400 + 1
    moment = datetime.datetime.fromtimestamp(when, UTC)
    assert (moment.hour, moment.minute, moment.second) == (hour, minute, 0)
