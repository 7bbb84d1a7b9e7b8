"""Gerrit's response conventions: `)]}'` before every JSON body, plain-text errors."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import PlainTextResponse, Response

XSSI_PREFIX = ")]}'\n"


def gerrit_json(data: Any, status: int = 200) -> Response:
    body = XSSI_PREFIX + json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status_code=status, media_type="application/json; charset=utf-8")


def plain_error(message: str, status: int) -> Response:
    return PlainTextResponse(message + "\n", status_code=status)
