"""Running a real `ansible-playbook` against nodes, for tests: an inventory from
the nodes' connection vars, the playbook from text, the recap read back."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockgate.adapters.providers.local import CONNECTION_PLUGINS

_RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M
)


@dataclass(frozen=True, slots=True)
class PlaybookRun:
    returncode: int
    output: str
    recap: Mapping[str, Mapping[str, int]]

    def failed(self, host: str) -> int:
        return self.recap.get(host, {}).get("failed", 0)

    def unreachable(self, host: str) -> int:
        return self.recap.get(host, {}).get("unreachable", 0)


def ansible_playbook() -> str:
    """The ansible-playbook next to this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    return str(beside) if beside.exists() else "ansible-playbook"


def run_playbook(
    folder: Path,
    hosts: Mapping[str, Mapping[str, Any]],
    playbook: str,
    *,
    timeout: float = 300,
) -> PlaybookRun:
    folder.mkdir(parents=True, exist_ok=True)
    inventory = folder / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {k: dict(v) for k, v in hosts.items()}}}))
    path = folder / "playbook.yaml"
    path.write_text(playbook)
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env.update(
        ANSIBLE_CONNECTION_PLUGINS=str(CONNECTION_PLUGINS),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCAL_TEMP=str(folder / "ansible-local"),
        ANSIBLE_HOME=str(folder / "ansible-home"),
        # the plugin imports lockgate: the same one as this process
        PYTHONPATH=os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")])),
    )
    done = subprocess.run(
        [ansible_playbook(), "-i", str(inventory), str(path)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    recap = {
        m.group(1): {
            "ok": int(m.group(2)),
            "changed": int(m.group(3)),
            "unreachable": int(m.group(4)),
            "failed": int(m.group(5)),
        }
        for m in _RECAP.finditer(done.stdout)
    }
    return PlaybookRun(done.returncode, output, recap)
