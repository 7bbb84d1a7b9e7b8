"""`[[webhooks]]` in lockgate.toml: what a site accepts, and what it refuses
with the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.adapters.site import Site, SiteError


def site_with(tmp_path: Path, webhooks: str) -> Site:
    site = Site(tmp_path)
    site.write_settings(listen="127.0.0.1:8080", url="http://x/", database_url="sqlite://")
    with site.settings_file.open("a") as settings:
        settings.write(webhooks)
    return site


def test_a_webhook_with_a_secret_file_and_filters(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "ci").write_text("k3y\n")
    site = site_with(
        tmp_path,
        '[[webhooks]]\nname = "ci"\nurl = "https://ci.example/hook"\nsecret_file = "keys/ci"\n'
        'events = ["change-merged"]\nprojects = ["app"]\ntimeout = 2.5\n'
        '[[webhooks]]\nname = "audit"\nurl = "http://audit.example/"\nsecret = "s"\n',
    )
    ci, audit = site.load().webhooks

    assert (ci.name, ci.events, ci.projects, ci.timeout) == ("ci", ["change-merged"], ["app"], 2.5)
    assert (ci.min_backoff, ci.max_backoff) == (1.0, 300.0)
    assert site.webhook_secret(ci) == b"k3y"
    assert (audit.events, audit.projects, site.webhook_secret(audit)) == ([], [], b"s")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "ci"\nurl = "http://x/"\nsecret = "s"\nretries = 3\n', "retries: Extra inputs"),
        ('name = "ci"\nurl = "http://x/"\n', "exactly one of secret or secret_file"),
        (
            'name = "ci"\nurl = "http://x/"\nsecret = "s"\nsecret_file = "f"\n',
            "exactly one of secret or secret_file",
        ),
        ('name = "ci"\nurl = "ftp://x/"\nsecret = "s"\n', "url: Value error, must start with"),
        ('name = "c i"\nurl = "http://x/"\nsecret = "s"\n', "name: Value error, must be letters"),
        ('name = "ci"\nurl = "http://x/"\nsecret = "s"\ntimeout = 0\n', "timeout: Input should be"),
        (
            'name = "ci"\nurl = "http://x/"\nsecret = "s"\nmin_backoff = 9\nmax_backoff = 1\n',
            "min_backoff is more than max_backoff",
        ),
    ],
)
def test_a_bad_webhook_is_refused_naming_the_key(tmp_path: Path, table: str, message: str) -> None:
    site = site_with(tmp_path, "[[webhooks]]\n" + table)
    with pytest.raises(SiteError, match=r"webhooks\.0") as error:
        site.load()
    assert message in str(error.value)


def test_two_webhooks_of_one_name_are_refused(tmp_path: Path) -> None:
    hook = '[[webhooks]]\nname = "ci"\nurl = "http://x/"\nsecret = "s"\n'
    with pytest.raises(SiteError, match="webhook names must be unique; given twice: ci"):
        site_with(tmp_path, hook + hook).load()


def test_a_missing_secret_file_names_its_path(tmp_path: Path) -> None:
    site = site_with(tmp_path, '[[webhooks]]\nname = "ci"\nurl = "http://x/"\nsecret_file = "no"\n')
    [hook] = site.load().webhooks
    with pytest.raises(SiteError, match=r"webhook ci: cannot read secret_file .*/no: No such file"):
        site.webhook_secret(hook)
