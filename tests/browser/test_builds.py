"""Builds in the browser: a developer finds a failing build in the list, opens
it, reads its log with the lines marked and linked, and follows a running
build's console as it writes."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from lockgate.core.builds.log_view import HEAD_LINES, TAIL_LINES
from lockgate.testing.browser import screenshot
from lockgate.testing.build_history import finish_build, record_build
from lockgate.testing.server import LiveServer

T = "2026-12-01 22:00:01.123456 | "
EVIL = "<script>window.owned = 1</script>"


def job_output() -> str:
    """A console as the executor writes it: tasks, a long quiet one, a failure
    with a traceback, and output that contains markup."""
    lines = [
        f"{T}Job console starting",
        f"{T}RUN START: [playbooks/lint.yaml]",
        f"{T}",
        f"{T}PLAY [all]",
    ]
    for task in range(6):
        lines += [f"{T}", f"{T}TASK [prepare step {task}]"]
        lines += [
            f"{T}node | fetching item {n} <b>not bold</b>" for n in range(20 if task == 2 else 3)
        ]
        lines += [f"{T}node | ok"]
    lines += [
        f"{T}",
        f"{T}TASK [run linters]",
        f"{T}node | WARNING: flake8 option --foo is deprecated",
        f"{T}node | Traceback (most recent call last):",
        f'{T}node |   File "lint.py", line 3, in <module>',
        f"{T}node |     main()",
        f"{T}node | ValueError: {EVIL}",
        f"{T}node | ERROR: 3 files would be reformatted",
        f"{T}node | failed: rc=1",
        f"{T}",
        f"{T}PLAY RECAP",
        f"{T}node | ok: 7 changed: 1 unreachable: 0 failed: 1 skipped: 0 rescued: 0 ignored: 0",
    ]
    return "\n".join(lines) + "\n"


def test_a_failing_build_from_the_builds_list_to_the_lines_of_its_log(
    sqlite_server: LiveServer, page: Page
) -> None:
    server = sqlite_server
    services = server.services
    services.projects.create("org/app", create_empty_commit=True)
    unit = record_build(
        services,
        project="org/app",
        job="unit",
        change=12,
        patchset=3,
        result="SUCCESS",
        console=f"{T}all good\n",
    )
    lint = record_build(
        services,
        project="org/app",
        job="lint",
        change=12,
        patchset=3,
        result="FAILURE",
        console=job_output(),
        nodes=[("node", "ubuntu-noble"), ("db", "debian-trixie")],
        buildset=unit.buildset,
        error="the run playbook failed",
    )

    # The list, filtered to failures with the form (Zuul's query parameters).
    page.goto(f"{server.url}t/main/builds")
    expect(page.locator("table.builds tbody tr")).to_have_count(2)
    page.get_by_label("Result").select_option("FAILURE")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"result=FAILURE"))
    rows = page.locator("table.builds tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("lint")
    expect(rows.first.locator(".badge")).to_have_text("FAILURE")
    expect(rows.first).to_contain_text("12,3")
    screenshot(page, "builds-list")
    # Paged with Zuul's skip and limit; the buildsets tab lists their set.
    page.goto(f"{server.url}t/main/builds?limit=1")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("lint")
    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"limit=1&skip=1|skip=1&limit=1"))
    expect(rows.first).to_contain_text("unit")
    expect(page.get_by_role("link", name="Newer")).to_be_visible()
    page.get_by_role("navigation", name="Tenant main").get_by_role("link", name="Buildsets").click()
    expect(page.locator("table.buildsets tbody tr")).to_have_count(1)
    expect(page.locator("table.buildsets .badge")).to_have_text("FAILURE")
    page.goto(f"{server.url}t/main/builds?result=FAILURE")

    # The build: its result, change, nodes, inventory without credentials, logs.
    rows.first.get_by_role("link", name="lint").click()
    expect(page).to_have_url(f"{server.url}t/main/build/{lint.uuid}")
    expect(page.locator("h1")).to_have_text("lint")
    expect(page.locator(".build-head .badge")).to_have_text("FAILURE")
    expect(page.get_by_role("alert")).to_have_text("the run playbook failed")
    expect(page.locator(".build-head")).to_contain_text("change 12,3")
    nodes = page.locator("table.nodes tbody tr")
    expect(nodes).to_have_count(2)
    expect(nodes.first).to_contain_text("ubuntu-noble")
    page.get_by_text("Inventory", exact=True).click()
    expect(page.locator("details.inventory pre")).to_contain_text("192.0.2.1")
    assert "0123456789abcdef" not in page.content(), "the node token is not shown"
    expect(page.locator("table.files")).to_contain_text("zuul-manifest.json")
    screenshot(page, "build")
    # Its buildset lists both builds.
    page.locator("dd a[href*='/buildset/']").click()
    expect(page.locator("table.builds tbody tr")).to_have_count(2)
    page.go_back()

    # The log viewer: numbered lines, severities, the markup in the log as text.
    page.get_by_role("link", name="Job output").click()
    expect(page).to_have_url(f"{server.url}t/main/build/{lint.uuid}/log/job-output.txt")
    expect(page.locator(".ln.sev-error")).to_have_count(3)  # ERROR, failed: rc=1, the recap
    expect(page.locator(".ln.sev-warning")).to_have_count(1)
    expect(page.locator(".ln.sev-traceback")).to_have_count(4)
    expect(page.locator(".ln.sev-traceback").last).to_contain_text(EVIL)
    assert page.evaluate("window.owned") is None
    expect(page.locator("#log-status")).to_have_text("4 errors · 1 warning")
    # The long quiet task is folded closed; the failing one is open.
    quiet = page.locator("details.section", has=page.get_by_text("TASK [prepare step 2]"))
    expect(quiet).not_to_have_attribute("open", "")
    failing = page.locator("details.section", has=page.get_by_text("TASK [run linters]"))
    expect(failing).to_have_attribute("open", "")

    # Click a line number, shift-click another: the range is marked and in the URL.
    page.locator("#L5 a.n").click()
    page.locator("#L9 a.n").click(modifiers=["Shift"])
    expect(page).to_have_url(re.compile(r"#L5-9$"))
    expect(page.locator(".ln.hl")).to_have_count(5)
    expect(page.locator("#log-status")).to_contain_text("lines 5\N{EN DASH}9")
    # The link opens marked, and a line inside a closed fold opens the fold.
    inside = quiet.locator(".ln").nth(4).get_attribute("id")
    page.goto(f"{server.url}t/main/build/{lint.uuid}")
    page.goto(f"{server.url}t/main/build/{lint.uuid}/log/job-output.txt#{inside}")
    expect(page.locator(f"#{inside}")).to_have_class(re.compile(r"\bhl\b"))
    expect(quiet).to_have_attribute("open", "")
    page.get_by_role("button", name="Next problem").click()
    expect(page).to_have_url(re.compile(r"#L\d+$"))
    first_problem = page.locator(".ln.sev-traceback").first.get_attribute("id")
    assert page.url.endswith(f"#{first_problem}")
    page.goto(f"{server.url}t/main/build/{lint.uuid}/log/job-output.txt#L40-44")
    expect(page.locator(".ln.hl")).to_have_count(5)
    page.evaluate("window.scrollTo(0, 0)")  # the whole page, its toolbar at the top
    screenshot(page, "log-viewer")

    # A phone: the same pages, one column.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server.url}t/main/build/{lint.uuid}")
    screenshot(page, "build-phone")
    page.goto(f"{server.url}t/main/build/{lint.uuid}/log/job-output.txt#L40")
    screenshot(page, "log-viewer-phone")


def test_a_running_builds_console_shows_its_lines_as_they_are_written(
    sqlite_server: LiveServer, page: Page
) -> None:
    server = sqlite_server
    services = server.services
    services.projects.create("org/app", create_empty_commit=True)
    build = record_build(
        services,
        project="org/app",
        job="functional",
        change=7,
        patchset=1,
        console=f"{T}Job console starting\n",
    )

    page.goto(f"{server.url}t/main/build/{build.uuid}")
    expect(page.locator(".build-head .badge")).to_have_text("RUNNING")
    page.get_by_role("link", name="Live console").click()
    expect(page).to_have_url(f"{server.url}t/main/stream/{build.uuid}")
    lines = page.locator("#console-lines .ln")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("Job console starting")
    expect(page.locator("#console-status")).to_contain_text("Streaming")

    # The executor writes on: each line shows up as it is written.
    with build.console.open("a") as out:
        for n, text in enumerate(
            ["TASK [run tests]", f"node | {EVIL}", "node | ERROR: 1 failed"], 2
        ):
            out.write(f"{T}{text}\n")
            out.flush()
            expect(lines).to_have_count(n)
    expect(lines.nth(3)).to_have_class(re.compile(r"sev-error"))
    expect(lines.nth(2)).to_contain_text(EVIL)
    assert page.evaluate("window.owned") is None

    # Paused, the box stays where the reader is; lines still arrive.
    follow = page.get_by_role("button", name="Pause scrolling")
    follow.click()
    expect(page.get_by_role("button", name="Follow output")).to_have_attribute(
        "aria-pressed", "false"
    )
    with build.console.open("a") as out:
        out.writelines(f"{T}node | line {n}\n" for n in range(60))
    expect(lines).to_have_count(64)
    box = page.locator("#console-lines")
    assert box.evaluate("b => b.scrollTop") < 50, "paused: no scrolling to the end"
    page.get_by_role("button", name="Follow output").click()
    expect(page.get_by_role("button", name="Pause scrolling")).to_be_visible()
    assert box.evaluate("b => b.scrollHeight - b.scrollTop - b.clientHeight") < 30
    screenshot(page, "console")

    # The build ends: the page says so and links to the log.
    finish_build(services, build, "FAILURE")
    expect(page.locator("#console-status")).to_contain_text("Finished: FAILURE", timeout=10_000)
    expect(page.locator("#console-state")).to_have_text("FAILURE")
    page.locator("#console-status").get_by_role("link", name="job output").click()
    expect(page.locator(".ln.sev-error")).to_have_count(1)


def test_a_long_log_shows_its_head_and_tail_and_every_line_on_request(
    sqlite_server: LiveServer,
) -> None:
    server = sqlite_server
    server.services.projects.create("org/app", create_empty_commit=True)
    total = HEAD_LINES + TAIL_LINES + 100
    build = record_build(
        server.services,
        project="org/app",
        job="long",
        result="SUCCESS",
        console="".join(f"{T}node | line {n}\n" for n in range(1, total + 1)),
    )
    url = f"{server.url}t/main/build/{build.uuid}/log/job-output.txt"

    page = httpx.get(url, timeout=60).text
    assert f'id="L{HEAD_LINES}"' in page and f'id="L{total}"' in page
    assert f'id="L{HEAD_LINES + 1}"' not in page
    assert f"Lines {HEAD_LINES + 1:,}\N{EN DASH}{HEAD_LINES + 100:,} are not shown" in page
    assert 'href="?all=1"' in page
    assert f"/logs/{build.log_path}/job-output.txt" in page, "the raw file is one link away"
    every = httpx.get(url, params={"all": "1"}, timeout=60).text
    assert f'id="L{HEAD_LINES + 1}"' in every and "are not shown" not in every
    # The quiet middle of the log is folded away, 20 lines in view at each end.
    assert every.count('<details class="fold quiet">') >= 10
