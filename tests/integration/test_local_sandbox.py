"""Local nodes: real bubblewrap sandboxes driven by real ansible-playbook.

Every escape attempt runs as a task on a node; it must fail there (a failed
task), leave the host untouched, and leave nothing of the node once deleted.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lockgate.adapters.ansible.node_broker import NodeBroker, run_through
from lockgate.adapters.providers import sandbox
from lockgate.adapters.providers.local import LocalLabel, LocalProvider, local_from_options
from lockgate.adapters.providers.sandbox import NodeLimits, SandboxUnavailable
from lockgate.core.nodes.model import BUILDING, Node
from lockgate.services.node_ports import LaunchError, PoolInfo
from lockgate.testing.playbooks import PlaybookRun, run_playbook

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

LIMITS = NodeLimits(processes=64, memory_bytes=1024**3, cpu_seconds=60, disk_bytes=40 * 1024**2)


@pytest.fixture
def site(sandbox_folder: Path) -> Path:
    (sandbox_folder / "lockgate.db").write_text("site database: account passwords live here\n")
    return sandbox_folder


@pytest.fixture
def provider(site: Path) -> LocalProvider:
    return LocalProvider(
        "local",
        site / "nodes",
        [LocalLabel("plain"), LocalLabel("net", network=True)],
        limits=LIMITS,
        max_servers=4,
    )


def node_row(node_id: str, label: str = "plain") -> Node:
    return Node(
        id=node_id,
        label=label,
        provider="local",
        pool="main",
        state=BUILDING,
        created=0.0,
        state_time=0.0,
    )


def launch(provider: LocalProvider, node: Node) -> Node:
    machine = provider.create(node)
    while not machine.advance():
        pass
    assert machine.external_id == node.id
    return Node(
        **{**{f: getattr(node, f) for f in node.__slots__}, "connection": machine.connection}
    )


def outer_sandboxes(root: Path) -> list[int]:
    """bwrap processes binding this node's folders: found by command line, not by
    the marker the provider uses, so that the check is independent of it."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(root / "home").encode() in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture
def node(provider: LocalProvider) -> Iterator[Callable[..., Node]]:
    made: list[Node] = []

    def make(label: str = "plain") -> Node:
        made.append(launch(provider, node_row(f"node-{len(made)}", label)))
        return made[-1]

    yield make
    for item in made:
        root = Path(item.connection["lockgate_node_root"])
        machine = provider.delete(item, item.id)
        for _ in range(200):
            if machine.advance():
                break
            time.sleep(0.05)
        assert not root.exists(), "the node's folder is left"
        assert list(sandbox.node_processes(root)) == []
        assert outer_sandboxes(root) == [], "a sandbox of the node is still running"


def play(tmp_path: Path, node: Node, *tasks: str, **host_vars: object) -> PlaybookRun:
    body = "\n".join(f"    - {task}" for task in tasks)
    text = f"- hosts: all\n  gather_facts: false\n  tasks:\n{body}\n"
    return run_playbook(tmp_path / "play", {"node": {**node.connection, **host_vars}}, text)


def assert_task_failed(run: PlaybookRun) -> None:
    assert run.failed("node") == 1, run.output
    assert run.unreachable("node") == 0, run.output


def test_a_playbook_runs_commands_and_copies_files_on_a_local_node(
    tmp_path: Path, node: Callable[..., Node]
) -> None:
    item = node()
    root = Path(item.connection["lockgate_node_root"])
    tasks = [
        "{command: id, register: who}",
        "{assert: {that: [\"'uid=1000(zuul)' in who.stdout\"]}}",
        '{shell: "echo made by shell > ~/from-shell.txt && cd /workspace && pwd", register: where}',
        "{assert: {that: [\"where.stdout == '/workspace'\"]}}",
        '{copy: {content: "copied in\\n", dest: /workspace/copied.txt}}',
        '{file: {path: /workspace/made/deeper, state: directory, mode: "0750"}}',
        "{file: {path: /tmp/scratch, state: touch}}",
        "{fetch: {src: /home/zuul/from-shell.txt, dest: fetched/, flat: true}}",
    ]
    run = play(tmp_path, item, *tasks)
    assert run.returncode == 0, run.output
    assert run.failed("node") == 0
    assert (tmp_path / "play" / "fetched" / "from-shell.txt").read_text() == "made by shell\n"
    assert (root / "workspace" / "copied.txt").read_text() == "copied in\n"
    assert (root / "workspace" / "made" / "deeper").is_dir()
    assert (root / "tmp" / "scratch").exists()


@pytest.mark.parametrize(
    "target", ["/usr/escape", "/etc/escape", "/escape", str(REPO / "escape"), "/root/escape"]
)
def test_writing_outside_the_node_fails(
    tmp_path: Path, node: Callable[..., Node], target: str
) -> None:
    run = play(tmp_path, node(), f'{{shell: "echo out > {target}"}}')
    assert_task_failed(run)
    assert not Path(target).exists()


def test_the_site_database_and_other_nodes_are_invisible(
    tmp_path: Path, site: Path, node: Callable[..., Node]
) -> None:
    other = node()
    mine = node()
    other_root = Path(other.connection["lockgate_node_root"])
    (other_root / "home" / "secret.txt").write_text("the other node's\n")
    for path in (
        site / "lockgate.db",
        other_root / "home" / "secret.txt",
        other_root / ".lockgate" / "node.json",
    ):
        run = play(tmp_path, mine, f'{{command: "cat {path}"}}')
        assert_task_failed(run)
        assert "passwords" not in run.output and "other node" not in run.output


def test_a_playbook_cannot_point_the_plugin_at_another_folder(
    tmp_path: Path, node: Callable[..., Node]
) -> None:
    other = node()
    mine = node()
    # the other node's folder with this node's token: refused before anything runs
    run = play(
        tmp_path,
        mine,
        '{command: "true"}',
        lockgate_node_root=other.connection["lockgate_node_root"],
    )
    assert run.unreachable("node") == 1, run.output
    assert "token" in run.output


def test_the_node_broker_runs_commands_in_the_builds_own_nodes_only(
    tmp_path: Path, node: Callable[..., Node]
) -> None:
    # what an untrusted playbook, sandboxed on the executor, reaches its nodes through
    mine, other = node(), node()
    root = Path(mine.connection["lockgate_node_root"])
    broker = NodeBroker(
        tmp_path / "nodes.sock", {str(root): mine.connection["lockgate_node_token"]}
    )
    socket_path = str(broker.path)
    said = run_through(
        socket_path, root, ["sh", "-c", "echo $HOME; cat"], stdin=b"in", timeout=None
    )
    assert (said.returncode, said.stdout) == (0, b"/home/zuul\nin")
    with pytest.raises(sandbox.NodeGone, match="is not a node of this build"):
        run_through(
            socket_path, Path(other.connection["lockgate_node_root"]), ["true"], stdin=None,
            timeout=None,
        )  # fmt: skip
    # closing it (the playbook ended) kills what it still runs in the node
    waiting = threading.Thread(
        target=lambda: run_through(socket_path, root, ["sleep", "300"], stdin=None, timeout=None)
    )
    waiting.start()
    deadline = time.monotonic() + 30
    while not outer_sandboxes(root):
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.05)
    broker.close()
    waiting.join(timeout=30)
    assert not waiting.is_alive() and outer_sandboxes(root) == []
    assert not broker.path.exists()


class Listener:
    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.server.settimeout(0.2)
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.stopped = True
        self.thread.join()
        self.server.close()


CONNECT = (
    "python3 -c \\\"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=5)\\\""
)


def test_a_server_on_the_host_loopback_is_unreachable(
    tmp_path: Path, node: Callable[..., Node]
) -> None:
    listener = Listener()
    try:
        run = play(tmp_path, node("plain"), f'{{shell: "{CONNECT.format(port=listener.port)}"}}')
        assert_task_failed(run)
        assert listener.accepted == 0
        # the same task on a node whose label allows network gets through
        run = play(tmp_path, node("net"), f'{{shell: "{CONNECT.format(port=listener.port)}"}}')
        assert run.failed("node") == 0, run.output
        assert listener.accepted == 1
    finally:
        listener.close()


def test_processes_outside_the_node_cannot_be_signalled(
    tmp_path: Path, node: Callable[..., Node]
) -> None:
    victim = subprocess.Popen(["sleep", "300"])
    try:
        run = play(tmp_path, node(), f'{{command: "kill -9 {victim.pid}"}}')
        assert_task_failed(run)
        assert victim.poll() is None, "the host's process was killed"
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()


def test_filling_the_disk_past_the_limit_fails_and_spoils_the_node(
    tmp_path: Path, provider: LocalProvider, node: Callable[..., Node]
) -> None:
    item = node()
    # files of 1 MiB each stay under the file size limit: only the folder check stops them
    fill = "for i in $(seq 1 80); do head -c 1048576 /dev/zero > ~/fill-$i; done"
    run = play(tmp_path, item, f'{{shell: "{fill}"}}')
    assert_task_failed(run)
    assert "disk limit is exceeded" in run.output
    assert not provider.alive(item)
    again = play(tmp_path, item, '{command: "true"}')
    assert again.failed("node") == 1
    shutil.disk_usage(tmp_path)  # the host still has its disk


def test_a_fork_bomb_is_contained_and_cleaned_up(tmp_path: Path, node: Callable[..., Node]) -> None:
    item = node()
    root = Path(item.connection["lockgate_node_root"])
    # every process forks for ever: the process limit makes forks fail, and the task
    python_bomb = '{command: "python3 -c \\"import os\\nwhile True: os.fork()\\""}'
    run = play(tmp_path, item, python_bomb)
    assert_task_failed(run)
    assert "Resource temporarily unavailable" in run.output
    # the shell's bomb keeps respawning under the limit until the command's time is up
    shell_bomb = '{shell: ":(){ :|:& };: ; sleep 60", args: {executable: /bin/bash}}'
    run = play(tmp_path, item, shell_bomb, lockgate_command_timeout=5)
    assert_task_failed(run)
    assert "ran past 5 s" in run.output
    # the host can still make processes, and no sandbox of the node runs on
    assert subprocess.run(["true"], check=False).returncode == 0
    assert outer_sandboxes(root) == []


def test_deleting_a_node_kills_what_its_commands_still_run(
    tmp_path: Path, provider: LocalProvider
) -> None:
    item = launch(provider, node_row("busy"))
    root = Path(item.connection["lockgate_node_root"])
    runner = threading.Thread(
        target=sandbox.run_in_node,
        args=(root, ["/bin/sh", "-c", "sleep 300 & sleep 300"]),
        daemon=True,
    )
    runner.start()
    for _ in range(100):
        if outer_sandboxes(root):
            break
        time.sleep(0.05)
    assert outer_sandboxes(root), "the command did not start"
    machine = provider.delete(item, item.id)
    while not machine.advance():
        time.sleep(0.05)
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert outer_sandboxes(root) == []
    assert not root.exists()


def test_a_launch_resumed_after_a_restart_keeps_the_node(provider: LocalProvider) -> None:
    first = launch(provider, node_row("resumed"))
    again = provider.create(node_row("resumed"), external_id="resumed")
    assert again.advance()
    assert again.connection == first.connection
    assert provider.leaked(set()) == ["resumed"]
    assert provider.leaked({"resumed"}) == []
    provider.remove_leaked("resumed")
    assert provider.leaked(set()) == []


def test_an_unknown_label_is_a_launch_error(provider: LocalProvider) -> None:
    with pytest.raises(LaunchError, match=r"no label 'huge'.*it has: net, plain"):
        provider.create(node_row("x", "huge")).advance()


def test_without_bubblewrap_the_provider_refuses_and_says_how_to_install_it(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "prlimit").symlink_to(shutil.which("prlimit") or "/usr/bin/prlimit")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        LocalProvider("local", site / "nodes", ["plain"])
    with caplog.at_level(logging.WARNING):
        unsafe = LocalProvider("local", site / "nodes", ["plain"], allow_unsandboxed=True)
    assert not unsafe.sandboxed
    assert "WITHOUT a sandbox" in caplog.text
    item = launch(unsafe, node_row("bare"))
    assert item.connection["lockgate_sandboxed"] is False
    root = Path(item.connection["lockgate_node_root"])
    assert item.connection["lockgate_workspace"] == str(root / "workspace")
    done = sandbox.run_in_node(root, ["/bin/sh", "-c", "pwd; echo $HOME"])
    assert done.stdout.decode().split() == [str(root / "home")] * 2
    unsafe.remove_leaked("bare")


def test_a_node_folder_the_sandbox_user_cannot_reach_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only as root does the sandbox run as another user")
    with pytest.raises(SandboxUnavailable, match="cannot enter"):
        LocalProvider("local", tmp_path / "nodes", ["plain"])


def test_pools_serve_some_of_the_provider_labels(site: Path) -> None:
    labels = [LocalLabel("plain"), LocalLabel("net", network=True)]
    pools = [
        PoolInfo("offline", frozenset({"plain"}), 2),
        PoolInfo("online", frozenset({"net"}), 1),
    ]
    provider = LocalProvider("local", site / "nodes", labels, pools=pools)
    assert [p.name for p in provider.pools()] == ["offline", "online"]
    with pytest.raises(ValueError, match="pool 'gpu' serves huge"):
        LocalProvider(
            "local", site / "nodes", labels, pools=[PoolInfo("gpu", frozenset({"huge"}), 1)]
        )


def test_the_provider_is_built_from_its_documented_options(site: Path) -> None:
    pools = [PoolInfo("main", frozenset({"plain", "net"}), 3)]
    options = {"max-disk": 10, "max_processes": 32, "node-folder": "sandboxes"}
    provider = local_from_options(
        "local", options, run_folder=site, labels={"plain": False, "net": True}, pools=pools
    )
    assert provider.base == site / "sandboxes"
    assert provider.limits.disk_bytes == 10 * 1024**2
    assert provider.limits.processes == 32
    assert provider.labels["net"].network
    with pytest.raises(ValueError, match="unknown option max-ram"):
        local_from_options("local", {"max-ram": 1}, run_folder=site, labels={}, pools=pools)
    with pytest.raises(ValueError, match="max-disk must be a whole number"):
        local_from_options("local", {"max-disk": "lots"}, run_folder=site, labels={}, pools=pools)


def test_symlinks_a_job_leaves_cannot_aim_copies_at_the_host(
    tmp_path: Path, site: Path, node: Callable[..., Node]
) -> None:
    item = node()
    target = site / "planted.txt"
    link = "{{file: {{src: '{}', dest: '{}', state: link, force: true}}}}"
    tasks = [
        link.format(site / "lockgate.db", "/home/zuul/db-link"),
        link.format(target, "/home/zuul/out-link"),
    ]
    assert play(tmp_path, item, *tasks).failed("node") == 0
    # fetching the link reads the path inside the sandbox, where the site is not
    run = play(tmp_path, item, "{fetch: {src: /home/zuul/db-link, dest: got/, flat: true}}")
    assert_task_failed(run)
    assert not (tmp_path / "play" / "got").exists()
    # copying onto the link happens inside the sandbox too: the host is untouched
    run = play(tmp_path, item, '{copy: {content: "planted\\n", dest: /home/zuul/out-link}}')
    assert run.failed("node") == 0, run.output
    assert not target.exists()
    landed = Path(item.connection["lockgate_node_root"]) / "home" / "out-link"
    assert landed.read_text() == "planted\n"
    assert not landed.is_symlink()


def test_the_site_settings_build_the_default_local_provider(site: Path) -> None:
    from lockgate.adapters.site import NodepoolSettings
    from lockgate.services.node_providers import build_provider

    nodepool = NodepoolSettings()
    [settings] = nodepool.providers
    provider = build_provider(settings, nodepool.labels, run_folder=site, options={"max-disk": 100})
    assert isinstance(provider, LocalProvider)
    assert provider.base == site / "nodes"
    assert [(p.name, p.labels) for p in provider.pools()] == [("main", frozenset({"local"}))]
    assert provider.limits.disk_bytes == 100 * 1024**2
