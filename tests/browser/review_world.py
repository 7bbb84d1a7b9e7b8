"""A small review site for the dashboard and project pages' stories: changes of
team/demo with the votes of a busy day, a project only one team may read, a
private change, a subject with markup, and enough changes to page through."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from lockgate.core.review.model import ChangeStatus
from lockgate.testing.seed import seed_change
from lockgate.testing.server import LiveServer
from tests.system.rest import decode
from tests.system.reviewing import FILES, PROJECT, Team, make_team, review

SECRET_PROJECT = "team/secret"
XSS_SUBJECT = "<script>alert('owned')</script> Fix <b>bold</b> & more"
FILLERS = 24


@dataclass
class World:
    team: Team
    numbers: dict[str, int] = field(default_factory=dict)

    @property
    def server(self) -> LiveServer:
        return self.team.server


def admin_post(server: LiveServer, path: str, body: object, status: int = 200) -> object:
    return decode(httpx.post(f"{server.url}a/{path}", json=body, auth=server.admin), status)


def admin_put(server: LiveServer, path: str, body: object, status: int = 201) -> object:
    return decode(httpx.put(f"{server.url}a/{path}", json=body, auth=server.admin), status)


def build_world(server: LiveServer) -> World:
    """alice owns most changes; bob wrote the fillers and the one with markup;
    only members of secret-team (and administrators) read team/secret."""
    team = make_team(server)
    services = server.services
    world = World(team, {"voted": team.number})
    alice = services.accounts.get("alice")
    base = services.projects.branch_tip(PROJECT, "master")

    def change(
        name: str,
        subject: str,
        *,
        owner: str = "alice",
        project: str = PROJECT,
        files: dict[str, str | bytes | None] | None = None,
        parent: str | None = None,
        work_in_progress: bool = False,
        status: ChangeStatus = ChangeStatus.NEW,
    ) -> int:
        seeded = seed_change(
            services,
            project,
            owner=owner,
            subject=subject,
            files=files,
            parent=parent,
            work_in_progress=work_in_progress,
            status=status,
        )
        world.numbers[name] = seeded.change_number
        return seeded.change_number

    # The votes of change 1: Verified +2 (CI), Code-Review +2 and -1, Workflow +1.
    review(server, team.number, {"labels": {"Verified": 2}}, auth=team.ci)
    review(server, team.number, {"labels": {"Code-Review": 2, "Workflow": 1}}, auth=team.core)
    review(server, team.number, {"labels": {"Code-Review": -1}}, auth=team.bob)

    failing = change("failing", "Break the build")
    review(server, failing, {"labels": {"Verified": -2}}, auth=team.ci)
    change("wip", "Half-done refactoring", work_in_progress=True)
    change(
        "merged", "Land the frobnicator", files={"frob.txt": "ONE\n"}, status=ChangeStatus.MERGED
    )
    # On the old base, adding the file the merged change added: a conflict.
    change("conflict", "Frobnicate differently", parent=base, files={"frob.txt": "uno\n"})
    private = change("private", "Private plans")
    services.edits.set_private(str(private), alice, True, None)
    change("xss", XSS_SUBJECT, owner="bob")
    for i in range(FILLERS):
        change(f"filler{i}", f"Filler change {i:02d}", owner="bob")
    # alice reviews one of bob's: it is incoming on her dashboard.
    review(server, world.numbers["filler3"], {"labels": {"Code-Review": 1}}, auth=team.alice)

    services.projects.create(SECRET_PROJECT, create_empty_commit=True, description="Not for all")
    secret_team = admin_put(server, "groups/secret-team", {"members": ["core"]})
    assert isinstance(secret_team, dict)
    admin_post(
        server,
        f"projects/{SECRET_PROJECT.replace('/', '%2F')}/access",
        {
            "add": {
                "refs/*": {
                    "permissions": {
                        "read": {
                            "exclusive": True,
                            "rules": {secret_team["id"]: {"action": "ALLOW"}},
                        }
                    }
                }
            }
        },
    )
    change("secret", "Secret work", owner="core", project=SECRET_PROJECT, files=dict(FILES))
    return world
