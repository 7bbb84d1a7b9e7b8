"""An AST back to query text, in the canonical spelling of each operator.

Parsing the result gives an equal AST; the tests hold that for random ASTs.
Useful wherever a query is shown back to a person (logs, saved searches).
"""

from __future__ import annotations

from lockgate.core.query import ast
from lockgate.core.review.timestamps import gerrit_timestamp

_TEXT_OPERATORS = {
    (ast.TextField.PROJECT, ast.Match.EXACT): "project",
    (ast.TextField.PROJECT, ast.Match.PREFIX): "projects",
    (ast.TextField.PROJECT, ast.Match.REGEX): "project",
    (ast.TextField.BRANCH, ast.Match.EXACT): "branch",
    (ast.TextField.BRANCH, ast.Match.REGEX): "branch",
    (ast.TextField.TOPIC, ast.Match.EXACT): "topic",
    (ast.TextField.TOPIC, ast.Match.REGEX): "topic",
    (ast.TextField.TOPIC, ast.Match.SUBSTRING): "intopic",
    (ast.TextField.HASHTAG, ast.Match.EXACT): "hashtag",
    (ast.TextField.FILE, ast.Match.COMPONENT): "file",
    (ast.TextField.FILE, ast.Match.REGEX): "file",
    (ast.TextField.MESSAGE, ast.Match.WORDS): "message",
}

_DATE_OPERATORS = {ast.Bound.BEFORE: "before", ast.Bound.AFTER: "after"}


def to_text(query: ast.Query) -> str:
    if isinstance(query, ast.And):
        return " ".join(_grouped(child) for child in query.children)
    if isinstance(query, ast.Or):
        return " OR ".join(_grouped(child) for child in query.children)
    if isinstance(query, ast.Not):
        return "-" + _grouped(query.child)
    return _term(query)


def _grouped(query: ast.Query) -> str:
    text = to_text(query)
    return f"({text})" if isinstance(query, ast.And | ast.Or) else text


def quote(value: str) -> str:
    """`value` as the lexer reads it back: bare when it can be, else in double quotes."""
    if value and not any(c.isspace() or c in '(){}"\\' for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _term(term: ast.Term) -> str:
    if isinstance(term, ast.StatusTerm):
        return f"status:{term.status.value}"
    if isinstance(term, ast.FlagTerm):
        return f"is:{term.flag.value}"
    if isinstance(term, ast.TextTerm):
        operator = _TEXT_OPERATORS[(term.field, term.match)]
        value = "^" + term.value if term.match is ast.Match.REGEX else term.value
        return f"{operator}:{quote(value)}"
    if isinstance(term, ast.ChangeNumber):
        return str(term.number)
    if isinstance(term, ast.ChangeKey):
        return term.key
    if isinstance(term, ast.Commit):
        return f"commit:{term.prefix}"
    if isinstance(term, ast.UserTerm):
        return f"{term.role.value}:{quote(term.user)}"
    if isinstance(term, ast.LabelTerm):
        text = f"{term.name}{term.comparison.value}{term.value}"
        if term.user is not None:
            text += f",user={term.user}"
        if term.group is not None:
            text += f",group={term.group}"
        return f"label:{quote(text)}"
    if isinstance(term, ast.AgeTerm):
        return f"age:{term.seconds}s"
    if isinstance(term, ast.DateTerm):
        return f"{_DATE_OPERATORS[term.bound]}:{quote(gerrit_timestamp(term.micros))}"
    return f"limit:{term.count}"
