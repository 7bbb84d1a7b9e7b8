"""A reviewer's day on the change page: read the votes and the CI results, hide
the CI's messages, reply with a vote and submit. And what the page never does:
show markup someone wrote as markup, show a private change to others, or act
on a form posted without its token or with a vote outside one's range."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from lockgate.core.review.model import ChangeStatus
from lockgate.testing.browser import screenshot, sign_in
from lockgate.testing.seed import seed_change, seed_patch_set
from lockgate.testing.server import LiveServer
from tests.system.reviewing import PROJECT, make_team, review, row_counts

CHECK_REPORT = (
    "Build {verb} (check pipeline).\n\n"
    "- demo-tox https://logs.example/{ps}/demo-tox/ : {result} in 1m 02s\n"
    "- demo-docs https://logs.example/{ps}/demo-docs/ : FAILURE in 43s (non-voting)\n"
    "- demo-lint : SKIPPED"
)


def _report(ps: int, result: str) -> str:
    verb = "succeeded" if result == "SUCCESS" else "failed"
    return CHECK_REPORT.format(verb=verb, ps=ps, result=result)


def test_a_reviewer_reads_votes_and_ci_results_toggles_ci_replies_and_submits(
    sqlite_server: LiveServer, page: Page, browser: Browser
) -> None:
    server = sqlite_server
    team = make_team(server)
    n = team.number
    review(server, n, {"message": _report(1, "FAILURE"), "labels": {"Verified": -1}}, auth=team.ci)
    second = seed_patch_set(server.services, n, files={"a.txt": "one\n2\nthree\nfour\n"})
    child = seed_change(server.services, PROJECT, owner="alice", subject="Use a", parent=second.sha)
    review(server, n, {"message": _report(2, "SUCCESS"), "labels": {"Verified": 2}}, auth=team.ci)
    review(
        server,
        n,
        {
            "message": "Nearly there.",
            "labels": {"Code-Review": 1},
            "comments": {"a.txt": [{"line": 2, "message": "Why a digit here?"}]},
        },
        auth=team.bob,
    )

    sign_in(page, server.url, *team.core)
    # The number alone leads to the change's own address.
    page.goto(f"{server.url}{n}")
    expect(page).to_have_url(f"{server.url}c/{PROJECT}/+/{n}")
    expect(page.locator("h1.subject")).to_have_text("Add a")
    expect(page.locator(".patch-sets a.ps")).to_have_count(2)
    expect(page.locator(".patch-sets a.shown")).to_have_text("2")

    # The relation chain: the change stacked on this one, then this one.
    related = page.locator(".related-list li")
    expect(related).to_have_count(2)
    expect(related.first.locator("a")).to_have_attribute(
        "href", f"/c/{PROJECT}/+/{child.change_number}/1"
    )
    expect(related.last).to_have_class(re.compile(r"\bthis\b"))

    # Votes with who cast them, and why it cannot be submitted yet.
    verified = page.locator('tr.label-row[data-label="Verified"]')
    expect(verified.locator(".voter")).to_have_text("+2 CI")
    code_review = page.locator('tr.label-row[data-label="Code-Review"]')
    expect(code_review.locator(".voter")).to_have_text("+1 Bob")
    expect(page.locator(".blockers")).to_contain_text("Code-Review needs a +2 vote.")
    expect(page.locator(".blockers")).to_contain_text("Workflow needs a +1 vote.")
    expect(page.locator(".change-buttons .submit")).to_have_count(0)

    # The CI results of the patch set shown: patch set 2's report, job by job.
    table = page.locator("table.ci-results")
    expect(table.locator(".ci-system")).to_have_count(1)
    expect(table.locator(".ci-system")).to_contain_text("check")
    tox = table.locator("tr.ci-job", has_text="demo-tox")
    expect(tox.locator("a")).to_have_attribute("href", "https://logs.example/2/demo-tox/")
    expect(tox.locator(".result")).to_have_text("SUCCESS")
    expect(tox.locator(".duration")).to_have_text("1m 02s")
    docs = table.locator("tr.ci-job", has_text="demo-docs")
    expect(docs).to_contain_text("non-voting")
    expect(docs.locator(".result")).to_have_text("FAILURE")
    expect(table.locator("tr.ci-job", has_text="demo-lint").locator(".result")).to_have_text(
        "SKIPPED"
    )
    # Bob's inline comment, in the history with its message, and counted on its file.
    expect(page.locator(".msg", has_text="Nearly there.").locator(".comment")).to_contain_text(
        "Line 2: Why a digit here?"
    )
    expect(page.locator(".file-list tr", has_text="a.txt").locator(".comment-count")).to_have_text(
        "1"
    )
    expect(page.locator(".file-list a", has_text="a.txt")).to_have_attribute(
        "href", f"/c/{PROJECT}/+/{n}/2/a.txt"
    )
    # Patch set 1 has its own results.
    page.locator(".patch-sets a.ps", has_text="1").click()
    expect(page).to_have_url(f"{server.url}c/{PROJECT}/+/{n}/1")
    expect(page.locator("table.ci-results tr.ci-job", has_text="demo-tox")).to_contain_text(
        "FAILURE"
    )
    page.goto(f"{server.url}c/{PROJECT}/+/{n}")

    # Toggle CI hides the CI's messages and shows them again, without reloading.
    ci_messages = page.locator(".msg.ci")
    expect(ci_messages).to_have_count(2)
    page.get_by_role("link", name=re.compile("Toggle CI")).click()
    expect(ci_messages.first).to_be_hidden()
    expect(ci_messages.last).to_be_hidden()
    expect(page.locator(".msg", has_text="Nearly there.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?ci=hide"))
    page.get_by_role("link", name=re.compile("Toggle CI")).click()
    expect(ci_messages.first).to_be_visible()
    # Without scripts, the switch is a link the server answers.
    plain = browser.new_context(java_script_enabled=False)
    try:
        quiet = plain.new_page()
        quiet.goto(f"{server.url}c/{PROJECT}/+/{n}")
        quiet.get_by_role("link", name=re.compile("Toggle CI")).click()
        expect(quiet).to_have_url(re.compile(r"\?ci=hide#history$"))
        expect(quiet.locator(".msg.ci").first).to_be_hidden()
        expect(quiet.locator(".msg", has_text="Nearly there.")).to_be_visible()
    finally:
        plain.close()

    # Reply: Code-Review+2 and Workflow+1 with a message, and the reviewer's
    # draft, which the reply publishes.
    drafted = httpx.put(
        f"{server.url}a/changes/{n}/revisions/1/drafts",
        json={"path": "a.txt", "line": 1, "message": "An old thought."},
        auth=team.core,
    )
    assert drafted.status_code == 201, drafted.text
    page.reload()
    expect(page.locator(".drafts li")).to_have_text("a.txt, line 1: An old thought.")
    page.get_by_role("link", name="Reply…").click()
    expect(page.locator("#reply-message")).to_be_focused()
    page.locator("#reply-message").fill("Ship it.\nThanks!")
    page.locator('fieldset[data-label="Code-Review"] label', has_text="+2").click()
    page.locator('fieldset[data-label="Workflow"] label', has_text="+1").click()
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(f"{server.url}c/{PROJECT}/+/{n}")
    expect(page.locator(".state")).to_have_text("Ready to submit")
    mine = page.locator(".msg", has_text="Ship it.")
    expect(mine.locator(".msg-text")).to_have_text(
        "Patch Set 2: Code-Review+2 Workflow+1\n\n(1 comment)\n\nShip it.\nThanks!"
    )
    expect(page.locator(".ready-to-submit")).to_be_visible()
    expect(mine.locator(".comment")).to_have_text("Line 1 (PS1): An old thought.")
    expect(page.locator(".drafts")).to_have_count(0)
    screenshot(page, "change-page")
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        small = phone.new_page()
        sign_in(small, server.url, *team.core)
        small.goto(f"{server.url}c/{PROJECT}/+/{n}")
        screenshot(small, "change-page-phone")
    finally:
        phone.close()

    page.get_by_role("button", name="Submit").click()
    expect(page.locator(".state")).to_have_text("Merged")
    expect(page.locator(".change-buttons .submit")).to_have_count(0)
    # A merged change still takes messages, but no votes.
    expect(page.locator("#reply textarea")).to_be_visible()
    expect(page.locator("#reply fieldset")).to_have_count(0)
    assert server.services.review.lookup(str(n)).status.value == "MERGED"


# --- what the page never does ------------------------------------------------------------


def _browser_session(server: LiveServer, username: str, password: str) -> httpx.Client:
    """A client signed in through the sign-in form, as a browser would be."""
    client = httpx.Client(base_url=server.url)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    signed_in = client.post(
        "/login", data={"csrf_token": token.group(1), "username": username, "password": password}
    )
    assert signed_in.status_code == 303
    return client


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_what_people_wrote_is_text_private_changes_stay_hidden_and_forged_forms_do_nothing(
    sqlite_server: LiveServer, page: Page
) -> None:
    server = sqlite_server
    team = make_team(server)
    evil = "<img src=x onerror=\"document.title='owned'\">"
    seeded = seed_change(
        server.services,
        PROJECT,
        owner="alice",
        subject=f"Fix {evil}",
        body="<script>document.title='owned'</script>\nSee javascript:alert(1)",
        files={f"{evil}.txt": "x\n", "ok.txt": "fine\n"},
    )
    n = seeded.change_number
    review(
        server,
        n,
        {
            "message": f"Hmm {evil}",
            "comments": {"ok.txt": [{"line": 1, "message": "<script>alert(1)</script>"}]},
        },
        auth=team.bob,
    )
    url = f"/c/{PROJECT}/+/{n}"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, server.url, *team.bob)
    page.goto(server.url.rstrip("/") + url)
    expect(page.locator("h1.subject")).to_have_text(f"Fix {evil}")
    expect(page.locator(".commit-message")).to_contain_text(
        "<script>document.title='owned'</script>"
    )
    expect(page.locator(".file-list .path", has_text=".txt").first).to_contain_text("<img src=x")
    expect(page.locator(".comment-text")).to_have_text("<script>alert(1)</script>")
    expect(page.locator(".msg-text", has_text="Hmm")).to_contain_text(evil)
    assert page.locator(".change-page img").count() == 0
    assert page.locator("main script").count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0
    assert dialogs == [] and page.title() != "owned"

    # Anyone may read a public change; replying takes signing in.
    anonymous = httpx.get(server.url.rstrip("/") + url)
    assert anonymous.status_code == 200
    assert "Sign in to review" in anonymous.text and "reply-form" not in anonymous.text
    # Named under another project, a change is sent to its own address.
    moved = httpx.get(f"{server.url}c/other/+/{n}/1?ci=hide")
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{url}/1?ci=hide"
    assert httpx.get(f"{server.url}c/{PROJECT}/+/{n}/7").status_code == 404

    # Bob (Code-Review -1..+1) is offered no +2, and a forged +2 is refused.
    bob = _browser_session(server, *team.bob)
    html = bob.get(url).text
    offered = re.findall(r'name="label-Code-Review" value="(-?\d+)"', html)
    assert offered == ["-1", "0", "1"]
    before = row_counts(server)
    forged = bob.post(
        f"{url}/reply",
        data={"csrf_token": _token(html), "message": "sneaky", "label-Code-Review": "2"},
    )
    assert forged.status_code == 403
    assert "Code-Review" in forged.text and 'role="alert"' in forged.text
    assert row_counts(server) == before

    # Every form refuses a post without the session's token, and changes nothing.
    core = _browser_session(server, *team.core)
    core_html = core.get(url).text
    for action, data in (
        ("reply", {"message": "forged", "label-Code-Review": "2"}),
        ("abandon", {}),
        ("wip", {}),
        ("add-reviewer", {"reviewer": "alice"}),
        ("submit", {}),
    ):
        refused = core.post(f"{url}/{action}", data=data)
        assert refused.status_code == 403, action
        assert "security token" in refused.text
        stale = core.post(f"{url}/{action}", data={**data, "csrf_token": "not-the-token"})
        assert stale.status_code == 403, action
    assert row_counts(server) == before
    assert server.services.review.lookup(str(n)).status.value == "NEW"

    # A submit the change is not ready for is refused on the page, with the reason.
    not_ready = core.post(f"{url}/submit", data={"csrf_token": _token(core_html)})
    assert not_ready.status_code == 409
    assert "submit requirement not satisfied" in not_ready.text
    assert '<h1 class="subject">' in not_ready.text
    ci_id = server.services.accounts.get("ci").id

    # Each button does what its REST endpoint does.
    for action, data, check in (
        ("wip", {}, lambda c: c.work_in_progress),
        ("ready", {}, lambda c: not c.work_in_progress),
        ("add-reviewer", {"reviewer": "ci"}, lambda c: c.reviewers == (ci_id,)),
        ("remove-reviewer", {"account": str(ci_id)}, lambda c: c.reviewers == ()),
        ("abandon", {"message": "Not now."}, lambda c: c.status.value == "ABANDONED"),
        ("restore", {}, lambda c: c.status.value == "NEW"),
        ("rebase", {}, lambda c: c.current_patch_set == 2),
    ):
        if action == "rebase":
            seed_change(server.services, PROJECT, owner="alice", status=ChangeStatus.MERGED)
        done = core.post(f"{url}/{action}", data={**data, "csrf_token": _token(core_html)})
        assert done.status_code == 303, f"{action}: {done.text}"
        assert done.headers["location"] == url
        assert check(server.services.review.lookup(str(n))), action

    # A private change is not found by anyone but its owner (and administrators).
    alice = _browser_session(server, *team.alice)
    private = seed_change(server.services, PROJECT, owner="alice", subject="Secret plan")
    p = private.change_number
    made_private = httpx.post(
        f"{server.url}a/changes/{p}/private", json={}, auth=team.alice, timeout=30
    )
    assert made_private.status_code == 201
    assert "Secret plan" in alice.get(f"/c/{PROJECT}/+/{p}").text
    for who in (bob, httpx.Client(base_url=server.url)):
        for path in (f"/c/{PROJECT}/+/{p}", f"/c/{p}", f"/{p}"):
            hidden = who.get(path)
            assert hidden.status_code == 404, path
            assert "Secret plan" not in hidden.text
    for client in (bob, core, alice):
        client.close()
