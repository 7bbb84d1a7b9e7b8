"""The demo project a new site starts with: clone it, change it, `git review`,
and watch its job check, gate and merge the change.

It is an ordinary untrusted project (the tenant adds it as it adds any new
project) whose `.zuul.yaml` runs one playbook on a local node.
"""

from __future__ import annotations

import urllib.parse

from lockgate.adapters.git.repos import ZERO_SHA, RepoStore
from lockgate.adapters.site import DEFAULT_LABEL, Settings
from lockgate.core.review.model import Person
from lockgate.core.review.refs import branch_ref
from lockgate.services.clock import Clock
from lockgate.services.errors import Conflict
from lockgate.services.gating_setup import write_tree
from lockgate.services.projects import ProjectService

DEMO_PROJECT = "demo"
_BRANCH = "master"


def demo_files(settings: Settings) -> dict[str, str]:
    url = urllib.parse.urlsplit(settings.server.url)
    port = url.port or (443 if url.scheme == "https" else 80)
    return {
        ".gitreview": (
            f"[gerrit]\nhost={url.hostname}\nport={port}\nscheme={url.scheme}\n"
            f"project={DEMO_PROJECT}\ndefaultbranch={_BRANCH}\n"
        ),
        ".zuul.yaml": f"""\
# The jobs of this project, in Zuul's configuration language. A change to
# this file is tested with the change's own version of it.
- job:
    name: demo-hello
    description: Says hello from a fresh node and shows the workspace.
    nodeset:
      nodes:
        - name: node
          label: {DEFAULT_LABEL}
    run: playbooks/hello.yaml

- project:
    check:
      jobs:
        - demo-hello
    gate:
      jobs:
        - demo-hello
""",
        "playbooks/hello.yaml": """\
- hosts: all
  tasks:
    - name: Say hello
      command: echo "hello from {{ zuul.project.name }}, change {{ zuul.change | default('none') }}"
    - name: Show what the change proposes
      command: git log --oneline -3
      args:
        chdir: "{{ zuul.project.src_dir }}"
""",
        "README.md": f"""\
# demo

A project to try {settings.server.name} with:

    git clone {settings.server.url}{DEMO_PROJECT} && cd {DEMO_PROJECT}
    git review -s          # installs the Change-Id hook
    echo hi > hi.txt && git add hi.txt && git commit -m "Say hi"
    git review             # uploads the change for review

The check pipeline runs `demo-hello` (see `.zuul.yaml`) and votes Verified.
Approve with Code-Review +2 and Workflow +1, and the gate merges it.
""",
    }


def ensure_demo_project(
    settings: Settings, projects: ProjectService, repos: RepoStore, clock: Clock
) -> str | None:
    """Create the demo project with its first commit; None when it exists."""
    if projects.find(DEMO_PROJECT) is not None:
        return None
    try:
        projects.create(
            DEMO_PROJECT,
            description="A project to try code review and gating with.",
            branches=[_BRANCH],
        )
    except Conflict:
        return None
    tree = write_tree(repos, DEMO_PROJECT, demo_files(settings))
    who = Person(settings.server.name, "lockgate@localhost", clock() // 1_000_000, 0)
    commit = repos.create_commit(
        DEMO_PROJECT, tree=tree, parents=[], message="A project to try lockgate with\n", author=who
    )
    repos.update_ref(DEMO_PROJECT, branch_ref(_BRANCH), commit, ZERO_SHA)
    repos.write_commit_graph(DEMO_PROJECT)
    return commit
