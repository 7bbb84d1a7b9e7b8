"""Hashtags as a change's hashtag endpoint takes them.

Gerrit trims whitespace and leading `#` marks from each hashtag and drops the
ones left empty; a hashtag may not contain a comma (the push option and the
search language separate hashtags with them), and lockgate also refuses
whitespace inside one, which no search could find again.
"""

from __future__ import annotations

from collections.abc import Iterable


class InvalidHashtag(ValueError):
    def __init__(self, hashtag: str, problem: str) -> None:
        super().__init__(f"invalid hashtag {hashtag!r}: hashtags may not contain {problem}")
        self.hashtag = hashtag


def clean_hashtag(hashtag: str) -> str:
    """The hashtag without surrounding whitespace and leading `#` marks."""
    return hashtag.strip().lstrip("#").strip()


def clean_hashtags(hashtags: Iterable[str]) -> list[str]:
    """The cleaned, distinct, non-empty hashtags, sorted; raises InvalidHashtag
    naming the first one that has a comma or whitespace inside."""
    cleaned: set[str] = set()
    for raw in hashtags:
        if "," in raw:
            raise InvalidHashtag(raw, "commas")
        tag = clean_hashtag(raw)
        if any(ch.isspace() for ch in tag):
            raise InvalidHashtag(raw, "whitespace")
        if tag:
            cleaned.add(tag)
    return sorted(cleaned)


def hashtags_message(added: Iterable[str], removed: Iterable[str]) -> str:
    """Gerrit's change message: `Hashtags added: a, b` and `Hashtag removed: c`,
    one line each, names sorted."""
    lines = []
    for action, tags in (("added", sorted(added)), ("removed", sorted(removed))):
        if tags:
            noun = "Hashtags" if len(tags) > 1 else "Hashtag"
            lines.append(f"{noun} {action}: {', '.join(tags)}")
    return "\n".join(lines)
