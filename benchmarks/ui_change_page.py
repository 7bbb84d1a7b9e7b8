"""Server time to render the change page of a big change, against the REST
API's `/detail` of the same change in the same run.

    .venv/bin/python -m benchmarks.ui_change_page [--requests 100] [--patch-sets 30]
        [--files 50] [--comments 200] [--postgres URL]

The change has `--patch-sets` patch sets of `--files` files each, a CI
account's report (ten jobs) on every patch set, and `--comments` inline
comments posted by five reviewers in reviews of ten comments, spread over the
patch sets; the viewer is the administrator (every label and action is
asked). Each figure is the time of a GET on loopback, from sending the request
to the last byte: the page `/c/<project>/+/<number>`, and as the baseline
`/changes/<number>/detail?o=ALL_REVISIONS&o=ALL_FILES&o=MESSAGES`, which
loads the same change with its patch sets, files, messages and labels; the
server's floor (`/config/server/version`) is printed too. Goal: page p50 at
most 50 ms.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from starlette.requests import Request
from starlette.responses import Response

from benchmarks.site_bench import on_both_databases
from lockgate.services.accounts import SERVICE_USERS
from lockgate.testing.seed import seed_change, seed_patch_set
from lockgate.testing.server import LiveServer, live_server
from lockgate.web.app import create_app
from lockgate.web.gerrit.changes import get_detail
from lockgate.web.ui.change_page import load, render_change

PROJECT = "bench/project"
REVIEWERS = 5
COMMENTS_PER_REVIEW = 10
JOBS = 10
LINES = 20  # lines in each file


def _file(i: int, version: int) -> str:
    return "".join(f"line {n} of file {i}, version {version}\n" for n in range(LINES))


def _ci_report(ps: int) -> str:
    jobs = "\n".join(
        f"- bench-job-{j} https://logs.example/{ps}/bench-job-{j}/ : "
        f"{'FAILURE' if j == 3 and ps % 2 else 'SUCCESS'} in {j + 1}m 0{j % 10}s"
        for j in range(JOBS)
    )
    return f"Build succeeded (check pipeline).\n\n{jobs}"


def seed(server: LiveServer, patch_sets: int, files: int, comments: int) -> int:
    services = server.services
    services.projects.create(PROJECT, create_empty_commit=True)
    accounts = services.accounts
    accounts.create_account("owner", full_name="Owner", email="owner@example.com")
    accounts.create_account(
        "ci",
        full_name="Bench CI",
        email="ci@example.com",
        http_password="pw-ci",
        groups=[SERVICE_USERS],
    )
    reviewers = [
        accounts.create_account(
            f"reviewer{i}",
            full_name=f"Reviewer {i}",
            email=f"r{i}@example.com",
            http_password=f"pw-r{i}",
        )
        for i in range(REVIEWERS)
    ]
    names = [f"src/module{i // 10}/file{i}.py" for i in range(files)]
    change = seed_change(
        services,
        PROJECT,
        owner="owner",
        subject="A big change",
        body="Many patch sets, files and comments.\n\nCloses-Bug: #1234",
        files={name: _file(i, 1) for i, name in enumerate(names)},
    )
    number = change.change_number
    for version in range(2, patch_sets + 1):
        seed_patch_set(
            services,
            number,
            files={name: _file(i, version) for i, name in enumerate(names) if i % 5 == version % 5},
        )
    with httpx.Client(base_url=server.url, timeout=60) as client:

        def post(ps: int, body: dict[str, object], auth: tuple[str, str]) -> None:
            response = client.post(
                f"a/changes/{number}/revisions/{ps}/review", json=body, auth=auth
            )
            assert response.status_code == 200, response.text

        for ps in range(1, patch_sets + 1):
            labels = {"Verified": 1} if ps == patch_sets else {}
            post(ps, {"message": _ci_report(ps), "labels": labels}, ("ci", "pw-ci"))
        reviews = comments // COMMENTS_PER_REVIEW
        for r in range(reviews):
            ps = 1 + r * patch_sets // max(reviews, 1)
            who = reviewers[r % REVIEWERS]
            inline = {
                names[(r * COMMENTS_PER_REVIEW + c) % files]: [
                    {"line": 1 + c % LINES, "message": f"Comment {c} of review {r}: why?"}
                ]
                for c in range(COMMENTS_PER_REVIEW)
            }
            post(
                ps,
                {"message": f"Review {r}", "comments": inline},
                (who.username, f"pw-r{r % REVIEWERS}"),
            )
    return number


def _samples(client: httpx.Client, path: str, count: int) -> list[float]:
    for _ in range(5):  # warm up: caches, the auth cache, the first template compile
        assert client.get(path).status_code == 200
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.text[:500]
    return samples


def _cpu_samples(render: Callable[[], Response], count: int) -> list[float]:
    """CPU milliseconds of the thread per call, in process: what the server
    spends on one request, without the HTTP around it and whatever else the
    machine runs meanwhile."""
    for _ in range(5):
        assert render().status_code == 200
    samples = []
    for _ in range(count):
        t0 = time.thread_time()
        response = render()
        samples.append((time.thread_time() - t0) * 1000)
        assert response.status_code == 200
    return samples


def _request(server: LiveServer, path: str, query: str, path_params: dict[str, str]) -> Request:
    credentials = base64.b64encode(":".join(server.admin).encode()).decode()
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"authorization", f"Basic {credentials}".encode())],
        "app": create_app(server.services).api,
        "path_params": path_params,
    }
    return Request(scope)


def _p50_p90(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.9) - 1]


def run(
    database_url: str, label: str, *, requests: int, patch_sets: int, files: int, comments: int
) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp,
        live_server(Path(tmp) / "site", database_url) as server,
    ):
        start = time.perf_counter()
        number = seed(server, patch_sets, files, comments)
        print(
            f"[{label}] seeded change {number}: {patch_sets} patch sets x {files} files, "
            f"{comments} comments, in {time.perf_counter() - start:.1f} s"
        )
        detail = f"a/changes/{number}/detail?o=ALL_REVISIONS&o=ALL_FILES&o=MESSAGES"
        page = f"c/{PROJECT}/+/{number}"
        with httpx.Client(base_url=server.url, auth=server.admin, timeout=60) as client:
            html = client.get(page).text
            shown = len(re.findall(r'<li class="comment[ "]', html))
            assert shown == comments, f"the page shows {shown} comments of {comments}"
            wall = {
                "floor /config/server/version": _p50_p90(
                    _samples(client, "config/server/version", requests)
                ),
                "baseline REST /detail": _p50_p90(_samples(client, detail, requests)),
                "change page": _p50_p90(_samples(client, page, requests)),
            }
        params = {"project": PROJECT, "number": str(number)}
        page_request = _request(server, "/" + page, "", params)
        detail_request = _request(
            server,
            f"/changes/{number}/detail",
            "o=ALL_REVISIONS&o=ALL_FILES&o=MESSAGES",
            {"change_id": str(number)},
        )
        cpu = {
            "baseline REST /detail": _p50_p90(
                _cpu_samples(lambda: get_detail(detail_request), requests)
            ),
            "change page": _p50_p90(
                _cpu_samples(
                    lambda: render_change(page_request, load(page_request, number)), requests
                )
            ),
        }
        for kind, figures in (("HTTP, wall", wall), ("in process, CPU", cpu)):
            base = figures["baseline REST /detail"][0]
            for name, (p50, p90) in figures.items():
                print(
                    f"[{label}] {kind:16s} {name:30s} p50 {p50:6.1f} ms  p90 {p90:6.1f} ms  "
                    f"{p50 / base:4.2f}x /detail"
                )
        print(f"[{label}] page size {len(html) / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--patch-sets", type=int, default=30)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--comments", type=int, default=200)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("LOCKGATE_TEST_POSTGRES_URL", ""),
        help="server URL to make a scratch schema on; empty (the default) for SQLite only",
    )
    args = parser.parse_args()
    on_both_databases(
        args.postgres,
        lambda url, label: run(
            url,
            label,
            requests=args.requests,
            patch_sets=args.patch_sets,
            files=args.files,
            comments=args.comments,
        ),
    )


if __name__ == "__main__":
    main()
