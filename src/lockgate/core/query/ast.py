"""The change search language as values: what a query means, independent of SQL.

The parser builds these nodes and the database adapter compiles them. Each
term node holds its value already parsed and normalised (a branch without
`refs/heads/`, an age in seconds, a date in microseconds), so that two queries
that mean the same thing compare equal and the compiler never re-parses text.

Every term carries `offset`, the 0-based index of its first character in the
query text, so that errors found later (an unknown account, an operator the
database cannot run yet) still point at the term. It takes no part in
equality: `owner:bob` means the same wherever it is written.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from lockgate.core.query.errors import QueryError, at


class Status(enum.StrEnum):
    OPEN = "open"  # Gerrit's NEW; also spelled `pending` and `new`
    CLOSED = "closed"  # merged or abandoned
    MERGED = "merged"
    ABANDONED = "abandoned"


class Flag(enum.StrEnum):
    """Yes/no properties of a change that `is:` asks about."""

    WIP = "wip"
    PRIVATE = "private"
    # Someone other than the owner wrote on the change after the owner's last
    # message or upload (Gerrit's `reviewedby:` anyone).
    REVIEWED = "reviewed"


class TextField(enum.StrEnum):
    """Text properties of a change that operators match against."""

    PROJECT = "project"
    BRANCH = "branch"  # the short name, without refs/heads/
    TOPIC = "topic"
    HASHTAG = "hashtag"
    FILE = "file"  # a path touched by the current patch set
    MESSAGE = "message"  # the commit message of the current patch set


class Match(enum.StrEnum):
    """How a TextTerm's value matches the field."""

    EXACT = "exact"
    PREFIX = "prefix"
    SUBSTRING = "substring"  # case-insensitive
    REGEX = "regex"  # the whole field matches the pattern
    COMPONENT = "component"  # the full path, or whole components of it
    WORDS = "words"  # each word of the value occurs, case-insensitively


class Role(enum.StrEnum):
    """How an account relates to a change, for the user operators."""

    OWNER = "owner"
    REVIEWER = "reviewer"


class Comparison(enum.StrEnum):
    EQ = "="
    GE = ">="
    LE = "<="
    GT = ">"
    LT = "<"


class LabelBound(enum.StrEnum):
    """Symbolic label values: the label's highest or lowest value, or any vote."""

    MAX = "MAX"
    MIN = "MIN"
    ANY = "ANY"


class DateField(enum.StrEnum):
    UPDATED = "updated"


class Bound(enum.StrEnum):
    BEFORE = "before"  # at or before the instant
    AFTER = "after"  # at or after the instant


SELF = "self"  # the user value that means the account running the query
# Label voters that name no account: the change's owner, and anyone but the
# uploader of the current patch set (Gerrit's `,owner` and `,user=non_uploader`).
OWNER = "owner"
NON_UPLOADER = "non_uploader"


@dataclass(frozen=True, slots=True)
class StatusTerm:
    status: Status
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class FlagTerm:
    flag: Flag
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class TextTerm:
    field: TextField
    match: Match
    value: str  # for REGEX, the pattern without its leading `^`
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class ChangeNumber:
    number: int
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class ChangeKey:
    """A Change-Id, or a prefix of one of at least `I` and 4 hex digits."""

    key: str  # `I` then lowercase hex
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit of any patch set of the change, by full SHA or a prefix of one."""

    prefix: str  # lowercase hex, 4 to 40 digits
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class UserTerm:
    role: Role
    user: str  # SELF, a numeric account id, username, email or full name
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class LabelTerm:
    name: str  # as written; label names compare case-insensitively
    comparison: Comparison
    value: int | LabelBound
    user: str | None = None  # SELF, OWNER, NON_UPLOADER, or an account (or group) name
    group: str | None = None
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class AgeTerm:
    """Last updated more than `seconds` ago; `-age:` (its negation) is "within"."""

    seconds: int
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class DateTerm:
    field: DateField
    bound: Bound
    micros: int  # microseconds since the epoch, UTC
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class LimitTerm:
    """`limit:N` caps the whole result; it must sit at the top level of the query."""

    count: int
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Query, ...]
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Query, ...]
    offset: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    child: Query
    offset: int = dataclasses.field(default=0, compare=False)


Term = (
    StatusTerm
    | FlagTerm
    | TextTerm
    | ChangeNumber
    | ChangeKey
    | Commit
    | UserTerm
    | LabelTerm
    | AgeTerm
    | DateTerm
    | LimitTerm
)
Query = And | Or | Not | Term


def split_limit(query: Query) -> tuple[Query | None, int | None]:
    """The query without its `limit:` terms, and the smallest limit they set.

    `limit:` caps the result of the whole query, so it may only appear as a
    term of the top-level AND (or be the whole query); anywhere else, under
    OR or NOT, it would have no sensible meaning. A query that is only
    `limit:` terms matches every change: the first part is None.
    """
    top = query.children if isinstance(query, And) else (query,)
    rest = [node for node in top if not isinstance(node, LimitTerm)]
    limits = [node.count for node in top if isinstance(node, LimitTerm)]
    for node in rest:
        nested = _find_limit(node)
        if nested is not None:
            raise QueryError(
                f"'limit:' {at(nested.offset)} caps the whole query; "
                "put it at the top level, outside parentheses, OR and NOT",
                position=nested.offset + 1,
            )
    remaining: Query | None
    if not rest:
        remaining = None
    elif len(rest) == 1:
        remaining = rest[0]
    elif len(rest) == len(top):
        remaining = query
    else:
        remaining = And(tuple(rest), query.offset)
    return remaining, min(limits) if limits else None


def _find_limit(node: Query) -> LimitTerm | None:
    if isinstance(node, LimitTerm):
        return node
    if isinstance(node, And | Or):
        for child in node.children:
            found = _find_limit(child)
            if found is not None:
                return found
    if isinstance(node, Not):
        return _find_limit(node.child)
    return None
