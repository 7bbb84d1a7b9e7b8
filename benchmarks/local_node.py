"""What a local node costs: one command in its sandbox, and a playbook through
the lockgate_sandbox connection plugin, against the same work without one.

    .venv/bin/python -m benchmarks.local_node [--runs 50] [--tasks 5]

Baselines measured in the same run: a plain subprocess running `/bin/sh -c true`,
and `ansible-playbook -c local` running the same playbook on this host.
Launch and delete of a node are timed too (folder, settings; kill, remove).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from lockgate.adapters.providers import sandbox
from lockgate.adapters.providers.local import LocalProvider
from lockgate.core.nodes.model import BUILDING, Node
from lockgate.testing.playbooks import run_playbook


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(function: object, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=5)
    args = parser.parse_args()
    site = Path(tempfile.mkdtemp(prefix="lockgate-bench-"))
    site.chmod(0o711)
    try:
        provider = LocalProvider("local", site / "nodes", ["plain"])
        nodes = [
            Node(f"n{i}", "plain", "local", "main", BUILDING, 0.0, 0.0) for i in range(args.runs)
        ]

        def launch_all() -> list[Node]:
            made = []
            for node in nodes:
                machine = provider.create(node)
                machine.advance()
                made.append(node)
            return made

        start = time.perf_counter()
        launch_all()
        launch_ms = (time.perf_counter() - start) / args.runs * 1000
        root = site / "nodes" / "n0"
        plain = timed(lambda: subprocess.run(["/bin/sh", "-c", "true"], check=True), args.runs)
        boxed = timed(lambda: sandbox.run_in_node(root, ["/bin/sh", "-c", "true"]), args.runs)
        print(f"one command, plain subprocess: {median_ms(plain):7.1f} ms (median)")
        print(f"one command, in a local node:  {median_ms(boxed):7.1f} ms (median)")
        print(
            f"  ratio {median_ms(boxed) / median_ms(plain):.1f}x, "
            f"+{median_ms(boxed) - median_ms(plain):.1f} ms per command"
        )

        tasks = "\n".join("    - {command: 'true'}" for _ in range(args.tasks))
        playbook = f"- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}\n"
        machine = provider.create(nodes[0], "n0")
        machine.advance()
        connection = dict(machine.connection)
        local = {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}
        start = time.perf_counter()
        base_run = run_playbook(site / "play-local", {"node": local}, playbook)
        base_s = time.perf_counter() - start
        start = time.perf_counter()
        node_run = run_playbook(site / "play-node", {"node": connection}, playbook)
        node_s = time.perf_counter() - start
        assert base_run.returncode == 0 and node_run.returncode == 0, node_run.output
        print(f"playbook of {args.tasks} tasks, ansible -c local:  {base_s:6.2f} s")
        print(f"playbook of {args.tasks} tasks, on a local node:   {node_s:6.2f} s")
        print(f"  ratio {node_s / base_s:.2f}x")

        start = time.perf_counter()
        for node in nodes:
            deleter = provider.delete(node, node.id)
            while not deleter.advance():
                pass
        delete_ms = (time.perf_counter() - start) / args.runs * 1000
        print(
            f"launch of a node: {launch_ms:.1f} ms; delete: {delete_ms:.1f} ms "
            f"(mean of {args.runs})"
        )
    finally:
        shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()
