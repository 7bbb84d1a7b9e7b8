"""A trivial job through the executor against plain ansible-playbook.

    .venv/bin/python -m benchmarks.executor_trivial [--runs 5] [--node sandbox|folder] [--trusted]

The job runs one playbook with one `command` task on one local node: a
bubblewrap node of the local provider (`sandbox`, the default), or the test
launcher's unsandboxed folder node (`folder`). The playbook is untrusted (it
runs in the executor's sandbox) unless `--trusted`. Measured,
for the executor: from `start()` (which asks the launcher for the node) to
the first task starting (the task's line in job-output.txt), and to
`BuildCompleted`. The baseline, in the same run: plain `ansible-playbook` of
the same playbook on the same kind of node (for `sandbox`, one node made by
the provider beforehand, through the same connection plugin), from spawning it to its first
task's line and to its exit. Goals: at most 0.5 s more to the first task,
and the whole build at most 1.5x plain Ansible.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lockgate
from lockgate.adapters.ansible.runner import PLUGINS, SANDBOX_PLUGINS, ansible_playbook
from lockgate.adapters.providers.local import LocalProvider
from lockgate.core.config.frozen import FrozenJob
from lockgate.core.nodes.model import Node
from lockgate.testing.executor_site import ExecutorSite, one_node, playbook

BOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Trivial
      command: echo trivial
"""


def _task_time(log: Path) -> float:
    """Wall-clock time of the job's first TASK line in a job-output.txt (the
    executor's own workspace step, if it ran one, does not count)."""
    in_job = False
    for line in log.read_text().splitlines():
        if "| RUN START: [" in line or "| PRE-RUN START: [" in line:
            in_job = True
        if in_job and "| TASK [" in line:
            stamp = line.split(" | ")[0]
            when = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
            return when.replace(tzinfo=datetime.UTC).timestamp()
    raise RuntimeError(f"no task in {log}")


def plain(root: Path, host: dict[str, object]) -> tuple[float, float]:
    """(seconds to the first task, seconds in all) of plain ansible-playbook."""
    root.mkdir(parents=True)
    (root / "play.yaml").write_text(BOOK)
    (root / "inventory.json").write_text(json.dumps({"all": {"hosts": {"node": host}}}))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
        "PYTHONPATH": str(Path(lockgate.__file__).resolve().parents[1]),
        "ANSIBLE_STDOUT_CALLBACK": "lockgate_log",
        "ANSIBLE_CALLBACK_PLUGINS": str(PLUGINS / "callback"),
        "ANSIBLE_CONNECTION_PLUGINS": str(SANDBOX_PLUGINS),
        "ANSIBLE_LOCAL_TEMP": str(root / "tmp"),
        "LOCKGATE_LOG_DIR": str(root),
        "LOCKGATE_PHASE": "run",
    }
    began = time.time()
    subprocess.run(
        [ansible_playbook(), "-i", str(root / "inventory.json"), str(root / "play.yaml")],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    total = time.time() - began
    return _task_time(root / "job-output.txt") - began, total


def executor(site: ExecutorSite, *, trusted: bool) -> tuple[float, float]:
    change = site.change("org/app", {"x.txt": "x\n"})
    run = (playbook("org/app", "run.yaml", trusted=trusted),)
    job = FrozenJob("trivial", nodeset=one_node(), run=run)
    began = time.time()
    action = site.start(job, [change])
    done = site.wait(action.build)
    total = time.time() - began
    if done.result != "SUCCESS":
        raise RuntimeError(f"the trivial build ended {done.result}: {done.error}")
    return _task_time(site.log_folder(done) / "job-output.txt") - began, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--node", choices=("sandbox", "folder"), default="sandbox")
    parser.add_argument("--trusted", action="store_true", help="run the playbook as trusted")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        root.chmod(0o711)  # the sandbox user reaches the node folders
        provider = None
        host: dict[str, object] = {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        }  # fmt: skip
        if args.node == "sandbox":
            provider = LocalProvider("local", root / "local-nodes", ["local"])
            baseline = Node("baseline", "local", "local", "main", "building", 0.0, 0.0)
            machine = provider.create(baseline)
            while not machine.advance():
                pass
            host = dict(machine.connection)
        site = ExecutorSite(root / "site", workers=1, provider=provider)
        try:
            site.project("org/app", {"run.yaml": BOOK})
            rows = []
            for n in range(args.runs):
                rows.append((plain(root / f"plain{n}", host), executor(site, trusted=args.trusted)))
        finally:
            site.close()
    plain_first = statistics.median(r[0][0] for r in rows)
    plain_total = statistics.median(r[0][1] for r in rows)
    ex_first = statistics.median(r[1][0] for r in rows)
    ex_total = statistics.median(r[1][1] for r in rows)
    kind = "trusted" if args.trusted else "untrusted"
    print(f"trivial job ({kind} playbook) on a {args.node} node, {args.runs} runs, medians")
    print(
        f"  plain ansible-playbook: first task {plain_first:6.2f} s, whole run {plain_total:6.2f} s"
    )
    print(f"  executor:               first task {ex_first:6.2f} s, whole build {ex_total:6.2f} s")
    print(
        f"  first task beyond Ansible's own start: {ex_first - plain_first:+.2f} s (goal <= 0.50 s)"
    )
    print(f"  whole build / plain Ansible: {ex_total / plain_total:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
