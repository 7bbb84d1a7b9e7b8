"""Reading Gerrit-style requests: percent-encoded path segments, query flags and
numbers, JSON bodies. Every malformed value is a 400 that names it and the fix."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from lockgate.services.errors import BadRequest

ModelT = TypeVar("ModelT", bound=BaseModel)

# Gerrit's default page size for change and account queries.
DEFAULT_LIMIT = 500


def path_param(request: Request, name: str) -> str:
    """A path parameter, decoded: routes see the path still percent-encoded so
    that a project `a/b` (sent as `a%2Fb`) stays one segment."""
    return urllib.parse.unquote(request.path_params[name])


def flag(request: Request, *names: str) -> bool:
    """A query flag such as `?d`, present with or without a value."""
    for name in names:
        if name in request.query_params:
            value = request.query_params[name].lower()
            return value not in ("false", "0", "no")
    return False


def text_param(request: Request, *names: str) -> str | None:
    for name in names:
        if name in request.query_params:
            return request.query_params[name]
    return None


def int_param(request: Request, *names: str, minimum: int = 0) -> int | None:
    """A whole number given under any of `names` (`n` or `limit`, `S` or `start`)."""
    for name in names:
        raw = request.query_params.get(name)
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(
                f"{name}={raw} is not a number; give a whole number, e.g. {name}=25"
            ) from None
        if value < minimum:
            raise BadRequest(f"{name}={raw} must be at least {minimum}")
        return value
    return None


def limit_param(request: Request) -> int:
    """The page size of a listing (`n`, also `limit`); a limit of 0 means the default."""
    return int_param(request, "n", "limit") or DEFAULT_LIMIT


def start_param(request: Request) -> int:
    return int_param(request, "S", "start") or 0


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """A request's JSON object body; an empty body is an empty object, as Gerrit takes it."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"malformed JSON body: {error}; send a JSON object") from error
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, not {type(data).__name__}")
    return data


def parse_input(model: type[ModelT], body: dict[str, Any]) -> ModelT:
    """`body` as the Gerrit input entity `model`; unknown fields are ignored as Gerrit does."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise BadRequest(f"invalid {model.__name__}: {problems}") from error


BodyHandler = Callable[[Request, dict[str, Any]], Response]


def with_body(handler: BodyHandler) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that reads the JSON body, then runs `handler` in the threadpool:
    reading a body is asynchronous, while the handler checks passwords and writes
    to the database, which must not block the event loop."""

    async def endpoint(request: Request) -> Response:
        body = parse_json_body(await request.body())
        return await run_in_threadpool(handler, request, body)

    endpoint.__name__ = handler.__name__
    return endpoint
