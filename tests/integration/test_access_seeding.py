"""All-Projects' default access and labels: written when a site is created, and
when a site made before access control existed is opened, once, on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from lockgate.services.bootstrap import Services, init_site, open_site


def counts(services: Services) -> tuple[int, int]:
    with services.engine.connect() as conn:
        rules = conn.execute(
            text("SELECT count(*) FROM access_rules WHERE project = 'All-Projects'")
        ).scalar_one()
        labels = conn.execute(
            text("SELECT count(*) FROM label_types WHERE project = 'All-Projects'")
        ).scalar_one()
    return int(rules), int(labels)


def test_an_older_site_gets_the_defaults_when_opened_and_only_once(
    tmp_path: Path, database_url: str
) -> None:
    created = init_site(tmp_path / "site", database_url=database_url)
    seeded = counts(created.services)
    assert seeded[0] > 0 and seeded[1] == 3
    with created.services.engine.begin() as conn:
        conn.execute(text("DELETE FROM access_rules"))
        conn.execute(text("DELETE FROM label_types"))
    created.services.close()

    first = open_site(tmp_path / "site")
    assert counts(first) == seeded
    nova = first.projects.create("nova")
    admin = first.accounts.get("admin")
    assert first.permissions.label_range(admin, nova, "Workflow", "refs/heads/master") == (-1, 1)
    first.close()
    second = open_site(tmp_path / "site")
    assert counts(second) == seeded
    assert [lt.name for lt in second.labels.for_project("nova")] == [
        "Code-Review",
        "Verified",
        "Workflow",
    ]
    second.close()
