"""A site is created, opened, and refused when its schema does not match the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from lockgate.adapters.site import SiteError
from lockgate.services.bootstrap import init_site, open_site


def test_init_creates_a_site_with_an_admin_whose_password_works(tmp_path: Path) -> None:
    result = init_site(tmp_path / "site", listen="127.0.0.1:9999")
    credentials = tmp_path / "site" / "admin.credentials"
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert f"password={result.admin_password}" in credentials.read_text()
    admin = result.services.accounts.authenticate("admin", result.admin_password)
    assert admin is not None and result.services.accounts.is_admin(admin)
    assert result.services.accounts.authenticate("admin", "wrong") is None
    assert {p.name for p in result.services.projects.all()} == {
        "All-Projects",
        "All-Users",
        "project-config",
    }
    result.services.close()


def test_a_database_at_another_schema_version_refuses_to_serve(tmp_path: Path) -> None:
    result = init_site(tmp_path / "site")
    with result.services.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result.services.close()
    with pytest.raises(SiteError, match="newer than this lockgate"):
        open_site(tmp_path / "site")


def test_an_unmigrated_database_names_the_command_that_migrates_it(tmp_path: Path) -> None:
    result = init_site(tmp_path / "site")
    with result.services.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    result.services.close()
    with pytest.raises(SiteError, match="lockgate db upgrade --site"):
        open_site(tmp_path / "site")
