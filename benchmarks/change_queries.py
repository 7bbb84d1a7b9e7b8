"""Change query latency through the REST API over 100k changes, SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.change_queries [--changes 100000] [--requests 200]

Seeds the changes across 10 projects and 20 owners, runs ANALYZE, then times
`/changes/?q=status:open+project:P&n=25`, `q=owner:U` and `q=<number>` from a
live server on a loopback port. The baseline in the same run is a GET of
`/config/server/version`, the server's floor for one request. Goal: p50 <= 20 ms.
"""

from __future__ import annotations

from benchmarks.site_bench import arguments, on_both_databases, seeded_site, time_requests


def main() -> None:
    args = arguments(__doc__)

    def run(database_url: str, label: str) -> None:
        with seeded_site(database_url, label, args.changes) as server:
            requests = {
                "status:open project:project3 n=25": (
                    "changes/",
                    {"q": "status:open project:project3", "n": "25"},
                ),
                "owner:user7": ("changes/", {"q": "owner:user7", "n": "25"}),
                "<number>": ("changes/", {"q": str(args.changes // 2)}),
            }
            time_requests(server, label, requests, args.requests)

    on_both_databases(args.postgres, run)


if __name__ == "__main__":
    main()
