"""One build on its nodes: the job folder, the workspace, the inventory and the
playbooks of each phase, run in Zuul's order with Zuul's deadlines.

The job folder holds `work/src/<host>/<project>` (the workspace), `work/logs`,
the job content (`content/<n>`, one exported tree per playbook's project and
commit), the inventories and the extra-vars file. Untrusted playbooks get an
inventory whose implicit `localhost` connects through `lockgate_refuse`: tasks
that need no connection (debug, set_fact) work, anything that would execute
on the executor fails with the reason. Their ansible-playbook runs in the
executor's sandbox (`adapters/ansible/untrusted_playbook.py`), which sees
only the job folder's parts that playbook needs, and under restrictions on
what its lookups and actions read and write on the executor.

Secrets stay in the job folder, outside `work/` (whose `src` goes to the
nodes) and the logs: a playbook that may see some gets its own
`secrets/<n>.json`, passed with `-e` below the extra-vars, written just
before it starts and removed as soon as it ends, however it ends, so that no
later playbook finds it; `mask.json` lists every value for the log callback
to mask; the executor's own lines are masked here. `zuul_return` writes
`returned/results.json`, read when the build ends.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockgate.adapters.ansible.executor_sandbox import ExecutorSandboxUnavailable
from lockgate.adapters.ansible.runner import RunOutcome, SshControl, ansible_env, run_playbook
from lockgate.adapters.ansible.untrusted_playbook import RETURNED, UntrustedPlaybook
from lockgate.adapters.git import build_workspace as gitws
from lockgate.adapters.git.repos import GitError, RepoStore
from lockgate.adapters.providers import local as sandbox_plugin
from lockgate.adapters.providers import sandbox
from lockgate.core.builds.results import (
    ABORTED,
    ERROR,
    FAILED,
    OK,
    TIMED_OUT,
    UNREACHABLE,
    PlaybookOutcome,
    phase_name,
)
from lockgate.core.builds.returns import ReturnedDataError, check_returned
from lockgate.core.builds.variables import (
    BuildPaths,
    CheckedOut,
    extra_variables,
    inventory,
    zuul_variables,
)
from lockgate.core.builds.workspace import choose_branch, item_project, plan
from lockgate.core.config.frozen import FrozenPlaybook
from lockgate.core.gating.actions import StartBuild
from lockgate.core.nodes.model import Node
from lockgate.core.secrets import Masker
from lockgate.services.secrets import BuildSecrets

CLEANUP_TIMEOUT = 300.0  # seconds for each cleanup playbook, as Zuul's
PLAYBOOK_SUFFIXES = ("", ".yaml", ".yml")
NODE_ROOT = "lockgate_node_root"  # a node's folder on this machine, when it has one


def local_folder(node: Node) -> Path | None:
    """The folder that is the node's home, for a node reached with Ansible's
    plain `local` connection over a folder (the test launcher's); a sandboxed
    node's folder is not its home, and it gets the workspace through its
    connection."""
    root = node.connection.get(NODE_ROOT)
    if root and node.connection.get("ansible_connection") == "local":
        return Path(root)
    return None


@dataclass
class BuildRun:
    build: StartBuild
    repos: RepoStore
    job_dir: Path
    log_dir: Path
    nodes: Sequence[Node]
    cancelled: threading.Event
    host: str = "localhost"
    # "auto": nodes with a folder here get the workspace by file copy, others
    # through their connection; "connection": always through the connection
    workspace_copy: str = "auto"
    secrets: BuildSecrets = field(default_factory=BuildSecrets)
    outcomes: list[PlaybookOutcome] = field(default_factory=list)
    checked_out: list[CheckedOut] = field(default_factory=list)
    _content: dict[tuple[str, str], Path] = field(default_factory=dict)
    _secret_files: int = 0
    _ssh: SshControl | None = None

    def __post_init__(self) -> None:
        self.masker = Masker(self.secrets.values)

    def close(self) -> None:
        """The build is over: its ssh masters end."""
        if self._ssh is not None:
            self._ssh.close()
            self._ssh = None

    @property
    def work(self) -> Path:
        return self.job_dir / "work"

    # --- preparing ------------------------------------------------------------

    def prepare(self) -> None:
        """The workspace, the content, the inventories and variables; raises
        GitError or ValueError with a message naming what is wrong."""
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        (self.job_dir / RETURNED).mkdir()
        _private(self.job_dir / "mask.json", list(self.secrets.values))
        self._workspace()
        paths = BuildPaths(str(self.work), str(self.work / "src"), str(self.work / "logs"))
        zuul = zuul_variables(self.build, host=self.host, paths=paths, projects=self.checked_out)
        extra = extra_variables(self.build, zuul)
        (self.job_dir / "extra-vars.json").write_text(json.dumps(extra, default=str))
        inv = inventory(self.build, self.nodes)
        for host, node in zip(inv["all"]["hosts"].values(), self.nodes, strict=True):
            folder = local_folder(node)
            if folder is not None:
                host["lockgate_workspace_dest"] = str(folder)
        for kind in ("trusted", "untrusted"):
            folder = self.job_dir / "inventory" / kind
            (folder / "host_vars").mkdir(parents=True, exist_ok=True)
            (folder / "inventory.json").write_text(json.dumps(inv, indent=2, default=str))
            local: dict[str, Any] = {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
            }
            if kind == "untrusted":
                local = {"ansible_connection": "lockgate_refuse"}
            (folder / "host_vars" / "localhost.json").write_text(json.dumps(local))
        # zuul-info as Zuul keeps it: the inventory the build ran with
        info = self.log_dir / "zuul-info"
        info.mkdir(parents=True, exist_ok=True)
        for name, data in (("inventory.yaml", _published(inv)), ("zuul-vars.json", zuul)):
            text = json.dumps(self.masker.data(_plain(data)), indent=2, default=str)
            (info / name).write_text(text + "\n")
        (self.job_dir / "ansible.cfg").write_text("[defaults]\n")

    def _workspace(self) -> None:
        _project, item_branch = item_project(self.build)
        frozen: dict[str, dict[str, str]] = {}
        for (project, branch), sha in self.build.heads.items():
            frozen.setdefault(project, {})[branch] = sha
        for checkout in plan(self.build, self.host):
            if not self.repos.exists(checkout.project):
                raise GitError(f"project {checkout.project} of the build has no repository")
            branch = choose_branch(
                override=checkout.override,
                item_branch=item_branch,
                default_branch=gitws.default_branch(self.repos, checkout.project),
                branches=sorted(
                    set(gitws.branches(self.repos, checkout.project))
                    | set(frozen.get(checkout.project, {}))
                ),
            )
            cloned = gitws.clone(
                self.repos,
                checkout.project,
                self.work / checkout.src_dir,
                checkout=branch,
                frozen=frozen.get(checkout.project, {}),
            )
            self.checked_out.append(CheckedOut(checkout, cloned.branch, cloned.commit))

    def playbook_file(self, playbook: FrozenPlaybook) -> Path:
        """The playbook's file in its project's content at the build's state:
        the item's frozen head of that project and branch, else its tip."""
        sha = self.build.heads.get((playbook.project, playbook.branch))
        if sha is None:
            sha = self.repos.resolve(playbook.project, f"refs/heads/{playbook.branch}")
        if sha is None:
            raise GitError(
                f"project {playbook.project} has no branch {playbook.branch} for {playbook.path}"
            )
        key = (playbook.project, sha)
        if key not in self._content:
            folder = self.job_dir / "content" / str(len(self._content))
            gitws.export(self.repos, playbook.project, sha, folder)
            self._content[key] = folder
        root = self._content[key]
        for suffix in PLAYBOOK_SUFFIXES:
            candidate = root / (playbook.path + suffix)
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(
            f"playbook {playbook.path} is not in project {playbook.project} at "
            f"{sha[:12]} (branch {playbook.branch}): fix the job's playbook path"
        )

    # --- the workspace on the nodes ------------------------------------------

    def push_workspace(self) -> PlaybookOutcome:
        """Copy `work/src` to every node's `src`: by file copy into a node's own
        folder, or through the connection (a tar, unpacked by a built-in playbook)."""
        through: list[Node] = []
        sandboxed: list[Node] = []
        for node in self.nodes:
            folder = local_folder(node)
            if self.workspace_copy != "auto":
                through.append(node)
            elif folder is not None:
                shutil.copytree(
                    self.work / "src", folder / "src", symlinks=True, dirs_exist_ok=True
                )
            elif node.connection.get("ansible_connection") == sandbox_plugin.PLUGIN:
                sandboxed.append(node)
            else:
                through.append(node)
        if not through and not sandboxed:
            return PlaybookOutcome("setup", "(workspace)", OK)
        tar = self.job_dir / "src.tar"
        subprocess.run(["tar", "-cf", str(tar), "-C", str(self.work), "src"], check=True)
        for node in sandboxed:
            # one command in the sandbox, as the node's user, into its home (its cwd)
            try:
                done = sandbox.run_in_node(
                    Path(node.connection[NODE_ROOT]),
                    ["tar", "-x", "-f", "-"],
                    stdin=tar.read_bytes(),
                    token=node.connection.get("lockgate_node_token"),
                    timeout=600.0,
                )
            except sandbox.NodeGone as gone:
                return PlaybookOutcome("setup", "(workspace)", UNREACHABLE, str(gone))
            if done.returncode != 0:
                why = done.stderr.decode(errors="replace").strip()
                return PlaybookOutcome("setup", "(workspace)", FAILED, f"unpacking: {why}")
        if not through:
            return PlaybookOutcome("setup", "(workspace)", OK)
        book = self.job_dir / "push-workspace.yaml"
        book.write_text(
            json.dumps(
                [
                    {
                        "name": "Copy the workspace to the nodes",
                        "hosts": "all",
                        "gather_facts": False,
                        "tasks": [
                            {
                                "name": "Unpack the build's projects into the node's home",
                                "ansible.builtin.unarchive": {
                                    "src": str(tar),
                                    "dest": "{{ lockgate_workspace_dest | default('~') }}",
                                },
                            }
                        ],
                    }
                ]
            )
        )
        return self._run("setup", book, "(workspace)", trusted=True, timeout=600.0)

    # --- phases ---------------------------------------------------------------

    def run_phases(self) -> list[PlaybookOutcome]:
        job = self.build.job
        deadline = None if job.timeout is None else time.monotonic() + job.timeout
        main_ok = True
        for phase, books in (("pre", job.pre_run), ("run", job.run)):
            for book in books:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                outcome = self._playbook(phase, book, left)
                if outcome.status != OK:
                    main_ok = False
                    break
            if not main_ok:
                break
        if self.cancelled.is_set():
            return self.outcomes
        success = main_ok
        will_retry = not main_ok and self.outcomes[-1].phase == "pre"
        post = job.post_timeout
        for book in job.post_run:
            outcome = self._playbook(
                "post",
                book,
                None if post is None else float(post),
                success=success,
                will_retry=will_retry,
            )
            if outcome.status == ABORTED:
                return self.outcomes
        for book in job.cleanup_run:
            self._playbook("cleanup", book, CLEANUP_TIMEOUT, success=success, will_retry=will_retry)
        return self.outcomes

    def _playbook(
        self,
        phase: str,
        book: FrozenPlaybook,
        timeout: float | None,
        *,
        success: bool | None = None,
        will_retry: bool = False,
    ) -> PlaybookOutcome:
        where = f"{book.project}/{book.path}"
        if timeout is not None and timeout <= 0:
            return self._record(PlaybookOutcome(phase, where, TIMED_OUT, "no time left"))
        try:
            path = self.playbook_file(book)
        except (GitError, FileNotFoundError) as exc:
            return self._record(PlaybookOutcome(phase, where, ERROR, str(exc)))
        extra: list[str] = []
        secrets = self.secrets.for_playbook(book)
        secrets_file = self._secrets_file(secrets) if secrets else None
        if secrets_file is not None:
            extra = ["-e", f"@{secrets_file}"]
        extra.append("-e")
        extra.append(f"@{self.job_dir / 'extra-vars.json'}")
        if success is not None:
            extra += ["-e", json.dumps({"zuul_success": success, "zuul_will_retry": will_retry})]
        try:
            outcome = self._run(
                phase,
                path,
                where,
                trusted=book.trusted,
                timeout=timeout,
                extra=extra,
                secrets_file=secrets_file,
            )
        finally:
            # only while its playbook runs: no later playbook can find it
            if secrets_file is not None:
                secrets_file.unlink(missing_ok=True)
        if outcome.status == TIMED_OUT and phase in ("pre", "run"):
            # what timed out is the job, over both phases, not this playbook
            self.outcomes[-1] = outcome = PlaybookOutcome(
                phase,
                where,
                TIMED_OUT,
                f"the job's timeout of {self.build.job.timeout} s was reached",
            )
        return outcome

    def _run(
        self,
        phase: str,
        path: Path,
        where: str,
        *,
        trusted: bool,
        timeout: float | None,
        extra: Sequence[str] | None = None,
        secrets_file: Path | None = None,
    ) -> PlaybookOutcome:
        """Run one playbook; `extra` are its `-e` arguments (by default the
        build's extra-vars alone), `secrets_file` the one among them holding
        its secrets."""
        kind = "trusted" if trusted else "untrusted"
        roles = [path.parent / "roles", *self._content_roles()]
        if self._ssh is None and any(
            n.connection.get("ansible_connection") == "ssh" for n in self.nodes
        ):
            self._ssh = SshControl()
        env = ansible_env(
            job_dir=self.job_dir,
            log_dir=self.log_dir,
            phase=phase,
            playbook=where,
            roles_path=roles,
            extra={
                "LOCKGATE_MASK": str(self.job_dir / "mask.json"),
                "LOCKGATE_RESULTS": str(self.results_path),
            },
            ssh_control=self._ssh,
        )
        if extra is None:
            extra = ["-e", f"@{self.job_dir / 'extra-vars.json'}"]
        args = [
            "-i",
            str(self.job_dir / "inventory" / kind / "inventory.json"),
            *extra,
            str(path),
        ]
        stderr_path = self.job_dir / "ansible-stderr.txt"
        if trusted:
            result: RunOutcome = run_playbook(
                args,
                env=env,
                cwd=self.work,
                timeout=timeout,
                cancelled=self.cancelled,
                stderr_path=stderr_path,
            )
            return self._record(PlaybookOutcome(phase, where, result.status, result.message))
        try:
            untrusted = UntrustedPlaybook(
                self.job_dir, self.log_dir, self.nodes, self.masker, secrets_file=secrets_file
            )
        except ExecutorSandboxUnavailable as problem:
            return self._record(PlaybookOutcome(phase, where, ERROR, str(problem)))
        with untrusted:
            result = run_playbook(
                args,
                env=untrusted.environment(env),
                cwd=self.work,
                timeout=timeout,
                cancelled=self.cancelled,
                stderr_path=stderr_path,
                command=untrusted.command(),
            )
        return self._record(PlaybookOutcome(phase, where, result.status, result.message))

    def _content_roles(self) -> list[Path]:
        return [
            folder / "roles" for folder in self._content.values() if (folder / "roles").is_dir()
        ]

    def _record(self, outcome: PlaybookOutcome) -> PlaybookOutcome:
        self.outcomes.append(outcome)
        if outcome.status != OK:
            self.log_line(
                f"{phase_name(outcome.phase)} {outcome.path}: {outcome.status}"
                f"{': ' + outcome.message if outcome.message else ''}"
            )
        return outcome

    def log_line(self, text: str) -> None:
        """A line of the executor's own in job-output.txt, secrets masked."""
        with (self.log_dir / "job-output.txt").open("a") as log:
            log.write(self.masker.text(f"{_stamp()} | {text}") + "\n")

    # --- secrets and returned data ---------------------------------------------

    def _secrets_file(self, variables: dict[str, Any]) -> Path:
        """A new file of `variables`, for one playbook run (its caller removes it)."""
        path = self.job_dir / "secrets" / f"{self._secret_files}.json"
        self._secret_files += 1
        path.parent.mkdir(mode=0o700, exist_ok=True)
        _private(path, variables)
        return path

    @property
    def results_path(self) -> Path:
        return self.job_dir / RETURNED / "results.json"

    def returned(self) -> dict[str, Any]:
        """What the playbooks returned with zuul_return (checked when each call
        was made); a file that went bad is reported in the log and ignored."""
        try:
            text = self.results_path.read_text()
        except FileNotFoundError:
            return {}
        try:
            return check_returned(json.loads(text))
        except (ValueError, ReturnedDataError) as error:
            self.log_line(f"the data returned with zuul_return is ignored: {error}")
            return {}


def _private(path: Path, data: Any) -> None:
    """`data` as JSON in a file only this user may read."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w") as out:
        json.dump(data, out, default=str)


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def _stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + ".000000"


# How the executor reaches a node (its folder on the host, the token that proves
# the inventory was made for it) is plumbing, not the build's: kept out of the
# inventory that the logs publish.
_PLUMBING = ("lockgate_node_", "lockgate_workspace_dest")


def _published(inventory: dict[str, Any]) -> dict[str, Any]:
    hosts = inventory["all"]["hosts"]
    shown = {
        name: {k: v for k, v in host.items() if not k.startswith(_PLUMBING)}
        for name, host in hosts.items()
    }
    return {**inventory, "all": {**inventory["all"], "hosts": shown}}
