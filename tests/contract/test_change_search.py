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

from lockgate.adapters.db import (
    account_store,
    approval_store,
    change_store,
    label_store,
    project_store,
)
from lockgate.adapters.db.change_search import search_changes
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.query.ast import split_limit
from lockgate.core.query.errors import QueryError
from lockgate.core.query.labels import LabelScope, LabelScopes, scopes_everywhere
from lockgate.core.query.parser import parse_query
from lockgate.core.review.label_definitions import default_definitions
from lockgate.core.review.labels import DEFAULT_LABELS, Vote
from lockgate.core.review.model import (
    ALL_PROJECTS,
    Account,
    ChangeMessage,
    ChangeStatus,
    CommitInfo,
    FileChange,
    FileStatus,
    Person,
    SubmitType,
)
from lockgate.core.review.timestamps import parse_gerrit_timestamp
from lockgate.services.access import AccessService
from lockgate.services.accounts import AccountService
from lockgate.services.errors import BadRequest
from lockgate.services.labels import LabelConfig
from lockgate.services.permissions import Permissions
from lockgate.services.project_config import ProjectConfig
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
                ("dave", None, None),  # votes Verified, as a CI system does
                ("erin", "Erin", "erin@example.com"),  # votes, and is never added as a reviewer
            ]
        }
        core = account_store.insert_group(
            conn,
            uuid="c0" * 20,
            name="core",
            description=None,
            owner_uuid=None,
            visible_to_all=True,
            now=0,
        )
        for member in ("bob", "erin"):
            account_store.add_member(conn, core.id, accounts[member].id)
        # The service looks up how each project defines its labels.
        for project in ("openstack/nova", "openstack/glance", "other/tool"):
            project_store.insert_project(
                conn,
                name=project,
                parent="All-Projects",
                description=None,
                submit_type=SubmitType.MERGE_IF_NECESSARY,
                now=0,
            )

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
            votes: tuple[tuple[str, str, int], ...] = (),
            messages: tuple[str | None, ...] = (),
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
            vote(number, 1, votes)
            # The upload's message, then one by each author in turn (None: the system).
            for index, author in enumerate((owner, *messages)):
                change_store.insert_message(
                    conn,
                    ChangeMessage(
                        id=f"{number}-{index}",
                        change_number=number,
                        author_id=accounts[author].id if author else None,
                        created_at=NOW - 30 * DAY + index * SECOND,
                        message="Uploaded patch set 1." if index == 0 else "Looks fine",
                        patch_set=1,
                    ),
                )
            change_store.update_change(conn, number, status=status.value, updated_at=updated)
            changes[name], shas[name], keys[name] = number, sha, key

        def vote(number: int, patch_set: int, votes: tuple[tuple[str, str, int], ...]) -> None:
            for voter, label, value in votes:
                approval_store.set_vote(
                    conn, number, Vote(accounts[voter].id, label, value, patch_set, date=NOW)
                )

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
            votes=(
                ("bob", "Code-Review", 2),
                ("erin", "Code-Review", 1),
                ("dave", "Verified", 1),
                ("alice", "Workflow", 1),  # the owner's own vote
            ),
            messages=("bob",),  # reviewed: bob wrote after the owner's upload
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
            votes=(("alice", "Code-Review", 2), ("dave", "Verified", 2)),
            messages=("alice", "bob", None),  # the owner answered; a system note is no review
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
            votes=(("erin", "Code-Review", -2),),
            messages=("erin",),
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
            votes=(("carol", "Code-Review", -1), ("bob", "Code-Review", 1)),
            messages=("bob", "carol"),
        )
        change(
            "tool",
            project="other/tool",
            branch="main",
            owner="carol",
            updated=parse_gerrit_timestamp("2006-01-01 12:00:00"),
            message="Initial tool",
            files=["old/file.py"],
            votes=(("alice", "Code-Review", 2),),  # on patch set 1, which is no longer current
            messages=("alice",),
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
        vote(
            changes["tool"],
            2,
            (("erin", "Code-Review", 1), ("bob", "Code-Review", 0), ("dave", "Verified", -1)),
        )
        # The owner's new patch set answers alice's review: not reviewed since.
        change_store.insert_message(
            conn,
            ChangeMessage(
                "tool-ps2",
                changes["tool"],
                accounts["carol"].id,
                NOW - 29 * DAY,
                "Uploaded patch set 2.",
            ),
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


# Every project has the default labels, as the label service answers until
# projects define their own.
LABELS = scopes_everywhere(DEFAULT_LABELS)


def _search(
    seeded: Seeded,
    query_text: str,
    *,
    viewer: str | None = "alice",
    limit: int = 100,
    labels: LabelScopes = LABELS,
) -> list[str]:
    query, _ = split_limit(parse_query(query_text))
    viewer_id = seeded.accounts[viewer].id if viewer else None
    with read_transaction(seeded.engine) as conn:
        page = search_changes(conn, query, viewer_id=viewer_id, now=NOW, labels=labels, limit=limit)
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
    # A vote makes a reviewer, on any patch set, as in Gerrit; a vote of 0 does not.
    ("is:reviewer", "bob", ["nova", "glance-private"]),
    ("reviewer:self", "alice", ["nova", "nova-merged", "tool"]),  # her own Workflow+1 too
    ("reviewer:erin", "alice", ["nova", "nova-abandoned", "tool"]),
    ("reviewer:dave", "alice", ["nova", "nova-merged", "tool"]),
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
    # is:reviewed: someone other than the owner wrote after the owner's last message
    ("is:reviewed", "alice", ["nova", "nova-abandoned"]),
    ("is:reviewed", "bob", ["nova", "glance-private", "nova-abandoned"]),
    ("-is:reviewed", "alice", ["glance-wip", "nova-merged", "tool"]),
    ("is:reviewed status:open", "alice", ["nova"]),
    # votes on the current patch set: label:NAME then a value
    ("label:Code-Review=+2", "alice", ["nova", "nova-merged"]),  # tool's +2 is on patch set 1
    ("label:Code-Review+2", "alice", ["nova", "nova-merged"]),
    ("label:Code-Review=2", "alice", ["nova", "nova-merged"]),
    ("label:code-review+2", "alice", ["nova", "nova-merged"]),
    ('label:"Code-Review=+2"', "alice", ["nova", "nova-merged"]),
    ("label:CODE-REVIEW=MAX", "alice", ["nova", "nova-merged"]),
    ("label:Code-Review=MIN", "alice", ["nova-abandoned"]),
    ("label:Code-Review-2", "alice", ["nova-abandoned"]),
    ("label:Code-Review=-2", "alice", ["nova-abandoned"]),
    ("label:Code-Review=1", "alice", ["nova", "tool"]),
    ("label:Code-Review+1", "alice", ["nova", "tool"]),
    ("label:Code-Review-1", "alice", []),
    ("label:Code-Review-1", "bob", ["glance-private"]),
    ("label:Code-Review>=1", "alice", ["nova", "nova-merged", "tool"]),
    ("label:Code-Review>1", "alice", ["nova", "nova-merged"]),
    ("label:Code-Review<=-1", "alice", ["nova-abandoned"]),
    ("label:Code-Review<=-1", "bob", ["glance-private", "nova-abandoned"]),
    ("label:Code-Review<0", "alice", ["nova-abandoned"]),
    # 0 is no vote: a vote of 0 (bob's on tool) is none
    ("label:Code-Review=0", "alice", ["glance-wip"]),
    ("label:Code-Review>=0", "alice", ["glance-wip", "nova", "nova-merged", "tool"]),
    ("label:Code-Review<=0", "alice", ["glance-wip", "nova-abandoned"]),
    ("label:Code-Review<1", "alice", ["glance-wip", "nova-abandoned"]),
    ("label:Code-Review>-3", "alice", ALL_FOR_ALICE),
    ("label:Code-Review=ANY", "alice", ["nova", "nova-merged", "nova-abandoned", "tool"]),
    ("-label:Code-Review=ANY", "alice", ["glance-wip"]),
    # outside the label's values: nothing, not an error
    ("label:Code-Review=+3", "alice", []),
    ("label:Code-Review>2", "alice", []),
    ("label:Code-Review<-2", "alice", []),
    ("label:Verified+1", "alice", ["nova"]),
    ("label:Verified=MAX", "alice", ["nova-merged"]),
    ("label:Verified-1", "alice", ["tool"]),
    ("label:Verified>=1", "alice", ["nova", "nova-merged"]),
    ("label:Workflow=MAX", "alice", ["nova"]),
    ("label:Workflow=MIN", "alice", []),
    # a label no project defines matches no vote, so only "no vote" matches
    ("label:Backport-Candidate+1", "alice", []),
    ("label:Backport-Candidate=0", "alice", ALL_FOR_ALICE),
    # who voted
    ("label:Code-Review+2,user=bob", "alice", ["nova"]),
    ("label:Code-Review+2,bob", "alice", ["nova"]),
    ("label:Code-Review+2,user=bob@example.com", "alice", ["nova"]),
    ("label:Code-Review>=1,user=self", "alice", ["nova-merged"]),
    ("label:Code-Review>=1,self", "alice", ["nova-merged"]),
    ("label:Code-Review=0,user=self", "alice", ["glance-wip", "nova", "nova-abandoned", "tool"]),
    (
        "label:Code-Review=0,user=bob",
        "alice",
        ["glance-wip", "nova-merged", "nova-abandoned", "tool"],
    ),
    ("label:Workflow+1,owner", "alice", ["nova"]),
    ("label:Code-Review+1,user=owner", "bob", ["glance-private"]),
    ("label:Code-Review+2,owner", "alice", []),
    ("label:Code-Review+1,non_uploader", "bob", ["nova", "tool"]),
    ("label:Code-Review+1,user=non_uploader", "bob", ["nova", "tool"]),
    ("label:Code-Review+2,group=core", "alice", ["nova"]),
    ("label:Code-Review=ANY,core", "alice", ["nova", "nova-abandoned", "tool"]),
    ("label:Code-Review=ANY,group=core,user=erin", "alice", ["nova", "nova-abandoned", "tool"]),
    ("label:Code-Review=ANY,group=core,user=alice", "alice", []),
    # with the rest of the language
    ("label:Code-Review+2 status:open", "alice", ["nova"]),
    (
        "label:Code-Review>=1 -label:Code-Review<=-1 label:Verified>=1",
        "alice",
        ["nova", "nova-merged"],
    ),
    ("label:Code-Review+2 OR label:Verified-1", "alice", ["nova", "nova-merged", "tool"]),
    ("status:open (label:Verified-1 OR label:Code-Review-2)", "alice", ["tool"]),
    (
        "project:openstack/nova label:Code-Review=ANY -label:Code-Review=MIN",
        "alice",
        ["nova", "nova-merged"],
    ),
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
            page = search_changes(
                conn, query, viewer_id=alice, now=NOW, labels=LABELS, limit=2, start=start
            )
            pages.append(([names[n] for n in page.numbers], page.more))
        whole = search_changes(conn, query, viewer_id=alice, now=NOW, labels=LABELS, limit=5)
    assert pages == [
        (["glance-wip", "nova"], True),
        (["nova-merged", "nova-abandoned"], True),
        (["tool"], False),
        ([], False),
    ]
    assert ([names[n] for n in whole.numbers], whole.more) == (ALL_FOR_ALICE, False)


ERRORS = [
    (
        "label:Code-Review+2,user=nobody",
        "alice",
        "neither an account nor a group named 'nobody'",
        1,
    ),
    ("status:open label:Code-Review+2,group=nobody", "alice", "group 'nobody' not found", 13),
    ("label:Code-Review>=1,user=self", None, "needs a signed-in user", 1),
    # malformed label values: the parser names the term and its position
    ("status:open label:Code-Review=high", "alice", "a label term is NAME then a vote", 13),
    ("status:open label:Code-Review", "alice", "a label term is NAME then a vote", 13),
    ("label:Code-Review>=MAX", "alice", "MAX only works with '='", 1),
    ("-label:Code-Review+2,count=2", "alice", "count= is not supported", 2),
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


def test_labels_defined_differently_per_project(seeded: Seeded) -> None:
    # Code-Review runs -2..+2 in nova but -1..+1 in other/tool, and glance has
    # no Code-Review: MAX is each project's own, and a project without the
    # label matches only "no vote".
    labels: LabelScopes = {
        "code-review": (
            LabelScope("Code-Review", -2, 2, frozenset({"openstack/nova"})),
            LabelScope("Code-Review", -1, 1, frozenset({"other/tool"})),
        )
    }

    def search(query_text: str) -> list[str]:
        return _search(seeded, query_text, labels=labels)

    assert search("label:Code-Review=MAX") == ["nova", "nova-merged", "tool"]
    assert search("label:Code-Review=MIN") == ["nova-abandoned"]
    assert search("label:Code-Review=ANY") == ["nova", "nova-merged", "nova-abandoned", "tool"]
    assert search("label:Code-Review=0") == ["glance-wip"]
    assert search("label:Code-Review>=0") == ["glance-wip", "nova", "nova-merged", "tool"]
    assert search("label:Code-Review>=1,user=erin") == ["nova", "tool"]
    # +2 is outside tool's range: its votes are not looked at for it.
    assert search("label:Code-Review>=2") == ["nova", "nova-merged"]


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
    projects = ProjectService(seeded.engine, repos, lambda: NOW)
    with write_transaction(seeded.engine) as conn:
        # The labels a site's All-Projects starts with, as site creation stores them.
        if not label_store.has_labels(conn, ALL_PROJECTS):
            for definition in default_definitions(ALL_PROJECTS):
                label_store.insert_label(conn, definition)
    config = ProjectConfig(seeded.engine)
    labels = LabelConfig(seeded.engine, projects, config)
    permissions = Permissions(seeded.engine, config, labels)
    # And the access rules: searches leave out the projects the viewer may not read.
    AccessService(seeded.engine, projects, permissions, labels, config).ensure_defaults()
    return ReviewService(
        engine=seeded.engine,
        repos=repos,
        accounts=accounts,
        projects=projects,
        clock=lambda: NOW,
        public_url="http://review.example.com/",
        labels=labels,
        permissions=permissions,
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
    # label: through the service, with the labels every project has by default.
    assert _names(seeded, review.query("label:code-review=max status:open", viewer=alice)) == (
        ["nova"],
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
        ("label:Code-Review=+2,user=self", None, 0, QueryError),
        ("label:Code-Review=+2,foo=bar", None, 0, QueryError),
    ],
)
def test_service_rejects_bad_requests(
    review: ReviewService, query_text: str, limit: int | None, start: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        review.query(query_text, limit=limit, start=start)
