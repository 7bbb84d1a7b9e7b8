"""Vote (label:) query latency through the REST API over 100k changes with votes,
SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.label_queries [--changes 100000] [--requests 200]

Seeds the changes as benchmarks.change_queries does, with the votes of a busy
site (CI's Verified on most open changes, reviews, a fifth of open changes with
a Code-Review+2, every merged change +2/+2/+1), runs ANALYZE, then times
`label:Code-Review=+2 status:open`, `label:Verified>=1 project:P` and
`is:reviewed status:open` pages of 25 from a live server on a loopback port,
against the server's request floor (`/config/server/version`) in the same run.
Goal: p50 <= 30 ms.
"""

from __future__ import annotations

from benchmarks.site_bench import arguments, on_both_databases, seeded_site, time_requests

QUERIES = [
    "status:open",  # the same page without votes: what the label terms add
    "label:Code-Review=+2 status:open",
    "label:Verified>=1 project:project3",
    "label:Code-Review=MAX,user=reviewer2 status:open",
    "status:open label:Verified>=1 -label:Code-Review<=-1 label:Code-Review=0",
    "is:reviewed status:open",
]


def main() -> None:
    args = arguments(__doc__)

    def run(database_url: str, label: str) -> None:
        with seeded_site(database_url, label, args.changes, votes=True) as server:
            requests = {f"{q} n=25": ("changes/", {"q": q, "n": "25"}) for q in QUERIES}
            time_requests(server, label, requests, args.requests)

    on_both_databases(args.postgres, run)


if __name__ == "__main__":
    main()
