"""The change search language: text to AST, errors with positions, and round trips."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.core.query import ast
from lockgate.core.query.ast import (
    AgeTerm,
    And,
    Bound,
    ChangeKey,
    ChangeNumber,
    Commit,
    Comparison,
    DateField,
    DateTerm,
    Flag,
    FlagTerm,
    LabelBound,
    LabelTerm,
    LimitTerm,
    Match,
    Not,
    Or,
    Role,
    Status,
    StatusTerm,
    TextField,
    TextTerm,
    UserTerm,
    split_limit,
)
from lockgate.core.query.errors import QueryError
from lockgate.core.query.parser import MAX_DEPTH, parse_query
from lockgate.core.query.render import quote, to_text

KEY = "I" + "0123456789abcdef" * 2 + "01234567"
SHA = "0123456789abcdef" * 2 + "01234567"


def project(name: str) -> TextTerm:
    return TextTerm(TextField.PROJECT, Match.EXACT, name)


def branch(name: str) -> TextTerm:
    return TextTerm(TextField.BRANCH, Match.EXACT, name)


OPEN = StatusTerm(Status.OPEN)

PARSES = [
    # status and is:
    ("status:open", OPEN),
    ("status:pending", OPEN),
    ("status:new", OPEN),
    ("status:NEW", OPEN),
    ("status:closed", StatusTerm(Status.CLOSED)),
    ("status:merged", StatusTerm(Status.MERGED)),
    ("status:abandoned", StatusTerm(Status.ABANDONED)),
    ("is:open", OPEN),
    ("is:closed", StatusTerm(Status.CLOSED)),
    ("is:merged", StatusTerm(Status.MERGED)),
    ("is:abandoned", StatusTerm(Status.ABANDONED)),
    ("is:wip", FlagTerm(Flag.WIP)),
    ("is:private", FlagTerm(Flag.PRIVATE)),
    ("is:reviewed", FlagTerm(Flag.REVIEWED)),
    ("is:owner", UserTerm(Role.OWNER, "self")),
    ("is:reviewer", UserTerm(Role.REVIEWER, "self")),
    # projects and branches
    ("project:nova", project("nova")),
    ("project:openstack/nova", project("openstack/nova")),
    ("project:{openstack/nova}", project("openstack/nova")),
    ('project:"openstack/nova"', project("openstack/nova")),
    ("project:^openstack/.*", TextTerm(TextField.PROJECT, Match.REGEX, "openstack/.*")),
    ("projects:openstack/", TextTerm(TextField.PROJECT, Match.PREFIX, "openstack/")),
    ("branch:master", branch("master")),
    ("branch:refs/heads/stable/2024.1", branch("stable/2024.1")),
    ("branch:^stable/.*", TextTerm(TextField.BRANCH, Match.REGEX, "stable/.*")),
    ("branch:^refs/heads/stable/.*", TextTerm(TextField.BRANCH, Match.REGEX, "stable/.*")),
    ('branch:"^(master|main)"', TextTerm(TextField.BRANCH, Match.REGEX, "(master|main)")),
    # topics, hashtags, files, messages
    ("topic:feature-x", TextTerm(TextField.TOPIC, Match.EXACT, "feature-x")),
    ('topic:""', TextTerm(TextField.TOPIC, Match.EXACT, "")),
    ("intopic:feat", TextTerm(TextField.TOPIC, Match.SUBSTRING, "feat")),
    ("intopic:^feat.*", TextTerm(TextField.TOPIC, Match.REGEX, "feat.*")),
    ("hashtag:security", TextTerm(TextField.HASHTAG, Match.EXACT, "security")),
    ("hashtag:#security", TextTerm(TextField.HASHTAG, Match.EXACT, "security")),
    ("file:nova/api.py", TextTerm(TextField.FILE, Match.COMPONENT, "nova/api.py")),
    ('file:"^.*\\.py"', TextTerm(TextField.FILE, Match.REGEX, ".*\\.py")),
    ('message:"fix the bug"', TextTerm(TextField.MESSAGE, Match.WORDS, "fix the bug")),
    ("message:or", TextTerm(TextField.MESSAGE, Match.WORDS, "or")),
    ('message:"say \\"hi\\" \\\\o/"', TextTerm(TextField.MESSAGE, Match.WORDS, 'say "hi" \\o/')),
    ('message:{a "quoted" word}', TextTerm(TextField.MESSAGE, Match.WORDS, 'a "quoted" word')),
    ("message:a:b", TextTerm(TextField.MESSAGE, Match.WORDS, "a:b")),
    # changes and commits
    ("12345", ChangeNumber(12345)),
    ("change:42", ChangeNumber(42)),
    (KEY, ChangeKey(KEY)),
    ("change:" + KEY, ChangeKey(KEY)),
    ("change:i0123ABCD", ChangeKey("I0123abcd")),
    ("change:nova~42", And((project("nova"), ChangeNumber(42)))),
    ("deadbeef", Commit("deadbeef")),
    ("DEADBEEF", Commit("deadbeef")),
    (SHA, Commit(SHA)),
    ("commit:0123", Commit("0123")),
    ("99999999999", Commit("99999999999")),  # too large for a change number
    # users
    ("owner:self", UserTerm(Role.OWNER, "self")),
    ("owner:SELF", UserTerm(Role.OWNER, "self")),
    ("owner:alice", UserTerm(Role.OWNER, "alice")),
    ("owner:alice@example.com", UserTerm(Role.OWNER, "alice@example.com")),
    ('owner:"Alice Liddell"', UserTerm(Role.OWNER, "Alice Liddell")),
    ("owner:1000001", UserTerm(Role.OWNER, "1000001")),
    ("reviewer:bob", UserTerm(Role.REVIEWER, "bob")),
    # labels
    ("label:Code-Review+2", LabelTerm("Code-Review", Comparison.EQ, 2)),
    ("label:Code-Review=2", LabelTerm("Code-Review", Comparison.EQ, 2)),
    ("label:Code-Review=+2", LabelTerm("Code-Review", Comparison.EQ, 2)),
    ("label:Verified-1", LabelTerm("Verified", Comparison.EQ, -1)),
    ("label:Code-Review>=1", LabelTerm("Code-Review", Comparison.GE, 1)),
    ("label:Code-Review<=-1", LabelTerm("Code-Review", Comparison.LE, -1)),
    ("label:Code-Review>1", LabelTerm("Code-Review", Comparison.GT, 1)),
    ("label:Code-Review<0", LabelTerm("Code-Review", Comparison.LT, 0)),
    ("label:Code-Review=MAX", LabelTerm("Code-Review", Comparison.EQ, LabelBound.MAX)),
    ("label:Code-Review=MIN", LabelTerm("Code-Review", Comparison.EQ, LabelBound.MIN)),
    ("label:Code-Review=ANY", LabelTerm("Code-Review", Comparison.EQ, LabelBound.ANY)),
    ("label:Code-Review+2,user=bob", LabelTerm("Code-Review", Comparison.EQ, 2, user="bob")),
    ("label:Verified+1,user=self", LabelTerm("Verified", Comparison.EQ, 1, user="self")),
    (
        "label:Code-Review+2,group=core",
        LabelTerm("Code-Review", Comparison.EQ, 2, group="core"),
    ),
    ("label:A-1-1", LabelTerm("A-1", Comparison.EQ, -1)),
    ("label:Code-Review=max", LabelTerm("Code-Review", Comparison.EQ, LabelBound.MAX)),
    # Gerrit's short qualifiers: a bare word is a voter
    ("label:Code-Review+2,owner", LabelTerm("Code-Review", Comparison.EQ, 2, user=ast.OWNER)),
    ("label:Code-Review+2,user=owner", LabelTerm("Code-Review", Comparison.EQ, 2, user="owner")),
    (
        "label:Code-Review+2,non_uploader",
        LabelTerm("Code-Review", Comparison.EQ, 2, user=ast.NON_UPLOADER),
    ),
    ("label:Code-Review>=1,self", LabelTerm("Code-Review", Comparison.GE, 1, user=ast.SELF)),
    ("label:Code-Review>=1,bob", LabelTerm("Code-Review", Comparison.GE, 1, user="bob")),
    # time
    ("age:2d", AgeTerm(2 * 86_400)),
    ("age:30s", AgeTerm(30)),
    ("age:5min", AgeTerm(300)),
    ("age:1h", AgeTerm(3_600)),
    ("age:2w", AgeTerm(14 * 86_400)),
    ("age:1mon", AgeTerm(30 * 86_400)),
    ("age:1y", AgeTerm(365 * 86_400)),
    ("-age:30s", Not(AgeTerm(30))),
    ("before:2006-01-02", DateTerm(DateField.UPDATED, Bound.BEFORE, 1136160000_000000)),
    ("until:2006-01-02", DateTerm(DateField.UPDATED, Bound.BEFORE, 1136160000_000000)),
    (
        'after:"2006-01-02 15:04:05"',
        DateTerm(DateField.UPDATED, Bound.AFTER, 1136214245_000000),
    ),
    (
        'since:"2006-01-02 15:04:05.890"',
        DateTerm(DateField.UPDATED, Bound.AFTER, 1136214245_890000),
    ),
    (
        'after:"2006-01-02 15:04:05 -0700"',
        DateTerm(DateField.UPDATED, Bound.AFTER, 1136239445_000000),
    ),
    ("limit:10", LimitTerm(10)),
    # combinations
    ("status:open project:nova", And((OPEN, project("nova")))),
    ("status:open AND project:nova", And((OPEN, project("nova")))),
    ("a1b2 OR 5", Or((Commit("a1b2"), ChangeNumber(5)))),
    ("-is:wip", Not(FlagTerm(Flag.WIP))),
    ("NOT is:wip", Not(FlagTerm(Flag.WIP))),
    ("--5", Not(Not(ChangeNumber(5)))),
    ("1 2 OR 3", Or((And((ChangeNumber(1), ChangeNumber(2))), ChangeNumber(3)))),
    ("1 OR 2 3", Or((ChangeNumber(1), And((ChangeNumber(2), ChangeNumber(3)))))),
    ("1 (2 OR 3)", And((ChangeNumber(1), Or((ChangeNumber(2), ChangeNumber(3)))))),
    ("-(1 OR 2)", Not(Or((ChangeNumber(1), ChangeNumber(2))))),
    ("((5))", ChangeNumber(5)),
    ("(1 2) 3", And((And((ChangeNumber(1), ChangeNumber(2))), ChangeNumber(3)))),
    ("  status:open\t\nproject:nova  ", And((OPEN, project("nova")))),
    ("status:open)", None),  # an error; see ERRORS
]


@pytest.mark.parametrize(("text", "expected"), [p for p in PARSES if p[1] is not None])
def test_parses(text: str, expected: ast.Query) -> None:
    assert parse_query(text) == expected


def test_terms_remember_where_they_start() -> None:
    query = parse_query("status:open  -owner:bob")
    assert isinstance(query, And)
    negation = query.children[1]
    assert isinstance(negation, Not)
    assert (query.children[0].offset, negation.offset, negation.child.offset) == (0, 13, 14)


ERRORS = [
    # (text, 1-based position, words the message must contain)
    ("", None, "empty query"),
    ("   ", None, "empty query"),
    ("status:open foo:bar", 13, "unknown operator 'foo:' at position 13; known operators: after"),
    ("status:bogus", 1, "unknown status 'bogus'"),
    ("is:starred", 1, "unknown 'is:' value 'starred'"),
    ("project:", 1, "missing value after 'project:' at position 1"),
    ("project:nova owner:", 14, "missing value after 'owner:'"),
    ("hello", 1, "unknown term 'hello' at position 1"),
    ("status:open or is:wip", 13, "keyword is written in capitals: OR"),
    ('"fix bug"', 1, "unknown term"),
    ("status:open)", 12, "unexpected ')' at position 12"),
    ("(status:open", 1, "missing ')' for the '(' at position 1"),
    ("()", 1, "empty parentheses at position 1"),
    ("status:open (", 14, "the query ends at position 14"),
    ("status:open OR", 15, "the query ends at position 15"),
    ("OR status:open", 1, "'OR' at position 1 needs a search term on each side"),
    ("5 AND AND 6", 7, "'AND' at position 7 needs a search term"),
    ("NOT", 4, "the query ends at position 4"),
    ("- 5", 1, "'-' at position 1 must be followed by the term"),
    ('topic:"abc', 7, "unterminated quote: the '\"' at position 7"),
    ("project:{nova", 9, "unterminated quote: the '{' at position 9"),
    ("5 }", 3, "unexpected '}' at position 3"),
    ('topic:"a"b', 10, "'b' at position 10 follows a quoted value"),
    ('branch:"^("', 1, "invalid regular expression '^('"),
    ("branch:^(", 1, "empty regular expression"),  # '(' ends the word: quote regexes
    ("file:^", 1, "empty regular expression"),
    ("change:abc", 1, "a change is a number, a Change-Id"),
    ("change:99999999999", 1, "too large"),
    ("commit:xyz1", 1, "4 to 40 hex digits"),
    ("commit:abc", 1, "4 to 40 hex digits"),
    ("label:Code-Review", 1, "a label term is NAME then a vote"),
    ("label:Code-Review>=MAX", 1, "MAX only works with '='"),
    ("label:Code-Review+2,user=", 1, "label qualifier 'user=' needs a value"),
    ("label:Code-Review+2,", 1, "label qualifier '' needs a value"),
    ("label:Code-Review+2,count=1", 1, "count= is not supported"),
    ("label:Code-Review+2,foo=bar", 1, "unknown label qualifier 'foo'"),
    ("label:Code-Review+99999", 1, "out of range"),
    ("age:2", 1, "an age is a number and a unit"),
    ("age:2x", 1, "an age is a number and a unit"),
    ("age:99999999999y", 1, "age is too large"),
    ("before:yesterday", 1, "a date is YYYY-MM-DD"),
    ("before:2006-13-01", 1, "a date is YYYY-MM-DD"),
    ("limit:0", 1, "a limit is a positive whole number"),
    ("limit:ten", 1, "a limit is a positive whole number"),
    ("hashtag:#", 1, "missing hashtag"),
    ("message:{  }", 1, "missing words"),
    ('owner:" "', 1, "missing account"),
    ("branch:refs/heads/", 1, "missing branch name"),
    ("(" * (MAX_DEPTH + 1) + "5" + ")" * (MAX_DEPTH + 1), MAX_DEPTH + 1, "nests too deeply"),
    ("-" * (MAX_DEPTH + 1) + "5", MAX_DEPTH + 1, "nests too deeply"),
    (" ".join(["5"] * 300), None, "too many terms (300)"),
    ("topic:a\x00b", 8, "character U+0000 at position 8 cannot appear"),
]


@pytest.mark.parametrize(("text", "position", "words"), ERRORS)
def test_errors_name_the_token_and_position(text: str, position: int | None, words: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_query(text)
    assert words in str(raised.value)
    assert raised.value.position == position


def test_query_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)


# --- limit: -------------------------------------------------------------------


def test_split_limit_takes_the_smallest_top_level_limit() -> None:
    assert split_limit(parse_query("status:open limit:5 project:nova limit:3")) == (
        And((OPEN, project("nova"))),
        3,
    )
    assert split_limit(parse_query("status:open limit:5")) == (OPEN, 5)
    assert split_limit(parse_query("limit:5")) == (None, 5)
    assert split_limit(parse_query("status:open project:nova")) == (
        And((OPEN, project("nova"))),
        None,
    )


@pytest.mark.parametrize("text", ["5 OR limit:2", "-limit:2", "5 (6 limit:2)"])
def test_limit_must_be_at_the_top_level(text: str) -> None:
    with pytest.raises(QueryError, match=r"'limit:' at position \d+ caps the whole query"):
        split_limit(parse_query(text))


# --- rendering and round trips ----------------------------------------------------


def test_rendering_uses_canonical_spellings() -> None:
    query = parse_query(
        'is:open branch:refs/heads/master -age:1d after:2006-01-02 message:"a b" (1 OR 2)'
    )
    assert to_text(query) == (
        'status:open branch:master -age:86400s after:"2006-01-02 00:00:00.000000000" '
        'message:"a b" (1 OR 2)'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [("nova", "nova"), ("", '""'), ("a b", '"a b"'), ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"')],
)
def test_quote(value: str, text: str) -> None:
    assert quote(value) == text


# Values may hold any character a query can carry: everything but NUL and
# lone surrogates, which the lexer refuses.
_chars = st.characters(codec="utf-8", exclude_characters="\x00")


def _txt(min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(_chars, min_size=min_size, max_size=max_size)


def _text_value(*, empty: bool = False) -> st.SearchStrategy[str]:
    return _txt(0 if empty else 1).filter(lambda v: not v.startswith("^"))


def _valid_regex(pattern: str) -> bool:
    try:
        re.compile(f"^(?:{pattern})$")
    except (re.error, OverflowError, RecursionError):
        return False
    return bool(pattern)


_regexes = st.one_of(
    st.sampled_from(["stable/.*", "(master|main)", "a+b?", ".*\\.py", "x{2,3}"]),
    _txt(max_size=8).filter(_valid_regex),
)
_hex = st.text(alphabet="0123456789abcdef", min_size=4, max_size=40)
_user = st.one_of(
    st.just(ast.SELF),
    _txt(1).filter(lambda v: v == v.strip() and v.lower() != ast.SELF),
)
_label_user = _user.filter(lambda v: "," not in v)


def _text_terms() -> st.SearchStrategy[TextTerm]:
    def regex(field: TextField) -> st.SearchStrategy[TextTerm]:
        patterns = _regexes
        if field is TextField.BRANCH:
            patterns = patterns.filter(lambda v: not v.startswith("refs/heads/"))
        return patterns.map(lambda v: TextTerm(field, Match.REGEX, v))

    def plain(
        field: TextField, match: Match, values: st.SearchStrategy[str]
    ) -> st.SearchStrategy[TextTerm]:
        return values.map(lambda v: TextTerm(field, match, v))

    return st.one_of(
        plain(TextField.PROJECT, Match.EXACT, _text_value()),
        plain(TextField.PROJECT, Match.PREFIX, _txt(1)),
        regex(TextField.PROJECT),
        plain(
            TextField.BRANCH,
            Match.EXACT,
            _text_value().filter(lambda v: not v.startswith("refs/heads/")),
        ),
        regex(TextField.BRANCH),
        plain(TextField.TOPIC, Match.EXACT, _text_value(empty=True)),
        plain(TextField.TOPIC, Match.SUBSTRING, _text_value()),
        regex(TextField.TOPIC),
        plain(
            TextField.HASHTAG,
            Match.EXACT,
            _text_value().filter(lambda v: v == v.strip() and not v.startswith("#")),
        ),
        plain(TextField.FILE, Match.COMPONENT, _text_value()),
        regex(TextField.FILE),
        plain(TextField.MESSAGE, Match.WORDS, _txt().filter(lambda v: v.split())),
    )


_label_values = st.one_of(
    st.tuples(st.sampled_from(list(Comparison)), st.integers(-32_767, 32_767)),
    st.tuples(st.just(Comparison.EQ), st.sampled_from(list(LabelBound))),
)

_terms: st.SearchStrategy[ast.Query] = st.one_of(
    st.sampled_from(list(Status)).map(StatusTerm),
    st.sampled_from(list(Flag)).map(FlagTerm),
    _text_terms(),
    st.integers(0, 2**31 - 1).map(ChangeNumber),
    st.text(alphabet="0123456789abcdef", min_size=4, max_size=40).map(lambda h: ChangeKey("I" + h)),
    _hex.map(Commit),
    st.builds(UserTerm, st.sampled_from(list(Role)), _user),
    st.builds(
        lambda name, value, user, group: LabelTerm(name, value[0], value[1], user, group),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,10}", fullmatch=True),
        _label_values,
        st.none() | _label_user,
        st.none() | _txt(1, 8).filter(lambda v: v == v.strip() and "," not in v),
    ),
    st.integers(0, 10_000 * 365 * 86_400).map(AgeTerm),
    st.builds(
        DateTerm,
        st.just(DateField.UPDATED),
        st.sampled_from(list(Bound)),
        st.integers(0, 253402300799_999999),
    ),
    st.integers(1, 9_999_999_999).map(LimitTerm),
)

_queries: st.SearchStrategy[ast.Query] = st.recursive(
    _terms,
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=4).map(lambda c: And(tuple(c))),
        st.lists(children, min_size=2, max_size=4).map(lambda c: Or(tuple(c))),
        children.map(Not),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_queries)
def test_render_then_parse_gives_the_same_ast(query: ast.Query) -> None:
    assert parse_query(to_text(query)) == query


_syntax = st.text(
    alphabet=st.sampled_from(list('()"{}-:^ \\,=<>+AORNDTstaus:openwigI0123456789abcdef\t')),
    max_size=40,
)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(max_size=60), _syntax))
def test_arbitrary_text_parses_or_raises_query_error(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as error:
        assert error.position is None or 1 <= error.position <= len(text) + 1
    else:
        # Whatever parses renders to text that parses to the same query.
        assert parse_query(to_text(query)) == query
