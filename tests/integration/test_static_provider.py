"""Static nodes: slots of SSH hosts, reached by a real OpenSSH server the test
starts on a loopback port, and real ansible-playbook through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.adapters.providers.static import StaticHost, StaticProvider
from lockgate.core.nodes.model import BUILDING, Node
from lockgate.services.node_ports import LaunchError
from lockgate.testing.playbooks import run_playbook
from lockgate.testing.sshd import SshServer, free_port, sshd_available, start_sshd

pytestmark = pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    with start_sshd(tmp_path / "sshd") as server:
        yield server


def host_of(server: SshServer, **changes: object) -> StaticHost:
    values: dict[str, object] = {
        "name": "box", "address": server.address, "port": server.port, "user": server.user,
        "key": server.client_key, "labels": frozenset({"static"}), "max_parallel_jobs": 2,
    }
    values.update(changes)
    return StaticHost(**values)  # type: ignore[arg-type]


def node_row(node_id: str, label: str = "static") -> Node:
    return Node(id=node_id, label=label, provider="static", pool="main", state=BUILDING,
                created=0.0, state_time=0.0)


def launch(provider: StaticProvider, node: Node, external_id: str | None = None) -> tuple[str, dict]:
    machine = provider.create(node, external_id)
    for _ in range(400):
        if machine.advance():
            assert machine.external_id is not None
            return machine.external_id, dict(machine.connection)
        import time

        time.sleep(0.025)
    raise AssertionError("the launch never finished")


def delete(provider: StaticProvider, node: Node, external_id: str) -> None:
    machine = provider.delete(node, external_id)
    while not machine.advance():
        pass


def test_a_playbook_runs_on_a_static_node_over_ssh(tmp_path: Path, sshd: SshServer) -> None:
    provider = StaticProvider("static", [host_of(sshd)], known_hosts=tmp_path / "known_hosts")
    node = node_row("n1")
    external_id, connection = launch(provider, node)
    assert external_id == "box#0"
    # the first contact recorded the host's key, and Ansible is held to it
    assert sshd.host_public_key.split()[1] in (tmp_path / "known_hosts").read_text()
    assert "StrictHostKeyChecking=yes" in connection["ansible_ssh_common_args"]
    work = tmp_path / "work"
    playbook = """
- hosts: all
  gather_facts: false
  tasks:
    - {command: "echo from the static node", register: said}
    - {assert: {that: ["said.stdout == 'from the static node'"]}}
    - {copy: {content: "copied\\n", dest: "%(dir)s/copied.txt"}}
    - {fetch: {src: "%(dir)s/copied.txt", dest: "fetched/", flat: true}}
""" % {"dir": tmp_path / "remote"}
    (tmp_path / "remote").mkdir()
    run = run_playbook(work, {"node": connection}, playbook)
    assert run.returncode == 0, run.output + sshd.log
    assert (work / "fetched" / "copied.txt").read_text() == "copied\n"
    assert provider.alive(node)
    delete(provider, node, external_id)
    assert provider.held() == {}
    assert not provider.alive(node)


def test_slots_are_limited_by_max_parallel_jobs_and_freed_on_delete(
    tmp_path: Path, sshd: SshServer
) -> None:
    cleanup_log = tmp_path / "cleaned"
    host = host_of(sshd, cleanup=f"echo slot $LOCKGATE_SLOT >> {cleanup_log}")
    provider = StaticProvider("static", [host], known_hosts=tmp_path / "known_hosts")
    first, _ = launch(provider, node_row("a"))
    second, _ = launch(provider, node_row("b"))
    assert {first, second} == {"box#0", "box#1"}
    with pytest.raises(LaunchError, match="every slot of label 'static' is taken"):
        launch(provider, node_row("c"))
    delete(provider, node_row("a"), first)
    assert cleanup_log.read_text() == "slot 0\n"
    third, _ = launch(provider, node_row("c"))
    assert third == "box#0"
    assert provider.leaked({"box#0"}) == ["box#1"]
    provider.remove_leaked("box#1")
    assert provider.held() == {"box#0": "c"}


def test_an_unreachable_host_is_a_launch_error_and_keeps_no_slot(
    tmp_path: Path, sshd: SshServer
) -> None:
    provider = StaticProvider(
        "static", [host_of(sshd, port=free_port())], known_hosts=tmp_path / "known_hosts",
        connect_timeout=2,
    )
    with pytest.raises(LaunchError, match=r"static host 'box' .* is not reachable over ssh"):
        launch(provider, node_row("n1"))
    assert provider.held() == {}


def test_a_host_whose_key_changed_is_refused(tmp_path: Path, sshd: SshServer) -> None:
    known = tmp_path / "known_hosts"
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    provider = StaticProvider("static", [host_of(sshd, host_key=other)], known_hosts=known)
    with pytest.raises(LaunchError, match="not reachable"):
        launch(provider, node_row("n1"))


def test_a_label_no_host_has_is_a_launch_error(tmp_path: Path, sshd: SshServer) -> None:
    provider = StaticProvider("static", [host_of(sshd)], known_hosts=tmp_path / "known_hosts")
    with pytest.raises(LaunchError, match="no host with label 'gpu'"):
        launch(provider, node_row("n1", "gpu"))


def test_a_resumed_launch_takes_the_same_slot(tmp_path: Path, sshd: SshServer) -> None:
    provider = StaticProvider("static", [host_of(sshd)], known_hosts=tmp_path / "known_hosts")
    external_id, _ = launch(provider, node_row("n1"), external_id="box#1")
    assert external_id == "box#1"
    assert provider.held() == {"box#1": "n1"}
    with pytest.raises(LaunchError, match="no slot"):
        launch(provider, node_row("n2"), external_id="box#7")
