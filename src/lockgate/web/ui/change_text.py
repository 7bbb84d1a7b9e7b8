"""Text people wrote, as markup with links: commit messages with their footers
linked, and web addresses in change messages made clickable.

Every piece of the text is escaped with markupsafe before it is joined with
the markup around it; only http and https addresses become links, so a
`javascript:` address in a commit message stays text.
"""

from __future__ import annotations

import re
import urllib.parse

from markupsafe import Markup, escape

from lockgate.core.review.footers import CHANGE_ID

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the address it follows.
_TRAILING = ".,;:!?)]}'\""
_FOOTER_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)(\s*:\s*)(.*)$")
_BUG_FOOTERS = frozenset({"closes-bug", "partial-bug", "related-bug"})
_BUG = re.compile(r"#?(\d+)")


def _anchor(href: str, text: str, css: str = "") -> Markup:
    # Joined by hand from escaped pieces: a page has hundreds of links, and
    # Markup.format costs several times more.
    attrs = f' class="{escape(css)}"' if css else ""
    return Markup(
        f'<a href="{escape(href)}"{attrs} rel="nofollow noopener noreferrer">{escape(text)}</a>'
    )


def linkify(text: str) -> Markup:
    """`text` escaped, its http(s) addresses as links."""
    if "http" not in text.lower():
        return escape(text)
    out = Markup("")
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0)
        stripped = url.rstrip(_TRAILING)
        # A closing parenthesis belongs to the address when it opened one.
        if url[len(stripped) :].startswith(")") and stripped.count("(") > stripped.count(")"):
            stripped += ")"
        end = match.start() + len(stripped)
        out += escape(text[last : match.start()])
        out += _anchor(stripped, stripped)
        last = end
    return out + escape(text[last:])


def search_url(query: str) -> str:
    return "/q/" + urllib.parse.quote(query, safe="")


def _footer_value(key: str, value: str, bug_url: str | None) -> Markup:
    lowered = key.lower()
    if lowered == "change-id" and CHANGE_ID.match(value):
        return _anchor(search_url(value), value, "footer-link")
    if lowered == "depends-on":
        if CHANGE_ID.match(value):
            return _anchor(search_url(value), value, "footer-link")
        if value.isdigit():
            return _anchor(f"/c/{value}", value, "footer-link")
        return linkify(value)
    if lowered in _BUG_FOOTERS and bug_url:
        out = Markup("")
        last = 0
        for match in _BUG.finditer(value):
            href = bug_url.replace("{bug}", match.group(1))
            out += escape(value[last : match.start()]) + _anchor(href, match.group(0), "bug")
            last = match.end()
        return out + escape(value[last:])
    return linkify(value)


def commit_message(message: str, *, bug_url: str | None = None) -> Markup:
    """The commit message with its footers linked: Change-Id and Depends-On to
    the change (a search for a Change-Id), the bug footers to the bug tracker
    when the site names one (`[web] bug_url`), addresses everywhere else."""
    text = message.rstrip("\n")
    paragraphs = re.split(r"(\n[ \t]*\n)", text)
    # The footers are the last paragraph's `Key: value` lines, when there are
    # at least two paragraphs (the subject is never a footer).
    footer_index = len(paragraphs) - 1 if len(paragraphs) >= 3 else -1
    out = Markup("")
    for index, part in enumerate(paragraphs):
        if index != footer_index:
            out += linkify(part)
            continue
        lines = part.split("\n")
        for number, line in enumerate(lines):
            match = _FOOTER_LINE.match(line)
            if match is None:
                out += linkify(line)
            else:
                key, colon, value = match.groups()
                out += Markup(
                    '<span class="footer"><span class="footer-key">{}</span>{}{}</span>'
                ).format(key, colon, _footer_value(key, value, bug_url))
            if number < len(lines) - 1:
                out += "\n"
    return out
