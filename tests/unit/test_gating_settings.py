"""`[gating]` in lockgate.toml: its defaults, what it accepts and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.adapters.site import Site, SiteError


def site_with(tmp_path: Path, text: str) -> Site:
    site = Site(tmp_path)
    site.settings_file.write_text('[server]\nurl = "http://review.example/"\n' + text)
    return site


def test_a_site_made_before_gating_existed_gets_the_defaults(tmp_path: Path) -> None:
    site = site_with(tmp_path, '[database]\nurl = "sqlite://"\n')
    settings = site.load()
    gating = settings.gating
    assert gating.enabled and gating.auto_add_projects
    assert (gating.connection, gating.default_tenant, gating.ci_account) == (
        "gerrit",
        "main",
        "zuul",
    )
    assert site.tenants_file(settings) == site.root / "etc" / "main.yaml"
    assert settings.log_url == "http://review.example/logs/"


def test_every_gating_key_can_be_set(tmp_path: Path) -> None:
    site = site_with(
        tmp_path,
        '[gating]\nenabled = false\nconnection = "review.example"\n'
        'tenants_file = "zuul/tenants.yaml"\ndefault_tenant = "openstack"\n'
        'auto_add_projects = false\nci_account = "ci-bot"\n'
        'log_url = "https://logs.example/ci"\n',
    )
    settings = site.load()
    gating = settings.gating
    assert not gating.enabled and not gating.auto_add_projects
    assert (gating.connection, gating.default_tenant, gating.ci_account) == (
        "review.example",
        "openstack",
        "ci-bot",
    )
    assert site.tenants_file(settings) == site.root / "zuul" / "tenants.yaml"
    assert settings.log_url == "https://logs.example/ci/"


def test_a_new_site_writes_its_gating_section(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.write_settings(listen="127.0.0.1:8080", url="http://x/", database_url="sqlite://")
    assert "[gating]" in site.settings_file.read_text()
    assert site.load().gating.connection == "gerrit"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('connection = "a b"', "gating.connection: Value error, must be letters"),
        ('log_url = "logs.example"', "gating.log_url: Value error, must start with http"),
        ('default_tenant = " "', "gating.default_tenant: Value error, must not be empty"),
        ("auto_add = true", "gating.auto_add: Extra inputs are not permitted"),
        ('enabled = "maybe"', "gating.enabled: Input should be a valid boolean"),
    ],
)
def test_bad_gating_keys_are_refused_with_the_key(tmp_path: Path, table: str, message: str) -> None:
    site = site_with(tmp_path, f"[gating]\n{table}\n")
    with pytest.raises(SiteError, match=r"lockgate\.toml") as raised:
        site.load()
    assert message in str(raised.value)
