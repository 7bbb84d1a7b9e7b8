"""The access-control matrix: every write endpoint (and every change read) against
five callers, through a live server.

The project `nova` has a `nova-core` group granted what OpenStack grants its
core reviewers (Code-Review -2..+2, Workflow -1..+1, submit, abandon, rebase
on refs/heads/*); everything else comes from All-Projects' defaults (see
docs/access.md). The callers:

- anonymous: no credentials, on the plain path (`anonymous`) and under `/a/`
  (`anon /a/`);
- `registered`: a signed-in account in no group;
- `core`: a member of nova-core;
- `service`: a member of Service Users (a CI system);
- `admin`: a member of Administrators.

Every change under test belongs to `owner`, who is none of them, so what a
change's owner may do anyway does not blur the picture. `POLICY` below is the
whole policy at a glance: one row per request, one expected status per caller.
A pushed row reads 200 for an accepted push, 401 when git is asked for
credentials, 403 when the server's hook refuses it; a search row reads 200
when the change is in the results and 404 when it is not.

Each cell gets state the request can act on: an action that consumes its
change (submit, abandon, a vote) gets a new change for every cell it is
expected to succeed in; refused cells share one. A refused write cell must
leave every table of the database, the projects' refs and the repositories
exactly as they were; an allowed one must show its effect. Every row runs on
SQLite; on PostgreSQL a slice of them (`POSTGRES_SLICE`).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lockgate.adapters.db import tables
from lockgate.core.review.comments import CommentInput
from lockgate.core.review.model import Account, Change, ChangeStatus
from lockgate.services.accounts import ADMINISTRATORS, SERVICE_USERS
from lockgate.services.review import LoadOptions
from lockgate.testing.seed import seed_change
from lockgate.testing.server import LiveServer, live_server, postgres_schema
from tests.gitutil import commit, git, new_change_id, push
from tests.system.rest import XSSI, decode
from tests.system.submitting import APPROVED, vote

ANON, ANON_A, REGISTERED, CORE, SERVICE, ADMIN = (
    "anonymous",
    "anon /a/",
    "registered",
    "core",
    "service",
    "admin",
)
ROLES = (ANON, ANON_A, REGISTERED, CORE, SERVICE, ADMIN)
ALLOWED = (200, 201, 204)


def cells(*statuses: int) -> dict[str, int]:
    """One row of the policy: the statuses in the order of ROLES."""
    assert len(statuses) == len(ROLES)
    return dict(zip(ROLES, statuses, strict=True))


# fmt: off
# Each row: cells(anonymous, anon /a/, registered, core, service, admin)
POLICY: dict[str, dict[str, int]] = {
    # reviews: votes within the caller's range, comments by anyone signed in
    "review Code-Review+2":                          cells(401, 401, 403, 200, 403, 200),
    "review Code-Review+1":                          cells(401, 401, 200, 200, 200, 200),
    "review Code-Review-2":                          cells(401, 401, 403, 200, 403, 200),
    "review Verified+1":                             cells(401, 401, 403, 403, 200, 200),
    "review Verified-2":                             cells(401, 401, 403, 403, 200, 200),
    "review Workflow+1":                             cells(401, 401, 403, 200, 403, 200),
    "review with an inline comment":                 cells(401, 401, 200, 200, 200, 200),
    "review work_in_progress":                       cells(401, 401, 403, 403, 403, 200),
    # submit and rebase
    "POST submit":                                   cells(401, 401, 403, 200, 200, 200),
    "POST revisions/current/submit":                 cells(401, 401, 403, 200, 200, 200),
    "POST rebase":                                   cells(401, 401, 403, 200, 403, 200),
    "POST revisions/current/rebase":                 cells(401, 401, 403, 200, 403, 200),
    # the change's state
    "POST abandon":                                  cells(401, 401, 403, 200, 403, 200),
    "POST restore":                                  cells(401, 401, 403, 200, 403, 200),
    "PUT topic":                                     cells(401, 401, 403, 403, 403, 200),
    "DELETE topic":                                  cells(401, 401, 403, 403, 403, 204),
    "POST hashtags":                                 cells(401, 401, 403, 403, 403, 200),
    "POST wip":                                      cells(401, 401, 403, 403, 403, 200),
    "POST ready":                                    cells(401, 401, 403, 403, 403, 200),
    "POST private":                                  cells(401, 401, 403, 403, 403, 201),
    "DELETE private":                                cells(401, 401, 404, 404, 404, 204),
    "POST private.delete":                           cells(401, 401, 404, 404, 404, 204),
    # reviewers and their votes (the reviewer is someone else)
    "POST reviewers":                                cells(401, 401, 200, 200, 200, 200),
    "DELETE reviewers/{id}":                         cells(401, 401, 403, 403, 403, 204),
    "POST reviewers/{id}/delete":                    cells(401, 401, 403, 403, 403, 204),
    "DELETE reviewers/{id}/votes/Code-Review":       cells(401, 401, 403, 403, 403, 204),
    "POST reviewers/{id}/votes/Code-Review/delete":  cells(401, 401, 403, 403, 403, 204),
    # drafts: anyone signed in keeps their own; someone else's do not exist for them
    "PUT revisions/current/drafts":                  cells(401, 401, 201, 201, 201, 201),
    "GET drafts/{id} of someone else":               cells(401, 401, 404, 404, 404, 404),
    "PUT drafts/{id} of someone else":               cells(401, 401, 404, 404, 404, 404),
    "DELETE drafts/{id} of someone else":            cells(401, 401, 404, 404, 404, 404),
    # the diff page's forms need a session's CSRF token; HTTP Basic is not one
    "POST the diff page's draft form":               cells(403, 403, 403, 403, 403, 403),
    # changes the caller may not see: 404, as for no change at all
    "PUT revisions/current/drafts on a private change": cells(401, 401, 404, 404, 404, 201),
    "review Code-Review+1 on a private change":      cells(401, 401, 404, 404, 404, 200),
    "POST abandon of a private change":              cells(401, 401, 404, 404, 404, 200),
    "POST submit of a private change":               cells(401, 401, 404, 404, 404, 200),
    "POST reviewers on a private change":            cells(401, 401, 404, 404, 404, 200),
    "review Code-Review+1 in an unreadable project": cells(401, 401, 404, 404, 404, 200),
    "POST submit in an unreadable project":          cells(401, 401, 404, 404, 404, 200),
    # project access and labels: owners (here only admin)
    "POST projects/nova/access":                     cells(401, 401, 403, 403, 403, 200),
    "PUT projects/nova/labels/{name}":               cells(401, 401, 403, 403, 403, 201),
    "DELETE projects/nova/labels/{name}":            cells(401, 401, 403, 403, 403, 204),
    # site administration
    "PUT projects/{name}":                           cells(401, 401, 403, 403, 403, 201),
    "PUT accounts/{name}":                           cells(401, 401, 403, 403, 403, 201),
    "PUT groups/{name}":                             cells(401, 401, 403, 403, 403, 201),
    # groups not visible to all (nova-core, Administrators) do not exist for others
    "PUT groups/nova-core/members/{id}":             cells(401, 401, 404, 201, 404, 201),
    "DELETE groups/nova-core/members/{id}":          cells(401, 401, 404, 204, 404, 204),
    "PUT groups/Administrators/members/{id}":        cells(401, 401, 404, 404, 404, 201),
    "PUT groups/Service Users/members/{id}":         cells(401, 401, 403, 403, 403, 201),
    "PUT accounts/{other}/password.http":            cells(401, 401, 403, 403, 403, 200),
    "DELETE accounts/{other}/password.http":         cells(401, 401, 403, 403, 403, 204),
    "PUT accounts/self/password.http":               cells(401, 401, 200, 200, 200, 200),
    "GET config/server/webhooks":                    cells(401, 401, 403, 403, 403, 200),
    # no such webhook: an administrator learns so, nobody else that much
    "GET config/server/webhooks/{name}/deliveries":  cells(401, 401, 403, 403, 403, 404),
    # the gate's admin actions (docs/zuul-api.md)
    "POST api enqueue":                              cells(401, 401, 403, 403, 403, 200),
    "POST api dequeue":                              cells(401, 401, 403, 403, 403, 200),
    "POST api promote":                              cells(401, 401, 403, 403, 403, 200),
    # autoholds keep failed builds' nodes (docs/nodes.md)
    "POST api autohold":                             cells(401, 401, 403, 403, 403, 200),
    "DELETE api autohold/{id}":                      cells(401, 401, 403, 403, 403, 204),
    # only git processes the server started know the hook token
    "POST internal/git-hooks/pre-receive":           cells(403, 403, 403, 403, 403, 403),
    # git pushes
    "push to refs/for/master":                       cells(401, 401, 200, 200, 200, 200),
    "push to refs/heads/master":                     cells(401, 401, 403, 403, 403, 200),
    "push a new branch":                             cells(401, 401, 403, 403, 403, 200),
    "push a tag":                                    cells(401, 401, 403, 403, 403, 200),
}

# The change read endpoints, each on a public change, a private change (of
# someone none of the callers is), and a change of a project only its own team
# (none of the callers but admin) may read.
READS = (
    "changes/{n}",
    "changes/{n}/detail",
    "changes/{n}/messages",
    "changes/{n}/messages/{message}",
    "changes/{n}/revisions/current/commit",
    "changes/{n}/revisions/current/files",
    "changes/{n}/revisions/current/related",
    "changes/{n}/revisions/current/mergeable",
    "changes/{n}/revisions/current/files/a.txt/diff",
    "changes/{n}/revisions/current/files/a.txt/content",
    "changes/{n}/comments",
    "changes/{n}/revisions/current/comments",
    "changes/{n}/revisions/current/comments/{comment}",
    "changes/{n}/drafts",
    "changes/{n}/revisions/current/drafts",
    "changes/{n}/submitted_together",
    "changes/{n}/topic",
    "changes/{n}/hashtags",
    "changes/{n}/reviewers/",
    "changes/{n}/reviewers/{reviewer}",
    "changes/{n}/reviewers/{reviewer}/votes/",
    "changes/?q=change:{n}",
)
PUBLIC_READ =                                        cells(200, 401, 200, 200, 200, 200)
HIDDEN_READ =                                        cells(404, 401, 404, 404, 404, 200)
# Drafts are the caller's own: reading them needs a signed-in caller.
DRAFTS_READ = {
    "public":                                        cells(401, 401, 200, 200, 200, 200),
    "private":                                       cells(401, 401, 404, 404, 404, 200),
    "unreadable":                                    cells(401, 401, 404, 404, 404, 200),
}
# fmt: on
READ_KINDS = ("public", "private", "unreadable")
for _path in READS:
    for _kind in READ_KINDS:
        if _path.endswith("/drafts"):
            POLICY[f"GET {_path} ({_kind} change)"] = DRAFTS_READ[_kind]
        else:
            POLICY[f"GET {_path} ({_kind} change)"] = (
                PUBLIC_READ if _kind == "public" else HIDDEN_READ
            )

POSTGRES_SLICE = (
    "review Code-Review+2",
    "review Verified+1",
    "POST submit",
    "POST abandon",
    "DELETE private",
    "DELETE reviewers/{id}",
    "POST submit of a private change",
    "review Code-Review+1 in an unreadable project",
    "POST projects/nova/access",
    "PUT groups/nova-core/members/{id}",
    "PUT groups/Administrators/members/{id}",
    "PUT accounts/{other}/password.http",
    "push to refs/heads/master",
    "GET changes/{n} (private change)",
    "GET changes/{n}/revisions/current/files/a.txt/diff (unreadable change)",
    "GET changes/?q=change:{n} (private change)",
)

PROJECT = "nova"
SECRET = "secret"
REGISTERED_UUID = "global:Registered-Users"
FILES = {"a.txt": "one\ntwo\nthree\n"}


# --- the world: a server, its callers, and changes made to order ---------------------


Context = dict[str, Any]  # what one cell acts on: a change number, a name, a clone


@dataclass(frozen=True)
class Reply:
    status: int
    text: str

    def json(self) -> Any:
        assert self.text.startswith(XSSI), self.text
        return json.loads(self.text[len(XSSI) :])


@dataclass
class World:
    server: LiveServer
    passwords: dict[str, str]  # role (or helper account) -> HTTP password
    usernames: dict[str, str]  # role -> username
    root: Path  # a folder for clones
    base: str = ""  # the first commit of nova's master, which has moved on since
    reads: dict[str, Context] = field(default_factory=dict)
    own_files: dict[int, str] = field(default_factory=dict)  # change -> the file only it adds
    names: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # One connection pool for the whole matrix: hundreds of requests, each
    # on a new connection, would time TCP more than the server.
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.server.services

    def auth(self, role: str) -> tuple[str, str] | None:
        if role in (ANON, ANON_A):
            return None
        return self.usernames[role], self.passwords[role]

    def account(self, who: str) -> Account:
        return self.services.accounts.get(self.usernames.get(who, who))

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.names)}"

    def send(self, role: str, method: str, path: str, body: Any = None) -> Reply:
        prefix = "" if role == ANON else "a/"
        response = self.http.request(
            method,
            f"{self.server.url}{prefix}{path}",
            json=body if method != "GET" else None,
            auth=self.auth(role),
            timeout=60,
        )
        return Reply(response.status_code, response.text)

    def as_admin(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.http.request(
            method, f"{self.server.url}a/{path}", json=body, auth=self.server.admin
        )
        return decode(response, status) if status != 204 else None

    # --- changes -------------------------------------------------------------

    def change(
        self,
        *,
        project: str = PROJECT,
        parent: str | None = None,
        approved: bool = False,
        reviewed: bool = False,
        private: bool = False,
        **seed: Any,
    ) -> int:
        """A new change of `owner`, changing a.txt and a file of its own (so that
        changes never conflict); `reviewed`: `reviewer` voted Code-Review+1 on it."""
        name = self.fresh("file-")
        made = seed_change(
            self.services,
            project,
            owner="owner",
            subject=f"Change {name}",
            files={**FILES, f"{name}.txt": f"{name}\n"},
            parent=parent,
            **seed,
        )
        number = made.change_number
        self.own_files[number] = f"{name}.txt"
        if approved:
            vote(self.server, number, APPROVED)
        if reviewed:
            body = {"labels": {"Code-Review": 1}}
            self.review_as("reviewer", number, body)
        if private:
            self.services.edits.set_private(str(number), self.account("owner"), True, None)
        return number

    def review_as(self, who: str, number: int, body: dict[str, Any]) -> None:
        response = self.http.post(
            f"{self.server.url}a/changes/{number}/revisions/current/review",
            json=body,
            auth=(who, self.passwords[who]),
        )
        assert response.status_code == 200, response.text

    def get_change(self, number: int) -> Change:
        return self.services.review.lookup(str(number))

    def votes(self, number: int) -> dict[tuple[str, str], int]:
        """(username, label) -> value on the change's current patch set."""
        change = self.get_change(number)
        with self.services.engine.connect() as conn:
            rows = conn.execute(
                select(tables.approvals).where(
                    tables.approvals.c.change_number == number,
                    tables.approvals.c.patch_set == change.current_patch_set,
                )
            ).all()
        by_id = self.services.accounts.by_ids([r.account_id for r in rows])
        return {(by_id[r.account_id].username, r.label): r.value for r in rows}


def wait_for_scheduler(services: Any, timeout: float = 30.0) -> None:
    """Let the gating scheduler consume the events written so far: it runs
    beside requests and moves its cursor on its own time, which is no write of
    the request under test."""
    gating = services.gating
    if gating is None:
        return
    deadline = time.monotonic() + timeout
    while True:
        # asked between steps: a step in progress may still queue outcomes
        with gating.scheduler.quiet():
            if gating.scheduler.settled():
                return
        if time.monotonic() > deadline:
            raise AssertionError("the scheduler did not catch up with the event log")
        time.sleep(0.02)


def snapshot(world: World) -> dict[str, Any]:
    """Everything a write could touch: every table's rows, the projects' refs,
    and the repositories on disk."""
    state: dict[str, Any] = {}
    wait_for_scheduler(world.services)
    with world.services.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            state[table.name] = sorted(repr(tuple(row)) for row in rows)
    for project in (PROJECT, SECRET, "All-Projects"):
        state[f"refs of {project}"] = world.services.repos.refs(project)
    state["repositories"] = sorted(p.name for p in world.services.site.git_dir.iterdir())
    return state


def changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [key for key in before.keys() | after.keys() if before.get(key) != after.get(key)]


# --- the rows: what each request needs, sends and does ----------------------------

Body = Any | Callable[[World, Context, str], Any]


@dataclass(frozen=True)
class Row:
    route: str  # "METHOD /path" of the route it exercises, as web/ declares it
    prepare: Callable[[World], Context]  # the state one cell acts on
    act: Callable[[World, Context, str], Reply]  # the request, as a role
    effect: Callable[[World, Context, str, Reply], None] = lambda *_: None
    writes: bool = True  # a refused cell must leave everything as it was


def http(method: str, path: str, body: Body = None) -> Callable[[World, Context, str], Reply]:
    def act(world: World, ctx: Context, role: str) -> Reply:
        given = body(world, ctx, role) if callable(body) else body
        return world.send(role, method, path.format(**ctx), given)

    return act


def on_change(**kinds: Any) -> Callable[[World], Context]:
    def prepare(world: World) -> Context:
        number = world.change(**kinds)
        return {
            "n": number,
            "file": world.own_files[number],
            "reviewer": world.account("reviewer").id,
            "base": world.base,
        }

    return prepare


def nothing(world: World) -> Context:
    return {}


def a_fresh_autohold(world: World) -> Context:
    hold = world.services.autoholds.add("main", PROJECT, world.fresh("job-"))
    return {"id": hold.id}


def autohold_added(world: World, ctx: Context, role: str, reply: Reply) -> None:
    holds = world.services.autoholds.list("main")
    assert [v.hold.job for v in holds if v.hold.job == ctx["job"]] == [ctx["job"]]


def autohold_gone(world: World, ctx: Context, role: str, reply: Reply) -> None:
    assert ctx["id"] not in {v.hold.id for v in world.services.autoholds.list("main")}


def fresh_account(world: World, *, group: str | None = None) -> Context:
    name = world.fresh("user")
    password = f"pw-{name}"
    world.services.accounts.create_account(
        name, full_name=name.title(), email=f"{name}@example.com", http_password=password
    )
    if group:
        accounts = world.services.accounts
        accounts.add_member(accounts.group(group), accounts.get(name))
    return {"user": name, "password": password}


def state(check: Callable[[Change], bool], what: str) -> Callable[..., None]:
    def effect(world: World, ctx: Context, role: str, reply: Reply) -> None:
        assert check(world.get_change(ctx["n"])), f"change {ctx['n']} is not {what}"

    return effect


def voted(label: str, value: int) -> Callable[..., None]:
    def effect(world: World, ctx: Context, role: str, reply: Reply) -> None:
        votes = world.votes(ctx["n"])
        assert votes.get((world.usernames[role], label)) == value, votes

    return effect


def commented(world: World, ctx: Context, role: str, reply: Reply) -> None:
    found = world.services.comments.of_change(ctx["n"], None).comments
    assert [c.message for c in found if c.author_id == world.account(role).id] == ["Why two?"]


def reviewer_gone(world: World, ctx: Context, role: str, reply: Reply) -> None:
    change = world.get_change(ctx["n"])
    assert ctx["reviewer"] not in change.reviewers + change.ccs
    assert ("reviewer", "Code-Review") not in world.votes(ctx["n"])


def vote_gone(world: World, ctx: Context, role: str, reply: Reply) -> None:
    assert world.votes(ctx["n"]).get(("reviewer", "Code-Review"), 0) == 0
    assert ctx["reviewer"] in world.get_change(ctx["n"]).reviewers


def newcomer_added(world: World, ctx: Context, role: str, reply: Reply) -> None:
    assert world.account("newcomer").id in world.get_change(ctx["n"]).reviewers


def member_of(group: str, *, member: bool) -> Callable[..., None]:
    def effect(world: World, ctx: Context, role: str, reply: Reply) -> None:
        accounts = world.services.accounts
        names = {a.username for a in accounts.members(accounts.group(group))}
        assert (ctx["user"] in names) is member, names

    return effect


DRAFTS = "/changes/{change_id}/revisions/{revision}/drafts"
DRAFT_PATH = "changes/{n}/revisions/current/drafts"
A_DRAFT = {"path": "a.txt", "line": 1, "message": "Draft"}


def with_owners_draft(world: World) -> Context:
    ctx = on_change()(world)
    made = world.services.drafts.create(
        str(ctx["n"]),
        "current",
        world.account("owner"),
        CommentInput(path="a.txt", message="The owner's", line=1),
    )
    return {**ctx, "draft": made.drafts[0].id}


def drafted(world: World, ctx: Context, role: str, reply: Reply) -> None:
    mine = world.services.drafts.of_change(ctx["n"], world.account(role))
    assert [d.message for d in mine] == ["Draft"]


def review(labels: dict[str, int] | None = None, **body: Any) -> dict[str, Any]:
    return {"labels": labels or {}, **body}


REVIEW = "POST /changes/{change_id}/revisions/{revision}/review"
REVIEW_PATH = "changes/{n}/revisions/current/review"
RULE = {"rules": {REGISTERED_UUID: {"action": "ALLOW", "min": -1, "max": 1}}}
LABEL = {"values": {"-1": "No", " 0": "Maybe", "+1": "Yes"}, "function": "NoBlock"}


def vote_row(label: str, value: int, **kinds: Any) -> Row:
    return Row(
        REVIEW,
        on_change(**kinds),
        http("POST", REVIEW_PATH, review({label: value})),
        voted(label, value),
    )


# --- pushes --------------------------------------------------------------------------


def clone(world: World) -> Context:
    work = world.root / world.fresh("clone-")
    git(world.root, "clone", "-q", world.server.git_url(PROJECT), str(work))
    return {"work": work}


def push_url(world: World, role: str) -> str:
    if role == ANON:
        return world.server.git_url(PROJECT)
    if role == ANON_A:
        return f"{world.server.url}a/{PROJECT}"
    user, password = world.auth(role) or ("", "")
    return world.server.git_url(PROJECT, user=user, password=password)


def pushing(target: Callable[[World], str]) -> Callable[[World, Context, str], Reply]:
    """A new commit on the branch's tip, pushed to `target` as the role: 200 when
    git accepts it, 401 when asked for credentials, 403 when the hook refuses."""

    def act(world: World, ctx: Context, role: str) -> Reply:
        work = ctx["work"]
        git(work, "fetch", "-q", "origin")
        git(work, "checkout", "-q", "--detach", "origin/master")
        name = world.fresh("pushed-")
        ctx["subject"] = f"Push {name}"
        ctx["sha"] = commit(
            work, ctx["subject"], change_id=new_change_id(), files={f"{name}.txt": "pushed\n"}
        )
        ctx["ref"] = target(world)
        pushed = push(work, push_url(world, role), f"HEAD:{ctx['ref']}")
        if pushed.ok:
            return Reply(200, pushed.output)
        if re.search(r"Authentication failed|could not read Username", pushed.output):
            return Reply(401, pushed.output)
        if re.search(r"prohibited|declined|not permitted", pushed.output):
            return Reply(403, pushed.output)
        return Reply(500, pushed.output)

    return act


def ref_at_commit(world: World, ctx: Context, role: str, reply: Reply) -> None:
    assert world.services.repos.refs(PROJECT).get(ctx["ref"]) == ctx["sha"]


def uploaded(world: World, ctx: Context, role: str, reply: Reply) -> None:
    with world.services.engine.connect() as conn:
        found = conn.execute(
            select(tables.changes.c.owner_id).where(tables.changes.c.subject == ctx["subject"])
        ).all()
    assert [r.owner_id for r in found] == [world.account(role).id]


# --- reads -----------------------------------------------------------------------------


def read_row(path: str, kind: str) -> Row:
    def act(world: World, ctx: Context, role: str) -> Reply:
        reply = world.send(role, "GET", path.format(**ctx))
        if path.startswith("changes/?") and reply.status == 200:
            listed = [c["_number"] for c in reply.json()] == [ctx["n"]]
            return Reply(200 if listed else 404, reply.text)
        return reply

    def shows(world: World, ctx: Context, role: str, reply: Reply) -> None:
        if path == "changes/{n}":
            assert reply.json()["_number"] == ctx["n"]

    route = "GET /" + path.split("?", maxsplit=1)[0]
    return Row(route, lambda world: world.reads[kind], act, shows, writes=False)


def _rows() -> dict[str, Row]:
    def self_password(world: World, ctx: Context, role: str) -> Any:
        return {"http_password": world.passwords.get(role, "")}

    def still_signs_in(world: World, ctx: Context, role: str, reply: Reply) -> None:
        username, password = world.usernames[role], world.passwords[role]
        assert world.services.accounts.authenticate(username, password) is not None

    def signs_in_with(key: str, *, works: bool) -> Callable[..., None]:
        def effect(world: World, ctx: Context, role: str, reply: Reply) -> None:
            found = world.services.accounts.authenticate(ctx["user"], ctx[key])
            assert (found is not None) is works

        return effect

    def access_has(world: World, ctx: Context, role: str, reply: Reply) -> None:
        local = world.as_admin("GET", f"projects/{PROJECT}/access")["local"]
        assert ctx["pattern"] in local

    def label_is(status: int) -> Callable[..., None]:
        def effect(world: World, ctx: Context, role: str, reply: Reply) -> None:
            path = f"a/projects/{PROJECT}/labels/{ctx['label']}"
            response = world.http.get(world.server.url + path, auth=world.server.admin)
            assert response.status_code == status, response.text

        return effect

    def with_label(world: World) -> Context:
        name = world.fresh("Matrix-")
        world.as_admin("PUT", f"projects/{PROJECT}/labels/{name}", LABEL, status=201)
        return {"label": name}

    def project_made(world: World, ctx: Context, role: str, reply: Reply) -> None:
        assert world.services.projects.find(ctx["name"]) is not None
        assert world.services.repos.exists(ctx["name"])

    def account_made(world: World, ctx: Context, role: str, reply: Reply) -> None:
        assert world.services.accounts.find(ctx["name"]) is not None

    def group_made(world: World, ctx: Context, role: str, reply: Reply) -> None:
        assert world.services.accounts.group(ctx["name"]).name == ctx["name"]

    def webhooks_listed(world: World, ctx: Context, role: str, reply: Reply) -> None:
        assert reply.json() == []

    def named(prefix: str) -> Callable[[World], Context]:
        return lambda world: {"name": world.fresh(prefix)}

    new_private = on_change(private=True)
    rows: dict[str, Row] = {
        "review Code-Review+2": vote_row("Code-Review", 2),
        "review Code-Review+1": vote_row("Code-Review", 1),
        "review Code-Review-2": vote_row("Code-Review", -2),
        "review Verified+1": vote_row("Verified", 1),
        "review Verified-2": vote_row("Verified", -2),
        "review Workflow+1": vote_row("Workflow", 1),
        "review with an inline comment": Row(
            REVIEW,
            on_change(),
            http(
                "POST",
                REVIEW_PATH,
                lambda world, ctx, role: review(
                    comments={ctx["file"]: [{"line": 1, "message": "Why two?"}]}
                ),
            ),
            commented,
        ),
        "review work_in_progress": Row(
            REVIEW,
            on_change(),
            http("POST", REVIEW_PATH, review(work_in_progress=True)),
            state(lambda c: c.work_in_progress, "work in progress"),
        ),
        "POST submit": Row(
            "POST /changes/{change_id}/submit",
            on_change(approved=True),
            http("POST", "changes/{n}/submit", {}),
            state(lambda c: c.status is ChangeStatus.MERGED, "merged"),
        ),
        "POST revisions/current/submit": Row(
            "POST /changes/{change_id}/revisions/{revision}/submit",
            on_change(approved=True),
            http("POST", "changes/{n}/revisions/current/submit", {}),
            state(lambda c: c.status is ChangeStatus.MERGED, "merged"),
        ),
        "POST rebase": Row(
            "POST /changes/{change_id}/rebase",
            lambda world: on_change(parent=world.base)(world),
            http("POST", "changes/{n}/rebase", {}),
            state(lambda c: c.current_patch_set == 2, "rebased"),
        ),
        "POST revisions/current/rebase": Row(
            "POST /changes/{change_id}/revisions/{revision}/rebase",
            lambda world: on_change(parent=world.base)(world),
            http("POST", "changes/{n}/revisions/current/rebase", {}),
            state(lambda c: c.current_patch_set == 2, "rebased"),
        ),
        "POST abandon": Row(
            "POST /changes/{change_id}/abandon",
            on_change(),
            http("POST", "changes/{n}/abandon", {"message": "Not now"}),
            state(lambda c: c.status is ChangeStatus.ABANDONED, "abandoned"),
        ),
        "POST restore": Row(
            "POST /changes/{change_id}/restore",
            on_change(status=ChangeStatus.ABANDONED),
            http("POST", "changes/{n}/restore", {}),
            state(lambda c: c.status is ChangeStatus.NEW, "restored"),
        ),
        "PUT topic": Row(
            "PUT /changes/{change_id}/topic",
            on_change(),
            http("PUT", "changes/{n}/topic", {"topic": "matrix"}),
            state(lambda c: c.topic == "matrix", "in topic matrix"),
        ),
        "DELETE topic": Row(
            "DELETE /changes/{change_id}/topic",
            on_change(topic="matrix"),
            http("DELETE", "changes/{n}/topic"),
            state(lambda c: c.topic is None, "without a topic"),
        ),
        "POST hashtags": Row(
            "POST /changes/{change_id}/hashtags",
            on_change(),
            http("POST", "changes/{n}/hashtags", {"add": ["matrix"]}),
            state(lambda c: c.hashtags == ("matrix",), "tagged"),
        ),
        "POST wip": Row(
            "POST /changes/{change_id}/wip",
            on_change(),
            http("POST", "changes/{n}/wip", {}),
            state(lambda c: c.work_in_progress, "work in progress"),
        ),
        "POST ready": Row(
            "POST /changes/{change_id}/ready",
            on_change(work_in_progress=True),
            http("POST", "changes/{n}/ready", {}),
            state(lambda c: not c.work_in_progress, "ready"),
        ),
        "POST private": Row(
            "POST /changes/{change_id}/private",
            on_change(),
            http("POST", "changes/{n}/private", {}),
            state(lambda c: c.private, "private"),
        ),
        "DELETE private": Row(
            "DELETE /changes/{change_id}/private",
            new_private,
            http("DELETE", "changes/{n}/private"),
            state(lambda c: not c.private, "public"),
        ),
        "POST private.delete": Row(
            "POST /changes/{change_id}/private.delete",
            new_private,
            http("POST", "changes/{n}/private.delete", {}),
            state(lambda c: not c.private, "public"),
        ),
        "POST reviewers": Row(
            "POST /changes/{change_id}/reviewers",
            on_change(),
            http("POST", "changes/{n}/reviewers", {"reviewer": "newcomer"}),
            newcomer_added,
        ),
        "DELETE reviewers/{id}": Row(
            "DELETE /changes/{change_id}/reviewers/{account}",
            on_change(reviewed=True),
            http("DELETE", "changes/{n}/reviewers/{reviewer}"),
            reviewer_gone,
        ),
        "POST reviewers/{id}/delete": Row(
            "POST /changes/{change_id}/reviewers/{account}/delete",
            on_change(reviewed=True),
            http("POST", "changes/{n}/reviewers/{reviewer}/delete", {}),
            reviewer_gone,
        ),
        "DELETE reviewers/{id}/votes/Code-Review": Row(
            "DELETE /changes/{change_id}/reviewers/{account}/votes/{label}",
            on_change(reviewed=True),
            http("DELETE", "changes/{n}/reviewers/{reviewer}/votes/Code-Review"),
            vote_gone,
        ),
        "POST reviewers/{id}/votes/Code-Review/delete": Row(
            "POST /changes/{change_id}/reviewers/{account}/votes/{label}/delete",
            on_change(reviewed=True),
            http("POST", "changes/{n}/reviewers/{reviewer}/votes/Code-Review/delete", {}),
            vote_gone,
        ),
        "PUT revisions/current/drafts": Row(
            "PUT " + DRAFTS, on_change(), http("PUT", DRAFT_PATH, A_DRAFT), drafted
        ),
        "PUT revisions/current/drafts on a private change": Row(
            "PUT " + DRAFTS, new_private, http("PUT", DRAFT_PATH, A_DRAFT), drafted
        ),
        "GET drafts/{id} of someone else": Row(
            "GET " + DRAFTS + "/{draft_id}",
            with_owners_draft,
            http("GET", DRAFT_PATH + "/{draft}"),
            writes=False,
        ),
        "PUT drafts/{id} of someone else": Row(
            "PUT " + DRAFTS + "/{draft_id}",
            with_owners_draft,
            http("PUT", DRAFT_PATH + "/{draft}", {"message": "Mine now"}),
        ),
        "DELETE drafts/{id} of someone else": Row(
            "DELETE " + DRAFTS + "/{draft_id}",
            with_owners_draft,
            http("DELETE", DRAFT_PATH + "/{draft}"),
        ),
        "POST the diff page's draft form": Row(
            "POST /c/{project:path}/+/{number:int}/{revision}/{file:path}",
            on_change(),
            http("POST", "c/" + PROJECT + "/+/{n}/1/a.txt", {"op": "create", **A_DRAFT}),
        ),
        "review Code-Review+1 on a private change": vote_row("Code-Review", 1, private=True),
        "POST abandon of a private change": Row(
            "POST /changes/{change_id}/abandon",
            new_private,
            http("POST", "changes/{n}/abandon", {}),
            state(lambda c: c.status is ChangeStatus.ABANDONED, "abandoned"),
        ),
        "POST submit of a private change": Row(
            "POST /changes/{change_id}/submit",
            on_change(private=True, approved=True),
            http("POST", "changes/{n}/submit", {}),
            state(lambda c: c.status is ChangeStatus.MERGED, "merged"),
        ),
        "POST reviewers on a private change": Row(
            "POST /changes/{change_id}/reviewers",
            new_private,
            http("POST", "changes/{n}/reviewers", {"reviewer": "newcomer"}),
            newcomer_added,
        ),
        "review Code-Review+1 in an unreadable project": vote_row("Code-Review", 1, project=SECRET),
        "POST submit in an unreadable project": Row(
            "POST /changes/{change_id}/submit",
            on_change(project=SECRET, approved=True),
            http("POST", "changes/{n}/submit", {}),
            state(lambda c: c.status is ChangeStatus.MERGED, "merged"),
        ),
        "POST projects/nova/access": Row(
            "POST /projects/{project}/access",
            lambda world: {"pattern": f"refs/heads/{world.fresh('matrix-')}/*"},
            http(
                "POST",
                f"projects/{PROJECT}/access",
                lambda world, ctx, role: {
                    "add": {ctx["pattern"]: {"permissions": {"label-Code-Review": RULE}}}
                },
            ),
            access_has,
        ),
        "PUT projects/nova/labels/{name}": Row(
            "PUT /projects/{project}/labels/{label}",
            lambda world: {"label": world.fresh("Matrix-")},
            http("PUT", f"projects/{PROJECT}/labels/{{label}}", LABEL),
            label_is(200),
        ),
        "DELETE projects/nova/labels/{name}": Row(
            "DELETE /projects/{project}/labels/{label}",
            with_label,
            http("DELETE", f"projects/{PROJECT}/labels/{{label}}"),
            label_is(404),
        ),
        "PUT projects/{name}": Row(
            "PUT /projects/{project}",
            named("made-"),
            http("PUT", "projects/{name}", {"create_empty_commit": True}),
            project_made,
        ),
        "PUT accounts/{name}": Row(
            "PUT /accounts/{account}",
            named("made"),
            http("PUT", "accounts/{name}", {"name": "Made By Request"}),
            account_made,
        ),
        "PUT groups/{name}": Row(
            "PUT /groups/{group}",
            named("made-group-"),
            http("PUT", "groups/{name}", {}),
            group_made,
        ),
        "PUT groups/nova-core/members/{id}": Row(
            "PUT /groups/{group}/members/{account}",
            fresh_account,
            http("PUT", "groups/nova-core/members/{user}"),
            member_of("nova-core", member=True),
        ),
        "DELETE groups/nova-core/members/{id}": Row(
            "DELETE /groups/{group}/members/{account}",
            lambda world: fresh_account(world, group="nova-core"),
            http("DELETE", "groups/nova-core/members/{user}"),
            member_of("nova-core", member=False),
        ),
        "PUT groups/Administrators/members/{id}": Row(
            "PUT /groups/{group}/members/{account}",
            fresh_account,
            http("PUT", "groups/Administrators/members/{user}"),
            member_of(ADMINISTRATORS, member=True),
        ),
        "PUT groups/Service Users/members/{id}": Row(
            "PUT /groups/{group}/members/{account}",
            fresh_account,
            http("PUT", "groups/Service%20Users/members/{user}"),
            member_of(SERVICE_USERS, member=True),
        ),
        "PUT accounts/{other}/password.http": Row(
            "PUT /accounts/{account}/password.http",
            lambda world: {**fresh_account(world), "new": world.fresh("new-password-")},
            http(
                "PUT",
                "accounts/{user}/password.http",
                lambda world, ctx, role: {"http_password": ctx["new"]},
            ),
            signs_in_with("new", works=True),
        ),
        "DELETE accounts/{other}/password.http": Row(
            "DELETE /accounts/{account}/password.http",
            fresh_account,
            http("DELETE", "accounts/{user}/password.http"),
            signs_in_with("password", works=False),
        ),
        "PUT accounts/self/password.http": Row(
            "PUT /accounts/{account}/password.http",
            nothing,
            http("PUT", "accounts/self/password.http", self_password),
            still_signs_in,
        ),
        "GET config/server/webhooks": Row(
            "GET /config/server/webhooks",
            nothing,
            http("GET", "config/server/webhooks"),
            webhooks_listed,
        ),
        "GET config/server/webhooks/{name}/deliveries": Row(
            "GET /config/server/webhooks/{name}/deliveries",
            nothing,
            http("GET", "config/server/webhooks/nowhere/deliveries"),
        ),
        "POST api enqueue": Row(
            "POST /api/tenant/{tenant}/project/{project:path}/enqueue",
            on_change(),
            http(
                "POST",
                f"api/tenant/main/project/{PROJECT}/enqueue",
                lambda world, ctx, role: {"pipeline": "check", "change": f"{ctx['n']},1"},
            ),
        ),
        "POST api dequeue": Row(
            "POST /api/tenant/{tenant}/project/{project:path}/dequeue",
            on_change(),
            http(
                "POST",
                f"api/tenant/main/project/{PROJECT}/dequeue",
                lambda world, ctx, role: {"pipeline": "check", "change": f"{ctx['n']},1"},
            ),
        ),
        "POST api promote": Row(
            "POST /api/tenant/{tenant}/promote",
            on_change(),
            http(
                "POST",
                "api/tenant/main/promote",
                lambda world, ctx, role: {"pipeline": "gate", "changes": [f"{ctx['n']},1"]},
            ),
        ),
        "POST api autohold": Row(
            "POST /api/tenant/{tenant}/project/{project:path}/autohold",
            lambda world: {"job": world.fresh("job-")},
            http(
                "POST",
                f"api/tenant/main/project/{PROJECT}/autohold",
                lambda world, ctx, role: {"job": ctx["job"], "reason": "debug", "count": 1},
            ),
            autohold_added,
        ),
        "DELETE api autohold/{id}": Row(
            "DELETE /api/tenant/{tenant}/autohold/{id}",
            a_fresh_autohold,
            http("DELETE", "api/tenant/main/autohold/{id}"),
            autohold_gone,
        ),
        "POST internal/git-hooks/pre-receive": Row(
            "POST /internal/git-hooks/{hook}",
            nothing,
            http("POST", "internal/git-hooks/pre-receive", {"project": PROJECT, "commands": []}),
        ),
        "push to refs/for/master": Row(
            "git push", clone, pushing(lambda world: "refs/for/master"), uploaded
        ),
        "push to refs/heads/master": Row(
            "git push", clone, pushing(lambda world: "refs/heads/master"), ref_at_commit
        ),
        "push a new branch": Row(
            "git push",
            clone,
            pushing(lambda world: f"refs/heads/{world.fresh('branch-')}"),
            ref_at_commit,
        ),
        "push a tag": Row(
            "git push", clone, pushing(lambda world: f"refs/tags/{world.fresh('v')}"), ref_at_commit
        ),
    }
    for path in READS:
        for kind in READ_KINDS:
            rows[f"GET {path} ({kind} change)"] = read_row(path, kind)
    return rows


ROWS = _rows()


# --- building the world -------------------------------------------------------------


def _isolate_git(env: pytest.MonkeyPatch, home: Path) -> None:
    """What tests/conftest.py's autouse fixture does per test, for the module's world."""
    home.mkdir()
    env.setenv("HOME", str(home))
    env.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    env.setenv("GIT_CONFIG_NOSYSTEM", "1")
    env.setenv("GIT_TERMINAL_PROMPT", "0")
    for who in ("AUTHOR", "COMMITTER"):
        env.setenv(f"GIT_{who}_NAME", "Test Author")
        env.setenv(f"GIT_{who}_EMAIL", "author@example.com")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Author\n\temail = author@example.com\n"
        "[init]\n\tdefaultBranch = master\n[advice]\n\tdetachedHead = false\n"
    )


def _grant(world: World, project: str, ref: str, permissions: dict[str, Any]) -> None:
    body = {"add": {ref: {"permissions": permissions}}}
    world.as_admin("POST", f"projects/{project}/access", body)


def _build(server: LiveServer, root: Path) -> World:
    services = server.services
    users = {
        "owner": "owner",
        REGISTERED: "registered",
        CORE: "core",
        SERVICE: "ci",
        "reviewer": "reviewer",
        "newcomer": "newcomer",
    }
    passwords: dict[str, str] = {ADMIN: server.admin_password}
    for role, username in users.items():
        groups = [SERVICE_USERS] if role == SERVICE else None
        password = f"pw-{username}"
        services.accounts.create_account(
            username,
            full_name=username.title(),
            email=f"{username}@example.com",
            http_password=password,
            groups=groups,
        )
        passwords[role] = passwords[username] = password
    world = World(server, passwords, {**users, ADMIN: "admin"}, root)
    services.projects.create(PROJECT, create_empty_commit=True)
    services.projects.create(SECRET, create_empty_commit=True)

    core = world.as_admin("PUT", "groups/nova-core", {"members": ["core"]}, status=201)["id"]
    allow = {"action": "ALLOW"}
    _grant(
        world,
        PROJECT,
        "refs/heads/*",
        {
            "label-Code-Review": {"rules": {core: {**allow, "min": -2, "max": 2}}},
            "label-Workflow": {"rules": {core: {**allow, "min": -1, "max": 1}}},
            "submit": {"rules": {core: allow}},
            "abandon": {"rules": {core: allow}},
            "rebase": {"rules": {core: allow}},
        },
    )
    team = world.as_admin("PUT", "groups/secret-team", {}, status=201)["id"]
    _grant(world, SECRET, "refs/*", {"read": {"exclusive": True, "rules": {team: allow}}})

    # The branch moves on from its first commit, so that changes made on that
    # commit have something to be rebased onto.
    world.base = services.projects.branch_tip(PROJECT, "master")
    seed_change(services, PROJECT, owner="owner", subject="Moved on", status=ChangeStatus.MERGED)

    comment = {"a.txt": [{"line": 1, "message": "Why one?"}]}
    for kind, project, reviewer in (
        ("public", PROJECT, "reviewer"),
        ("private", PROJECT, "reviewer"),
        ("unreadable", SECRET, "admin"),
    ):
        number = world.change(project=project, topic="reads", hashtags=("reads",))
        world.review_as(reviewer, number, review({"Code-Review": 1}, comments=comment))
        if kind == "private":
            services.edits.set_private(str(number), world.account("owner"), True, None)
        [detail] = services.review.details([number], LoadOptions(messages=True))
        [found] = services.comments.of_change(number, None).comments
        world.reads[kind] = {
            "n": number,
            "message": detail.messages[-1].id,
            "comment": found.id,
            "reviewer": world.account(reviewer).id,
        }
    return world


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("matrix")
    with pytest.MonkeyPatch.context() as env:
        _isolate_git(env, root / "home")
        if request.param == "sqlite":
            with live_server(root / "site") as server:
                world = _build(server, root)
                yield world
                world.http.close()
            return
        url = os.environ.get("LOCKGATE_TEST_POSTGRES_URL")
        if not url:
            pytest.skip("set LOCKGATE_TEST_POSTGRES_URL to run against PostgreSQL")
        with postgres_schema(url) as scoped, live_server(root / "site", scoped) as server:
            world = _build(server, root)
            yield world
            world.http.close()


# --- running the cells ----------------------------------------------------------------


def run_row(world: World, name: str) -> list[str]:
    """Every cell of one row; returns what differs from the policy."""
    row, expected = ROWS[name], POLICY[name]
    shared: Context | None = None
    problems: list[str] = []
    for role in ROLES:
        want = expected[role]
        allowed = want in ALLOWED
        if allowed:
            ctx = row.prepare(world)
        else:
            shared = shared if shared is not None else row.prepare(world)
            ctx = shared
        before = snapshot(world) if row.writes and not allowed else None
        reply = row.act(world, ctx, role)
        if reply.status != want:
            problems.append(f"{role}: expected {want}, got {reply.status}: {reply.text[:400]}")
            continue
        if before is not None:
            differs = changed(before, snapshot(world))
            if differs:
                problems.append(f"{role}: refused with {want}, yet changed {sorted(differs)}")
        elif allowed:
            try:
                row.effect(world, ctx, role, reply)
            except AssertionError as failed:
                problems.append(f"{role}: answered {want} without its effect: {failed}")
    return problems


CASES = [pytest.param("sqlite", name, id=f"sqlite-{name}") for name in POLICY] + [
    pytest.param("postgresql", name, id=f"postgresql-{name}") for name in POSTGRES_SLICE
]


@pytest.mark.parametrize(("world", "row"), CASES, indirect=["world"], scope="module")
def test_each_caller_gets_what_the_policy_says_and_a_refusal_writes_nothing(
    world: World, row: str
) -> None:
    problems = run_row(world, row)
    assert not problems, f"{row}:\n" + "\n".join(problems)


def test_the_matrix_covers_every_write_route_and_every_change_read() -> None:
    from lockgate.web.app import _routes
    from lockgate.web.ui.routes import routes as page_routes

    exercised = {row.route.rstrip("/") for row in ROWS.values()}
    missing = []
    # The web interface's forms act through the same services, which this
    # matrix checks; their CSRF refusal is tested by tests/system/test_page_forms.py.
    pages = {id(route) for route in page_routes}
    for route in _routes():
        if id(route) in pages:
            continue
        path = getattr(route, "path", "").rstrip("/")
        methods = set(getattr(route, "methods", ())) - {"HEAD"}
        for method in methods:
            if method == "GET" and not path.startswith("/changes/{change_id}"):
                continue
            template = f"{method} {path}"
            if _normalise(template) not in {_normalise(r) for r in exercised}:
                missing.append(template)
    assert not missing, f"routes without a row in the access matrix: {sorted(missing)}"
    assert set(ROWS) == set(POLICY)
    assert set(POSTGRES_SLICE) <= set(POLICY)


def _normalise(route: str) -> str:
    """A route template with its parameters blanked: `GET /changes/{n}/...` as a row
    writes it matches `GET /changes/{change_id}/...` as web/ declares it."""
    method, _, path = route.partition(" ")
    path = path.replace("revisions/current", "revisions/{revision}").replace("a.txt", "{file}")
    return method + " " + re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))
