"""A trivial job through the executor against plain ansible-playbook.

    .venv/bin/python -m benchmarks.executor_trivial [--runs 5]

The job runs one playbook with one `command` task on one local node (the fake
launcher's folder node until the bubblewrap provider is wired in). Measured,
for the executor: from `start()` (which asks the launcher for the node) to
the first task starting (the task's line in job-output.txt), and to
`BuildCompleted`. The baseline, in the same run: plain `ansible-playbook` of
the same playbook on the same kind of host, from spawning it to its first
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

from lockgate.adapters.ansible.runner import PLUGINS, ansible_playbook
from lockgate.core.config.frozen import FrozenJob
from lockgate.testing.executor_site import ExecutorSite, one_node, playbook

BOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Trivial
      command: echo trivial
"""


def _task_time(log: Path) -> float:
    """Wall-clock time of the first TASK line of a job-output.txt."""
    for line in log.read_text().splitlines():
        if "| TASK [" in line:
            stamp = line.split(" | ")[0]
            when = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
            return when.replace(tzinfo=datetime.UTC).timestamp()
    raise RuntimeError(f"no task in {log}")


def plain(root: Path) -> tuple[float, float]:
    """(seconds to the first task, seconds in all) of plain ansible-playbook."""
    root.mkdir(parents=True)
    (root / "play.yaml").write_text(BOOK)
    inventory = {"all": {"hosts": {"node": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
    }}}}  # fmt: skip
    (root / "inventory.json").write_text(json.dumps(inventory))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
        "ANSIBLE_STDOUT_CALLBACK": "lockgate_log",
        "ANSIBLE_CALLBACK_PLUGINS": str(PLUGINS / "callback"),
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


def executor(site: ExecutorSite) -> tuple[float, float]:
    change = site.change("org/app", {"x.txt": "x\n"})
    job = FrozenJob("trivial", nodeset=one_node(), run=(playbook("org/app", "run.yaml"),))
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = ExecutorSite(root / "site", workers=1)
        try:
            site.project("org/app", {"run.yaml": BOOK})
            rows = []
            for n in range(args.runs):
                rows.append((plain(root / f"plain{n}"), executor(site)))
        finally:
            site.close()
    plain_first = statistics.median(r[0][0] for r in rows)
    plain_total = statistics.median(r[0][1] for r in rows)
    ex_first = statistics.median(r[1][0] for r in rows)
    ex_total = statistics.median(r[1][1] for r in rows)
    print(f"trivial job, {args.runs} runs, medians")
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
