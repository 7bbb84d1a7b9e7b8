"""The executor runs real ansible-playbook on the fake launcher's folder nodes
(unsandboxed, local connection: test-only) over workspaces made from real
hosted repositories and the real speculative merger."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.migrate import upgrade
from lockgate.adapters.logstore.filesystem import MANIFEST
from lockgate.adapters.providers.local import LocalProvider
from lockgate.adapters.providers.sandbox import NodeLimits
from lockgate.core.config.frozen import NO_NODES, FrozenJob, FrozenSecret
from lockgate.core.config.objects import RequiredProject
from lockgate.core.config.source import NOWHERE, Tagged
from lockgate.core.gating.events import BuildCompleted, BuildStarted
from lockgate.core.secrets import ENCRYPTED_TAG, MASK
from lockgate.services.launcher import NodeLauncher
from lockgate.testing.executor_site import ExecutorSite, one_node, playbook
from lockgate.testing.executor_site import git_in as site_git
from lockgate.testing.fake_launcher import UNREACHABLE

HELLO = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Say hello
      command: echo hello from {{ inventory_hostname }} in {{ zuul.pipeline }}
"""

WAIT = "- hosts: all\n  gather_facts: false\n  tasks:\n    - {name: Wait, command: sleep 300}\n"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ExecutorSite]:
    site = ExecutorSite(tmp_path)
    site.project("org/config", {"playbooks/hello.yaml": HELLO})
    yield site
    site.close()


def job(name: str = "hello", **kw: object) -> FrozenJob:
    kw.setdefault("nodeset", one_node())
    return FrozenJob(name, **kw)  # type: ignore[arg-type]


def run(site: ExecutorSite, files: dict[str, str], **kw: object) -> tuple[BuildCompleted, str]:
    """A change to org/app adding `files`, and a job whose playbooks (by phase,
    paths in org/app) are given in `kw`; the build's result and console log."""
    if not site.repos.exists("org/app"):
        site.project("org/app", {"README": "app\n"})
    change = site.change("org/app", files)
    phases = {
        key: tuple(playbook("org/app", p) for p in kw.pop(key))  # type: ignore[attr-defined]
        for key in ("pre_run", "run", "post_run", "cleanup_run")
        if key in kw
    }
    started = site.start(job(**phases, **kw), [change])
    done = site.wait(started.build)
    return done, console(site, done)


def console(site: ExecutorSite, done: BuildCompleted) -> str:
    path = site.log_folder(done) / "job-output.txt"
    return path.read_text() if path.exists() else ""


def test_a_trivial_job_succeeds_and_its_console_shows_the_task_output(site: ExecutorSite) -> None:
    site.project("org/app", {"README": "app\n"})
    change = site.change("org/app", {"a.txt": "a\n"})
    started = site.start(
        job(run=(playbook("org/config", "playbooks/hello.yaml", trusted=True),)), [change]
    )
    first = site.events.get(timeout=60)
    assert isinstance(first, BuildStarted) and first.build == started.build
    done = site.wait(started.build)
    assert (done.result, done.error) == ("SUCCESS", "")
    assert done.url == first.url == "http://logs.test/1/1/1/check/hello/" + started.build[:7] + "/"
    folder = site.log_folder(done)
    text = (folder / "job-output.txt").read_text()
    line = next(ln for ln in text.splitlines() if "hello from node" in ln)
    assert line.split(" | ")[1:] == ["node", "hello from node in check"]
    assert "RUN START: [org/config/playbooks/hello.yaml]" in text
    [recorded] = json.loads((folder / "job-output.json").read_text())
    [task] = recorded["plays"][0]["tasks"]
    assert task["task"]["name"] == "Say hello"
    assert task["hosts"]["node"]["stdout"] == "hello from node in check"
    inventory = json.loads((folder / "zuul-info" / "inventory.yaml").read_text())
    assert inventory["all"]["hosts"]["node"]["nodepool"]["label"] == "local"
    # how the executor reaches the node (its token, its folder) is not published
    assert not [k for k in inventory["all"]["hosts"]["node"] if k.startswith("lockgate_node")]
    assert site.launcher.in_use() == [] and len(site.launcher.released) == 1
    assert (folder / MANIFEST).is_file()  # the store finished the folder


def test_the_workspace_holds_the_speculative_state_and_origin_is_the_state_before(
    site: ExecutorSite,
) -> None:
    site.project("org/app", {"README": "app\n"})
    ahead = site.change("org/app", {"ahead.txt": "from the change ahead\n"})
    own = site.change("org/app", {"own.txt": "from the item's change\n"}, on=ahead.commit)
    show = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Diff against origin
      command: git diff --name-only origin/master..master
      args:
        chdir: "{{ lockgate_node_root }}/{{ zuul.project.src_dir }}"
    - name: Read the change ahead's file
      command: cat {{ lockgate_node_root }}/{{ zuul.project.src_dir }}/ahead.txt
    - name: Count the items
      debug:
        msg: "items {{ zuul['items'] | map(attribute='change') | join(',') }} on {{ zuul.branch }}"
"""
    site.change("org/config", {"playbooks/show.yaml": show})  # not merged: the branch tip has none
    site.project("org/jobs", {"show.yaml": show})
    started = site.start(job(run=(playbook("org/jobs", "show.yaml", trusted=True),)), [ahead, own])
    done = site.wait(started.build)
    text = console(site, done)
    assert done.result == "SUCCESS", text
    diff = [ln.split(" | ")[-1] for ln in text.splitlines() if " | node | " in ln]
    assert diff[:2] == ["ahead.txt", "own.txt"]
    assert "from the change ahead" in diff
    assert f"items {ahead.number},{own.number} on master" in text


def test_a_failing_command_fails_the_build_with_its_output_in_the_log(site: ExecutorSite) -> None:
    book = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Run the tests
      shell: echo "3 tests failed" >&2; exit 3
"""
    done, text = run(site, {"run.yaml": book}, run=["run.yaml"])
    assert done.result == "FAILURE"
    assert "run playbook org/app/run.yaml: failed on node" in done.error
    assert "node | 3 tests failed" in text
    assert "node | failed: rc=3" in text


def test_a_pre_run_failure_asks_for_a_retry(site: ExecutorSite) -> None:
    fail = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'false'\n"
    done, text = run(
        site, {"pre.yaml": fail, "run.yaml": HELLO}, pre_run=["pre.yaml"], run=["run.yaml"]
    )
    assert done.result == "RETRY"
    assert "pre-run playbook org/app/pre.yaml" in done.error
    assert "hello from" not in text  # the run phase never ran


def test_a_timeout_kills_the_whole_process_tree(site: ExecutorSite) -> None:
    # found by its command line: in the executor's sandbox, its pid is another
    seconds = 3000 + uuid.uuid4().int % 1000
    book = f"""
- hosts: all
  gather_facts: false
  tasks:
    - name: Sleep in a child
      shell: sleep {seconds} & wait
"""
    done, _ = run(site, {"run.yaml": book}, run=["run.yaml"], timeout=8)
    assert done.result == "TIMED_OUT"
    assert "the job's timeout of 8 s was reached" in done.error
    left = running(f"sleep\0{seconds}\0")
    assert not left, f"the task's child {left} outlived the timeout"


def running(cmdline: str) -> list[int]:
    """The live processes (not zombies, which a killed one may stay until
    reaped) whose command line is `cmdline`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry / "cmdline").read_text() != cmdline:
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2] not in "ZX":
            found.append(int(entry.name))
    return found


def test_a_post_run_failure_is_a_post_failure_and_post_playbooks_see_zuul_success(
    site: ExecutorSite,
) -> None:
    post = """
- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "success is {{ zuul_success }}"
    - command: 'false'
"""
    done, text = run(
        site, {"run.yaml": HELLO, "post.yaml": post}, run=["run.yaml"], post_run=["post.yaml"]
    )
    assert done.result == "POST_FAILURE"
    assert "success is True" in text


def test_a_cancelled_build_ends_aborted(site: ExecutorSite) -> None:
    site.project("org/app", {"README": "app\n"})
    change = site.change("org/app", {"run.yaml": WAIT})
    started = site.start(job(run=(playbook("org/app", "run.yaml"),)), [change])
    first = site.events.get(timeout=60)
    assert isinstance(first, BuildStarted)
    deadline = time.monotonic() + 60
    while "TASK [Wait]" not in console(site, BuildCompleted(started.build, "", 0, 0, first.url)):
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.1)
    site.executor.cancel(started.build)
    done = site.wait(started.build)
    assert (done.result, done.error) == ("ABORTED", "the build was cancelled")
    assert site.launcher.in_use() == []


def test_a_missing_playbook_is_an_error_naming_it(site: ExecutorSite) -> None:
    done, _ = run(site, {"x.txt": "x\n"}, run=["playbooks/nothing"])
    assert done.result == "ERROR"
    assert "playbook playbooks/nothing is not in project org/app" in done.error


def test_a_playbook_that_is_not_yaml_is_an_error_with_ansibles_reason(site: ExecutorSite) -> None:
    done, _ = run(site, {"run.yaml": "- hosts: all\n  tasks: [\n"}, run=["run.yaml"])
    assert done.result == "ERROR"
    assert "run playbook org/app/run.yaml" in done.error
    assert "yaml" in done.error.lower() or "syntax" in done.error.lower(), done.error


def test_a_label_no_provider_has_is_a_node_failure(site: ExecutorSite) -> None:
    done, _ = run(site, {"run.yaml": HELLO}, run=["run.yaml"], nodeset=one_node("gpu"))
    assert done.result == "NODE_FAILURE"
    assert "no provider has label gpu" in done.error


def test_untrusted_playbooks_may_not_run_tasks_on_the_executor(site: ExecutorSite) -> None:
    local = """
- hosts: localhost
  gather_facts: false
  tasks:
    - debug:
        msg: debug needs no connection
    - command: touch executor-was-here
"""
    done, text = run(site, {"local.yaml": local}, run=["local.yaml"], nodeset=NO_NODES)
    assert done.result == "FAILURE"
    assert "debug needs no connection" in text
    assert "untrusted playbooks may not run tasks on the executor" in text
    assert not list(site.root.rglob("executor-was-here"))


def test_trusted_playbooks_run_on_the_executor_with_no_nodes(site: ExecutorSite) -> None:
    site.project("org/app", {"README": "app\n"})
    local = (
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: echo on the executor\n"
    )
    site.project("org/base", {"local.yaml": local})
    change = site.change("org/app", {"x.txt": "x\n"})
    started = site.start(
        job(nodeset=NO_NODES, run=(playbook("org/base", "local.yaml", trusted=True),)), [change]
    )
    done = site.wait(started.build)
    assert done.result == "SUCCESS"
    assert "localhost | on the executor" in console(site, done)
    assert site.launcher.requests == {}


def test_the_workspace_can_go_through_the_connection(tmp_path: Path) -> None:
    site = ExecutorSite(tmp_path, workspace_copy="connection")
    try:
        site.project("org/app", {"README": "app\n"})
        book = """
- hosts: all
  gather_facts: false
  tasks:
    - command: cat {{ lockgate_node_root }}/{{ zuul.project.src_dir }}/own.txt
"""
        change = site.change("org/app", {"own.txt": "through the connection\n", "run.yaml": book})
        started = site.start(job(run=(playbook("org/app", "run.yaml"),)), [change])
        done = site.wait(started.build)
        text = console(site, done)
        assert done.result == "SUCCESS", text
        assert "SETUP-RUN START: [(workspace)]" in text
        assert "node | through the connection" in text
    finally:
        site.close()


@pytest.fixture
def sandbox_root(sandbox_folder: Path) -> Path:
    return sandbox_folder


def test_a_build_runs_in_a_bubblewrap_node_of_the_local_provider(sandbox_root: Path) -> None:
    provider = LocalProvider("local", sandbox_root / "local-nodes", ["local"])
    site = ExecutorSite(sandbox_root / "site", provider=provider)
    try:
        site.project("org/app", {"README": "app\n"})
        book = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Look at the change
      command: git diff --name-only origin/master..master
      args:
        chdir: "{{ zuul.project.src_dir }}"
    - name: Where am I
      command: pwd
"""
        change = site.change("org/app", {"own.txt": "in the sandbox\n", "run.yaml": book})
        started = site.start(job(run=(playbook("org/app", "run.yaml"),)), [change])
        done = site.wait(started.build)
        text = console(site, done)
        assert done.result == "SUCCESS", text
        assert "node | own.txt" in text and "node | run.yaml" in text
        assert "node | /home/zuul" in text
        assert not any((sandbox_root / "local-nodes").iterdir())  # the node was deleted
    finally:
        site.close()


def test_an_unreachable_node_asks_for_a_retry(site: ExecutorSite) -> None:
    done, text = run(site, {"run.yaml": HELLO}, run=["run.yaml"], nodeset=one_node(UNREACHABLE))
    assert done.result == "RETRY"
    # the executor's first contact with the node is putting the workspace there
    assert done.error == "setup playbook (workspace): unreachable: node"
    assert "node | unreachable" in text
    assert "hello from" not in text


def test_a_build_cancelled_while_it_waits_for_a_worker_vanishes(tmp_path: Path) -> None:
    site = ExecutorSite(tmp_path, workers=1)
    try:
        site.project("org/app", {"README": "app\n"})
        change = site.change("org/app", {"run.yaml": WAIT})
        long = job(run=(playbook("org/app", "run.yaml"),))
        first = site.start(long, [change])
        second = site.start(long, [change])
        site.executor.cancel(second.build)
        started = site.events.get(timeout=60)
        assert isinstance(started, BuildStarted) and started.build == first.build
        site.executor.cancel(first.build)
        assert site.wait(first.build).result == "ABORTED"
        deadline = time.monotonic() + 30
        while site.executor.running():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert site.events.empty()  # nothing of the second build, ever
        assert [r.build for r in site.launcher.requests.values()] == [first.build]
    finally:
        site.close()


def test_required_projects_are_checked_out_at_their_override_branch(site: ExecutorSite) -> None:
    site.project("org/lib", {"version": "master\n"})
    work = site.root / "clones" / "org/lib"
    site_git(work, "checkout", "-q", "-b", "stable")
    (work / "version").write_text("stable\n")
    site_git(work, "commit", "-q", "-am", "Stable")
    site_git(work, "push", "-q", "origin", "stable")
    book = """
- hosts: all
  gather_facts: false
  tasks:
    - command: cat {{ lockgate_node_root }}/{{ zuul.projects['localhost/org/lib'].src_dir }}/version
    - debug:
        msg: "lib on {{ zuul.projects['localhost/org/lib'].checkout }}"
"""
    required = (RequiredProject("org/lib", override_checkout="stable"),)
    done, text = run(site, {"run.yaml": book}, run=["run.yaml"], required_projects=required)
    assert done.result == "SUCCESS", text
    assert "node | stable" in text and "lib on stable" in text


def test_a_build_gets_its_node_from_the_real_launcher(sandbox_root: Path) -> None:
    engine = make_engine(f"sqlite:///{sandbox_root / 'nodes.db'}")
    upgrade(engine)
    provider = LocalProvider("local", sandbox_root / "local-nodes", ["local"])
    launcher = NodeLauncher(engine, [provider], interval=0.05)
    launcher.start()
    site = ExecutorSite(sandbox_root / "site", launcher=launcher)
    try:
        site.project("org/app", {"README": "app\n"})
        book = (
            "- hosts: all\n  gather_facts: false\n  tasks:\n"
            "    - command: cat {{ zuul.project.src_dir }}/own.txt\n"
        )
        change = site.change("org/app", {"own.txt": "from the launcher's node\n", "run.yaml": book})
        started = site.start(job(run=(playbook("org/app", "run.yaml"),)), [change])
        done = site.wait(started.build)
        text = console(site, done)
        assert done.result == "SUCCESS", text
        assert "node | from the launcher's node" in text
        deadline = time.monotonic() + 30
        while any((sandbox_root / "local-nodes").iterdir()):  # used nodes are deleted
            assert time.monotonic() < deadline, "the used node was not deleted"
            time.sleep(0.1)
    finally:
        site.close()
        launcher.stop()
        engine.dispose()


def test_a_required_project_with_no_repository_is_an_error_naming_it(site: ExecutorSite) -> None:
    required = (RequiredProject("org/nothing"),)
    done, _ = run(site, {"run.yaml": HELLO}, run=["run.yaml"], required_projects=required)
    assert done.result == "ERROR"
    assert done.error == (
        "preparing the workspace: project org/nothing of the build has no repository"
    )
    assert site.launcher.in_use() == []


def test_untrusted_tasks_delegated_to_the_executor_are_refused(site: ExecutorSite) -> None:
    book = """
- hosts: all
  gather_facts: false
  tasks:
    - command: touch delegated-was-here
      delegate_to: localhost
"""
    done, text = run(site, {"run.yaml": book}, run=["run.yaml"])
    assert done.result == "FAILURE"
    assert "untrusted playbooks may not run tasks on the executor" in text
    assert not list(site.root.rglob("delegated-was-here"))


def test_a_fork_bomb_and_a_full_disk_each_fail_their_own_build(sandbox_root: Path) -> None:
    limits = NodeLimits(processes=16, memory_bytes=1024**3, cpu_seconds=60, disk_bytes=30 * 1024**2)
    nodes = sandbox_root / "local-nodes"
    site = ExecutorSite(
        sandbox_root / "site", provider=LocalProvider("local", nodes, ["local"], limits=limits)
    )
    # bounded three times over: the process limit, a 5 s end of its own, the job's timeout
    bomb = (
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - command:\n"
        '        argv: [python3, -c, "import os, time\\nend = time.time() + 5\\n'
        'while time.time() < end: os.fork()"]\n'
    )
    # 1 MiB files, each under the file size limit: only the node's disk limit stops them
    fill = (
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - shell: for i in $(seq 1 60); do head -c 1048576 /dev/zero > ~/fill-$i; done\n"
    )
    try:
        site.project("org/app", {"README": "app\n"})
        change = site.change("org/app", {"bomb.yaml": bomb, "fill.yaml": fill})
        builds = [
            site.start(job(run=(playbook("org/app", book),), timeout=300), [change])
            for book in ("bomb.yaml", "fill.yaml")
        ]
        # a busy machine can make these slow; the wait only keeps a broken test from hanging
        done = {b.job.run[0].path: site.wait(b.build, timeout=600) for b in builds}
        for book, completed in done.items():
            assert completed.result == "FAILURE", (book, completed.error)
            assert f"run playbook org/app/{book}: failed on node" in completed.error
        assert "Resource temporarily unavailable" in console(site, done["bomb.yaml"])
        assert "the node's disk limit is exceeded" in console(site, done["fill.yaml"])
        # both nodes, and all they ran, are gone; the host still makes processes
        assert not any(nodes.iterdir())
        assert subprocess.run(["true"], check=False).returncode == 0
    finally:
        site.close()


PUBLISH = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Log in
      command: echo logging in as {{ creds.user }} with {{ creds.password }}
    - name: Show the key
      debug:
        msg: "the key is {{ creds.key }}"
    - name: Print the key line by line
      command: printf '%s\\n' "{{ creds.key }}"
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Return the docs and a version
      zuul_return:
        data:
          version: "1.2"
          zuul:
            artifacts:
              - {name: docs, url: docs/index.html, metadata: {type: docs_site}}
              - {name: wheel, url: "https://pypi.test/app.whl"}
"""

PRE = """
- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "pre-run sees creds: {{ creds is defined }}"
"""


def encrypted(site: ExecutorSite, project: str, value: str) -> Tagged:
    return Tagged(ENCRYPTED_TAG, site.keys.encrypt(project, value), NOWHERE)


def test_a_post_review_build_gets_its_secrets_masked_and_returns_artifacts(
    site: ExecutorSite,
) -> None:
    password = "hunter2-correct-horse"
    key = "-----BEGIN KEY-----\nMIIEow-first-line\nAoGBAM-second-line\n-----END KEY-----"
    site.project("org/app", {"README": "app\n"})
    change = site.change("org/app", {"publish.yaml": PUBLISH, "pre.yaml": PRE})
    data = {
        "user": "deploy",
        "password": encrypted(site, "org/app", password),
        "key": encrypted(site, "org/app", key),
    }
    secret = FrozenSecret("creds", "app-creds", "org/app", trusted=False, data=data)
    run_book = replace(playbook("org/app", "publish.yaml"), secrets=("creds",))
    publish = job(
        "publish",
        pre_run=(playbook("org/app", "pre.yaml"),),
        run=(run_book,),
        secrets=(secret,),
        post_review=True,
    )
    started = site.start(publish, [change], pipeline="gate", post_review=True)
    done = site.wait(started.build)
    text = console(site, done)
    assert (done.result, done.error) == ("SUCCESS", ""), text
    # the run playbook, which defined the secret, sees it; the parent's pre-run does not
    assert "pre-run sees creds: False" in text
    assert f"node | logging in as deploy with {MASK}" in text
    assert f"the key is {MASK}" in text
    assert f"node | {MASK}" in text  # each line of the key, printed on its own
    # no file the build left in its logs holds a value or a line of one
    folder = site.log_folder(done)
    for path in folder.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            content = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode()
            for needle in (password, "MIIEow-first-line", "AoGBAM-second-line"):
                assert needle not in content, f"{needle} in {path.name}"
    # zuul_return, from an untrusted playbook on localhost: relative URLs join the log URL
    assert done.data == {
        "version": "1.2",
        "zuul": {
            "artifacts": [
                {
                    "name": "docs",
                    "url": done.url + "docs/index.html",
                    "metadata": {"type": "docs_site"},
                },
                {"name": "wheel", "url": "https://pypi.test/app.whl"},
            ]
        },
    }


def test_secrets_are_refused_before_review_and_the_build_never_asks_for_nodes(
    site: ExecutorSite,
) -> None:
    site.project("org/app", {"README": "app\n"})
    change = site.change("org/app", {"publish.yaml": PUBLISH})
    secret = FrozenSecret(
        "creds",
        "app-creds",
        "org/app",
        trusted=False,
        data={"password": encrypted(site, "org/app", "x")},
    )
    run_book = (replace(playbook("org/app", "publish.yaml"), secrets=("creds",)),)
    # as freezing makes it: a job with an untrusted secret is post-review
    frozen = site.start(job("publish", run=run_book, secrets=(secret,), post_review=True), [change])
    done = site.wait(frozen.build)
    assert done.result == "ERROR"
    assert done.error == (
        'job "publish" is post-review (it uses a secret of an untrusted project or sets '
        'post-review: true) and the pipeline "check" runs before review; run the job in a '
        "post-review pipeline such as gate or post"
    )
    # and should a job reach the executor unmarked, the secret itself is refused
    unmarked = site.start(job("publish", run=run_book, secrets=(secret,)), [change])
    done = site.wait(unmarked.build)
    assert done.result == "ERROR"
    assert 'uses the secret "app-creds" of the untrusted project org/app' in done.error
    assert "only a post-review pipeline" in done.error
    assert site.launcher.requests == {}


# Reads on the executor: the trusted pre-run does them all (a pre-run failure
# would end the build RETRY); the untrusted run tries each, going on after
# each failure, and each must fail; the trusted post-run looks for the
# pre-run's secrets file, which is gone
EXECUTOR_READS = """
- hosts: node
  gather_facts: false
  tasks:
    - name: Read the site database
      debug:
        msg: "{{ lookup('file', '@DB@') }}"
      @KEEP_GOING@
    - name: Read the site's key
      debug:
        msg: "{{ lookup('file', '@KEY@') | length }} bytes of key"
      @KEEP_GOING@
    - name: Read the executor's environment
      debug:
        msg: "home is {{ lookup('env', 'HOME') }}"
      @KEEP_GOING@
    - name: Run a command on the executor
      debug:
        msg: "{{ lookup('pipe', 'id') }}"
      @KEEP_GOING@
    - name: Read the pre-run playbook's secrets
      debug:
        msg: "{{ lookup('file', zuul.executor.work_root | dirname + '/secrets/0.json') }}"
      @KEEP_GOING@
    - name: Read the site database with a shell of the executor
      command: cat @DB@
      delegate_to: localhost
      vars:
        ansible_connection: local
        ansible_python_interpreter: @PYTHON@
      @KEEP_GOING@
    - name: Copy the executor's passwd to the node
      copy:
        src: /etc/passwd
        dest: passwd-from-the-executor
"""

OWN_SECRETS = """
    - stat:
        path: "{{ zuul.executor.work_root | dirname }}/secrets/0.json"
      delegate_to: localhost
      register: own
    - debug:
        msg: "its own secrets file exists: {{ own.stat.exists }}"
"""

# what an untrusted playbook may read on the executor: its own project's files
# and the workspace
OWN_READS = """
    - name: Read a file of its own project
      debug:
        msg: "{{ lookup('file', 'own.txt') }}"
    - name: Read the workspace
      debug:
        msg: "{{ lookup('file', workspace + '/README') }}"
      vars:
        workspace: "{{ zuul.executor.work_root }}/{{ zuul.project.src_dir }}"
    - name: Copy a file of its own project to the node
      copy:
        src: own.txt
        dest: own-copied.txt
"""

GONE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - stat: {path: "{{ zuul.executor.work_root | dirname }}/secrets/0.json"}
      register: earlier
    - debug: {msg: "the pre-run's secrets file exists: {{ earlier.stat.exists }}"}
"""


def test_untrusted_playbooks_cannot_read_the_executor_but_trusted_ones_can(
    sandbox_root: Path,
) -> None:
    provider = LocalProvider("local", sandbox_root / "local-nodes", ["local"])
    site = ExecutorSite(sandbox_root / "site", provider=provider)
    try:
        db = site.root / "lockgate.db"
        db.write_text("rows of the site's database\n")
        key = site.keys.path("org/config")
        token = "s3cret-token-of-the-config-project"
        secret = FrozenSecret(
            "creds", "site-creds", "org/config", trusted=True,
            data={"token": encrypted(site, "org/config", token)},
        )  # fmt: skip

        def reads(keep_going: str) -> str:
            text = EXECUTOR_READS.replace("@DB@", str(db)).replace("@KEY@", str(key))
            return text.replace("@PYTHON@", sys.executable).replace("@KEEP_GOING@", keep_going)

        site.project("org/config", {"pre.yaml": reads("") + OWN_SECRETS, "gone.yaml": GONE})
        site.project("org/app", {"README": "app\n"})
        escapes = reads("ignore_errors: true").replace("  tasks:\n", "  tasks:\n" + OWN_READS, 1)
        own = {"escapes.yaml": escapes, "files/own.txt": "a file of org/app\n"}
        change = site.change("org/app", own)
        pre = replace(playbook("org/config", "pre.yaml", trusted=True), secrets=("creds",))
        build = job(
            "reads",
            pre_run=(pre,),
            run=(playbook("org/app", "escapes.yaml"),),
            post_run=(playbook("org/config", "gone.yaml", trusted=True),),
            secrets=(secret,),
        )
        started = site.start(build, [change])
        done = site.wait(started.build)
        text = console(site, done)
        pre_log, _, rest = text.partition("RUN START: [org/app/escapes.yaml]")
        run_log, _, post_log = rest.partition("POST-RUN START")
        assert done.result == "FAILURE", text
        assert "run playbook org/app/escapes.yaml" in done.error
        # trusted: all of it works
        assert "node | rows of the site's database" in pre_log
        assert f"{len(key.read_text().strip())} bytes of key" in pre_log
        assert "home is /" in pre_log and "uid=" in pre_log
        assert 'node | {"creds": {"token": "******"}}' in pre_log  # its secrets, masked
        assert "its own secrets file exists: True" in pre_log
        # untrusted: its own files and the workspace, yes
        assert "node | a file of org/app" in run_log and "node | app" in run_log
        # anything else of the executor: each attempt fails, saying why
        secrets_file = site.root / "builds" / started.build / "secrets" / "0.json"
        for what in (
            f"read {db} on the executor",
            f"read {key} on the executor",
            "use the lookup 'env', which would run on the executor",
            "use the lookup 'pipe', which would run on the executor",
            f"read {secrets_file} on the executor",
            "read /etc/passwd on the executor",
        ):
            assert f"untrusted playbooks may not {what}" in run_log, what
        # a shell on the executor, which the restrictions do not stop: the sandbox does
        assert f"cat: {db}: No such file or directory" in run_log
        assert "rows of the site's" not in run_log and "uid=" not in run_log
        assert "unreachable: 0 failed: 1 skipped: 0 rescued: 0 ignored: 6" in run_log
        # and the pre-run's secrets were there only while it ran
        assert "the pre-run's secrets file exists: False" in post_log
        assert token not in text
    finally:
        site.close()
