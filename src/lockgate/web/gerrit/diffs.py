"""Gerrit REST: file diffs and contents of a revision.

`GET /changes/{id}/revisions/{rev}/files/{file}/diff` gives a DiffInfo and
`.../files/{file}/content` the file's bytes base64-encoded, as Gerrit does.
The file id is percent-encoded (`a%2Fb.py`, `%2FCOMMIT_MSG`); a path sent
with plain slashes routes too.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lockgate.core.review.diff import (
    DEFAULT_CONTEXT,
    DEFAULT_WHITESPACE,
    Block,
    FileDiff,
    FileMeta,
    Whitespace,
    decode_text,
)
from lockgate.services.diffs import DiffOptions
from lockgate.services.errors import BadRequest
from lockgate.web.auth import request_account, services_of
from lockgate.web.gerrit.params import flag, int_param, path_param, text_param
from lockgate.web.gerrit.responses import XSSI_PREFIX, gerrit_json

# Gerrit's deprecated `ignore-whitespace` values, still accepted.
_OLD_WHITESPACE = {
    "NONE": Whitespace.IGNORE_NONE,
    "TRAILING": Whitespace.IGNORE_TRAILING,
    "CHANGED": Whitespace.IGNORE_LEADING_AND_TRAILING,
    "ALL": Whitespace.IGNORE_ALL,
}


def _context(request: Request) -> int | None:
    raw = text_param(request, "context")
    if raw is None:
        return DEFAULT_CONTEXT
    if raw.upper() == "ALL":
        return None
    if not raw.isdigit():
        raise BadRequest(
            f"context={raw} is not valid: give a number of lines (e.g. context=3) "
            "or context=ALL for the whole file"
        )
    return int(raw)


def _whitespace(request: Request) -> Whitespace:
    raw = text_param(request, "whitespace")
    if raw is not None:
        try:
            return Whitespace(raw.upper())
        except ValueError:
            accepted = ", ".join(w.value for w in Whitespace)
            raise BadRequest(f"whitespace={raw} is not valid: give one of {accepted}") from None
    old = text_param(request, "ignore-whitespace")
    if old is not None:
        if old.upper() not in _OLD_WHITESPACE:
            accepted = ", ".join(_OLD_WHITESPACE)
            raise BadRequest(
                f"ignore-whitespace={old} is not valid: give one of {accepted}, "
                "or use whitespace=IGNORE_NONE|IGNORE_TRAILING|IGNORE_LEADING_AND_TRAILING|"
                "IGNORE_ALL"
            )
        return _OLD_WHITESPACE[old.upper()]
    return DEFAULT_WHITESPACE


def _parent(request: Request) -> int | None:
    # Gerrit takes a parent of 0 (or below) as "the revision itself".
    parent = int_param(request, "parent", minimum=0)
    return parent or None


def get_diff(request: Request) -> Response:
    viewer = request_account(request)
    options = DiffOptions(
        base=text_param(request, "base") or None,
        parent=_parent(request),
        context=_context(request),
        intraline=flag(request, "intraline"),
        whitespace=_whitespace(request),
    )
    diff = services_of(request).diffs.file_diff(
        request.path_params["change_id"],
        path_param(request, "revision"),
        path_param(request, "file_id"),
        options,
        viewer=viewer,
    )
    return gerrit_json(diff_info(diff))


def get_content(request: Request) -> Response:
    viewer = request_account(request)
    content = services_of(request).diffs.file_content(
        request.path_params["change_id"],
        path_param(request, "revision"),
        path_param(request, "file_id"),
        parent=_parent(request),
        viewer=viewer,
    )
    if request.headers.get("accept", "").strip() == "application/json":
        body = XSSI_PREFIX + json.dumps(decode_text(content.data), ensure_ascii=False)
        response = Response(body, media_type="application/json; charset=utf-8")
        encoding = "json"
    else:
        response = Response(
            base64.b64encode(content.data), media_type="text/plain; charset=ISO-8859-1"
        )
        encoding = "base64"
    response.headers["X-FYI-Content-Encoding"] = encoding
    response.headers["X-FYI-Content-Type"] = content.content_type
    return response


# --- rendering ---------------------------------------------------------------


def diff_info(diff: FileDiff) -> dict[str, Any]:
    info: dict[str, Any] = {}
    if diff.meta_a is not None:
        info["meta_a"] = _meta(diff.meta_a)
    if diff.meta_b is not None:
        info["meta_b"] = _meta(diff.meta_b)
    if diff.intraline_status is not None:
        info["intraline_status"] = diff.intraline_status
    info["change_type"] = diff.change_type.value
    if diff.diff_header:
        info["diff_header"] = list(diff.diff_header)
    info["content"] = [_block(block) for block in diff.content]
    if diff.binary:
        info["binary"] = True
    return info


def _meta(meta: FileMeta) -> dict[str, Any]:
    return {"name": meta.name, "content_type": meta.content_type, "lines": meta.lines}


def _block(block: Block) -> dict[str, Any]:
    if block.skip is not None:
        return {"skip": block.skip}
    if block.ab is not None:
        return {"ab": list(block.ab)}
    out: dict[str, Any] = {}
    if block.a is not None:
        out["a"] = list(block.a)
    if block.b is not None:
        out["b"] = list(block.b)
    if block.edit_a is not None:
        out["edit_a"] = [list(pair) for pair in block.edit_a]
    if block.edit_b is not None:
        out["edit_b"] = [list(pair) for pair in block.edit_b]
    if block.common:
        out["common"] = True
    return out


_FILE = "/changes/{change_id}/revisions/{revision}/files/{file_id:path}"

routes: list[BaseRoute] = [
    Route(_FILE + "/diff", get_diff, methods=["GET"]),
    Route(_FILE + "/content", get_content, methods=["GET"]),
]
