"""A site runs real jobs: a change pushed with git is checked by a playbook run
on a sandboxed local node, its vote links logs the server serves, a failing
command votes -1 and shows in its log, a check job that would use the
project's secret is refused, and an approved change is gated, merged and
followed by its post job, which gets the secret (masked in its log) and
returns an artifact the builds API lists, all by the server's own background
scheduler, launcher and executor."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lockgate.adapters.providers import sandbox
from lockgate.adapters.secret_keys import encrypt_with_public_pem
from lockgate.core.secrets import MASK
from lockgate.testing.server import LiveServer, live_server
from lockgate.testing.sshd import SshServer, sshd_available, start_sshd
from tests.gitutil import admin, contributor
from tests.system.gating import call, push

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None or importlib.util.find_spec("ansible") is None,
    reason="local nodes need bubblewrap and jobs ansible-playbook (scripts/setup installs them)",
)

NODESET = "    nodeset:\n      nodes:\n        - name: node\n          label: local\n"

ZUUL_YAML = (
    "- job:\n    name: hello\n" + NODESET + "    run: playbooks/hello.yaml\n"
    "- job:\n    name: publish\n" + NODESET + "    run: playbooks/publish.yaml\n"
    "    secrets: [pypi]\n"
    "- project:\n"
    "    check:\n      jobs: [hello]\n"
    "    gate:\n      jobs: [hello]\n"
    "    post:\n      jobs: [publish]\n"
)
TOKEN = "pypi-AgEIcHlwaS5vcmc-not-for-logs"


def secret_yaml(chunks: list[str]) -> str:
    return "- secret:\n    name: pypi\n    data:\n      token: !encrypted/pkcs1-oaep\n" + "".join(
        f"        - {chunk}\n" for chunk in chunks
    )


SRC = "{{ zuul.project.src_dir }}"  # relative to the node's home, where the workspace is

HELLO = f"""
- hosts: all
  gather_facts: false
  tasks:
    - name: Say hello
      command: echo hello from the job in {{{{ zuul.pipeline }}}}
    - name: Write a file in the workspace
      shell: echo made-by-the-job > made.txt && cat made.txt
      args:
        chdir: "{SRC}"
"""

FAILING = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Run the tests
      shell: echo "3 tests failed" >&2; exit 3
"""

PUBLISH = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Publish
      command: echo publishing {{ zuul.newrev }} with {{ pypi.token }}
    - name: Say where the wheel is
      zuul_return:
        data:
          zuul:
            artifacts:
              - {name: wheel, url: dist/app.whl, metadata: {type: python_wheel}}
"""


@pytest.fixture
def server(database_url: str, sandbox_folder: Path) -> Iterator[LiveServer]:
    with live_server(sandbox_folder / "site", database_url) as live:
        yield live


WAIT = 120.0  # seconds: playbooks on fresh sandboxes, on a busy 2-core machine


def detail(server: LiveServer, number: int) -> dict[str, Any]:
    from tests.system.submitting import Answer

    response = call(server, "GET", f"changes/{number}/detail")
    data: dict[str, Any] = Answer(response.status_code, response.text).json()
    return data


def ci_message(server: LiveServer, number: int, containing: str) -> str:
    """The first CI message on the change that contains `containing`, waited for."""
    deadline = time.monotonic() + WAIT
    while True:
        for message in detail(server, number).get("messages", []):
            if (
                containing in message["message"]
                and message.get("author", {}).get("username")
                == server.services.settings.gating.ci_account
            ):
                return str(message["message"])
        if time.monotonic() > deadline:
            texts = [m["message"] for m in detail(server, number).get("messages", [])]
            raise AssertionError(f"no CI message with {containing!r} on {number}: {texts}")
        time.sleep(0.5)


def verified(server: LiveServer, number: int) -> int | None:
    votes = detail(server, number)["labels"].get("Verified", {}).get("all", [])
    values = [v.get("value", 0) for v in votes if v.get("value")]
    return values[0] if values else None


def job_output(message: str, job: str) -> str:
    """The job-output.txt the report's line for `job` links to."""
    found = re.search(rf"{job} (https?://\S+)", message)
    assert found, f"no log URL for {job} in: {message}"
    url = found.group(1)
    url = url if url.endswith("/") else url + "/"
    response = httpx.get(url + "job-output.txt", timeout=30, follow_redirects=True)
    assert response.status_code == 200, f"{url}job-output.txt: {response.status_code}"
    return response.text


def with_jobs(hello: str, secret: str) -> dict[str, str]:
    return {
        ".zuul.yaml": secret + ZUUL_YAML,
        "playbooks/hello.yaml": hello,
        "playbooks/publish.yaml": PUBLISH,
    }


def test_a_pushed_change_runs_its_job_and_an_approved_one_merges_and_publishes(
    server: LiveServer, tmp_path: Path
) -> None:
    call(server, "PUT", "projects/team%2Fapp", {"create_empty_commit": True}, status=201)
    # The project's jobs land on master first, pushed by its admin, with a
    # secret encrypted for the project's public key, as zuul-client does.
    pem = httpx.get(f"{server.url}api/tenant/main/key/team/app.pub", timeout=60).content
    secret = secret_yaml(encrypt_with_public_pem(pem, TOKEN))
    owner = admin(server, tmp_path, "team/app")
    owner.commit("Add CI jobs", files=with_jobs(HELLO, secret))
    landed = owner.push("HEAD:refs/heads/master")
    assert landed.ok, landed.output
    alice = contributor(server, tmp_path, "team/app")

    # A pushed change is checked by the job, on a sandboxed node.
    good = push(alice, "Add a readme", files={"README": "team/app\n"})
    report = ci_message(server, good.number, "Build succeeded")
    assert verified(server, good.number) == 1
    output = job_output(report, "hello")
    assert "hello from the job in check" in output
    assert "made-by-the-job" in output

    # An administrator asks to keep the nodes of the job's next failed build.
    autohold = f"{server.url}api/tenant/main/autohold"
    asked = httpx.post(
        f"{server.url}api/tenant/main/project/team/app/autohold",
        json={"job": "hello", "ref": "refs/changes/.*", "reason": "see why it fails"},
        auth=server.admin,
        timeout=30,
    )
    assert asked.status_code == 200, asked.text

    # A failing command votes -1, and its log shows what failed.
    bad = push(alice, "Break the tests", files={"playbooks/hello.yaml": FAILING}, on=good.sha)
    failed = ci_message(server, bad.number, "Build failed")
    assert verified(server, bad.number) == -1
    text = job_output(failed, "hello")
    assert "3 tests failed" in text
    assert "rc=3" in text

    # Its node is held, with what the job left in it, until the autohold goes.
    [hold] = httpx.get(autohold, timeout=30).json()
    assert hold["current_count"] == 1
    [[node_id]] = [entry["nodes"] for entry in hold["nodes"]]
    node = server.site_path / "run" / "nodes" / node_id
    assert (node / "home" / "src").is_dir()
    gone = httpx.delete(f"{autohold}/{hold['id']}", auth=server.admin, timeout=30)
    assert gone.status_code == 204
    deadline = time.monotonic() + WAIT
    while node.exists():
        assert time.monotonic() < deadline, "the node was kept after its autohold was deleted"
        time.sleep(0.2)

    # A check job may not use the project's secret: it is refused, saying why.
    sneaky = ZUUL_YAML.replace("jobs: [hello]", "jobs: [hello, publish]", 1)
    leak = push(alice, "Publish from check", files={".zuul.yaml": secret + sneaky}, on=good.sha)
    refused = ci_message(server, leak.number, "configuration errors")
    assert "the job is post-review (it uses a secret or sets post-review)" in refused
    assert 'the pipeline "check" runs before review' in refused

    # Approved, the good change is gated, merged, and its post job runs.
    call(
        server,
        "POST",
        f"changes/{good.number}/revisions/current/review",
        {"labels": {"Code-Review": 2, "Workflow": 1}},
    )
    deadline = time.monotonic() + WAIT
    while detail(server, good.number)["status"] != "MERGED":
        assert time.monotonic() < deadline, detail(server, good.number)["messages"]
        time.sleep(0.5)
    gated = ci_message(server, good.number, "Build succeeded (gate pipeline)")
    assert "hello from the job in gate" in job_output(gated, "hello")

    # The post job got the secret, which its log shows masked, and its artifact
    # is listed with the build, its relative URL joined to the build's logs.
    tip = server.services.projects.branch_tip("team/app", "master")
    text, build = post_output(server, tip)
    assert f"publishing {tip} with {MASK}" in text
    assert TOKEN not in text
    assert build["artifacts"] == [
        {
            "name": "wheel",
            "url": build["log_url"] + "dist/app.whl",
            "metadata": {"type": "python_wheel"},
        }
    ]


def post_output(server: LiveServer, newrev: str | None) -> tuple[str, dict[str, Any]]:
    """The job-output.txt of the post pipeline's publish build of `newrev`,
    waited for, and the build as the builds API shows it."""
    deadline = time.monotonic() + WAIT
    while True:
        builds = httpx.get(
            f"{server.url}api/tenant/main/builds",
            params={"pipeline": "post", "job_name": "publish"},
            timeout=30,
        ).json()
        for build in builds:
            if build.get("result") and build.get("log_url"):
                text = httpx.get(build["log_url"] + "job-output.txt", timeout=30).text
                if f"publishing {newrev}" in text:
                    assert build["result"] == "SUCCESS", build
                    return text, build
        assert time.monotonic() < deadline, builds
        time.sleep(0.5)


FLAKY_YAML = (
    "- job:\n    name: flaky\n" + NODESET + "    run: playbooks/flaky.yaml\n"
    "- job:\n    name: remote\n"
    "    nodeset:\n      nodes:\n        - name: remote\n          label: static\n"
    "    run: playbooks/remote.yaml\n"
    "- project:\n    check:\n      jobs: [flaky, remote]\n"
)

# The first attempt prints a line and then waits (a minute at most): its node
# dies under it. Later attempts go straight through.
FLAKY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Work
      shell: |
        echo "attempt {{ zuul.attempts }} started"
        if [ {{ zuul.attempts }} = 1 ]; then for i in $(seq 600); do sleep 0.1; done; fi
        echo "attempt {{ zuul.attempts }} finished"
"""

# Streamed, the lines come in the order the command printed them; from the
# task's result (not streamed) stdout would come before stderr.
REMOTE = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Over ssh
      shell: |
        echo "on {{ inventory_hostname }} slot {{ lockgate_slot }}"
        echo to-stderr >&2
        sleep 0.5
        echo after
"""


def static_settings(sshd: SshServer) -> str:
    """The default local provider, and a static provider of the test's sshd."""
    return f"""
[[nodepool.labels]]
name = "local"

[[nodepool.labels]]
name = "static"

[[nodepool.providers]]
name = "local"

[[nodepool.providers]]
name = "ssh"
driver = "static"

[[nodepool.providers.pools]]
name = "main"
labels = ["static"]

[[nodepool.providers.options.hosts]]
name = "box"
address = "{sshd.address}"
port = {sshd.port}
user = "{sshd.user}"
key = "{sshd.client_key}"
labels = ["static"]
"""


@pytest.fixture
def sqlite_jobs_server(sandbox_folder: Path, tmp_path: Path) -> Iterator[LiveServer]:
    if sshd_available() is not None:
        pytest.skip(str(sshd_available()))
    with (
        start_sshd(tmp_path / "sshd") as sshd,
        live_server(sandbox_folder / "site", settings=static_settings(sshd)) as live,
    ):
        yield live


def builds_of(server: LiveServer, job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(
        f"{server.url}api/tenant/main/builds", params={"job_name": job}, timeout=30
    ).json()
    return found


def console_lines(server: LiveServer, build: str) -> Iterator[str]:
    """The build's live console, line by line as the server streams it, and
    last the build's result."""
    url = f"{server.url}api/tenant/main/console-stream/{build}"
    with httpx.stream("GET", url, timeout=httpx.Timeout(10, read=WAIT)) as response:
        assert response.status_code == 200
        ended = False
        for line in response.iter_lines():
            if line.startswith("event: end"):
                ended = True
            elif line.startswith("data: ") and ended:
                yield "result " + json.loads(line.removeprefix("data: "))["result"]
                return
            elif line.startswith("data: "):
                yield line.removeprefix("data: ")


def test_the_console_streams_a_running_task_a_lost_node_is_retried_and_ssh_hosts_run_jobs(
    sqlite_jobs_server: LiveServer, tmp_path: Path
) -> None:
    server = sqlite_jobs_server
    call(server, "PUT", "projects/team%2Fapp", {"create_empty_commit": True}, status=201)
    owner = admin(server, tmp_path, "team/app")
    owner.commit(
        "Add CI jobs",
        files={
            ".zuul.yaml": FLAKY_YAML,
            "playbooks/flaky.yaml": FLAKY,
            "playbooks/remote.yaml": REMOTE,
        },
    )
    assert owner.push("HEAD:refs/heads/master").ok
    alice = contributor(server, tmp_path, "team/app")
    change = push(alice, "Add a readme", files={"README": "team/app\n"})

    deadline = time.monotonic() + WAIT
    while not (running := [b for b in builds_of(server, "flaky") if b["result"] is None]):
        assert time.monotonic() < deadline, "the build never started"
        time.sleep(0.2)
    [first] = running

    # The task's first line is on the console while the task still runs: the
    # task cannot end before the test kills its node.
    lines = console_lines(server, first["uuid"])
    seen: list[str] = []
    while not any(line.endswith("| attempt 1 started") for line in seen):
        seen.append(next(lines))
    assert not any("attempt 1 finished" in line for line in seen)

    # The node dies under the task (its sandbox killed, as a host would lose
    # a machine): the build is RETRY, and the retry runs on a fresh node.
    [node] = [
        p for p in (server.site_path / "run" / "nodes").iterdir() if (p / ".lockgate").is_dir()
    ]
    assert sandbox.kill_node(node) > 0
    rest = list(lines)
    assert rest[-1] == "result RETRY"
    assert any("lockgate node is lost" in line for line in rest), rest
    report = ci_message(server, change.number, "Build succeeded")
    assert verified(server, change.number) == 1
    builds = sorted(builds_of(server, "flaky"), key=lambda b: b["attempt"])
    assert [b["result"] for b in builds] == ["RETRY", "SUCCESS"], builds
    retried = job_output(report, "flaky")
    assert "attempt 2 finished" in retried
    nodes = [
        httpx.get(b["log_url"] + "zuul-info/inventory.yaml", timeout=30).json()["all"]["hosts"]
        for b in builds
    ]
    assert nodes[0]["node"]["nodepool"]["id"] != nodes[1]["node"]["nodepool"]["id"]

    # The static host of the site's settings ran the other job over ssh, its
    # output streamed there too.
    remote = job_output(report, "remote")
    printed = [line.split(" | ")[-1] for line in remote.splitlines() if " | remote | " in line]
    start = printed.index("on remote slot 0")
    assert printed[start : start + 3] == ["on remote slot 0", "to-stderr", "after"], remote
