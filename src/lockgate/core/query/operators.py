"""Operator values: from the text of one term to a typed, normalised AST node.

One function per operator keeps each operator's value syntax and its error
messages in one place; adding an operator is adding a function and a row of
OPERATORS.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lockgate.core.query import ast
from lockgate.core.query.errors import QueryError, at
from lockgate.core.query.lexer import Token
from lockgate.core.review.timestamps import parse_gerrit_timestamp

MAX_CHANGE_NUMBER = 2**31 - 1  # the database's INTEGER
MAX_AGE_SECONDS = 10_000 * 365 * 86_400
MAX_LABEL_VALUE = 32_767

_DIGITS = re.compile(r"[0-9]{1,10}")
_ANY_DIGITS = re.compile(r"[0-9]+")
_CHANGE_KEY = re.compile(r"[Ii][0-9a-fA-F]{4,40}")
_HEX = re.compile(r"[0-9a-fA-F]{4,40}")
_PROJECT_CHANGE = re.compile(r"(.+)~([0-9]{1,10})")
_AGE = re.compile(r"([0-9]{1,12})\s*([A-Za-z]+)")
_ZONE = re.compile(r"^(.*\S)\s+([+-])([0-9]{2})([0-9]{2})$")
_LABEL = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9-]*?)"
    r"(?:(?P<op>>=|<=|=|>|<)(?P<value>[+-]?[0-9]{1,6}|(?i:MAX|MIN|ANY))|(?P<signed>[+-][0-9]{1,6}))"
)

_STATUSES = {
    "open": ast.Status.OPEN,
    "pending": ast.Status.OPEN,
    "new": ast.Status.OPEN,
    "closed": ast.Status.CLOSED,
    "merged": ast.Status.MERGED,
    "abandoned": ast.Status.ABANDONED,
}
_FLAGS = {flag.value: flag for flag in ast.Flag}
_IS_USER = {"owner": ast.Role.OWNER, "reviewer": ast.Role.REVIEWER}

_AGE_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600),
    **dict.fromkeys(("d", "day", "days"), 86_400),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86_400),
    **dict.fromkeys(("mon", "month", "months"), 30 * 86_400),
    **dict.fromkeys(("y", "year", "years"), 365 * 86_400),
}


def _error(token: Token, problem: str) -> QueryError:
    where = f"(in '{token.text}' {at(token.offset)})"
    return QueryError(f"{problem} {where}", position=token.offset + 1)


def _status(token: Token) -> ast.Query:
    status = _STATUSES.get(token.value.lower())
    if status is None:
        raise _error(token, f"unknown status '{token.value}'; use one of {', '.join(_STATUSES)}")
    return ast.StatusTerm(status, token.offset)


def _is(token: Token) -> ast.Query:
    value = token.value.lower()
    if value in _STATUSES:
        return ast.StatusTerm(_STATUSES[value], token.offset)
    if value in _FLAGS:
        return ast.FlagTerm(_FLAGS[value], token.offset)
    if value in _IS_USER:
        return ast.UserTerm(_IS_USER[value], ast.SELF, token.offset)
    known = ", ".join([*_STATUSES, *_FLAGS, *_IS_USER])
    raise _error(token, f"unknown 'is:' value '{token.value}'; use one of {known}")


def _regex(token: Token, pattern: str) -> str:
    """A `^regex` value, checked now so that the error can point at it."""
    if not pattern:
        raise _error(token, "empty regular expression after '^'")
    try:
        re.compile(f"^(?:{pattern})$")
    except (re.error, OverflowError, RecursionError) as error:
        # re.error's own "at position N" counts within the pattern: leave it
        # out so that the only position in the message is the query's.
        reason = error.msg if isinstance(error, re.error) else str(error)
        raise _error(token, f"invalid regular expression '^{pattern}': {reason}") from None
    return pattern


def _text(
    field: ast.TextField, plain: ast.Match, *, regex: bool = True
) -> Callable[[Token], ast.Query]:
    def build(token: Token) -> ast.Query:
        value = token.value
        if regex and value.startswith("^"):
            return ast.TextTerm(field, ast.Match.REGEX, _regex(token, value[1:]), token.offset)
        return ast.TextTerm(field, plain, value, token.offset)

    return build


def _branch(token: Token) -> ast.Query:
    # Gerrit matches branches by their full ref name; here they are stored
    # short, so the optional refs/heads/ comes off the name or the pattern.
    value = token.value
    if value.startswith("^"):
        pattern = _regex(token, value[1:]).removeprefix("refs/heads/")
        pattern = _regex(token, pattern)
        return ast.TextTerm(ast.TextField.BRANCH, ast.Match.REGEX, pattern, token.offset)
    name = value.removeprefix("refs/heads/")
    if not name:
        raise _error(token, "missing branch name")
    return ast.TextTerm(ast.TextField.BRANCH, ast.Match.EXACT, name, token.offset)


def _hashtag(token: Token) -> ast.Query:
    # Gerrit stores hashtags without a leading '#', so `hashtag:#foo` is `foo`.
    name = token.value.strip().lstrip("#").strip()
    if not name:
        raise _error(token, "missing hashtag")
    return ast.TextTerm(ast.TextField.HASHTAG, ast.Match.EXACT, name, token.offset)


def _message(token: Token) -> ast.Query:
    if not token.value.split():
        raise _error(token, "missing words to search the commit message for")
    return ast.TextTerm(ast.TextField.MESSAGE, ast.Match.WORDS, token.value, token.offset)


def _number(token: Token, digits: str) -> ast.ChangeNumber:
    # Length first: int() refuses very long digit strings with its own error.
    if len(digits) > 10 or int(digits) > MAX_CHANGE_NUMBER:
        raise _error(token, f"change number {digits} is too large")
    return ast.ChangeNumber(int(digits), token.offset)


def _change(token: Token) -> ast.Query:
    value = token.value
    if _ANY_DIGITS.fullmatch(value):
        return _number(token, value)
    if _CHANGE_KEY.fullmatch(value):
        return ast.ChangeKey("I" + value[1:].lower(), token.offset)
    both = _PROJECT_CHANGE.fullmatch(value)
    if both:
        project = ast.TextTerm(ast.TextField.PROJECT, ast.Match.EXACT, both.group(1), token.offset)
        return ast.And((project, _number(token, both.group(2))), token.offset)
    raise _error(
        token, "a change is a number, a Change-Id (I and 4 to 40 hex digits), or project~number"
    )


def _commit(token: Token) -> ast.Query:
    if not _HEX.fullmatch(token.value):
        raise _error(token, "a commit is 4 to 40 hex digits of its SHA-1")
    return ast.Commit(token.value.lower(), token.offset)


def _user(role: ast.Role) -> Callable[[Token], ast.Query]:
    def build(token: Token) -> ast.Query:
        user = token.value.strip()
        if not user:
            raise _error(token, "missing account: give self, a username, email, name or id")
        return ast.UserTerm(role, ast.SELF if user.lower() == ast.SELF else user, token.offset)

    return build


def _label(token: Token) -> ast.Query:
    expression, *qualifiers = token.value.split(",")
    match = _LABEL.fullmatch(expression)
    if match is None:
        raise _error(
            token,
            "a label term is NAME then a vote: label:Code-Review+2, label:Verified-1, "
            "label:Code-Review>=1, label:Code-Review<=-1, label:Code-Review=MAX (or MIN, ANY)",
        )
    value: int | ast.LabelBound
    if match.group("signed") is not None:
        comparison, text = ast.Comparison.EQ, match.group("signed")
    else:
        comparison, text = ast.Comparison(match.group("op")), match.group("value")
    if text.upper() in ast.LabelBound.__members__:
        text = text.upper()
        if comparison is not ast.Comparison.EQ:
            raise _error(token, f"{text} only works with '=': label:NAME={text}")
        value = ast.LabelBound(text)
    else:
        value = int(text)
        if abs(value) > MAX_LABEL_VALUE:
            raise _error(token, f"label value {text} is out of range")
    user: str | None = None
    group: str | None = None
    for qualifier in qualifiers:
        key, sep, arg = (part.strip() for part in qualifier.partition("="))
        if not sep:
            # Gerrit's short forms: `,owner`, `,non_uploader`, `,self`, `,NAME`.
            key, arg = ("user", key)
        if not arg:
            raise _error(
                token,
                f"label qualifier '{qualifier}' needs a value: "
                "user=NAME, group=NAME, owner or non_uploader",
            )
        if key == "user":
            user = ast.SELF if arg.lower() == ast.SELF else arg
        elif key == "group":
            group = arg
        elif key == "count":
            raise _error(token, "the label qualifier count= is not supported; use user= or group=")
        else:
            raise _error(token, f"unknown label qualifier '{key}'; use user= or group=")
    return ast.LabelTerm(match.group("name"), comparison, value, user, group, token.offset)


def _age(token: Token) -> ast.Query:
    match = _AGE.fullmatch(token.value.strip())
    unit = _AGE_UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise _error(
            token, "an age is a number and a unit: s, m, h, d, w, mon or y (e.g. age:2d, -age:30s)"
        )
    seconds = int(match.group(1)) * unit
    if seconds > MAX_AGE_SECONDS:
        raise _error(token, "age is too large")
    return ast.AgeTerm(seconds, token.offset)


def parse_date(text: str) -> int:
    """Microseconds since the epoch of `2006-01-02[ 15:04:05[.890][ -0700]]`, UTC
    unless a zone offset is given; ValueError otherwise."""
    offset_micros = 0
    zoned = _ZONE.match(text.strip())
    if zoned:
        text, sign, hours, minutes = zoned.groups()
        offset_micros = (int(hours) * 60 + int(minutes)) * 60_000_000
        if sign == "-":
            offset_micros = -offset_micros
    # A local time east of UTC is that much earlier in UTC.
    return parse_gerrit_timestamp(text) - offset_micros


def _date(bound: ast.Bound) -> Callable[[Token], ast.Query]:
    def build(token: Token) -> ast.Query:
        try:
            micros = parse_date(token.value)
        except ValueError:
            raise _error(
                token,
                "a date is YYYY-MM-DD, optionally with a time and zone in quotes: "
                '"2006-01-02 15:04:05 -0700"',
            ) from None
        return ast.DateTerm(ast.DateField.UPDATED, bound, micros, token.offset)

    return build


def _limit(token: Token) -> ast.Query:
    if not _DIGITS.fullmatch(token.value) or int(token.value) < 1:
        raise _error(token, "a limit is a positive whole number")
    return ast.LimitTerm(int(token.value), token.offset)


OPERATORS: dict[str, Callable[[Token], ast.Query]] = {
    "status": _status,
    "is": _is,
    "project": _text(ast.TextField.PROJECT, ast.Match.EXACT),
    "projects": _text(ast.TextField.PROJECT, ast.Match.PREFIX, regex=False),
    "branch": _branch,
    "topic": _text(ast.TextField.TOPIC, ast.Match.EXACT),
    "intopic": _text(ast.TextField.TOPIC, ast.Match.SUBSTRING),
    "hashtag": _hashtag,
    "file": _text(ast.TextField.FILE, ast.Match.COMPONENT),
    "message": _message,
    "change": _change,
    "commit": _commit,
    "owner": _user(ast.Role.OWNER),
    "reviewer": _user(ast.Role.REVIEWER),
    "label": _label,
    "age": _age,
    "before": _date(ast.Bound.BEFORE),
    "until": _date(ast.Bound.BEFORE),
    "after": _date(ast.Bound.AFTER),
    "since": _date(ast.Bound.AFTER),
    "limit": _limit,
}

# Operators whose empty value means something: `topic:""` is "has no topic".
_EMPTY_ALLOWED = frozenset({"topic"})


def build_term(token: Token) -> ast.Query:
    """The AST node of one TERM token; QueryError naming the token otherwise."""
    if token.operator is None:
        return _bare(token)
    build = OPERATORS.get(token.operator)
    if build is None:
        raise QueryError(
            f"unknown operator '{token.operator}:' {at(token.offset)}; "
            f"known operators: {', '.join(sorted(OPERATORS))}",
            position=token.offset + 1,
        )
    if not token.value and not (token.quoted and token.operator in _EMPTY_ALLOWED):
        raise QueryError(
            f"missing value after '{token.operator}:' {at(token.offset)}",
            position=token.offset + 1,
        )
    return build(token)


def _bare(token: Token) -> ast.Query:
    """A term without an operator: a change number, a Change-Id or a commit."""
    value = token.value
    if not token.quoted:
        if _DIGITS.fullmatch(value) and int(value) <= MAX_CHANGE_NUMBER:
            return ast.ChangeNumber(int(value), token.offset)
        if _CHANGE_KEY.fullmatch(value):
            return ast.ChangeKey("I" + value[1:].lower(), token.offset)
        if _HEX.fullmatch(value):
            return ast.Commit(value.lower(), token.offset)
    hint = ""
    if value.upper() in ("AND", "OR", "NOT") and not token.quoted:
        hint = f" (the keyword is written in capitals: {value.upper()})"
    elif value:
        hint = f'; to search commit messages write message:"{value}"'
    raise QueryError(
        f"unknown term '{token.text}' {at(token.offset)}: a term without an operator must be "
        f"a change number, a Change-Id or a commit SHA{hint}",
        position=token.offset + 1,
    )
