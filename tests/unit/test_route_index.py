"""The route index answers every request as trying the routes in order would:
the first route matching path and method, else the first matching the path
only (405), else none (404)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Route

from lockgate.web.app import _routes
from lockgate.web.routing import RouteIndex

ROUTES = _routes()
INDEX = RouteIndex(ROUTES)
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"]


def scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": ""}


def in_order(method: str, path: str) -> tuple[Match, BaseRoute | None]:
    """What Starlette's router finds, trying each route in turn."""
    partial = None
    for route in ROUTES:
        match, _ = route.matches(scope(method, path))
        if match is Match.FULL:
            return match, route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial else (Match.NONE, None)


def indexed(method: str, path: str) -> tuple[Match, BaseRoute | None]:
    match, child = INDEX.matches(scope(method, path))
    return match, child.get("lockgate.route")


def sample_paths() -> list[str]:
    """Each route's path with values in its parameters, with and without a
    trailing slash, and with a segment more."""
    paths = []
    for route in ROUTES:
        assert isinstance(route, Route)
        path = re.sub(r"\{file_id:path\}", "dir/file.py", route.path)
        path = re.sub(r"\{[^}]+\}", "x", path)
        paths += [path, path.rstrip("/") or "/", path + "/", path.rstrip("/") + "/more"]
    return paths


def test_every_route_path_and_method_finds_what_the_ordered_list_finds() -> None:
    for path in sample_paths():
        for method in METHODS:
            assert indexed(method, path) == in_order(method, path), (method, path)


def test_a_path_no_route_knows_matches_none() -> None:
    for path in ["/nothing", "/nothing/here", "/changes/1/nothing/at/all/here"]:
        assert indexed("GET", path) == (Match.NONE, None)


def test_a_path_with_the_wrong_method_is_a_partial_match_of_its_first_route() -> None:
    match, route = indexed("DELETE", "/changes/1/revisions/current/review")
    assert match is Match.PARTIAL
    assert isinstance(route, Route) and route.path.endswith("/review")


SEGMENTS = st.sampled_from(
    ["changes", "projects", "a%2Fb", "revisions", "current", "review", "files", "diff", "1", ""]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(SEGMENTS, min_size=1, max_size=8), st.sampled_from(METHODS))
def test_any_path_made_of_route_segments_finds_what_the_ordered_list_finds(
    segments: list[str], method: str
) -> None:
    path = "/" + "/".join(segments)
    assert indexed(method, path) == in_order(method, path)
