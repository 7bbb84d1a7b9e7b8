"""ansible-playbook for untrusted playbooks: `python -P -m lockgate.adapters.ansible.untrusted_run
<ansible-playbook arguments>`, run by the executor inside its bubblewrap sandbox.

Before Ansible reads the playbook, this puts Zuul's restrictions for untrusted
playbooks on everything that runs on the executor (the controller), so that
an escape attempt fails with a message saying what is not allowed instead of
a puzzling "file not found" from the sandbox:

- lookups: only ansible-core's own lookups that read the job's files or only
  compute (`file`, `fileglob`, `first_found`, `template`, `ini`, `csvfile`,
  `unvault`, `items`, `sequence`, `vars` ...); `env`, `pipe`, `lines`, `url`,
  `password` and lookups of collections or of the playbook's own plugin
  folders are refused;
- reading a file on the controller (lookups, `vars_files`, `include_vars`,
  the `src` of `copy`, `template`, `script`, `unarchive`, `assemble`, `uri`,
  and every file sent to a node) is allowed only below the folders named by
  LOCKGATE_UNTRUSTED_READ (the job's work folder and its playbooks' content);
- writing on the controller (`fetch`'s `dest`) only below those named by
  LOCKGATE_UNTRUSTED_WRITE (the work folder).

These are a second line: a playbook that brings its own Python (a plugin
folder next to it) can undo them, which is why this runs in the sandbox, the
boundary that holds whatever runs inside it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

READ_ROOTS = "LOCKGATE_UNTRUSTED_READ"
WRITE_ROOTS = "LOCKGATE_UNTRUSTED_WRITE"

# ansible-core's lookups that only read files (their paths are checked) or compute
ALLOWED_LOOKUPS = frozenset(
    {
        "config",
        "csvfile",
        "dict",
        "file",
        "fileglob",
        "first_found",
        "indexed_items",
        "ini",
        "inventory_hostnames",
        "items",
        "list",
        "nested",
        "random_choice",
        "sequence",
        "subelements",
        "template",
        "together",
        "unvault",
        "varnames",
        "vars",
    }
)
_FIX = "do it on a node of the job's nodeset, or move the playbook to a config project"


class Roots:
    """Folders (and single files) below which a path is allowed, symlinks resolved."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = [Path(os.path.realpath(p)) for p in paths if p]

    def allows(self, path: str | os.PathLike[str]) -> bool:
        real = Path(os.path.realpath(path))
        return any(real == root or root in real.parents for root in self.paths)


def _roots(variable: str) -> Roots:
    return Roots(os.environ.get(variable, "").split(os.pathsep))


def install(read: Roots, write: Roots) -> None:
    """Put the restrictions on this process (and the workers it forks)."""
    from ansible.errors import AnsibleError
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins import loader as plugin_loader
    from ansible.plugins.action import ActionBase
    from ansible.plugins.action import fetch as fetch_action

    def refuse(what: str) -> AnsibleError:
        return AnsibleError(f"untrusted playbooks may not {what}: {_FIX}")

    def check_read(path: Any) -> None:
        if isinstance(path, (str, os.PathLike)) and not read.allows(path):
            raise refuse(
                f"read {os.fspath(path)} on the executor (only files of the job's work "
                "folder and of its playbooks' projects)"
            )

    def reading(method: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(self: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
            # a relative path is the loader's: below the playbook's folder
            if isinstance(path, (str, bytes)):
                check_read(self.path_dwim(os.fsdecode(path)))
            return method(self, path, *args, **kwargs)

        return guarded

    for name in ("get_real_file", "_get_file_contents", "load_from_file"):
        setattr(DataLoader, name, reading(getattr(DataLoader, name)))

    # where lookups and actions look for a `src`: refuse an absolute path outside
    # before it is looked for, and whatever it resolves to outside after
    search = DataLoader.path_dwim_relative_stack

    def path_dwim_relative_stack(
        self: Any, paths: Any, dirname: Any, source: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if isinstance(source, str) and Path(source).expanduser().is_absolute():
            check_read(Path(source).expanduser())
        found = search(self, paths, dirname, source, *args, **kwargs)
        if found:
            check_read(found)
        return found

    DataLoader.path_dwim_relative_stack = path_dwim_relative_stack

    transfer = ActionBase._transfer_file

    def _transfer_file(self: Any, local_path: Any, remote_path: Any) -> Any:
        check_read(local_path)
        return transfer(self, local_path, remote_path)

    ActionBase._transfer_file = _transfer_file

    makedirs = fetch_action.makedirs_safe

    def makedirs_safe(path: Any, *args: Any, **kwargs: Any) -> Any:
        if not write.allows(path):
            raise refuse(f"write to {path} on the executor (fetch only into the job's work folder)")
        return makedirs(path, *args, **kwargs)

    fetch_action.makedirs_safe = makedirs_safe

    lookups = plugin_loader.lookup_loader
    get = lookups.get
    builtin = Path(plugin_loader.__file__).parent / "lookup"

    def get_lookup(name: str, *args: Any, **kwargs: Any) -> Any:
        instance = get(name, *args, **kwargs)
        if instance is None:
            return None
        resolved = str(getattr(instance, "ansible_name", name))
        short = resolved.removeprefix("ansible.builtin.").removeprefix("ansible.legacy.")
        origin = Path(str(getattr(instance, "_original_path", "")))
        if short not in ALLOWED_LOOKUPS or origin.parent != builtin:
            why = refuse(f"use the lookup {name!r}, which would run on the executor")

            def run(*_args: Any, **_kwargs: Any) -> Any:
                raise why

            instance.run = run
        return instance

    lookups.get = get_lookup


def main(argv: Sequence[str]) -> int:
    # ansible.cli first, as ansible-playbook's own script does
    from ansible.cli.playbook import main as playbook

    install(_roots(READ_ROOTS), _roots(WRITE_ROOTS))
    sys.argv = ["ansible-playbook", *argv]
    result = playbook()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
