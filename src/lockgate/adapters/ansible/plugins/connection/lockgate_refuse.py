# The connection of `localhost` in an untrusted playbook's inventory: tasks that
# need no connection (debug, set_fact, assert, include_*) still work, and any
# task that would run on the executor fails with this explanation, as Zuul
# keeps untrusted job content off its executors.
from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.connection import ConnectionBase

DOCUMENTATION = """
    name: lockgate_refuse
    short_description: refuses every command, for untrusted playbooks on localhost
    description: Untrusted playbooks may not run tasks on the executor.
"""

_WHY = (
    "untrusted playbooks may not run tasks on the executor (localhost): "
    "run the task on a node of the job's nodeset, or move the playbook to a config project"
)


class Connection(ConnectionBase):
    transport = "lockgate_refuse"
    has_pipelining = False

    def _connect(self):
        raise AnsibleError(_WHY)

    def exec_command(self, cmd, in_data=None, sudoable=True):
        raise AnsibleError(_WHY)

    def put_file(self, in_path, out_path):
        raise AnsibleError(_WHY)

    def fetch_file(self, in_path, out_path):
        raise AnsibleError(_WHY)

    def close(self):
        self._connected = False
