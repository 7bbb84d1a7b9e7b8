"""Depends-On values: which change of this server each one names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.gating.depends_on import (
    MAX_CHANGE_NUMBER,
    DependsOn,
    is_depends_on,
    parse_depends_on,
)

SERVER = "https://review.example.org/"
CHANGE_ID = "I" + "0123456789abcdef" * 2 + "01234567"


@pytest.mark.parametrize(
    ("value", "number", "project"),
    [
        ("https://review.example.org/c/openstack/nova/+/812", 812, "openstack/nova"),
        ("https://review.example.org/c/openstack/nova/+/812/", 812, "openstack/nova"),
        ("https://review.example.org/c/openstack/nova/+/812/3", 812, "openstack/nova"),
        ("https://review.example.org/c/openstack/nova/+/812/3/nova/api.py", 812, "openstack/nova"),
        ("https://review.example.org/c/+/812", 812, None),
        ("https://review.example.org/#/c/812/", 812, None),
        ("https://review.example.org/#/c/812", 812, None),
        ("https://review.example.org/#/c/openstack/nova/+/812/2", 812, "openstack/nova"),
        ("https://review.example.org/812", 812, None),
        ("https://review.example.org/812/", 812, None),
        # Another scheme or letter case is still this server.
        ("http://REVIEW.example.org/c/nova/+/9", 9, "nova"),
        ("https://review.example.org:443/9", 9, None),
        ("  812  ", 812, None),
    ],
)
def test_a_change_address_of_this_server_names_the_change(
    value: str, number: int, project: str | None
) -> None:
    found = parse_depends_on(value, SERVER)
    assert found == DependsOn(value.strip(), number=number, project=project)
    assert found.resolvable


def test_a_change_id_names_the_changes_that_carry_it() -> None:
    assert parse_depends_on(CHANGE_ID, SERVER) == DependsOn(CHANGE_ID, change_id=CHANGE_ID)


@pytest.mark.parametrize(
    "value",
    [
        "https://review.opendev.org/c/openstack/nova/+/812",  # another server
        "https://review.example.org:8443/812",  # another port
        "https://github.com/org/repo/pull/3",
        "https://review.example.org/c/openstack/nova",  # no number
        "https://review.example.org/q/status:open",
        "https://review.example.org/0",
        f"https://review.example.org/{MAX_CHANGE_NUMBER + 1}",
        "I" + "0" * 39,  # too short for a Change-Id
        "I" + "A" * 40,  # Change-Ids are lower-case hex
        "see the spec",
        "",
        "http://[::1",
        "https://review.example.org:99999/1",
    ],
)
def test_anything_else_names_nothing_here(value: str) -> None:
    found = parse_depends_on(value, SERVER)
    assert found == DependsOn(value.strip())
    assert not found.resolvable


def test_a_server_under_a_path_matches_only_below_it() -> None:
    server = "https://example.org/gerrit/"
    assert parse_depends_on("https://example.org/gerrit/c/p/+/3", server).number == 3
    assert parse_depends_on("https://example.org/gerrit#/c/4/", server).number == 4
    assert parse_depends_on("https://example.org/c/p/+/3", server).number is None


def test_the_footer_key_is_matched_in_any_case() -> None:
    assert is_depends_on("Depends-On")
    assert is_depends_on("depends-on")
    assert is_depends_on("DEPENDS-ON ")
    assert not is_depends_on("Depends")


@given(st.text(), st.sampled_from([SERVER, "http://127.0.0.1:8080/", "https://h/x/", "nonsense"]))
def test_no_value_crashes_it(value: str, server: str) -> None:
    found = parse_depends_on(value, server)
    assert found.value == value.strip()
    if found.number is not None:
        assert 0 < found.number <= MAX_CHANGE_NUMBER


_segment = st.text(
    alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_."),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", "..") and s != "+")
_projects = st.lists(_segment, min_size=1, max_size=3).map("/".join)
_servers = st.sampled_from(
    ["https://review.example.org/", "http://127.0.0.1:8080/", "https://example.org/gerrit/"]
)
_numbers = st.integers(min_value=1, max_value=MAX_CHANGE_NUMBER)
_tails = st.sampled_from(["", "/", "/1", "/2/", "/3/path/to/file.py"])


@given(_servers, _projects, _numbers, _tails)
def test_every_web_address_round_trips(server: str, project: str, number: int, tail: str) -> None:
    url = f"{server}c/{project}/+/{number}{tail}"
    assert parse_depends_on(url, server) == DependsOn(url, number=number, project=project)


@given(_servers, _numbers, _tails)
def test_every_short_and_old_address_round_trips(server: str, number: int, tail: str) -> None:
    for url in (f"{server}c/+/{number}{tail}", f"{server}#/c/{number}{tail}"):
        assert parse_depends_on(url, server) == DependsOn(url, number=number)
    short = f"{server}{number}" + ("/" if tail == "/" else "")
    assert parse_depends_on(short, server) == DependsOn(short, number=number)


@given(_projects, _numbers)
def test_an_address_of_another_server_never_resolves(project: str, number: int) -> None:
    url = f"https://elsewhere.example.net/c/{project}/+/{number}"
    assert not parse_depends_on(url, SERVER).resolvable
