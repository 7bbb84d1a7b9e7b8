"""Change search on the database: the query AST compiled to one SELECT of change numbers.

This is the only database-specific part of the search language; the parser
and AST live in `lockgate.core.query`. Results come most recently updated
first (`updated_at DESC, number DESC`, so that pages are stable), and a page
fetches one row more than it shows to know whether more follow.

The common queries stay on indexes: `status:open project:P` on
ix_changes_project_status_updated, `owner:U` on ix_changes_owner_updated
(accounts are resolved to ids first), a change number on the primary key,
`commit:` on ix_patch_sets_commit_sha through a range on the prefix, and
reviewers and hashtags through `IN (subquery)` on their own indexes, except
for an account that reviews more than MANY_REVIEWS changes, whose changes are
found by probing each change newest first (see `_Compiler.user`). Votes
are matched by a correlated EXISTS on the approvals' primary key (change,
current patch set), so `label:Code-Review=+2 status:open` walks the open
changes newest first and probes each one's few votes until the page is full.

Every predicate is true or false, never NULL (nullable columns are guarded),
so that negation means "every change the term does not match".
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.exc import DBAPIError

from lockgate.adapters.db import tables as t
from lockgate.core.query import ast
from lockgate.core.query.errors import QueryError, at
from lockgate.core.query.labels import LabelScopes, VoteMatch, vote_match
from lockgate.core.query.render import to_text
from lockgate.core.review.model import ChangeStatus

_c = t.changes.c
# Above this many reviews, `reviewer:` probes changes instead of listing reviews.
MANY_REVIEWS = 2_000
_CLOSED = (ChangeStatus.MERGED.value, ChangeStatus.ABANDONED.value)
_STATUS_VALUES = {
    ast.Status.OPEN: (ChangeStatus.NEW.value,),
    ast.Status.CLOSED: _CLOSED,
    ast.Status.MERGED: (ChangeStatus.MERGED.value,),
    ast.Status.ABANDONED: (ChangeStatus.ABANDONED.value,),
}
_TEXT_COLUMNS = {
    ast.TextField.PROJECT: _c.project,
    ast.TextField.BRANCH: _c.branch,
    ast.TextField.TOPIC: _c.topic,
}
_ACCOUNT_ID = re.compile(r"[0-9]{1,10}")
_NAME_AND_EMAIL = re.compile(r".*<([^<>]+)>\s*")
_INVALID_REGULAR_EXPRESSION = "2201B"  # PostgreSQL's SQLSTATE


@dataclass(frozen=True, slots=True)
class SearchPage:
    numbers: list[int]
    more: bool


def search_changes(
    conn: Connection,
    query: ast.Query | None,
    *,
    viewer_id: int | None,
    now: int,
    labels: LabelScopes,
    limit: int,
    start: int = 0,
    sees_private: bool = False,
    unreadable: Collection[str] = (),
) -> SearchPage:
    """One page of the changes matching `query` (None matches every change) that the
    viewer may see; QueryError for a query the database cannot answer.

    `labels` holds the definitions of the labels the query names (see
    `lockgate.core.query.labels`): the caller knows how projects define them.
    `sees_private` (administrators) and `unreadable` (the projects the viewer
    may not read) are the caller's to know too: see `visible_to`."""
    compiler = _Compiler(
        conn,
        viewer_id=viewer_id,
        now=now,
        labels=labels,
        sees_private=sees_private,
        unreadable=unreadable,
    )
    statement = compiler.select(query).offset(start).limit(limit + 1)
    try:
        numbers = list(conn.execute(statement).scalars())
    except DBAPIError as error:
        sqlstate = getattr(error.orig, "sqlstate", None)
        if sqlstate != _INVALID_REGULAR_EXPRESSION or not compiler.regexes:
            raise
        # The parser checked the pattern with Python's re; PostgreSQL's
        # dialect differs in places (lookbehind, some escapes).
        terms = ", ".join(f"'{to_text(term)}' {at(term.offset)}" for term in compiler.regexes)
        detail = str(error.orig).splitlines()[0]
        raise QueryError(
            f"PostgreSQL cannot run the regular expression in {terms}: {detail}",
            position=compiler.regexes[0].offset + 1,
        ) from None
    return SearchPage(numbers[:limit], len(numbers) > limit)


def compile_search(
    conn: Connection,
    query: ast.Query | None,
    *,
    viewer_id: int | None,
    now: int,
    labels: LabelScopes,
    sees_private: bool = False,
    unreadable: Collection[str] = (),
) -> Select[Any]:
    """The ordered SELECT of matching change numbers, without offset or limit
    (for EXPLAIN in tests and for callers that page differently)."""
    compiler = _Compiler(
        conn,
        viewer_id=viewer_id,
        now=now,
        labels=labels,
        sees_private=sees_private,
        unreadable=unreadable,
    )
    return compiler.select(query)


def visible_to(
    viewer_id: int | None, *, sees_private: bool = False, unreadable: Collection[str] = ()
) -> ColumnElement[bool]:
    """Changes the viewer may see, as in Gerrit: none of the `unreadable` projects,
    and private ones only by their owner and reviewers, or by anyone who
    `sees_private` (administrators)."""
    if unreadable:
        readable = _c.project.not_in(sorted(unreadable))
        return and_(readable, visible_to(viewer_id, sees_private=sees_private))
    if sees_private:
        return true()
    public = _c.private == false()
    if viewer_id is None:
        return public
    # Correlated on the reviewers' primary key, so it runs only for the few
    # private rows rather than collecting every change the viewer reviews.
    r = t.change_reviewers.c
    reviewing = exists(
        select(r.account_id).where(r.change_number == _c.number, r.account_id == viewer_id)
    )
    return or_(public, _c.owner_id == viewer_id, reviewing)


class _Compiler:
    def __init__(
        self,
        conn: Connection,
        *,
        viewer_id: int | None,
        now: int,
        labels: LabelScopes,
        sees_private: bool = False,
        unreadable: Collection[str] = (),
    ) -> None:
        self.conn = conn
        self.viewer_id = viewer_id
        self.sees_private = sees_private
        self.unreadable = unreadable
        self.now = now
        self.labels = labels
        self.regexes: list[ast.TextTerm] = []

    def select(self, query: ast.Query | None) -> Select[Any]:
        visible = visible_to(
            self.viewer_id, sees_private=self.sees_private, unreadable=self.unreadable
        )
        conditions = [visible]
        if query is not None:
            conditions.append(self.compile(query))
        return select(_c.number).where(*conditions).order_by(_c.updated_at.desc(), _c.number.desc())

    def compile(self, node: ast.Query) -> ColumnElement[bool]:
        if isinstance(node, ast.And):
            return and_(*(self.compile(child) for child in node.children))
        if isinstance(node, ast.Or):
            return or_(*(self.compile(child) for child in node.children))
        if isinstance(node, ast.Not):
            return not_(self.compile(node.child))
        if isinstance(node, ast.StatusTerm):
            values = _STATUS_VALUES[node.status]
            return _c.status == values[0] if len(values) == 1 else _c.status.in_(values)
        if isinstance(node, ast.FlagTerm):
            return self.flag(node)
        if isinstance(node, ast.TextTerm):
            return self.text(node)
        if isinstance(node, ast.ChangeNumber):
            return _c.number == node.number
        if isinstance(node, ast.ChangeKey):
            return _hex_prefix(_c.change_key, node.key, full_length=41)
        if isinstance(node, ast.Commit):
            # Any patch set, as in Gerrit: an old SHA still finds its change.
            ps = t.patch_sets.c
            matching = select(ps.change_number).where(
                _hex_prefix(ps.commit_sha, node.prefix, full_length=40)
            )
            return _c.number.in_(matching)
        if isinstance(node, ast.UserTerm):
            return self.user(node)
        if isinstance(node, ast.AgeTerm):
            return _c.updated_at < self.now - node.seconds * 1_000_000
        if isinstance(node, ast.DateTerm):
            if node.bound is ast.Bound.BEFORE:
                return _c.updated_at <= node.micros
            return _c.updated_at >= node.micros
        if isinstance(node, ast.LabelTerm):
            return self.label(node)
        # LimitTerm: split_limit takes these out before compiling.
        raise QueryError(
            f"'limit:' {at(node.offset)} caps the whole query; put it at the top level",
            position=node.offset + 1,
        )

    def flag(self, node: ast.FlagTerm) -> ColumnElement[bool]:
        if node.flag is ast.Flag.WIP:
            return _c.work_in_progress == true()
        if node.flag is ast.Flag.PRIVATE:
            return _c.private == true()
        # REVIEWED, as Gerrit defines it: the newest authored message is not the
        # owner's, i.e. someone else wrote after the owner's last message or
        # upload (an upload writes "Uploaded patch set N." as its uploader).
        m = t.change_messages.alias("reviewing")
        o = t.change_messages.alias("owners")
        # Nested two deep: correlate to the change as well as the message.
        owner_later = exists(
            select(o.c.id)
            .where(
                o.c.change_number == _c.number,
                o.c.author_id == _c.owner_id,
                o.c.created_at >= m.c.created_at,
            )
            .correlate_except(o)
        )
        return exists(
            select(m.c.id).where(
                m.c.change_number == _c.number,
                m.c.author_id.is_not(None),
                m.c.author_id != _c.owner_id,
                not_(owner_later),
            )
        )

    def text(self, node: ast.TextTerm) -> ColumnElement[bool]:
        if node.match is ast.Match.REGEX:
            self.regexes.append(node)
        if node.field in _TEXT_COLUMNS:
            column = _TEXT_COLUMNS[node.field]
            if node.field is not ast.TextField.TOPIC:
                return self.match(column, node)
            if node.match is ast.Match.EXACT and not node.value:
                return or_(column.is_(None), column == "")  # topic:"" is "no topic"
            return and_(column.is_not(None), self.match(column, node))
        if node.field is ast.TextField.HASHTAG:
            # Hashtags match without regard to case, as in Gerrit.
            h = t.change_hashtags.c
            tagged = select(h.change_number).where(func.lower(h.hashtag) == node.value.lower())
            return _c.number.in_(tagged)
        ps = t.patch_sets.c
        current = [ps.change_number == _c.number, ps.number == _c.current_patch_set]
        if node.field is ast.TextField.FILE:
            f = t.patch_set_files.c
            touched = (
                select(f.path)
                .join(t.patch_sets, ps.id == f.patch_set_id)
                .where(*current, self.match(f.path, node))
            )
            return exists(touched)
        # MESSAGE: every word somewhere in the current commit message.
        words = node.value.lower().split()
        message = func.lower(ps.message)
        return exists(
            select(ps.id).where(*current, *(self.contains(message, word) for word in words))
        )

    def match(self, column: ColumnElement[str], node: ast.TextTerm) -> ColumnElement[bool]:
        value = node.value
        if node.match is ast.Match.EXACT:
            return column == value
        if node.match is ast.Match.PREFIX:
            # substr, not LIKE: LIKE ignores case on SQLite but not on PostgreSQL.
            return func.substr(column, 1, len(value)) == value
        if node.match is ast.Match.SUBSTRING:
            return self.contains(func.lower(column), value.lower())
        if node.match is ast.Match.REGEX:
            # Gerrit's regexes match the whole value; `^` only marks them.
            return column.regexp_match(f"^(?:{value})$")
        if node.match is ast.Match.COMPONENT:
            # The full path, or whole components of it: file:api.py matches
            # nova/api.py, file:nova matches nova/api.py, file:ova does not.
            return self.contains("/" + column + "/", f"/{value}/")
        raise QueryError(  # pragma: no cover - every Match is handled above
            f"'{to_text(node)}' {at(node.offset)} cannot be searched", position=node.offset + 1
        )

    def contains(self, haystack: ColumnElement[str], needle: str) -> ColumnElement[bool]:
        """Case-sensitive substring test; instr/strpos need no LIKE escaping and
        behave the same on both databases."""
        if self.conn.dialect.name == "sqlite":
            return func.instr(haystack, needle) > 0
        return func.strpos(haystack, needle) > 0

    def user(self, node: ast.UserTerm) -> ColumnElement[bool]:
        ids = self.accounts(node.user, to_text(node), node.offset)
        if node.role is ast.Role.OWNER:
            return _c.owner_id.in_(ids)
        r = t.change_reviewers.c
        a = t.approvals.c
        if self.reviews(ids) > MANY_REVIEWS:
            # A busy reviewer is on a large share of the changes: walking them
            # newest first and probing each one's reviewers and votes by primary
            # key fills a page within a few hundred rows, where collecting every
            # change they ever reviewed (below) reads tens of thousands.
            on_change = exists(
                select(r.account_id).where(
                    r.change_number == _c.number, r.account_id.in_(ids), r.state == "REVIEWER"
                )
            )
            voted_here = exists(
                select(a.account_id).where(
                    a.change_number == _c.number, a.account_id.in_(ids), a.value != 0
                )
            )
            return or_(on_change, voted_here)
        reviewing = select(r.change_number).where(r.account_id.in_(ids), r.state == "REVIEWER")
        # A vote makes a reviewer, as in Gerrit, whichever path wrote it (a
        # review, a vote copied to a new patch set, a bulk import).
        voted = select(a.change_number).where(a.account_id.in_(ids), a.value != 0)
        return or_(_c.number.in_(reviewing), _c.number.in_(voted))

    def reviews(self, ids: list[int]) -> int:
        """On how many changes the accounts are reviewers (one index range count)."""
        r = t.change_reviewers.c
        counted = select(func.count()).select_from(t.change_reviewers).where(r.account_id.in_(ids))
        return int(self.conn.execute(counted).scalar_one())

    def accounts(self, user: str, term: str, offset: int) -> list[int]:
        """The ids of the accounts a user value names; QueryError naming `term` if none."""
        if user == ast.SELF:
            return [self.viewer(term, offset)]
        ids = self.find_accounts(user)
        if not ids:
            raise QueryError(
                f"account '{user}' not found (in '{term}' {at(offset)}); "
                "give a username, email, full name or account id",
                position=offset + 1,
            )
        return ids

    def viewer(self, term: str, offset: int) -> int:
        if self.viewer_id is None:
            raise QueryError(
                f"'{term}' {at(offset)} needs a signed-in user; sign in, or name the account",
                position=offset + 1,
            )
        return self.viewer_id

    def find_accounts(self, user: str) -> list[int]:
        """The ids of the accounts a user value names: an id, a username, an email or a
        full name (the last two without regard to case)."""
        a = t.accounts.c
        email = user
        name_and_email = _NAME_AND_EMAIL.fullmatch(user)
        if name_and_email:  # "Full Name <email>", as git and Gerrit print people
            email = name_and_email.group(1).strip()
        conditions = [
            a.username == user,
            func.lower(a.email) == email.lower(),
            func.lower(a.full_name) == user.lower(),
        ]
        if _ACCOUNT_ID.fullmatch(user) and int(user) < 2**31:
            conditions.append(a.id == int(user))
        return sorted(self.conn.execute(select(a.id).where(or_(*conditions))).scalars())

    def find_group(self, name: str) -> int | None:
        g = t.groups.c
        found = self.conn.execute(select(g.id).where(or_(g.name == name, g.uuid == name)))
        return found.scalar()

    # --- votes ----------------------------------------------------------------

    def label(self, node: ast.LabelTerm) -> ColumnElement[bool]:
        """Votes on the current patch set, as `lockgate.core.query.labels` reads the
        term under each definition of the label; a project without the label has
        no votes on it, so only terms that take "no vote" match its changes."""
        voters = self.voters(node)
        scopes = self.labels.get(node.name.lower(), ())
        parts = []
        for scope in scopes:
            match = vote_match(node, scope.min, scope.max)
            condition = self.votes(scope.name, match, voters)
            if scope.projects is not None:
                condition = and_(_c.project.in_(sorted(scope.projects)), condition)
            parts.append(condition)
        if vote_match(node, 0, 0).no_vote and all(s.projects is not None for s in scopes):
            defined = sorted(set().union(*(s.projects or () for s in scopes)))
            parts.append(_c.project.not_in(defined) if defined else true())
        return or_(*parts) if parts else false()

    def votes(
        self, label: str, match: VoteMatch, voters: list[ColumnElement[bool]]
    ) -> ColumnElement[bool]:
        a = t.approvals.c

        def vote(value: ColumnElement[bool]) -> ColumnElement[bool]:
            # The canonical name, compared exactly, so the key serves the lookup.
            return exists(
                select(a.account_id).where(
                    a.change_number == _c.number,
                    a.patch_set == _c.current_patch_set,
                    a.label == label,
                    value,
                    *voters,
                )
            )

        found = []
        if match.any_vote:
            if match.low == match.high:
                found.append(vote(a.value == match.low))
            else:
                value = and_(a.value >= match.low, a.value <= match.high)
                found.append(vote(and_(value, a.value != 0) if match.low <= 0 else value))
        if match.no_vote:
            found.append(not_(vote(a.value != 0)))
        return or_(*found) if found else false()

    def voters(self, node: ast.LabelTerm) -> list[ColumnElement[bool]]:
        """Conditions on `approvals.account_id` for the term's `user=` and `group=`."""
        account = t.approvals.c.account_id
        term = to_text(node)
        conditions: list[ColumnElement[bool]] = []
        if node.user == ast.OWNER:
            conditions.append(account == _c.owner_id)
        elif node.user == ast.NON_UPLOADER:
            ps = t.patch_sets.c
            uploader = (
                select(ps.uploader_id)
                .where(ps.change_number == _c.number, ps.number == _c.current_patch_set)
                .correlate_except(t.patch_sets)
            )
            conditions.append(account != uploader.scalar_subquery())
        elif node.user == ast.SELF:
            conditions.append(account == self.viewer(term, node.offset))
        elif node.user is not None:
            # A name that is no account may be a group, as in Gerrit's `,NAME`.
            ids = self.find_accounts(node.user)
            group = None if ids else self.find_group(node.user)
            if not ids and group is None:
                raise QueryError(
                    f"neither an account nor a group named '{node.user}' "
                    f"(in '{term}' {at(node.offset)}); give a username, email, full name, "
                    "account id or group name",
                    position=node.offset + 1,
                )
            if ids:
                conditions.append(account.in_(ids))
            elif group is not None:
                conditions.append(self.members(account, group))
        if node.group is not None:
            group_id = self.find_group(node.group)
            if group_id is None:
                raise QueryError(
                    f"group '{node.group}' not found (in '{term}' {at(node.offset)}); "
                    "give a group name or UUID",
                    position=node.offset + 1,
                )
            conditions.append(self.members(account, group_id))
        return conditions

    def members(self, account: ColumnElement[int], group_id: int) -> ColumnElement[bool]:
        m = t.group_members.c
        return account.in_(select(m.account_id).where(m.group_id == group_id))


def _hex_prefix(
    column: ColumnElement[str], prefix: str, *, full_length: int
) -> ColumnElement[bool]:
    """Equality for a full value, else a range that an index on `column` serves
    (hex and `I` sort the same in every collation)."""
    if len(prefix) >= full_length:
        return column == prefix
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)
