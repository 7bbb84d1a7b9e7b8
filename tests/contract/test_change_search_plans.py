"""Change search plans: the common queries stay on indexes, on both databases."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, text

from lockgate.adapters.db import change_search
from lockgate.adapters.db import tables as t
from lockgate.adapters.db.change_search import compile_search, search_changes
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.db.rows import commit_values
from lockgate.core.query.ast import split_limit
from lockgate.core.query.labels import scopes_everywhere
from lockgate.core.query.parser import parse_query
from lockgate.core.review.labels import DEFAULT_LABELS
from lockgate.core.review.model import CommitInfo, Person
from lockgate.core.review.timestamps import parse_gerrit_timestamp
from lockgate.testing.seed import synthetic_votes
from tests.contract.databases import BACKENDS, migrated_engine

NOW = parse_gerrit_timestamp("2024-06-01 00:00:00")
HOUR = 3_600_000_000


BULK_CHANGES = 5_000


@pytest.fixture(scope="module", params=BACKENDS)
def bulk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """Thousands of changes over 40 projects and 50 owners, with the votes of a
    busy site, ANALYZEd: planners choose by statistics, so index use is only
    worth asserting on data shaped like a real site's (a fifth open, most
    merged)."""
    with migrated_engine(request.param, tmp_path_factory) as engine:
        statuses = ["NEW", "NEW", "ABANDONED"] + ["MERGED"] * 7
        with write_transaction(engine) as conn:
            conn.execute(
                insert(t.accounts),
                [
                    {"id": i, "username": f"user{i}", "inactive": False, "created_at": 0}
                    for i in range(1, 51)
                ],
            )
            conn.execute(
                insert(t.changes),
                [
                    {
                        "number": i,
                        "project": f"project{i % 40}",
                        "branch": "master",
                        "change_key": "I" + hashlib.sha1(f"key{i}".encode()).hexdigest(),
                        "owner_id": i * 7 % 50 + 1,
                        "subject": f"Change {i}",
                        "status": statuses[i % 10],
                        "work_in_progress": False,
                        "private": i % 97 == 0,
                        "current_patch_set": 1,
                        "insertions": 0,
                        "deletions": 0,
                        "created_at": NOW - i * HOUR,
                        "updated_at": NOW - i * HOUR,
                    }
                    for i in range(1, BULK_CHANGES + 1)
                ],
            )
            person = Person("Test Author", "author@example.com", 0, 0)
            commit = CommitInfo("0" * 40, (), person, person, "A change", "e" * 40)
            values = commit_values(commit)
            conn.execute(
                insert(t.patch_sets),
                [
                    {
                        **values,
                        "change_number": i,
                        "number": 1,
                        "commit_sha": hashlib.sha1(str(i).encode()).hexdigest(),
                        "uploader_id": 1,
                        "created_at": NOW,
                        "kind": "REWORK",
                    }
                    for i in range(1, BULK_CHANGES + 1)
                ],
            )
            conn.execute(
                insert(t.change_reviewers),
                [
                    {"change_number": i, "account_id": (i + k) % 50 + 1, "state": "REVIEWER"}
                    for i in range(1, BULK_CHANGES + 1)
                    for k in (1, 2)
                ],
            )
            # Voters: account 50 is CI, accounts 41..49 review.
            conn.execute(
                insert(t.approvals),
                [
                    {
                        "change_number": i,
                        "patch_set": 1,
                        "account_id": 50 if voter == 0 else 40 + voter,
                        "label": label,
                        "value": value,
                        "granted_at": NOW,
                        "post_submit": False,
                        "copied": False,
                    }
                    for i in range(1, BULK_CHANGES + 1)
                    for voter, label, value in {
                        (voter, label): (voter, label, value)
                        for voter, label, value in synthetic_votes(i, statuses[i % 10], 9)
                    }.values()
                ],
            )
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        yield engine


def _plan(engine: Engine, query_text: str) -> str:
    query, _ = split_limit(parse_query(query_text))
    with read_transaction(engine) as conn:
        statement = compile_search(
            conn, query, viewer_id=1, now=NOW, labels=scopes_everywhere(DEFAULT_LABELS)
        )
        sql = str(statement.limit(501).compile(conn.engine, compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        return "\n".join(str(row[-1]) for row in conn.execute(text(explain + sql)))


@pytest.mark.parametrize(
    ("query_text", "indexes"),
    [
        ("status:open project:project7", ["ix_changes_project_status_updated"]),
        ("project:project7 status:open", ["ix_changes_project_status_updated"]),
        ("owner:user3", ["ix_changes_owner_updated"]),
        # A fifth of all changes are open: walking the updated_at index until
        # the page is full is as good as the status index, and planners differ.
        ("status:open", ["ix_changes_status_updated", "ix_changes_updated"]),
    ],
)
def test_common_queries_use_indexes(bulk: Engine, query_text: str, indexes: list[str]) -> None:
    plan = _plan(bulk, query_text)
    assert any(index in plan for index in indexes), plan
    assert "Seq Scan on changes" not in plan, plan
    assert "SCAN changes" not in plan.splitlines(), plan


@pytest.mark.parametrize(
    ("query_text", "index"),
    [
        ("reviewer:user3", "ix_change_reviewers_account"),
        ("commit:abcd", "ix_patch_sets_commit_sha"),
        ("change:Iabcd", "ix_changes_change_key"),
    ],
)
def test_subqueries_use_their_indexes(bulk: Engine, query_text: str, index: str) -> None:
    # Only the subquery's index: joining a few hundred changes back, a planner
    # may rightly prefer one pass over a table this small.
    plan = _plan(bulk, query_text)
    assert index in plan, plan


def test_a_change_number_uses_the_primary_key(bulk: Engine) -> None:
    plan = _plan(bulk, "42")
    if bulk.dialect.name == "sqlite":
        assert "USING INTEGER PRIMARY KEY" in plan, plan
    else:
        assert "pk_changes" in plan, plan


_VOTE_INDEXES = ["pk_approvals", "sqlite_autoindex_approvals", "ix_approvals_label_value"]


@pytest.mark.parametrize(
    ("query_text", "change_indexes", "vote_indexes"),
    [
        # Walk the open changes newest first and probe each one's votes by key.
        (
            "label:Code-Review=+2 status:open",
            ["ix_changes_status_updated", "ix_changes_updated"],
            _VOTE_INDEXES,
        ),
        # Or start from one voter's votes, when the planner counts them fewer.
        (
            "label:Code-Review=MAX,user=user43 status:open",
            ["ix_changes_status_updated", "pk_changes", "INTEGER PRIMARY KEY"],
            [*_VOTE_INDEXES, "ix_approvals_account"],
        ),
    ],
)
def test_label_queries_use_indexes(
    bulk: Engine, query_text: str, change_indexes: list[str], vote_indexes: list[str]
) -> None:
    plan = _plan(bulk, query_text)
    assert any(index in plan for index in change_indexes), plan
    assert any(index in plan for index in vote_indexes), plan
    assert "Seq Scan" not in plan, plan
    assert not {"SCAN changes", "SCAN approvals"} & set(plan.splitlines()), plan


def test_a_label_in_one_project_starts_from_the_project(bulk: Engine) -> None:
    # A hundred-odd changes of the project against half the votes: a planner
    # may rightly hash the votes in one pass rather than probe each change.
    plan = _plan(bulk, "label:Verified>=1 project:project7")
    assert "ix_changes_project_updated" in plan or "ix_changes_project_status_updated" in plan
    if bulk.dialect.name == "sqlite":
        # Newest first straight off the index: the page ends without a sort.
        assert "TEMP B-TREE" not in plan, plan
    assert "Seq Scan on changes" not in plan, plan
    assert "SCAN changes" not in plan.splitlines(), plan


def test_a_busy_reviewer_is_found_by_probing_changes_newest_first(
    bulk: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above MANY_REVIEWS reviews an account's changes are found by walking the
    changes and probing each one's reviewers, not by listing every review: the
    same changes either way, in the same order."""

    def found() -> list[int]:
        query, _ = split_limit(parse_query("reviewer:user3 -owner:user3 status:open"))
        with read_transaction(bulk) as conn:
            page = search_changes(conn, query, viewer_id=1, now=NOW, labels={}, limit=500)
        return page.numbers

    listed = found()
    monkeypatch.setattr(change_search, "MANY_REVIEWS", 10)
    probed = found()
    assert probed == listed and len(listed) > 10
    if bulk.dialect.name == "sqlite":
        # PostgreSQL plans IN and EXISTS alike, as semi-joins chosen by cost.
        plan = _plan(bulk, "reviewer:user3 status:open")
        assert "sqlite_autoindex_change_reviewers_1 (change_number=? AND account_id=?)" in plan
        assert "ix_change_reviewers_account" not in plan, plan
