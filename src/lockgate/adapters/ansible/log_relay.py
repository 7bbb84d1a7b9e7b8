"""The console log of a playbook that ran in the executor's sandbox, brought
into the build's log folder with every secret value of the build masked.

The sandbox never sees the log folder, nor the values to mask (it would then
see the secrets of other playbooks): the `lockgate_log` callback writes into
a folder of the sandbox's own, and the relay follows its `job-output.txt`
line by line while the playbook runs (so the live console, which follows the
build's `job-output.txt`, keeps up), then adds its `job-output.json` entries
to the build's and copies any other file it wrote, all masked.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from lockgate.core.secrets import Masker

CONSOLE = "job-output.txt"
RESULTS = "job-output.json"
POLL = 0.1  # seconds between looks at the sandbox's console


class LogRelay:
    def __init__(self, source: Path, target: Path, masker: Masker) -> None:
        self.source = source
        self.target = target
        self.masker = masker
        self._offset = 0
        self._pending = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="log-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(POLL):
            self._copy(final=False)

    def _copy(self, *, final: bool) -> None:
        try:
            with (self.source / CONSOLE).open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return
        self._offset += len(data)
        data = self._pending + data
        lines = data.split(b"\n")
        self._pending = b"" if final else lines.pop()
        if final and lines and lines[-1] == b"":
            lines.pop()
        if not lines:
            return
        with (self.target / CONSOLE).open("a", encoding="utf-8") as out:
            for line in lines:
                out.write(self.masker.text(line.decode("utf-8", errors="replace")) + "\n")

    def stop(self) -> None:
        """Copy what is left; call once the playbook has ended."""
        self._stop.set()
        self._thread.join()
        self._copy(final=True)
        self._merge_results()
        for path in sorted(self.source.rglob("*")):
            relative = path.relative_to(self.source)
            if path.is_file() and not path.is_symlink() and str(relative) not in (CONSOLE, RESULTS):
                target = self.target / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                text = path.read_bytes().decode("utf-8", errors="replace")
                target.write_text(self.masker.text(text))

    def _merge_results(self) -> None:
        try:
            runs: Any = json.loads((self.source / RESULTS).read_text())
        except (OSError, ValueError):
            return
        if not isinstance(runs, list):
            return
        path = self.target / RESULTS
        try:
            kept = json.loads(path.read_text())
        except (OSError, ValueError):
            kept = []
        kept.extend(self.masker.data(runs))
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(kept, indent=2, default=str))
        partial.replace(path)
