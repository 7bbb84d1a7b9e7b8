"""Build logs under `/logs/<path>`: files with their types, folder indexes, and
a plain-text viewer (`?view=1`) with line anchors.

A build's folder is served to those who may see the build (its project's
`read` permission, and for a private change who may see the change), and is a
404 to others, as if it were not there (services/build_visibility.py); the
folders above builds' folders are open to anyone. Answers carry
`Access-Control-Allow-Origin: *` because Zuul's build page reads them from the
browser. Everything in them was written by jobs: the viewer and the indexes
escape it, job files go out with a sandboxing Content-Security-Policy (an
`.html` or `.svg` a job left cannot run script in this server's origin) and
`nosniff`, and no path reaches outside the store.
"""

from __future__ import annotations

import gzip
import secrets
import urllib.parse
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Route

from lockgate.adapters.logstore.filesystem import (
    FilesystemLogStore,
    StoredDir,
    StoredFile,
    is_text,
)
from lockgate.core.builds import log_view
from lockgate.web.auth import request_caller, services_of

# Job files: no script, no plugins, no forms, a unique origin.
JOB_FILE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
# The viewer reads at most this much of a file; the rest is left to the raw link.
VIEW_LIMIT = 32 * 1024 * 1024
CORS = {"Access-Control-Allow-Origin": "*"}

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

_STYLE = """
body { font-family: sans-serif; margin: 1em; }
pre, table.log { font-family: monospace; font-size: 13px; }
table.log { border-collapse: collapse; }
table.log td { padding: 0 .5em; white-space: pre-wrap; vertical-align: top; }
td.n { text-align: right; user-select: none; color: #888; }
td.n a { color: inherit; text-decoration: none; }
tr.hl, tr:target { background: #fff3b0; }
.sev-error { color: #b00020; }
.sev-warning { color: #8a5a00; }
.sev-traceback { color: #b00020; font-weight: bold; }
table.index td { padding: 0 1em 0 0; }
"""

_VIEWER = _ENV.from_string(
    """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ title }}</title>
<style nonce="{{ nonce }}">{{ style }}</style></head>
<body>
<p><a href="{{ raw_href }}">raw</a> · <a href="./">folder</a>{% if truncated %}
 · the first {{ limit_mb }} MB of the file are shown{% endif %}</p>
<table class="log">
{{ rows }}
</table>
<script nonce="{{ nonce }}">{{ script }}</script>
</body></html>
"""
)

# #L12 marks a line, #L12-20 a range; shift-click on a number extends the mark.
_SCRIPT = """
(function () {
  var first = null;
  function mark() {
    document.querySelectorAll('tr.hl').forEach(function (r) { r.classList.remove('hl'); });
    var m = /^#L(\\d+)(?:-(\\d+))?$/.exec(location.hash);
    if (!m) { return; }
    var a = +m[1], b = m[2] ? +m[2] : a;
    if (b < a) { var t = a; a = b; b = t; }
    for (var i = a; i <= b; i++) {
      var row = document.getElementById('L' + i);
      if (row) { row.classList.add('hl'); }
    }
    var top = document.getElementById('L' + a);
    if (top) { top.scrollIntoView(); }
    first = a;
  }
  document.addEventListener('click', function (e) {
    var link = e.target.closest && e.target.closest('td.n a');
    if (!link || !e.shiftKey || first === null) { return; }
    e.preventDefault();
    var n = +link.textContent;
    location.hash = '#L' + Math.min(first, n) + '-' + Math.max(first, n);
  });
  window.addEventListener('hashchange', mark);
  mark();
})();
"""

_INDEX = _ENV.from_string(
    """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Index of {{ title }}</title>
<style nonce="{{ nonce }}">{{ style }}</style></head>
<body>
<h1>Index of {{ title }}</h1>
<table class="index">
{% if parent %}<tr><td><a href="../">../</a></td><td></td><td></td><td></td></tr>{% endif %}
{% for e in entries %}
<tr><td><a href="{{ e.href }}">{{ e.label }}</a></td>{#
#}<td>{% if e.view %}<a href="{{ e.view }}">view</a>{% endif %}</td>{#
#}<td>{{ e.size }}</td><td>{{ e.mtime }}</td></tr>
{% endfor %}
</table>
</body></html>
"""
)


def severity(line: str) -> str:
    """The viewer's class for a line, by the build log viewer's rules
    (core/builds/log_view.py), a traceback's first line standing out."""
    if log_view.TRACEBACK_START in line:
        return "sev-traceback"
    found = log_view.severity(line)
    return f"sev-{found}" if found else ""


def content_type(file: StoredFile) -> str:
    kind = file.mimetype
    if kind.startswith("text/") or kind == "application/json":
        return f"{kind}; charset=utf-8"
    return kind


def _page_csp(nonce: str) -> str:
    return (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        q = params.strip()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def _store(request: Request) -> FilesystemLogStore:
    store = services_of(request).log_store
    assert store is not None, "build_services sets the log store"
    return store


def _not_found(path: str) -> Response:
    return PlainTextResponse(f"no log file or folder {path!r}\n", status_code=404, headers=CORS)


async def serve_log(request: Request) -> Response:
    """GET /logs/<path>: a file, a folder's index, or `?view=1` the viewer."""
    # Paths arrive still percent-encoded (see web/app.py).
    path = urllib.parse.unquote(request.path_params.get("path", ""))
    store = _store(request)
    visibility = services_of(request).build_visibility
    assert visibility is not None, "build_services sets it"

    def locate() -> StoredFile | StoredDir | None:
        return visibility.locate_log(request_caller(request), path)

    found = await run_in_threadpool(locate)
    if found is None:
        return _not_found(path)
    if isinstance(found, StoredDir):
        if not request.url.path.endswith("/"):
            # Relative links in the index need the trailing slash.
            return RedirectResponse(request.url.path + "/", status_code=301, headers=CORS)
        return await run_in_threadpool(_index, store, found)
    if request.query_params.get("view") not in (None, "", "0"):
        if not is_text(found.name):
            return PlainTextResponse(
                f"{found.name}: the viewer shows text files only; fetch it without ?view=1\n",
                status_code=400,
                headers=CORS,
            )
        return await run_in_threadpool(_viewer, found)
    return _file(request, found)


def _file(request: Request, found: StoredFile) -> Response:
    headers = {**CORS, "Content-Security-Policy": JOB_FILE_CSP, "X-Content-Type-Options": "nosniff"}
    media = content_type(found)
    if not found.gzipped:
        return FileResponse(found.disk, media_type=media, headers=headers)
    headers["Vary"] = "Accept-Encoding"
    if _accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return FileResponse(found.disk, media_type=media, headers=headers)
    return StreamingResponse(_gunzip(found), media_type=media, headers=headers)


def _gunzip(found: StoredFile) -> Iterator[bytes]:
    with gzip.open(found.disk, "rb") as packed:
        while chunk := packed.read(1 << 16):
            yield chunk


def _read_text(found: StoredFile) -> tuple[str, bool]:
    opener: Any = gzip.open if found.gzipped else open
    try:
        with opener(found.disk, "rb") as stream:
            data: bytes = stream.read(VIEW_LIMIT + 1)
    except (OSError, EOFError, zlib.error):
        data = b"(the stored file is damaged and cannot be read)\n"
    truncated = len(data) > VIEW_LIMIT
    return data[:VIEW_LIMIT].decode("utf-8", errors="replace"), truncated


def _viewer(found: StoredFile) -> Response:
    text, truncated = _read_text(found)
    if text.endswith("\n"):
        text = text[:-1]
    nonce = secrets.token_urlsafe(16)
    page = _VIEWER.render(
        title=found.name,
        rows=_rows(text.split("\n") if text else []),
        nonce=nonce,
        style=_STYLE,
        script=_SCRIPT,
        raw_href=urllib.parse.quote(found.name),
        truncated=truncated,
        limit_mb=VIEW_LIMIT // (1024 * 1024),
    )
    return HTMLResponse(page, headers={**CORS, "Content-Security-Policy": _page_csp(nonce)})


def _rows(lines: list[str]) -> Markup:
    """The table rows, built here rather than in a template loop (several
    times faster on a 100k-line console); every line goes through escape()."""
    rows = []
    for number, line in enumerate(lines, 1):
        css = severity(line)
        cell = f'<td class="{css}">' if css else "<td>"
        rows.append(
            f'<tr id="L{number}"><td class="n"><a href="#L{number}">{number}</a></td>'
            f"{cell}{escape(line)}</td></tr>\n"
        )
    # Safe to mark: every piece is a number, a fixed class or escape()d text.
    return Markup("".join(rows))


def _index(store: FilesystemLogStore, folder: StoredDir) -> Response:
    entries = []
    for entry in folder.entries(store.root):
        href = urllib.parse.quote(entry.name) + ("/" if entry.is_dir else "")
        entries.append(
            {
                "href": href,
                "label": entry.name + ("/" if entry.is_dir else ""),
                "view": f"{href}?view=1" if not entry.is_dir and is_text(entry.name) else "",
                "size": "" if entry.is_dir else _size(entry.size),
                "mtime": datetime.fromtimestamp(entry.mtime, UTC).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    nonce = secrets.token_urlsafe(16)
    page = _INDEX.render(
        title="/logs/" + (folder.path + "/" if folder.path else ""),
        entries=entries,
        parent=bool(folder.path),
        nonce=nonce,
        style=_STYLE,
    )
    return HTMLResponse(page, headers={**CORS, "Content-Security-Policy": _page_csp(nonce)})


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


routes: list[BaseRoute] = [
    Route("/logs", serve_log, methods=["GET"]),
    Route("/logs/", serve_log, methods=["GET"]),
    Route("/logs/{path:path}", serve_log, methods=["GET"]),
]
