"""What a `Depends-On:` footer names.

Zuul reads `Depends-On: <url>` lines of a commit message and asks each
connection whether the URL is one of its changes. For this review server the
value names a change when it is one of its change addresses:

- `{server}c/{project}/+/{N}` and `{server}c/+/{N}` (what the web UI shows),
- `{server}#/c/{N}/` and `{server}#/c/{project}/+/{N}` (old Gerrit UIs),
- `{server}{N}` (Gerrit's short link),

each with or without a patch set, a file or a trailing slash after N; or a
bare change number; or a Change-Id (`I` + 40 hex), which Zuul deprecated but
still honours. A URL of another server, or anything else, names nothing here:
the scheduler keeps it as an unresolved need.

The server is matched on host, on the port when one is not the scheme's own
(not on the scheme: a site served on both http and https has one set of
changes), and on its path prefix.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

# Change numbers are SQL integers: a larger number names no change.
MAX_CHANGE_NUMBER = 2**31 - 1

_CHANGE_ID = re.compile(r"^I[0-9a-f]{40}$")
_NUMBER = re.compile(r"^[0-9]{1,12}$")
# Paths below the server's prefix.
_WEB = re.compile(r"^c/(?:(?P<project>.+?)/)?\+/(?P<number>[0-9]{1,12})(?:/.*)?$")
_SHORT = re.compile(r"^(?P<number>[0-9]{1,12})/?$")
# The fragment of an old UI's address: `#/c/N/`, `#/c/project/+/N/P`.
_FRAGMENT = re.compile(r"^/c/(?:(?P<project>.+?)/\+/)?(?P<number>[0-9]{1,12})(?:/.*)?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class DependsOn:
    """One Depends-On value and the change it names, if it names one of ours."""

    value: str  # as written, stripped of surrounding blanks
    number: int | None = None
    change_id: str | None = None
    project: str | None = None  # when a URL names the project too

    @property
    def resolvable(self) -> bool:
        """Whether it names a change of this server (which may still not exist)."""
        return self.number is not None or self.change_id is not None


def is_depends_on(key: str) -> bool:
    """Whether a footer key is Depends-On, in any case (as Zuul matches it)."""
    return key.strip().lower() == "depends-on"


def parse_depends_on(value: str, server_url: str) -> DependsOn:
    """What `value` names on the server at `server_url`; never fails."""
    text = value.strip()
    if _CHANGE_ID.match(text):
        return DependsOn(text, change_id=text)
    if _NUMBER.match(text):
        return _numbered(text, text, None)
    try:
        wanted = _origin(server_url)
        parts = urllib.parse.urlsplit(text)
        found = _origin(text)
    except ValueError:
        return DependsOn(text)
    if found is None or wanted is None or found[:2] != wanted[:2]:
        return DependsOn(text)
    prefix, path = wanted[2], parts.path
    if not (path if path.endswith("/") else path + "/").startswith(prefix):
        return DependsOn(text)
    rest = urllib.parse.unquote(path[len(prefix) :])
    if rest == "" and parts.fragment:
        match = _FRAGMENT.match(urllib.parse.unquote(parts.fragment))
    else:
        match = _WEB.match(rest) or _SHORT.match(rest)
    if match is None:
        return DependsOn(text)
    return _numbered(text, match.group("number"), match.groupdict().get("project"))


def _numbered(text: str, digits: str, project: str | None) -> DependsOn:
    number = int(digits)
    if not 0 < number <= MAX_CHANGE_NUMBER:
        return DependsOn(text)
    return DependsOn(text, number=number, project=project or None)


def _origin(url: str) -> tuple[str, int | None, str] | None:
    """(host, port, path prefix ending in /) of an http(s) URL; None for anything else.
    Raises ValueError for a malformed port or host."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    # A scheme's own port is no port: http://h/ and https://h/ are one server.
    port = None if parts.port in (None, _DEFAULT_PORTS[scheme]) else parts.port
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    return parts.hostname.lower(), port, path
