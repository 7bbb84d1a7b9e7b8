"""Commit messages and change messages as the change page shows them: escaped,
with their addresses and footers linked."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.adapters.site import Site, SiteError
from lockgate.web.ui.change_text import commit_message, linkify

CHANGE_ID = "Id9a6f5e38b017f4687eb245fd238104379d437d6"
MESSAGE = f"""Prevent nova-api from dying if <b>enabled_apis</b> is wrong

See https://docs.example/api.html (the manual).

Closes-Bug: #1572495
Depends-On: https://review.example/c/openstack/oslo/+/42
Depends-On: I0123456789abcdef0123456789abcdef01234567
Change-Id: {CHANGE_ID}
"""


def test_footers_link_to_the_change_and_bugs_only_where_the_site_names_a_tracker() -> None:
    html = str(commit_message(MESSAGE))
    assert "&lt;b&gt;enabled_apis&lt;/b&gt;" in html and "<b>" not in html
    assert '<a href="https://docs.example/api.html"' in html
    assert "api.html</a> (the manual)." in html
    assert f'<a href="/q/{CHANGE_ID}" class="footer-link"' in html
    assert '<a href="https://review.example/c/openstack/oslo/+/42"' in html
    assert '<a href="/q/I0123456789abcdef0123456789abcdef01234567"' in html
    # No tracker configured: the bug is text.
    assert "Closes-Bug</span>: #1572495</span>" in html
    tracked = str(commit_message(MESSAGE, bug_url="https://bugs.example/bugs/{bug}"))
    assert '<a href="https://bugs.example/bugs/1572495" class="bug"' in tracked


def test_only_http_addresses_become_links_and_nothing_written_is_markup() -> None:
    html = str(
        linkify('javascript:alert(1) <img src=x onerror=alert(1)> "http://a.example/?q=<x>"')
    )
    assert "<img" not in html and 'href="javascript' not in html
    assert '<a href="http://a.example/?q=" rel=' in html
    # A subject that looks like a footer is not one.
    assert "footer" not in str(commit_message("Fixes: nothing\n"))


def test_the_sites_bug_tracker_must_say_where_the_number_goes(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.settings_file.write_text('[web]\nbug_url = "https://bugs.example/{bug}"\n')
    assert site.load().web.bug_url == "https://bugs.example/{bug}"
    site.settings_file.write_text('[web]\nbug_url = "https://bugs.example/"\n')
    with pytest.raises(SiteError, match=r"\{bug\} where the bug number goes"):
        site.load()
