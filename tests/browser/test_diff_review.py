"""A reviewer reads a diff between two patch sets and comments inline, in a real
browser: syntax colours and intraline marks, side by side and unified (the
choice remembered), folded lines expanded in place, a draft on a line, a reply
to a thread and one marked Done, an edit, and the drafts published by a review
so that the unresolved counts change. Then what no page may do: run a file
name, a file's content or a comment as markup, take a form without its CSRF
token, or show a private change's diff to someone else."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from playwright.sync_api import Page, expect

from lockgate.core.review.model import Account, ChangeStatus
from lockgate.testing.browser import screenshot, sign_in
from lockgate.testing.seed import seed_change, seed_patch_set
from lockgate.testing.server import LiveServer

PROJECT = "web/demo"
HOSTILE = "<img src=x onerror=alert(1)>.txt"
HOSTILE_TEXT = '<script>alert("content")</script>\n'

CALC = (
    '"""Arithmetic for the demo.\n\nKept small on purpose.\n"""\n\n\n'
    "def add(a, b):\n"
    '    """Add two numbers."""\n'
    "    return a + b\n\n\n"
    + "".join(f"CONSTANT_{n} = {n}  # filler\n" for n in range(1, 31))
    + "\n\ndef scale(value, factor=2):\n"
    "    return value * factor\n"
)
CALC_PS1 = CALC.replace("return a + b", "return a + b  # plain")
CALC_PS2 = CALC_PS1.replace("value * factor", "value * factor * 10").replace(
    "CONSTANT_3 = 3", "CONSTANT_3 = 33"
)


@dataclass(frozen=True)
class Story:
    server: LiveServer
    number: int
    private_number: int
    bob: tuple[str, str]

    def url(self, path: str) -> str:
        return f"{self.server.url}{path.lstrip('/')}"


def _story(server: LiveServer) -> Story:
    services = server.services
    services.projects.create(PROJECT, create_empty_commit=True)
    for name in ("alice", "bob"):
        services.accounts.create_account(
            name, full_name=name.title(), email=f"{name}@example.com", http_password=f"pw-{name}"
        )
    base = seed_change(
        services,
        PROJECT,
        owner="alice",
        subject="Base",
        files={"src/calc.py": CALC, "logo.png": b"\x89PNG\r\n\x1a\n\0\0\0old"},
        status=ChangeStatus.MERGED,
    )
    change = seed_change(
        services,
        PROJECT,
        owner="alice",
        subject="Scale <b>harder</b>",
        files={"src/calc.py": CALC_PS1, HOSTILE: HOSTILE_TEXT, "logo.png": b"\x89PNG\0new"},
        parent=base.sha,
    )
    seed_patch_set(services, change.change_number, files={"src/calc.py": CALC_PS2})
    hidden = seed_change(
        services, PROJECT, owner="alice", subject="Secret", files={"secret.txt": "s\n"}
    )
    services.edits.set_private(
        str(hidden.change_number), services.accounts.get("alice"), True, None
    )
    return Story(server, change.change_number, hidden.change_number, ("bob", "pw-bob"))


def _review(story: Story, who: tuple[str, str], body: dict[str, object]) -> None:
    response = httpx.post(
        story.url(f"a/changes/{story.number}/revisions/current/review"),
        json=body,
        auth=who,
        timeout=60,
    )
    assert response.status_code == 200, response.text


def test_review_a_diff_between_patch_sets_with_inline_threads(
    sqlite_server: LiveServer, page: Page
) -> None:
    story = _story(sqlite_server)
    n = story.number
    # alice left two questions on patch set 2, both waiting for an answer.
    _review(
        story,
        ("alice", "pw-alice"),
        {
            "comments": {
                "src/calc.py": [
                    {"line": 45, "message": "Is ten right?", "unresolved": True},
                    {"line": 9, "message": "Why a comment <here>?", "unresolved": True},
                ]
            }
        },
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, story.server.url, *story.bob)

    page.goto(story.url(f"c/{PROJECT}/+/{n}/2/src/calc.py?base=1"))
    expect(page).to_have_url(re.compile(rf"/\+/{n}/1\.\.2/src/calc\.py$"))
    table = page.locator("table.diff.sbs")
    # Pygments' colours: `def` is a keyword, the docstring a string across lines.
    expect(table.locator("td.code .k", has_text="def").first).to_be_visible()
    expect(table.locator("td.code .s2, td.code .sd").first).to_be_visible()
    # Intraline: only the changed characters are marked in the changed lines.
    expect(table.locator("td.code.ins mark")).to_have_text([re.compile(r"3"), re.compile("10")])
    expect(page.locator(".counts")).to_contain_text("2 unresolved in this file")
    fold = table.locator("a.expand").first
    expect(fold).to_contain_text("common lines")
    hidden_line = table.locator("#b30")
    expect(hidden_line).to_be_hidden()
    screenshot(page, "diff-side-by-side")
    fold.click()
    expect(hidden_line).to_be_visible()

    page.get_by_role("link", name="Unified").click()
    expect(page.locator("table.diff.unified")).to_be_visible()
    expect(page.locator("table.diff.unified tr.remove td.code").first).to_be_visible()
    screenshot(page, "diff-unified")
    page.goto(story.url(f"c/{PROJECT}/+/{n}/1..2/src/calc.py"))
    expect(page.locator("table.diff.unified")).to_be_visible()  # remembered
    page.get_by_role("link", name="Side by side").click()
    expect(page.locator("table.diff.sbs")).to_be_visible()

    # A draft on line 44 of patch set 2, opened in place by its line number.
    page.locator("#b44").click()
    form = page.locator("tr.thread-row form.draft-form")
    form.locator("textarea").fill("Name the factor?")
    form.get_by_role("button", name="Save draft").click()
    draft = page.locator("article.comment.draft", has_text="Name the factor?")
    expect(draft).to_be_visible()
    expect(draft.locator(".badge.draft")).to_have_text("Draft")
    expect(page.locator(".count.drafts")).to_have_text("1 draft")

    # A reply to one question, Done on the other, and the reply edited.
    question = page.locator(".thread", has_text="Is ten right?")
    question.get_by_role("link", name="Reply").click()
    question.locator("form.reply-form textarea").fill("Ten is what the spec says")
    question.locator("form.reply-form").get_by_role("button", name="Save draft").click()
    expect(question.locator("article.draft")).to_contain_text("Ten is what the spec says")
    why = page.locator(".thread", has_text="Why a comment")
    why.get_by_role("button", name="Done").click()
    expect(why.locator("article.draft")).to_contain_text("Done")
    expect(why.locator(".thread-actions .will")).to_contain_text("resolved when your draft")
    reply = page.locator("article.draft", has_text="Ten is what")
    reply.get_by_role("link", name="Edit").click()
    reply.locator("textarea").fill("Ten is what the spec says, see section 2")
    reply.get_by_role("button", name="Save draft").click()
    expect(page.locator("article.draft", has_text="see section 2")).to_be_visible()
    expect(page.locator(".count.drafts")).to_have_text("3 drafts")
    expect(page.locator(".file-list li.current .badge.draft")).to_have_text("3 drafts")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "diff-threads")

    # Publishing with a review: Done resolves its thread, the new draft opens one.
    _review(story, story.bob, {"message": "Answers inline"})
    page.reload()
    expect(page.locator(".count.drafts")).to_have_text("0 drafts")
    expect(page.locator(".counts")).to_contain_text("2 unresolved in this file")
    expect(page.locator(".thread.resolved", has_text="Why a comment")).to_be_visible()
    expect(page.locator(".thread.unresolved", has_text="Name the factor?")).to_be_visible()
    expect(page.locator(".file-list li.current .badge.unresolved")).to_have_text("2 unresolved")
    # The comment's own markup is text.
    expect(page.locator(".comment .message", has_text="Why a comment <here>?")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="Unified").click()
    screenshot(page, "diff-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Side by side").click()
    assert dialogs == []


def test_diff_pages_show_markup_as_text_refuse_forged_forms_and_hide_private_changes(
    sqlite_server: LiveServer, page: Page
) -> None:
    story = _story(sqlite_server)
    n = story.number
    encoded = HOSTILE.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, story.server.url, *story.bob)
    page.goto(story.url(f"c/{PROJECT}/+/{n}/1/{encoded}"))
    expect(page.locator("h1 .path")).to_have_text(HOSTILE)
    expect(page.locator("table.diff td.code.ins")).to_have_text([HOSTILE_TEXT.strip()])
    expect(page.locator(".subject")).to_have_text("Scale <b>harder</b>")
    page.locator("#b1").click()
    page.locator("tr.thread-row textarea").fill("<script>alert('comment')</script>")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("article.draft .message")).to_have_text("<script>alert('comment')</script>")
    html = page.content()
    assert "<img src=x" not in html and "<script>alert" not in html and "<b>harder" not in html
    screenshot(page, "diff-hostile-names")

    page.goto(story.url(f"c/{PROJECT}/+/{n}/1/logo.png"))
    expect(page.locator(".notice")).to_contain_text("Binary file")
    assert dialogs == []

    with httpx.Client(base_url=story.server.url) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post(
            "/login",
            data={"csrf_token": token.group(1), "username": "bob", "password": "pw-bob"},
        )
        diff = f"/c/{PROJECT}/+/{n}/1/src/calc.py"
        before = len(sqlite_server.services.drafts.of_change(n, _account(story, "bob")))
        forged = client.post(
            diff,
            data={
                "op": "create",
                "patch_set": "1",
                "path": "src/calc.py",
                "side": "REVISION",
                "line": "3",
                "message": "forged",
            },
        )
        assert forged.status_code == 403 and "security token" in forged.text
        assert len(sqlite_server.services.drafts.of_change(n, _account(story, "bob"))) == before

        # Without a script the same forms come with the page: ?comment= opens one.
        opened = client.get(diff, params={"comment": "b:3"}).text
        assert 'name="line" value="3"' in opened and "<textarea" in opened
        session_token = re.search(r'name="csrf_token" value="([^"]+)"', opened)
        assert session_token is not None
        saved = client.post(
            diff,
            data={
                "csrf_token": session_token.group(1),
                "op": "create",
                "patch_set": "1",
                "path": "src/calc.py",
                "side": "REVISION",
                "line": "3",
                "message": "Without a script",
            },
        )
        assert saved.status_code == 303
        [draft] = [
            d
            for d in sqlite_server.services.drafts.of_change(n, _account(story, "bob"))
            if d.message == "Without a script"
        ]
        assert saved.headers["location"] == f"{diff}#c-{draft.id}"
        editing = client.get(diff, params={"edit": draft.id}).text
        assert f'data-edit-form="{draft.id}">' in editing  # shown, not hidden

        secret = f"/c/{PROJECT}/+/{story.private_number}/1/secret.txt"
        assert client.get(secret).status_code == 404
        assert httpx.get(story.url(secret)).status_code == 404
        assert client.get(f"/c/{PROJECT}/+/{n}/1/no-such-file.txt").status_code == 404
    page.context.clear_cookies()
    sign_in(page, story.server.url, "alice", "pw-alice")
    page.goto(story.url(secret))
    expect(page.locator("table.diff td.code.ins")).to_have_text(["s"])


def _account(story: Story, name: str) -> Account:
    return story.server.services.accounts.get(name)
