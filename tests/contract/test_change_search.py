"""Change search on real databases: a fixed set of changes and the changes each query finds.

The same table runs on SQLite and on PostgreSQL (when LOCKGATE_TEST_POSTGRES_URL
is set), so the two compilers of one AST must agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lockgate.adapters.db import account_store, change_store
from lockgate.adapters.db.change_search import search_changes
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.query.ast import split_limit
from lockgate.core.query.errors import QueryError
from lockgate.core.query.parser import parse_query
from lockgate.core.review.model import (
    Account,
    ChangeStatus,
    CommitInfo,
    FileChange,
    FileStatus,
    Person,
)
from lockgate.core.review.timestamps import parse_gerrit_timestamp
from lockgate.services.accounts import AccountService
from lockgate.services.errors import BadRequest
from lockgate.services.projects import ProjectService
from lockgate.services.review import QueryPage, ReviewService
from tests.contract.databases import BACKENDS, migrated_engine

NOW = parse_gerrit_timestamp("2024-06-01 00:00:00")
SECOND = 1_000_000
HOUR = 3_600 * SECOND
DAY = 24 * HOUR


@dataclass(frozen=True)
class Seeded:
    engine: Engine
    accounts: dict[str, Account]
    changes: dict[str, int]  # name -> change number
    shas: dict[str, str]  # name -> current commit SHA
    keys: dict[str, str]  # name -> Change-Id
    old_sha: str  # the first patch set of `tool`


def _commit(sha: str, message: str) -> CommitInfo:
    person = Person("Test Author", "author@example.com", NOW // SECOND, 0)
    return CommitInfo(sha, ("f" * 40,), person, person, message, "e" * 40)


def _seed(engine: Engine) -> Seeded:
    changes: dict[str, int] = {}
    shas: dict[str, str] = {}
    keys: dict[str, str] = {}
    with write_transaction(engine) as conn:
        accounts = {
            name: account_store.insert_account(
                conn, username=name, full_name=full, email=email, password_hash=None, now=0
            )
            for name, full, email in [
                ("alice", "Alice Liddell", "alice@example.com"),
                ("bob", "Bob Builder", "Bob@Example.com"),
                ("carol", "Carol", "carol@example.com"),
                ("dave", None, None),
            ]
        }

        def change(
            name: str,
            *,
            project: str,
            branch: str,
            owner: str,
            updated: int,
            message: str,
            files: list[str],
            status: ChangeStatus = ChangeStatus.NEW,
            topic: str | None = None,
            hashtags: tuple[str, ...] = (),
            reviewers: tuple[tuple[str, str], ...] = (),
            wip: bool = False,
            private: bool = False,
        ) -> None:
            index = len(changes) + 1
            key = "I" + f"{index:x}" * 40
            sha = f"a{index:x}" * 20  # hex letters, so no prefix reads as a change number
            number = change_store.insert_change(
                conn,
                project=project,
                branch=branch,
                change_key=key,
                owner_id=accounts[owner].id,
                subject=message.splitlines()[0],
                now=NOW - 30 * DAY,
                topic=topic,
                work_in_progress=wip,
                private=private,
            )
            change_store.insert_patch_set(
                conn,
                change_number=number,
                number=1,
                commit=_commit(sha, message),
                uploader_id=accounts[owner].id,
                now=NOW - 30 * DAY,
                files=[FileChange(path, FileStatus.MODIFIED) for path in files],
            )
            change_store.add_hashtags(conn, number, hashtags)
            for reviewer, state in reviewers:
                change_store.set_reviewer(conn, number, accounts[reviewer].id, state)
            change_store.update_change(conn, number, status=status.value, updated_at=updated)
            changes[name], shas[name], keys[name] = number, sha, key

        change(
            "nova",
            project="openstack/nova",
            branch="master",
            owner="alice",
            updated=NOW - HOUR,
            message="Fix the scheduler bug\n\nCloses-Bug: #1",
            files=["nova/api.py", "nova/compute/manager.py"],
            topic="feature-x",
            hashtags=("security",),
            reviewers=(("bob", "REVIEWER"),),
        )
        change(
            "nova-merged",
            project="openstack/nova",
            branch="master",
            owner="bob",
            updated=NOW - 3 * DAY,
            message="Update docs",
            files=["doc/index.rst"],
            status=ChangeStatus.MERGED,
            reviewers=(("alice", "REVIEWER"), ("carol", "CC")),
        )
        change(
            "nova-abandoned",
            project="openstack/nova",
            branch="stable/2024.1",
            owner="alice",
            updated=NOW - 10 * DAY,
            message="Backport the fix",
            files=["nova/api.py"],
            status=ChangeStatus.ABANDONED,
            topic="feature-y",
            hashtags=("Backport",),
        )
        change(
            "glance-wip",
            project="openstack/glance",
            branch="master",
            owner="carol",
            updated=NOW - 30 * SECOND,
            message="Work in progress on images",
            files=["glance/images.py"],
            topic="feature-x-2",
            wip=True,
        )
        change(
            "glance-private",
            project="openstack/glance",
            branch="master",
            owner="bob",
            updated=NOW - 2 * HOUR,
            message="Embargoed security fix",
            files=["glance/api.py"],
            reviewers=(("carol", "REVIEWER"),),
            private=True,
        )
        change(
            "tool",
            project="other/tool",
            branch="main",
            owner="carol",
            updated=parse_gerrit_timestamp("2006-01-01 12:00:00"),
            message="Initial tool",
            files=["old/file.py"],
        )
        # A second patch set: searches look at the current one, except commit:.
        old_sha = shas["tool"]
        shas["tool"] = "c0ffee" + "0" * 34
        change_store.insert_patch_set(
            conn,
            change_number=changes["tool"],
            number=2,
            commit=_commit(shas["tool"], "Tool: rework the parser"),
            uploader_id=accounts["carol"].id,
            now=NOW - 30 * DAY,
            files=[FileChange("tool/main.py", FileStatus.ADDED)],
        )
        change_store.update_change(
            conn, changes["tool"], updated_at=parse_gerrit_timestamp("2006-01-01 12:00:00")
        )
    return Seeded(engine, accounts, changes, shas, keys, old_sha)


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """One seeded database per backend for the whole table: seeding and migrating
    for each of a hundred queries would dominate the run."""
    with migrated_engine(request.param, tmp_path_factory) as engine:
        yield _seed(engine)


def _search(
    seeded: Seeded, query_text: str, *, viewer: str | None = "alice", limit: int = 100
) -> list[str]:
    query, _ = split_limit(parse_query(query_text))
    viewer_id = seeded.accounts[viewer].id if viewer else None
    with read_transaction(seeded.engine) as conn:
        page = search_changes(conn, query, viewer_id=viewer_id, now=NOW, limit=limit)
    names = {number: name for name, number in seeded.changes.items()}
    return [names[number] for number in page.numbers]


NOVA = ["nova", "nova-merged", "nova-abandoned"]
ALL_FOR_ALICE = ["glance-wip", "nova", "nova-merged", "nova-abandoned", "tool"]

# (query, viewer, expected changes, most recently updated first)
QUERIES: list[tuple[str, str | None, list[str]]] = [
    # status
    ("status:open", "alice", ["glance-wip", "nova", "tool"]),
    ("status:pending", "alice", ["glance-wip", "nova", "tool"]),
    ("is:new", "alice", ["glance-wip", "nova", "tool"]),
    ("is:open", "alice", ["glance-wip", "nova", "tool"]),
    ("status:closed", "alice", ["nova-merged", "nova-abandoned"]),
    ("status:merged", "alice", ["nova-merged"]),
    ("is:abandoned", "alice", ["nova-abandoned"]),
    ("-status:open", "alice", ["nova-merged", "nova-abandoned"]),
    # projects and branches
    ("project:openstack/nova", "alice", NOVA),
    ("project:{openstack/nova} status:open", "alice", ["nova"]),
    ("projects:openstack/", "alice", ["glance-wip", *NOVA]),
    ("projects:OpenStack/", "alice", []),
    ("project:^openstack/.*", "alice", ["glance-wip", *NOVA]),
    ("project:^nova", "alice", []),
    ("project:nova", "alice", []),
    ("branch:master", "alice", ["glance-wip", "nova", "nova-merged"]),
    ("branch:refs/heads/master", "alice", ["glance-wip", "nova", "nova-merged"]),
    ("branch:^stable/.*", "alice", ["nova-abandoned"]),
    ("branch:^refs/heads/stable/.*", "alice", ["nova-abandoned"]),
    ('branch:"^(main|stable/2024.1)"', "alice", ["nova-abandoned", "tool"]),
    ("branch:main", "alice", ["tool"]),
    # owners and reviewers
    ("owner:alice", "alice", ["nova", "nova-abandoned"]),
    ("owner:self", "alice", ["nova", "nova-abandoned"]),
    ("is:owner", "alice", ["nova", "nova-abandoned"]),
    ("owner:Alice@Example.COM", "alice", ["nova", "nova-abandoned"]),
    ("owner:bob@example.com", None, ["nova-merged"]),
    ('owner:"alice liddell"', "alice", ["nova", "nova-abandoned"]),
    ('owner:"Alice Liddell <alice@example.com>"', "alice", ["nova", "nova-abandoned"]),
    ("owner:bob", "alice", ["nova-merged"]),  # bob's private change stays hidden
    ("owner:bob", "bob", ["glance-private", "nova-merged"]),
    ("owner:bob", "carol", ["glance-private", "nova-merged"]),  # carol reviews it
    ("owner:bob", None, ["nova-merged"]),
    ("reviewer:bob", "alice", ["nova"]),
    ("reviewer:carol", "alice", []),  # CC on nova-merged is not a reviewer
    ("reviewer:carol", "carol", ["glance-private"]),
    ("is:reviewer", "bob", ["nova"]),
    ("reviewer:self", "alice", ["nova-merged"]),
    # topics and hashtags
    ("topic:feature-x", "alice", ["nova"]),
    ("intopic:feature", "alice", ["glance-wip", "nova", "nova-abandoned"]),
    ("intopic:FEATURE-X", "alice", ["glance-wip", "nova"]),
    ("topic:^feature-.", "alice", ["nova", "nova-abandoned"]),
    ('topic:""', "alice", ["nova-merged", "tool"]),
    ("-topic:feature-x", "alice", ["glance-wip", "nova-merged", "nova-abandoned", "tool"]),
    ("hashtag:security", "alice", ["nova"]),
    ("hashtag:#security", "alice", ["nova"]),
    ("hashtag:backport", "alice", ["nova-abandoned"]),
    ("-hashtag:security status:open", "alice", ["glance-wip", "tool"]),
    # files and messages of the current patch set
    ("file:nova/api.py", "alice", ["nova", "nova-abandoned"]),
    ("file:api.py", "alice", ["nova", "nova-abandoned"]),
    ("file:api.py", "bob", ["nova", "glance-private", "nova-abandoned"]),
    ("file:compute", "alice", ["nova"]),
    ("file:nova/compute", "alice", ["nova"]),
    ("file:ova", "alice", []),
    ("file:API.py", "alice", []),
    ('file:"^.*\\.rst"', "alice", ["nova-merged"]),
    ("file:^nova/.*", "alice", ["nova", "nova-abandoned"]),
    ("file:old/file.py", "alice", []),
    ("file:tool/main.py", "alice", ["tool"]),
    ("message:scheduler", "alice", ["nova"]),
    ('message:"SCHEDULER bug"', "alice", ["nova"]),
    ('message:"bug scheduler"', "alice", ["nova"]),
    ('message:"scheduler docs"', "alice", []),
    ("message:fix", "alice", ["nova", "nova-abandoned"]),
    ("message:Initial", "alice", []),
    ("message:rework", "alice", ["tool"]),
    ("message:100%", "alice", []),
    # flags
    ("is:wip", "alice", ["glance-wip"]),
    ("-is:wip status:open", "alice", ["nova", "tool"]),
    ("is:private", "alice", []),
    ("is:private", "bob", ["glance-private"]),
    # time
    ("age:1d", "alice", ["nova-merged", "nova-abandoned", "tool"]),
    ("-age:1m", "alice", ["glance-wip"]),
    ("-age:2d", "alice", ["glance-wip", "nova"]),
    ("-age:2d", "bob", ["glance-wip", "nova", "glance-private"]),
    ("before:2010-01-01", "alice", ["tool"]),
    ("after:2010-01-01", "alice", ["glance-wip", *NOVA]),
    ('before:"2006-01-01 12:00:00"', "alice", ["tool"]),
    ('after:"2006-01-01 12:00:00"', "alice", ALL_FOR_ALICE),
    ('after:"2006-01-01 12:00:00.000001"', "alice", ["glance-wip", *NOVA]),
    ('after:"2006-01-01 13:00:00 +0100"', "alice", ALL_FOR_ALICE),
    # boolean structure
    ("status:open OR status:merged", "alice", ["glance-wip", "nova", "nova-merged", "tool"]),
    ("project:openstack/nova (status:merged OR is:abandoned)", "alice", NOVA[1:]),
    ("NOT project:openstack/nova", "alice", ["glance-wip", "tool"]),
    ("owner:alice OR owner:carol -is:wip", "alice", ["nova", "nova-abandoned", "tool"]),
    ("(owner:alice OR owner:carol) -is:wip", "alice", ["nova", "nova-abandoned", "tool"]),
    ("-(owner:alice OR owner:carol)", "alice", ["nova-merged"]),
    ("status:open status:merged", "alice", []),
    ("limit:2 status:open", "alice", ["glance-wip", "nova", "tool"]),  # limit: is the service's
]


@pytest.mark.parametrize(("query_text", "viewer", "expected"), QUERIES)
def test_query_finds(
    seeded: Seeded, query_text: str, viewer: str | None, expected: list[str]
) -> None:
    assert _search(seeded, query_text, viewer=viewer) == expected


def test_changes_by_number_change_id_and_commit(seeded: Seeded) -> None:
    number = seeded.changes["nova-merged"]
    key = seeded.keys["nova-merged"]
    for query_text in (
        str(number),
        f"change:{number}",
        f"change:openstack/nova~{number}",
        key,
        f"change:{key}",
        key[:6],
        seeded.shas["nova-merged"],
        seeded.shas["nova-merged"][:7].upper(),
        f"commit:{seeded.shas['nova-merged'][:4]}",
    ):
        assert _search(seeded, query_text) == ["nova-merged"], query_text
    assert _search(seeded, f"change:other/tool~{number}") == []
    assert _search(seeded, "2147483647") == []
    # commit: finds a change by any of its patch sets; the rest look at the current one.
    assert _search(seeded, f"commit:{seeded.old_sha}") == ["tool"]
    assert _search(seeded, "c0ffee") == ["tool"]
    assert _search(seeded, f"{seeded.changes['nova']} OR {number}") == ["nova", "nova-merged"]


def test_user_values_name_accounts_by_id(seeded: Seeded) -> None:
    alice = seeded.accounts["alice"].id
    assert _search(seeded, f"owner:{alice}") == ["nova", "nova-abandoned"]


def test_pages(seeded: Seeded) -> None:
    query = None  # every change the viewer may see
    alice = seeded.accounts["alice"].id
    names = {number: name for name, number in seeded.changes.items()}
    pages = []
    with read_transaction(seeded.engine) as conn:
        for start in (0, 2, 4, 6):
            page = search_changes(conn, query, viewer_id=alice, now=NOW, limit=2, start=start)
            pages.append(([names[n] for n in page.numbers], page.more))
        whole = search_changes(conn, query, viewer_id=alice, now=NOW, limit=5)
    assert pages == [
        (["glance-wip", "nova"], True),
        (["nova-merged", "nova-abandoned"], True),
        (["tool"], False),
        ([], False),
    ]
    assert ([names[n] for n in whole.numbers], whole.more) == (ALL_FOR_ALICE, False)


ERRORS = [
    ("label:Code-Review+2", "alice", "label: is not supported yet", 1),
    ("status:open is:reviewed", "alice", "is:reviewed is not supported yet", 13),
    ("status:open owner:nobody", "alice", "account 'nobody' not found", 13),
    ("reviewer:nobody@example.com", "alice", "account 'nobody@example.com' not found", 1),
    ("owner:self", None, "'owner:self' at position 1 needs a signed-in user", 1),
    ("status:open is:reviewer", None, "'reviewer:self' at position 13 needs a signed-in user", 13),
]


@pytest.mark.parametrize(("query_text", "viewer", "words", "position"), ERRORS)
def test_errors_the_database_finds_name_the_term(
    seeded: Seeded, query_text: str, viewer: str | None, words: str, position: int
) -> None:
    with pytest.raises(QueryError, match=words) as raised:
        _search(seeded, query_text, viewer=viewer)
    assert raised.value.position == position


def test_a_regex_postgresql_cannot_run_is_a_query_error(seeded: Seeded) -> None:
    # Python's re takes named groups; PostgreSQL's regexes do not.
    query_text = 'status:open branch:"^(?P<name>master)"'
    if seeded.engine.dialect.name == "sqlite":
        assert _search(seeded, query_text) == ["glance-wip", "nova"]
        return
    with pytest.raises(QueryError, match="PostgreSQL cannot run the regular expression") as raised:
        _search(seeded, query_text)
    assert "at position 13" in str(raised.value)
    assert raised.value.position == 13


# --- the service ---------------------------------------------------------------


@pytest.fixture
def review(seeded: Seeded, tmp_path: Path) -> ReviewService:
    repos = RepoStore(tmp_path / "git")
    accounts = AccountService(seeded.engine, lambda: NOW)
    return ReviewService(
        engine=seeded.engine,
        repos=repos,
        accounts=accounts,
        projects=ProjectService(seeded.engine, repos, lambda: NOW),
        clock=lambda: NOW,
        public_url="http://review.example.com/",
    )


def _names(seeded: Seeded, page: QueryPage) -> tuple[list[str], bool]:
    names = {number: name for name, number in seeded.changes.items()}
    return [names[n] for n in page.numbers], page.more


def test_service_pages_with_n_start_and_limit(seeded: Seeded, review: ReviewService) -> None:
    alice = seeded.accounts["alice"]
    open_changes = ["glance-wip", "nova", "tool"]
    assert _names(seeded, review.query("status:open", viewer=alice)) == (open_changes, False)
    assert _names(seeded, review.query("status:open", limit=2, viewer=alice)) == (
        open_changes[:2],
        True,
    )
    assert _names(seeded, review.query("status:open", limit=2, start=2, viewer=alice)) == (
        open_changes[2:],
        False,
    )
    # limit: caps n=, and n= caps limit:
    assert _names(seeded, review.query("status:open limit:1", limit=2, viewer=alice)) == (
        open_changes[:1],
        True,
    )
    assert _names(seeded, review.query("limit:3 status:open", limit=1, viewer=alice)) == (
        open_changes[:1],
        True,
    )
    assert _names(seeded, review.query("status:open limit:3", viewer=alice)) == (
        open_changes,
        False,
    )
    # Anonymous viewers see no private change; age: counts from the service's clock.
    assert _names(seeded, review.query("-age:3h")) == (["glance-wip", "nova"], False)


@pytest.mark.parametrize(
    ("query_text", "limit", "start", "error"),
    [
        ("status:open", 0, 0, BadRequest),
        ("status:open", None, -1, BadRequest),
        ("status:open foo:bar", None, 0, QueryError),
        ("5 OR limit:2", None, 0, QueryError),
        ("owner:self", None, 0, QueryError),
    ],
)
def test_service_rejects_bad_requests(
    review: ReviewService, query_text: str, limit: int | None, start: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        review.query(query_text, limit=limit, start=start)
