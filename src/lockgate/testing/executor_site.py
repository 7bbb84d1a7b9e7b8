"""A site for the executor's tests and benchmark: hosted repositories, changes,
the real speculative merger freezing items, the fake launcher's folder nodes,
the site's filesystem log store, and the real executor with its outcomes collected."""

from __future__ import annotations

import queue
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from lockgate.adapters.git.repos import RepoStore, git_env
from lockgate.adapters.git.speculative import MergeStep, SpeculativeMerger
from lockgate.adapters.logstore.filesystem import FilesystemLogStore
from lockgate.adapters.secret_keys import SecretKeys
from lockgate.core.config.frozen import FrozenJob, FrozenPlaybook
from lockgate.core.config.objects import NodeDef, NodesetDef
from lockgate.core.gating.actions import StartBuild
from lockgate.core.gating.changes import Change
from lockgate.core.gating.events import BuildCompleted, BuildStarted
from lockgate.services.executor import AnsibleExecutor, ExecutorSettings
from lockgate.services.node_ports import Launcher, Provider
from lockgate.services.secrets import SecretService
from lockgate.testing.fake_launcher import FakeLauncher

MERGER = ("Lockgate Merger", "merger@lockgate.test")


def git_in(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=git_env(), check=False
    )
    if out.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {out.stderr}")
    return out.stdout.strip()


def one_node(label: str = "local", name: str = "node") -> NodesetDef:
    return NodesetDef("", (NodeDef((name,), label),))


def playbook(
    project: str, path: str, *, trusted: bool = False, branch: str = "master"
) -> FrozenPlaybook:
    return FrozenPlaybook(project, branch, path, trusted)


class ExecutorSite:
    def __init__(
        self,
        root: Path,
        *,
        labels: Sequence[str] = ("local",),
        provider: Provider | None = None,
        launcher: Launcher | None = None,
        **settings: object,
    ) -> None:
        """Nodes from the test launcher (folders, or made by `provider`), or from
        `launcher` when given (the real one)."""
        self.root = root
        self.repos = RepoStore(root / "git")
        self.launcher = FakeLauncher(root / "nodes", labels, provider)
        (root / "nodes").mkdir(parents=True, exist_ok=True)
        self.logs = FilesystemLogStore(root / "logs", "http://logs.test/")
        # small keys: the tests need real RSA, not the time 4096 bits take to make
        self.keys = SecretKeys(root / "keys", key_bits=2048)
        self.executor = AnsibleExecutor(
            self.repos,
            launcher or self.launcher,
            self.logs,
            ExecutorSettings(work_root=root / "builds", **settings),  # type: ignore[arg-type]
            secrets=SecretService(self.keys),
        )
        self.events: queue.Queue[BuildStarted | BuildCompleted] = queue.Queue()
        self.executor.bind(self.events.put)
        self._numbers = 0
        self._merger = SpeculativeMerger(self.repos, MERGER)

    def close(self) -> None:
        self.executor.close()
        self._merger.close()

    # --- repositories and changes ----------------------------------------------

    def project(self, name: str, files: Mapping[str, str]) -> str:
        self.repos.create(name)
        work = self.root / "clones" / name
        git_in(self.root, "clone", "-q", str(self.repos.path(name)), str(work))
        git_in(work, "config", "user.name", "Ada")
        git_in(work, "config", "user.email", "ada@lockgate.test")
        return self._commit(work, files, "Initial content", "HEAD:refs/heads/master")

    def change(self, project: str, files: Mapping[str, str], *, on: str | None = None) -> Change:
        """A change with `files` on `on` (the branch tip when None)."""
        work = self.root / "clones" / project
        git_in(work, "fetch", "-q", "origin", "+refs/heads/master:refs/remotes/origin/master")
        git_in(work, "checkout", "-q", "--detach", on or "origin/master")
        self._numbers += 1
        number = self._numbers
        ref = f"refs/changes/{number % 100:02d}/{number}/1"
        subject = f"Change {number}"
        sha = self._commit(work, files, subject, f"HEAD:{ref}")
        return Change(
            project, "master", number, 1, sha, ref, f"http://review.test/c/{project}/+/{number}",
            "ada", subject, subject + "\n",
        )  # fmt: skip

    def _commit(self, work: Path, files: Mapping[str, str], message: str, refspec: str) -> str:
        for name, text in files.items():
            path = work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            git_in(work, "add", name)
        git_in(work, "commit", "-q", "--allow-empty", "-m", message)
        git_in(work, "push", "-q", "origin", refspec)
        return git_in(work, "rev-parse", "HEAD")

    def freeze(self, item: str, changes: Sequence[Change]) -> dict[tuple[str, str], str]:
        """The item's speculative state, as the merger builds and publishes it."""
        heads: dict[tuple[str, str], str] = {}
        for change in changes:
            key = (change.project, change.branch)
            onto = heads.get(key) or self.repos.resolve(
                change.project, f"refs/heads/{change.branch}"
            )
            assert onto is not None
            [result] = self._merger.apply_all(
                change.project,
                onto,
                [MergeStep(change.key, change.commit, change.subject)],
                "merge",
            )
            assert result.head is not None, result.conflicts
            heads[key] = result.head
        for (project, branch), sha in heads.items():
            self._merger.publish(project, item, {branch: sha})
        return heads

    # --- builds -----------------------------------------------------------------

    def start(
        self,
        job: FrozenJob,
        changes: Sequence[Change],
        *,
        heads: Mapping[tuple[str, str], str] | None = None,
        pipeline: str = "check",
        post_review: bool = False,
    ) -> StartBuild:
        item = f"item-{uuid.uuid4().hex[:8]}"
        frozen = dict(heads) if heads is not None else self.freeze(item, changes)
        action = StartBuild(
            build=uuid.uuid4().hex,
            item=item,
            buildset=uuid.uuid4().hex,
            tenant="example",
            pipeline=pipeline,
            job=job,
            attempt=1,
            changes=tuple(changes),
            ref=None,
            precedence=1,
            relative_priority=0,
            heads=frozen,
            post_review=post_review,
        )
        self.executor.start(action)
        return action

    def wait(self, build: str, timeout: float = 120.0) -> BuildCompleted:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(event, BuildCompleted) and event.build == build:
                return event

    def log_folder(self, completed: BuildCompleted) -> Path:
        return self.logs.root / completed.url.removeprefix(self.logs.base_url).rstrip("/")
