"""What a push to `refs/for/<branch>` asks for: the branch and the options.

Options come in the ref name after the first `%`, comma separated
(`refs/for/master%topic=x,r=alice,wip`), or as `git push -o` push options.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

from lockgate.core.review.refs import FOR

NOTIFY_VALUES = ("NONE", "OWNER", "OWNER_REVIEWERS", "ALL")


class PushOptionError(ValueError):
    """A push option that cannot be understood; the message says which and why."""


@dataclass(frozen=True, slots=True)
class PushOptions:
    topic: str | None = None
    hashtags: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    ccs: tuple[str, ...] = ()
    wip: bool | None = None  # True: wip, False: ready, None: leave as is
    private: bool | None = None
    message: str | None = None
    notify: str | None = None
    base: str | None = None
    extra: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ForRef:
    branch: str
    options: PushOptions


def parse_for_ref(ref: str, push_options: tuple[str, ...] = ()) -> ForRef:
    """Split `refs/for/<branch>[%opts]` and merge the `-o` options after the ref's own."""
    if not ref.startswith(FOR):
        raise PushOptionError(f"{ref} is not under {FOR}")
    rest = ref[len(FOR) :]
    branch, _, opts = rest.partition("%")
    if branch.startswith("refs/heads/"):
        branch = branch[len("refs/heads/") :]
    if not branch:
        raise PushOptionError(
            "no branch named: push to refs/for/<branch>, for example refs/for/master"
        )
    items = [item for item in opts.split(",") if item] if opts else []
    items.extend(push_options)
    return ForRef(branch=branch, options=parse_options(items))


def _decode_message(value: str) -> str:
    # git-review quotes with quote_plus; Gerrit also reads `_` as a space.
    return urllib.parse.unquote_plus(value.replace("_", " "))


def _exclusive(current: bool | None, wanted: bool, on: str, off: str) -> bool:
    if current is not None and current != wanted:
        raise PushOptionError(f"the options '{on}' and '{off}' are mutually exclusive")
    return wanted


def parse_options(items: list[str]) -> PushOptions:
    topic: str | None = None
    hashtags: list[str] = []
    reviewers: list[str] = []
    ccs: list[str] = []
    wip: bool | None = None
    private: bool | None = None
    message: str | None = None
    notify: str | None = None
    base: str | None = None
    extra: list[str] = []
    for item in items:
        key, has_value, value = item.partition("=")
        key = key.strip()
        needs_value = key in ("topic", "t", "hashtag", "r", "reviewer", "cc", "m", "message")
        if (needs_value or key in ("notify", "base")) and (not has_value or not value):
            raise PushOptionError(f"push option {key!r} needs a value, as in {key}=VALUE")
        match key:
            case "topic":
                topic = urllib.parse.unquote(value)
            case "t" | "hashtag":
                hashtags.append(urllib.parse.unquote(value))
            case "r" | "reviewer":
                reviewers.append(urllib.parse.unquote(value))
            case "cc":
                ccs.append(urllib.parse.unquote(value))
            case "wip" | "work-in-progress":
                wip = _exclusive(wip, True, "wip", "ready")
            case "ready":
                wip = _exclusive(wip, False, "wip", "ready")
            case "private":
                private = _exclusive(private, True, "private", "remove-private")
            case "remove-private":
                private = _exclusive(private, False, "private", "remove-private")
            case "m" | "message":
                message = _decode_message(value)
            case "notify":
                value = value.upper()
                if value not in NOTIFY_VALUES:
                    raise PushOptionError(
                        f"notify={value} is not one of {', '.join(NOTIFY_VALUES)}"
                    )
                notify = value
            case "base":
                base = value
            case "publish-comments" | "no-publish-comments" | "skip-validation" | "edit":
                extra.append(key)
            case _:
                raise PushOptionError(
                    f'"{item}" is not a valid option; valid options are topic=, t=, r=, cc=, '
                    "wip, ready, private, remove-private, m=, notify=, base="
                )
    return PushOptions(
        topic=topic,
        hashtags=tuple(dict.fromkeys(hashtags)),
        reviewers=tuple(dict.fromkeys(reviewers)),
        ccs=tuple(dict.fromkeys(ccs)),
        wip=wip,
        private=private,
        message=message,
        notify=notify,
        base=base,
        extra=tuple(extra),
    )
