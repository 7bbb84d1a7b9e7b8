"""A whole site with the gating scheduler, driven by a test: Zuul's scenario
harness, on the real review server.

The review side is real: projects are hosted repositories, changes are
uploaded through the same service a `git push` reaches (real commits, real
patchset-created events), votes and comments go through the review service,
submits through the submit service. The scheduler is real and consumes the
real event log. Only the executor is the fake of `fake_executor.py`, whose
builds a test holds, releases and fails.

    h = GateHarness.create(tmp_path, layout=LAYOUT, projects={"org/project": None})
    a = h.change("org/project", "A", {"a.txt": "a"})
    h.approve(a)
    h.settle()
    assert h.status(a) == "MERGED"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockgate.adapters.db import tables as t
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.git.repos import ZERO_SHA
from lockgate.core.review.model import Account
from lockgate.core.review.review_input import ReviewRequest
from lockgate.services.accounts import ADMINISTRATORS
from lockgate.services.bootstrap import Services, init_site
from lockgate.services.clock import Clock, system_clock
from lockgate.services.push_records import Command
from lockgate.services.review import LoadOptions
from lockgate.testing.fake_executor import FakeBuild, FakeExecutor
from lockgate.testing.seed import Files, _commit, change_key_for

CONFIG_PROJECT = "project-config"


@dataclass(frozen=True, slots=True)
class ChangeRef:
    number: int
    patchset: int = 1

    @property
    def key(self) -> str:
        return f"{self.number},{self.patchset}"


class GateHarness:
    def __init__(self, services: Services, executor: FakeExecutor) -> None:
        self.services = services
        self.executor = executor
        gating = services.gating
        assert gating is not None, "the site has gating disabled"
        self.gating = gating
        self.scheduler = gating.scheduler
        self.core = self._account("core", "Core Reviewer", groups=[ADMINISTRATORS])
        self.owner = self._account("dev", "Developer")
        self._subjects: dict[int, str] = {}

    @classmethod
    def create(
        cls,
        root: Path,
        *,
        layout: str,
        projects: Mapping[str, str | None],
        database_url: str = "sqlite:///db/lockgate.db",
        executor: FakeExecutor | None = None,
        clock: Clock = system_clock,
    ) -> GateHarness:
        """A new site whose config project holds `layout` (zuul.d/layout.yaml
        replacing the default pipelines) and with `projects`, each with its
        in-repo `.zuul.yaml` text or None."""
        executor = executor or FakeExecutor()
        result = init_site(root, database_url=database_url, executor=executor, clock=clock)
        services = result.services
        harness = cls(services, executor)
        harness.write_config(
            CONFIG_PROJECT,
            {
                "zuul.d/pipelines.yaml": None,
                "zuul.d/jobs.yaml": None,
                "zuul.d/projects.yaml": None,
                "zuul.d/layout.yaml": layout,
            },
        )
        for name, zuul_yaml in projects.items():
            services.projects.create(name, create_empty_commit=True)
            if zuul_yaml is not None:
                harness.write_config(name, {".zuul.yaml": zuul_yaml})
        harness.gating.reload()
        return harness

    def close(self) -> None:
        self.services.close()

    # --- the review side --------------------------------------------------------------

    def write_config(self, project: str, files: Files, branch: str = "master") -> str:
        """Commit `files` straight onto `branch` (as an admin's direct push would)."""
        repos = self.services.repos
        tip = repos.resolve(project, f"refs/heads/{branch}")
        commit = _commit(
            self.services,
            project,
            parent=tip,
            files=files,
            message="Update configuration",
            author=self.core,
            now=self.services.clock(),
        )
        repos.update_ref(project, f"refs/heads/{branch}", commit.sha, tip)
        return commit.sha

    def change(
        self,
        project: str,
        subject: str,
        files: Files | None = None,
        *,
        branch: str = "master",
        parent: ChangeRef | None = None,
        depends_on: Sequence[ChangeRef] = (),
        body: str = "",
    ) -> ChangeRef:
        """Upload a new change (patch set 1), on the branch tip or on `parent`'s
        patch set; `depends_on` adds Depends-On footers with the changes' URLs."""
        return self._upload(
            project,
            subject,
            files,
            branch,
            parent=parent,
            depends_on=depends_on,
            body=body,
            change_key=None,
        )

    def new_patchset(
        self, change: ChangeRef, files: Files | None = None, *, parent: ChangeRef | None = None
    ) -> ChangeRef:
        detail = self._row(change.number)
        return self._upload(
            detail["project"],
            self._subjects[change.number],
            files or {f"ps-{change.number}.txt": f"revision of {change.number}"},
            detail["branch"],
            parent=parent,
            depends_on=(),
            body="",
            change_key=detail["change_key"],
        )

    def approve(self, change: ChangeRef, *, code_review: int = 2, workflow: int = 1) -> None:
        self.review(change, {"Code-Review": code_review, "Workflow": workflow})

    def review(
        self,
        change: ChangeRef,
        labels: Mapping[str, int],
        message: str = "",
        *,
        by: Account | None = None,
    ) -> None:
        self.services.reviews.post(
            str(change.number),
            str(change.patchset),
            by or self.core,
            ReviewRequest(message=message, labels=dict(labels)),
        )

    def comment(self, change: ChangeRef, message: str) -> None:
        self.review(change, {}, message, by=self.owner)

    def submit(self, change: ChangeRef) -> None:
        """Submit as the core reviewer, outside the gate (as a project owner may)."""
        [detail] = self.services.review.details([change.number], LoadOptions())
        self.services.submit.submit(detail.change, self.core)

    def abandon(self, change: ChangeRef) -> None:
        self.services.edits.abandon(str(change.number), self.core, None)

    # --- the gate --------------------------------------------------------------------

    def settle(self, *, rounds: int = 10_000) -> None:
        """Run the scheduler and the executor until neither has anything to do
        (held builds stay held)."""
        for _ in range(rounds):
            busy = self.scheduler.step()
            finished = self.executor.run()
            if not busy and not finished and self.scheduler.settled():
                return
        raise AssertionError("the gate did not settle")

    def history(self, name: str | None = None) -> list[FakeBuild]:
        return self.executor.builds(name)

    def running(self, name: str | None = None) -> list[FakeBuild]:
        return self.executor.running_builds(name)

    def status(self, change: ChangeRef) -> str:
        return str(self._row(change.number)["status"])

    def reports(self, change: ChangeRef) -> list[str]:
        """The messages the CI account posted on the change, oldest first."""
        ci = self.services.accounts.find(self.gating.ci_account)
        assert ci is not None
        with read_transaction(self.services.engine) as conn:
            rows = conn.execute(
                t.change_messages.select()
                .where(
                    t.change_messages.c.change_number == change.number,
                    t.change_messages.c.author_id == ci.id,
                )
                .order_by(t.change_messages.c.created_at)
            ).all()
        return [row.message for row in rows]

    def vote(self, change: ChangeRef, label: str) -> int:
        """The CI account's current vote on `label`."""
        ci = self.services.accounts.find(self.gating.ci_account)
        assert ci is not None
        with read_transaction(self.services.engine) as conn:
            value = conn.execute(
                t.approvals.select()
                .with_only_columns(t.approvals.c.value)
                .where(
                    t.approvals.c.change_number == change.number,
                    t.approvals.c.account_id == ci.id,
                    t.approvals.c.label == label,
                )
                .order_by(t.approvals.c.patch_set.desc())
                .limit(1)
            ).scalar()
        return int(value or 0)

    def gate_status(self, tenant: str = "main") -> dict[str, Any]:
        return self.scheduler.gate(tenant).status(self.services.clock() / 1e6)

    # --- inside -----------------------------------------------------------------------

    def _account(self, username: str, name: str, groups: list[str] | None = None) -> Account:
        existing = self.services.accounts.find(username)
        if existing is not None:
            return existing
        return self.services.accounts.create_account(
            username, full_name=name, email=f"{username}@example.com", groups=groups or []
        )

    def _row(self, number: int) -> dict[str, Any]:
        with read_transaction(self.services.engine) as conn:
            row = conn.execute(t.changes.select().where(t.changes.c.number == number)).one()
        return dict(row._mapping)

    def _upload(
        self,
        project: str,
        subject: str,
        files: Files | None,
        branch: str,
        *,
        parent: ChangeRef | None,
        depends_on: Sequence[ChangeRef],
        body: str,
        change_key: str | None,
    ) -> ChangeRef:
        repos = self.services.repos
        if parent is not None:
            base = repos.resolve(project, _change_ref(parent))
        else:
            base = repos.resolve(project, f"refs/heads/{branch}")
        footers = [f"Depends-On: {self._url(d)}" for d in depends_on]
        if change_key is None:
            change_key = change_key_for(f"{project}:{subject}:{len(self._subjects)}")
        message = subject + "\n\n" + (body + "\n\n" if body else "")
        message += "\n".join([*footers, f"Change-Id: {change_key}"]) + "\n"
        commit = _commit(
            self.services,
            project,
            parent=base,
            files=files or {f"{subject}.txt": f"{subject}\n"},
            message=message,
            author=self.owner,
            now=self.services.clock(),
        )
        reply = self.services.uploads.receive_push(
            project,
            self.owner.username,
            [Command(ZERO_SHA, commit.sha, f"refs/for/{branch}")],
        )
        if reply.results[0] is not None:
            raise AssertionError(f"upload refused: {reply.results[0]}: {reply.messages}")
        with read_transaction(self.services.engine) as conn:
            row = conn.execute(t.changes.select().where(t.changes.c.change_key == change_key)).one()
            number = int(row.number)
            patchset = int(row.current_patch_set)
        self._subjects[number] = subject
        return ChangeRef(number, patchset)

    def _url(self, change: ChangeRef) -> str:
        return (
            f"{self.services.public_url}c/{self._row(change.number)['project']}/+/{change.number}"
        )


def _change_ref(change: ChangeRef) -> str:
    return f"refs/changes/{change.number % 100:02d}/{change.number}/{change.patchset}"
