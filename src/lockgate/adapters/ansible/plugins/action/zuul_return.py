# Zuul's `zuul_return`, an action plugin loaded by ansible-playbook from this
# folder (not imported by lockgate). Like Zuul's, it runs on the executor for
# trusted and untrusted playbooks alike, needs no connection to any host, and
# writes only to the build's own results file, named by LOCKGATE_RESULTS in
# the environment the executor gave ansible-playbook (a playbook cannot change
# it): each call's data is merged into what earlier calls returned.
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from lockgate.core.builds.returns import ReturnedDataError, check_returned, merge_returned

DOCUMENTATION = """
    name: zuul_return
    short_description: return data (and artifacts) from a build, as Zuul's zuul_return
    options:
      data:
        description: A mapping; zuul.artifacts is a list of {name, url, metadata}.
        required: true
"""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("data", "secret_data", "file"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        if "secret_data" in args or "file" in args:
            raise AnsibleActionFail(
                "zuul_return: secret_data and file are not supported by lockgate; "
                "return plain values with data"
            )
        if "data" not in args:
            raise AnsibleActionFail("zuul_return needs data: a mapping to return")
        try:
            data = check_returned(args["data"])
        except ReturnedDataError as error:
            raise AnsibleActionFail(str(error)) from None
        target = os.environ.get("LOCKGATE_RESULTS")
        if not target:
            raise AnsibleActionFail("zuul_return runs only in a lockgate build")
        path = Path(target)
        # several hosts of one play return at once, from separate workers
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                returned = json.loads(path.read_text()) if path.exists() else {}
            except ValueError:
                returned = {}
            merged = merge_returned(returned, json.loads(json.dumps(data, default=str)))
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(merged))
            temporary.replace(path)
        result["changed"] = False
        return result
