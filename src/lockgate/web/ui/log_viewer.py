"""The log viewer: `/t/<tenant>/build/<uuid>/log/<path>`, a build's text log
with line numbers, line and range anchors (`#L12`, `#L12-20`), severity
colours and folded sections, and its log folders as lists.

The page is sent while the file is read: the template is rendered around a
marker, and the lines stream in between, so a big console shows its first
lines at once. Everything in a log was written by a job: each line goes
through markupsafe's escape, and the page runs no script but /static/'s.
A very long log shows its head and tail (`?all=1` for every line, up to the
viewer's limit); the raw file is one link away.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterable, Iterator

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from lockgate.adapters.logstore.filesystem import StoredDir, StoredFile, is_text
from lockgate.core.builds.log_view import HEAD_LINES, Fold, Gap, Item, Line, view
from lockgate.services.build_views import LogText
from lockgate.web.auth import request_caller
from lockgate.web.gerrit.params import flag, path_param
from lockgate.web.ui.build_links import Links, helpers, views
from lockgate.web.ui.pages import page, redirect, render

_MARK = "\x00log-lines\x00"
# Items rendered per chunk sent.
_BATCH = 400


def _row(line: Line, info: str = "") -> str:
    css = "ln"
    if line.severity:
        css += f" sev-{line.severity}"
    if line.header:
        css += " hdr"
    n = line.number
    extra = f'<span class="fold-info">{info}</span>' if info else ""
    text = line.text
    cut = line.stamp
    # A timestamp is digits and punctuation only (log_view's pattern): nothing to escape.
    stamp = f'<span class="ts">{text[:cut]}</span>' if cut else ""
    rest = escape(text[cut:])
    if line.header:
        rest = Markup(f'<span class="m">{rest}</span>')  # escaped just above
    return (
        f'<span class="{css}" id="L{n}"><a class="n" href="#L{n}">{n}</a>'
        f'<span class="t">{stamp}{rest}</span>{extra}</span>\n'
    )


def _fold_info(fold: Fold) -> str:
    count = len(fold.lines)
    info = f"{count:,} line{'s' if count != 1 else ''}"
    if fold.problems:
        info += f" · {fold.problems:,} flagged"
    return info


def _html(item: Item, raw_href: str) -> str:
    if isinstance(item, Line):
        return _row(item)
    if isinstance(item, Gap):
        return (
            f'<p class="gap" id="gap">Lines {item.first:,}\N{EN DASH}{item.last:,} are not shown: '
            f'<a href="?all=1">show every line</a> (slower) or read the '
            f'<a href="{escape(raw_href)}">raw file</a>.</p>\n'
        )
    rows = "".join(_row(line) for line in item.lines)
    state = "" if item.closed else " open"
    if item.title is not None:
        summary = _row(item.title, _fold_info(item))
        kind = "section"
    else:
        summary = (
            f'<span class="ln fold-label"><span class="n"></span>'
            f'<span class="t">{escape(item.label)}</span></span>'
        )
        kind = "quiet"
    return f'<details class="fold {kind}"{state}><summary>{summary}</summary>{rows}</details>\n'


def _chunks(items: Iterable[Item], text: LogText, raw_href: str) -> Iterator[str]:
    batch: list[str] = []
    empty = True
    for item in items:
        empty = False
        batch.append(_html(item, raw_href))
        if len(batch) >= _BATCH:
            yield "".join(batch)
            batch = []
    if empty:
        batch.append('<p class="empty">This file is empty.</p>\n')
    if text.truncated:
        limit = text.limit // (1024 * 1024)
        batch.append(
            f'<p class="gap">The viewer reads the first {limit} MiB of a file: the rest is in '
            f'the <a href="{escape(raw_href)}">raw file</a>.</p>\n'
        )
    yield "".join(batch)


def _crumbs(links: Links, uuid: str, path: str) -> list[tuple[str, str | None]]:
    """(label, link) from the build's log folder down to `path`."""
    parts = [p for p in path.split("/") if p]
    out: list[tuple[str, str | None]] = [("logs", links.log(uuid, ""))]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        out.append((part, None if last else links.log(uuid, "/".join(parts[: i + 1]) + "/")))
    return out


def _stream(shell: Response, body: Iterator[str]) -> StreamingResponse:
    head, _, tail = bytes(shell.body).decode().partition(_MARK)

    def parts() -> Iterator[bytes]:
        yield head.encode()
        for chunk in body:
            yield chunk.encode()
        yield tail.encode()

    response = StreamingResponse(parts(), media_type="text/html; charset=utf-8")
    # The shell's headers: no-store, the page's security headers and any cookie.
    keep = [(k, v) for k, v in shell.raw_headers if k not in (b"content-length", b"content-type")]
    response.raw_headers = [*response.raw_headers, *keep]
    return response


@page
async def log_root(request: Request) -> Response:
    return redirect(request.url.path + "/")


@page
async def log_file(request: Request) -> Response:
    tenant, uuid = path_param(request, "tenant"), path_param(request, "uuid")
    path = urllib.parse.unquote(request.path_params.get("path", ""))
    caller = request_caller(request)
    row, found = await run_in_threadpool(views(request).log_entry, caller, tenant, uuid, path)
    links = Links(tenant)
    assert row.log_path is not None
    if isinstance(found, StoredDir):
        if path and not path.endswith("/"):
            return redirect(request.url.path + "/")
        entries = await run_in_threadpool(views(request).entries, found)
        return render(
            request,
            "log_folder.html",
            b=row,
            path=path,
            entries=entries,
            crumbs=_crumbs(links, uuid, path),
            modified=lambda e: dt.datetime.fromtimestamp(e.mtime, dt.UTC).strftime(
                "%Y-%m-%d %H:%M"
            ),
            **helpers(tenant),
        )
    assert isinstance(found, StoredFile)
    raw_href = links.raw(row.log_path, path)
    if not is_text(found.name):
        # Images, archives, a job's HTML: served raw, under /logs/'s sandbox.
        return redirect(raw_href)
    every = flag(request, "all")
    text = LogText(found)
    items = view(text.lines(), head=None if every else HEAD_LINES)
    shell = render(
        request,
        "log_view.html",
        b=row,
        path=path,
        name=found.name,
        raw_href=raw_href,
        every=every,
        crumbs=_crumbs(links, uuid, path),
        lines=Markup(_MARK),  # a fixed marker, replaced by the escaped lines
        **helpers(tenant),
    )
    return _stream(shell, _chunks(items, text, raw_href))


routes = [
    Route("/t/{tenant}/build/{uuid}/log", log_root, methods=["GET"]),
    Route("/t/{tenant}/build/{uuid}/log/{path:path}", log_file, methods=["GET"]),
]
