"""Tokens of the change search language.

Gerrit's lexical rules, as users write them:

- whitespace separates terms; `(` and `)` group;
- `-` at the start of a term negates it (`-is:wip`), elsewhere it is part of
  a word (`Code-Review`, `stable-2.1`);
- `AND`, `OR` and `NOT` are keywords only in capitals and unquoted, so that
  `message:or` and `topic:and` still search for the words;
- a term is `operator:value` when the word starts with letters or `_` and a
  colon; the value is the rest of the word, or a quoted string right after the
  colon: `"..."` (with `\\"` and `\\\\` as escapes) or `{...}` (no escapes; Zuul
  quotes project names this way);
- any other word, or a quoted string on its own, is a bare term.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from lockgate.core.query.errors import QueryError, at


class Kind(enum.Enum):
    LPAREN = "("
    RPAREN = ")"
    NEG = "-"
    NOT = "NOT"
    AND = "AND"
    OR = "OR"
    TERM = "term"
    END = "end of query"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    offset: int  # 0-based index of the token's first character
    text: str  # the token as written
    operator: str | None = None  # TERM: the operator, lower case; None for a bare term
    value: str = ""  # TERM: the value, unquoted
    quoted: bool = False  # TERM: the value was written in quotes


_KEYWORDS = {"AND": Kind.AND, "OR": Kind.OR, "NOT": Kind.NOT}
# Characters that end a word: they start or end something of their own.
_DELIMITERS = frozenset('()"{}')
_OPERATOR = re.compile(r"([A-Za-z_]+):")
# NUL and lone surrogates can be neither stored nor sent to PostgreSQL, so no
# value containing them can match: refuse them up front, with a position.
_UNUSABLE = re.compile("[\x00\ud800-\udfff]")


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with one END token; QueryError on a lexical error."""
    unusable = _UNUSABLE.search(text)
    if unusable:
        offset = unusable.start()
        raise QueryError(
            f"character U+{ord(unusable.group()):04X} {at(offset)} cannot appear in a query",
            position=offset + 1,
        )
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            tokens.append(Token(Kind.END, n, ""))
            return tokens
        char = text[i]
        if char == "(":
            tokens.append(Token(Kind.LPAREN, i, char))
            i += 1
        elif char == ")":
            tokens.append(Token(Kind.RPAREN, i, char))
            i += 1
        elif char == "-":
            if i + 1 >= n or text[i + 1].isspace() or text[i + 1] == ")":
                raise QueryError(
                    f"'-' {at(i)} must be followed by the term it negates, without a space",
                    position=i + 1,
                )
            tokens.append(Token(Kind.NEG, i, char))
            i += 1
        elif char in '"{':
            value, end = _quoted(text, i)
            tokens.append(Token(Kind.TERM, i, text[i:end], None, value, True))
            i = end
        elif char == "}":
            raise QueryError(f"unexpected '}}' {at(i)}: it closes no '{{'", position=i + 1)
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in _DELIMITERS:
                end += 1
            word = text[i:end]
            match = _OPERATOR.match(word)
            if match is None:
                kind = _KEYWORDS.get(word, Kind.TERM)
                tokens.append(Token(kind, i, word, None, word if kind is Kind.TERM else ""))
            elif end == i + len(match.group(0)) and end < n and text[end] in '"{':
                value, end = _quoted(text, end)
                tokens.append(Token(Kind.TERM, i, text[i:end], match.group(1).lower(), value, True))
            else:
                value = word[len(match.group(0)) :]
                tokens.append(Token(Kind.TERM, i, word, match.group(1).lower(), value))
            i = end


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted string at `start` and the index just after it."""
    opener = text[start]
    closer = '"' if opener == '"' else "}"
    parts: list[str] = []
    i = start + 1
    n = len(text)
    while i < n and text[i] != closer:
        if opener == '"' and text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
            i += 1
        parts.append(text[i])
        i += 1
    if i >= n:
        raise QueryError(
            f"unterminated quote: the '{opener}' {at(start)} has no closing '{closer}'",
            position=start + 1,
        )
    end = i + 1
    if end < n and not text[end].isspace() and text[end] != ")":
        raise QueryError(
            f"'{text[end]}' {at(end)} follows a quoted value; separate terms with a space",
            position=end + 1,
        )
    return "".join(parts), end
