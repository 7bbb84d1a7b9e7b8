# An Ansible stdout callback, loaded by ansible-playbook from this folder (not
# imported by lockgate): it writes the build's console log, job-output.txt,
# one timestamped line at a time and flushed per line so that a console can
# tail it, and the per-task results, job-output.json, once the playbook ends.
# The build's secret values, listed in the file LOCKGATE_MASK names, are
# masked out of both before anything is written. A command task's output
# lines come while it runs, from the node's console watcher
# (lockgate/adapters/ansible/console.py).
from __future__ import annotations

import datetime
import json
import os
import threading
from pathlib import Path

from ansible.plugins.callback import CallbackBase

from lockgate.adapters.ansible import console
from lockgate.core.secrets import Masker

DOCUMENTATION = """
    name: lockgate_log
    type: stdout
    short_description: lockgate's build log (job-output.txt and job-output.json)
    description: Writes into the folder named by LOCKGATE_LOG_DIR.
"""


def _now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "lockgate_log"

    def __init__(self):
        super().__init__()
        folder = os.environ.get("LOCKGATE_LOG_DIR") or "."
        self._phase = os.environ.get("LOCKGATE_PHASE", "")
        self._folder = folder
        # open for the callback's whole life: ansible-playbook ends with the process
        self._text = Path(folder, "job-output.txt").open("a", buffering=1)  # noqa: SIM115
        self._plays = []
        self._task = None
        self._playbook = ""
        self._mask = _masker(os.environ.get("LOCKGATE_MASK"))
        # the console watchers' threads write too
        self._lock = threading.Lock()
        self._followers = {}  # (host, task uuid) -> console.Follower

    def _line(self, text, host=""):
        prefix = f"{_now()} | "
        if host:
            prefix += f"{host} | "
        with self._lock:
            self._text.write(self._mask.text(prefix + text) + "\n")

    def v2_runner_on_start(self, host, task):
        if task.action not in console.COMMAND_ACTIONS:
            return
        name = host.get_name()
        process = console.start_watcher(host.get_vars())
        if process is not None:
            self._followers[(name, task._uuid)] = console.Follower(
                process, lambda text: self._line(text, name)
            )

    def _streamed(self, host, task):
        """Ends the task's console follower; whether its lines were streamed."""
        follower = self._followers.pop((host, task._uuid), None)
        return follower is not None and follower.finish()

    def v2_playbook_on_start(self, playbook):
        self._playbook = Path(getattr(playbook, "_file_name", "") or "").name
        phase = "RUN" if self._phase == "run" else f"{self._phase.upper()}-RUN"
        self._line(f"{phase} START: [{os.environ.get('LOCKGATE_PLAYBOOK', '')}]")

    def v2_playbook_on_play_start(self, play):
        name = play.get_name().strip()
        self._line("")
        self._line(f"PLAY [{name}]")
        self._plays.append({"play": {"name": name}, "tasks": []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        name = task.get_name().strip()
        self._line("")
        self._line(f"TASK [{name}]")
        self._task = {"task": {"name": name, "action": task.action}, "hosts": {}}
        if self._plays:
            self._plays[-1]["tasks"].append(self._task)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _record(self, result, status):
        host = result._host.get_name()
        streamed = self._streamed(host, result._task)
        data = dict(result._result)
        data.pop("invocation", None)
        data["status"] = status
        if self._task is not None:
            self._task["hosts"][host] = data
        for key in () if streamed else ("stdout", "stderr"):
            for line in str(data.get(key) or "").splitlines():
                self._line(line, host)
        for line in (data.get("module_stdout") or "").splitlines() if status != "ok" else ():
            self._line(line, host)
        msg = data.get("msg")
        if (msg and status != "ok") or (msg and "stdout" not in data):
            for line in str(msg).splitlines():
                self._line(line, host)
        rc = data.get("rc")
        self._line(f"{status}" + (f": rc={rc}" if rc is not None else ""), host)

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed (ignored)" if ignore_errors else "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._streamed(result._host.get_name(), result._task)
        self._line("skipping", result._host.get_name())

    def v2_playbook_on_stats(self, stats):
        for follower in list(self._followers.values()):
            follower.finish()
        self._followers.clear()
        summary = {h: stats.summarize(h) for h in sorted(stats.processed)}
        self._line("")
        self._line("PLAY RECAP")
        for host, s in summary.items():
            self._line(
                f"ok: {s['ok']} changed: {s['changed']} unreachable: {s['unreachable']} "
                f"failed: {s['failures']} skipped: {s['skipped']} rescued: {s['rescued']} "
                f"ignored: {s['ignored']}",
                host,
            )
        path = Path(self._folder, "job-output.json")
        try:
            runs = json.loads(path.read_text())
        except (OSError, ValueError):
            runs = []
        runs.append(
            {
                "phase": self._phase,
                "playbook": os.environ.get("LOCKGATE_PLAYBOOK", self._playbook),
                "plays": self._plays,
                "stats": summary,
            }
        )
        tmp = path.with_suffix(".tmp")
        # earlier playbooks' entries were masked when they were written
        runs[-1] = self._mask.data(json.loads(json.dumps(runs[-1], default=str)))
        tmp.write_text(json.dumps(runs, indent=2, default=str))
        tmp.replace(path)
        stats_path = os.environ.get("LOCKGATE_STATS")
        if stats_path:
            Path(stats_path).write_text(json.dumps(summary))


def _masker(path):
    values = []
    if path:
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            # without its values nothing could be masked: refuse to write rather than leak
            raise RuntimeError(f"lockgate_log: cannot read the values to mask in {path}") from None
    return Masker(values)
