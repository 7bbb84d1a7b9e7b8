"""The bulk seeder benchmarks use: rows that the read API and search serve."""

from __future__ import annotations

import httpx

from lockgate.core.review.model import ChangeStatus
from lockgate.testing.seed import seed_many_changes
from lockgate.testing.server import LiveServer


def test_many_synthetic_changes_are_searchable_and_readable(server: LiveServer) -> None:
    server.services.projects.create("bulk")
    admin = server.services.accounts.get("admin")
    numbers = seed_many_changes(
        server.services.engine,
        project="bulk",
        owner_id=admin.id,
        count=1200,
        batch=500,
        statuses=(ChangeStatus.NEW, ChangeStatus.MERGED),
    )
    assert len(numbers) == len(set(numbers)) == 1200
    response = httpx.get(
        f"{server.url}changes/",
        params=[
            ("q", "project:bulk status:open"),
            ("n", "3"),
            ("o", "CURRENT_REVISION"),
            ("o", "CURRENT_COMMIT"),
            ("o", "CURRENT_FILES"),
        ],
    )
    assert response.status_code == 200, response.text
    page = httpx.Response(200, text=response.text[5:]).json()
    assert [c["_number"] for c in page] == [numbers[1198], numbers[1196], numbers[1194]]
    assert page[-1]["_more_changes"] is True
    revision = next(iter(page[0]["revisions"].values()))
    assert revision["commit"]["parents"] == []  # synthetic: no commit in git
    assert list(revision["files"]) == [f"file-{numbers[1198]}.txt"]
