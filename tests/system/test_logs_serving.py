"""Build logs over HTTP: what a browser, Zuul's build page and curl get from
/logs/, and that nothing a job wrote runs in the server's origin."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx
import pytest

from lockgate.adapters.logstore.filesystem import FilesystemLogStore
from lockgate.testing.server import LiveServer

BUILD = "34/1234/2/check/unit/0123456"


@pytest.fixture
def store(sqlite_server: LiveServer) -> FilesystemLogStore:
    store = sqlite_server.services.log_store
    assert store is not None
    return store


@pytest.fixture
def http(sqlite_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=sqlite_server.url, timeout=10)


def _build(store: FilesystemLogStore) -> Path:
    return store.folder(BUILD)


def test_log_files_have_their_types_and_cors(store: FilesystemLogStore, http: httpx.Client) -> None:
    folder = _build(store)
    (folder / "job-output.txt").write_text("hello\n")
    (folder / "ansible.log").write_text("log\n")
    (folder / "job-output.json").write_text("[]")
    (folder / "report.html").write_text("<h1>report</h1>")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n")
    (folder / "core.dump1").write_bytes(b"\x00\x01")

    types = {
        name: http.get(f"/logs/{BUILD}/{name}").headers["content-type"]
        for name in (
            "job-output.txt",
            "ansible.log",
            "job-output.json",
            "report.html",
            "image.png",
            "core.dump1",
        )
    }

    assert types == {
        "job-output.txt": "text/plain; charset=utf-8",
        "ansible.log": "text/plain; charset=utf-8",
        "job-output.json": "application/json; charset=utf-8",
        "report.html": "text/html; charset=utf-8",
        "image.png": "image/png",
        "core.dump1": "application/octet-stream",
    }
    page = http.get(f"/logs/{BUILD}/report.html")
    assert page.headers["access-control-allow-origin"] == "*"
    assert page.headers["x-content-type-options"] == "nosniff"
    csp = page.headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp, "a job's HTML runs no script"
    assert http.get(f"/logs/{BUILD}/job-output.txt").text == "hello\n"


def test_a_gzipped_log_is_sent_compressed_or_plain_as_the_client_asks(
    store: FilesystemLogStore, http: httpx.Client
) -> None:
    text = "".join(f"line {n}\n" for n in range(5000))
    (_build(store) / "job-output.txt.gz").write_bytes(gzip.compress(text.encode()))

    with http.stream(
        "GET", f"/logs/{BUILD}/job-output.txt", headers={"Accept-Encoding": "gzip"}
    ) as packed:
        raw = b"".join(packed.iter_raw())
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.headers["content-type"] == "text/plain; charset=utf-8"
        assert packed.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(raw).decode() == text

    with http.stream(
        "GET", f"/logs/{BUILD}/job-output.txt", headers={"Accept-Encoding": "identity"}
    ) as plain:
        body = b"".join(plain.iter_raw())
        assert "content-encoding" not in plain.headers
    assert body.decode() == text

    refused = http.get(f"/logs/{BUILD}/job-output.txt.gz", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
    assert refused.text == text, "the .gz name serves the same log"


def test_a_finished_build_is_read_back_through_its_url(
    store: FilesystemLogStore, http: httpx.Client, sqlite_server: LiveServer
) -> None:
    big = "".join(f"step {n}\n" for n in range(20000))
    (_build(store) / "job-output.txt").write_text(big)

    url = store.finish(BUILD)

    assert url == f"{sqlite_server.url}logs/{BUILD}/"
    assert httpx.get(url + "job-output.txt", timeout=10).text == big
    manifest = httpx.get(url + "zuul-manifest.json", timeout=10).json()
    assert [e["name"] for e in manifest["tree"]] == ["job-output.txt"]


@pytest.mark.parametrize(
    "path",
    [
        "/logs/..%2f..%2flockgate.toml",
        "/logs/%2e%2e/%2e%2e/lockgate.toml",
        "/logs/34/..%2F..%2F..%2Flockgate.toml",
        "/logs/%2e%2e",
    ],
)
def test_paths_out_of_the_store_are_not_found(
    store: FilesystemLogStore, http: httpx.Client, sqlite_server: LiveServer, path: str
) -> None:
    _build(store)
    assert (sqlite_server.site_path / "lockgate.toml").exists()

    response = http.get(httpx.URL(sqlite_server.url).copy_with(raw_path=path.encode()))

    assert response.status_code == 404
    assert "[server]" not in response.text


def test_a_symlink_a_job_left_is_not_followed(
    store: FilesystemLogStore, http: httpx.Client, sqlite_server: LiveServer
) -> None:
    (_build(store) / "settings.txt").symlink_to(sqlite_server.site_path / "lockgate.toml")

    assert http.get(f"/logs/{BUILD}/settings.txt").status_code == 404


def test_a_folder_lists_its_files_with_viewer_links(
    store: FilesystemLogStore, http: httpx.Client
) -> None:
    folder = _build(store)
    (folder / "job-output.txt.gz").write_bytes(gzip.compress(b"x\n"))
    (folder / "logs").mkdir()
    (folder / "<img src=x onerror=alert(1)>.txt").write_text("evil name\n")

    moved = http.get(f"/logs/{BUILD}")
    assert moved.status_code == 301 and moved.headers["location"] == f"/logs/{BUILD}/"

    index = http.get(f"/logs/{BUILD}/")
    assert index.headers["content-type"].startswith("text/html")
    assert 'href="logs/"' in index.text
    assert 'href="job-output.txt"' in index.text, "a gzipped log is listed by its plain name"
    assert 'href="job-output.txt?view=1"' in index.text
    assert "<img src=x" not in index.text
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in index.text
    assert http.get("/logs/").status_code == 200


def test_the_viewer_numbers_lines_and_shows_markup_as_text(
    store: FilesystemLogStore, http: httpx.Client
) -> None:
    lines = [
        "2026-12-01 starting",
        "<script>alert('owned')</script>",
        "ERROR: the thing broke",
        "WARNING: deprecated",
        "Traceback (most recent call last):",
        "plain & simple",
    ]
    (_build(store) / "job-output.txt").write_text("\n".join(lines) + "\n")

    page = http.get(f"/logs/{BUILD}/job-output.txt", params={"view": "1"})

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    rows = re.findall(r'<tr id="L(\d+)"><td class="n"><a href="#L\1">\1</a></td>', page.text)
    assert rows == ["1", "2", "3", "4", "5", "6"]
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page.text
    assert '<td class="sev-error">ERROR: the thing broke</td>' in page.text
    assert '<td class="sev-warning">WARNING: deprecated</td>' in page.text
    assert '<td class="sev-traceback">Traceback' in page.text
    assert "plain &amp; simple" in page.text
    # Ranges such as #L3-5 are marked by the page's own script, allowed by nonce only.
    nonce = re.search(r"script-src 'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce and f'<script nonce="{nonce.group(1)}">' in page.text
    assert "#L" in page.text and "-(\\d+)" in page.text


def test_the_viewer_reads_gzipped_logs_and_refuses_binaries(
    store: FilesystemLogStore, http: httpx.Client
) -> None:
    folder = _build(store)
    (folder / "job-output.txt.gz").write_bytes(gzip.compress(b"first\nsecond\n"))
    (folder / "image.png").write_bytes(b"\x89PNG")

    page = http.get(f"/logs/{BUILD}/job-output.txt?view=1")
    assert '<a href="#L2">2</a></td><td>second</td>' in page.text
    assert http.get(f"/logs/{BUILD}/image.png?view=1").status_code == 400
    assert http.get(f"/logs/{BUILD}/missing.txt?view=1").status_code == 404


def test_a_plain_log_answers_range_requests(store: FilesystemLogStore, http: httpx.Client) -> None:
    (_build(store) / "job-output.txt").write_text("0123456789\n")

    part = http.get(f"/logs/{BUILD}/job-output.txt", headers={"Range": "bytes=2-5"})

    assert part.status_code == 206
    assert part.text == "2345"
    assert http.head(f"/logs/{BUILD}/job-output.txt").status_code == 200
