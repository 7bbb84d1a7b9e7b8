"""Routes found by their path's first segment and length, not by trying each.

Starlette's router tries its routes in order until one matches; with a
hundred routes every request pays for the regular expressions of those before
its own. `RouteIndex` is one route standing for all of them: it tries only
those that could match the path (the same first segment and number of
segments), still in their order, so that it answers exactly as the plain list
would, the first full match winning and a route matching all but the method
answering 405.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The path as `Route.matches` reads it (without the root path), by the same function.
from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

_MATCHED = "lockgate.route"
# A route whose path can span any number of segments (a `:path` parameter).
_ANY_LENGTH = -1


def _shape(route: BaseRoute) -> tuple[str, int] | None:
    """(first segment, number of segments) of the paths `route` can match; the
    number is _ANY_LENGTH for a `:path` parameter; None when the first segment is
    itself a parameter or the route is not a plain `Route`."""
    if not isinstance(route, Route):
        return None
    segments = route.path.split("/")
    if len(segments) < 2 or "{" in segments[1]:
        return None
    any_length = any(":path}" in segment for segment in segments)
    return segments[1], _ANY_LENGTH if any_length else len(segments)


class RouteIndex(BaseRoute):
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = list(routes)
        order = {id(route): i for i, route in enumerate(self.routes)}
        by_shape: dict[tuple[str, int], list[BaseRoute]] = {}
        anywhere: list[BaseRoute] = []
        for route in self.routes:
            shape = _shape(route)
            if shape is None:
                anywhere.append(route)
            else:
                by_shape.setdefault(shape, []).append(route)

        def in_order(*groups: list[BaseRoute]) -> tuple[BaseRoute, ...]:
            return tuple(sorted((r for g in groups for r in g), key=lambda r: order[id(r)]))

        firsts = {first for first, _ in by_shape}
        self._unknown = in_order(anywhere)
        self._by_first = {
            first: in_order(by_shape.get((first, _ANY_LENGTH), []), anywhere) for first in firsts
        }
        self._by_shape = {
            (first, length): in_order(routes, by_shape.get((first, _ANY_LENGTH), []), anywhere)
            for (first, length), routes in by_shape.items()
            if length != _ANY_LENGTH
        }

    def _candidates(self, path: str) -> tuple[BaseRoute, ...]:
        segments = path.split("/")
        first = segments[1] if len(segments) > 1 else ""
        found = self._by_shape.get((first, len(segments)))
        if found is not None:
            return found
        return self._by_first.get(first, self._unknown)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self._candidates(get_route_path(scope)):
            match, child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child, _MATCHED: route}
            if match is Match.PARTIAL and partial is None:
                partial = route, child
        if partial is not None:
            route, child = partial
            return Match.PARTIAL, {**child, _MATCHED: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope[_MATCHED]
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)
