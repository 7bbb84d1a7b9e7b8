"""File diffs and contents of a revision, for changes pushed with real git: every
kind of file change, the magic /COMMIT_MSG, diffs between patch sets, context,
whitespace and intraline, and the refusals, as Gerrit's Get Diff and Get
Content answer them."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pygerrit2 import GerritRestAPI

from lockgate.testing.server import LiveServer, live_server
from tests.gitutil import Contributor, admin, git, new_change_id
from tests.system.rest import get

PROJECT = "diffs/demo"
ENCODED = "diffs%2Fdemo"

APP = "".join(f"line {n}\n" for n in range(1, 21))  # 20 lines and Gerrit's empty 21st
PNG_1 = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR first"
PNG_2 = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR second"
OLD_DOC = "".join(f"doc line {n}\n" for n in range(1, 11))


@dataclass(frozen=True)
class Story:
    server: LiveServer
    number: int
    base_sha: str  # master, the change's parent
    ps1: str
    ps2: str

    def diff(self, path: str, revision: str = "current", **params: Any) -> dict[str, Any]:
        file_id = path.replace("/", "%2F")
        found: dict[str, Any] = get(
            self.server,
            f"changes/{self.number}/revisions/{revision}/files/{file_id}/diff",
            **params,
        )
        return found

    def raw(self, path: str, suffix: str = "diff", **params: Any) -> httpx.Response:
        file_id = path.replace("/", "%2F")
        return httpx.get(
            f"{self.server.url}changes/{self.number}/revisions/current/files/{file_id}/{suffix}",
            params=params or None,
        )


def _write(work: Path, files: dict[str, str | bytes | None]) -> None:
    for name, content in files.items():
        target = work / name
        if content is None:
            git(work, "rm", "-q", name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        git(work, "add", name)


def _commit(who: Contributor, message: str, files: dict[str, str | bytes | None]) -> str:
    _write(who.work, files)
    git(who.work, "commit", "-q", "-m", message)
    return git(who.work, "rev-parse", "HEAD").strip()


def _story(server: LiveServer, tmp_path: Path) -> Story:
    """master holds the base files; one change modifies, adds, deletes, renames and
    re-indents them, and its second patch set changes one more line."""
    server.services.projects.create(PROJECT, create_empty_commit=True)
    boss = admin(server, tmp_path, PROJECT)
    base_sha = _commit(
        boss,
        "Base files",
        {
            "src/app.py": APP,
            "docs/old_name.md": OLD_DOC,
            "remove_me.txt": "going\naway\n",
            "image.png": PNG_1,
            "ws.txt": "def f():\n  return 1\nx = a b\n",
        },
    )
    assert boss.push("HEAD:refs/heads/master").ok
    key = new_change_id()
    changed = {
        "src/app.py": APP.replace("line 10\n", "line ten\n"),
        "new/file.txt": "first\nsecond\n",
        "remove_me.txt": None,
        "image.png": PNG_2,
        "ws.txt": "def f():\n    return 1\nx = ab\n",
    }
    git(boss.work, "mv", "docs/old_name.md", "docs/new_name.md")
    (boss.work / "docs/new_name.md").write_text(OLD_DOC.replace("doc line 5\n", "doc line V\n"))
    git(boss.work, "add", "docs/new_name.md")
    ps1 = _commit(boss, f"Rework the app\n\nChange-Id: {key}\n", changed)
    pushed = boss.push("HEAD:refs/for/master")
    assert pushed.ok, pushed.output
    amended = APP.replace("line 10\n", "line ten\n").replace("line 15\n", "line fifteen\n")
    _write(boss.work, {"src/app.py": amended})
    git(boss.work, "commit", "-q", "--amend", "-m", f"Rework the app again\n\nChange-Id: {key}\n")
    ps2 = git(boss.work, "rev-parse", "HEAD").strip()
    pushed = boss.push("HEAD:refs/for/master")
    assert pushed.ok, pushed.output
    [change] = get(server, "changes/", q=f"project:{PROJECT}")
    return Story(server, change["_number"], base_sha, ps1, ps2)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """One SQLite server for the read-only diff tests; the database story is told
    on both databases below."""
    root = tmp_path_factory.mktemp("diffs")
    with live_server(root / "site") as live:
        home = root / "home"
        home.mkdir()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOME", str(home))
            patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
            (home / ".gitconfig").write_text(
                "[user]\n\tname = Test Author\n\temail = author@example.com\n"
                "[init]\n\tdefaultBranch = master\n"
            )
            yield _story(live, root)


def _app_lines(**replaced: str) -> list[str]:
    lines = [f"line {n}" for n in range(1, 21)] + [""]
    for old, new in replaced.items():
        lines[lines.index(old.replace("_", " "))] = new
    return lines


# --- the diff of each kind of change ----------------------------------------------


def test_a_modified_file_with_gerrit_default_context(server: LiveServer, tmp_path: Path) -> None:
    story = _story(server, tmp_path)

    diff = story.diff("src/app.py", revision="1")

    assert diff["meta_a"] == {"name": "src/app.py", "content_type": "text/x-python", "lines": 21}
    assert diff["meta_b"] == diff["meta_a"]
    assert diff["change_type"] == "MODIFIED"
    assert diff["diff_header"][0] == "diff --git a/src/app.py b/src/app.py"
    assert diff["diff_header"][1].startswith("index ") and diff["diff_header"][1].endswith(
        " 100644"
    )
    assert diff["diff_header"][2:] == ["--- a/src/app.py", "+++ b/src/app.py"]
    lines = _app_lines()
    # Ten lines of context by default: all nine before the change, ten of the eleven after.
    assert diff["content"] == [
        {"ab": lines[:9]},
        {"a": ["line 10"], "b": ["line ten"]},
        {"ab": lines[10:20]},
        {"skip": 1},
    ]
    assert "intraline_status" not in diff and "binary" not in diff


def test_context_three_skips_and_all_shows_the_whole_file(story: Story) -> None:
    lines = _app_lines()

    narrow = story.diff("src/app.py", revision="1", context="3")
    whole = story.diff("src/app.py", revision="1", context="ALL")

    assert narrow["content"] == [
        {"skip": 6},
        {"ab": lines[6:9]},
        {"a": ["line 10"], "b": ["line ten"]},
        {"ab": lines[10:13]},
        {"skip": 8},
    ]
    assert whole["content"] == [
        {"ab": lines[:9]},
        {"a": ["line 10"], "b": ["line ten"]},
        {"ab": lines[10:]},
    ]


def test_an_added_file_has_no_side_a(story: Story) -> None:
    diff = story.diff("new/file.txt")

    assert "meta_a" not in diff
    assert diff["meta_b"] == {"name": "new/file.txt", "content_type": "text/plain", "lines": 3}
    assert diff["change_type"] == "ADDED"
    assert "new file mode 100644" in diff["diff_header"]
    assert "--- /dev/null" in diff["diff_header"]
    assert diff["content"] == [{"b": ["first", "second", ""]}]


def test_a_deleted_file_has_no_side_b(story: Story) -> None:
    diff = story.diff("remove_me.txt")

    assert diff["meta_a"] == {"name": "remove_me.txt", "content_type": "text/plain", "lines": 3}
    assert "meta_b" not in diff
    assert diff["change_type"] == "DELETED"
    assert "deleted file mode 100644" in diff["diff_header"]
    assert diff["content"] == [{"a": ["going", "away", ""]}]


def test_a_renamed_file_is_compared_with_its_old_name(story: Story) -> None:
    diff = story.diff("docs/new_name.md", context="1")

    assert diff["change_type"] == "RENAMED"
    assert diff["meta_a"]["name"] == "docs/old_name.md"
    assert diff["meta_b"]["name"] == "docs/new_name.md"
    assert diff["meta_a"]["content_type"] == "text/x-markdown"
    assert "rename from docs/old_name.md" in diff["diff_header"]
    assert "rename to docs/new_name.md" in diff["diff_header"]
    assert diff["content"] == [
        {"skip": 3},
        {"ab": ["doc line 4"]},
        {"a": ["doc line 5"], "b": ["doc line V"]},
        {"ab": ["doc line 6"]},
        {"skip": 5},
    ]


def test_a_binary_file_has_no_content_lines(story: Story) -> None:
    diff = story.diff("image.png")

    assert diff["binary"] is True
    assert diff["content"] == []
    assert diff["change_type"] == "MODIFIED"
    assert diff["meta_a"]["content_type"] == "image/png"
    assert diff["meta_b"]["name"] == "image.png"
    assert any(line.startswith("Binary files") for line in diff["diff_header"])


def test_the_commit_message_is_gerrit_magic_file(story: Story) -> None:
    diff = story.diff("/COMMIT_MSG", revision="1")

    assert diff["change_type"] == "ADDED"
    assert "meta_a" not in diff
    assert diff["meta_b"]["content_type"] == "text/x-gerrit-commit-message"
    [block] = diff["content"]
    lines = block["b"]
    assert lines[0] == f"Parent:     {story.base_sha[:8]} (Base files)"
    assert lines[1] == "Author:     Test Author <author@example.com>"
    assert lines[6:] == ["Rework the app", "", f"Change-Id: {lines[-2].split(' ')[1]}", ""]
    assert diff["meta_b"]["lines"] == len(lines)
    assert diff["diff_header"][0] == "diff --git a//COMMIT_MSG b//COMMIT_MSG"

    against_ps1 = story.diff("/COMMIT_MSG", revision="2", base="1", context="ALL")
    assert against_ps1["change_type"] == "MODIFIED"
    # (The commit dates may differ too, when the amend fell in another second.)
    assert {"a": ["Rework the app"], "b": ["Rework the app again"]} in against_ps1["content"]


# --- comparing with another patch set, whitespace, intraline ------------------------


def test_base_compares_two_patch_sets_of_the_change(story: Story) -> None:
    diff = story.diff("src/app.py", revision="2", base="1", context="2")

    lines = _app_lines(line_10="line ten")
    assert diff["change_type"] == "MODIFIED"
    assert diff["content"] == [
        {"skip": 12},
        {"ab": lines[12:14]},
        {"a": ["line 15"], "b": ["line fifteen"]},
        {"ab": lines[15:17]},
        {"skip": 4},
    ]
    # A file the two patch sets share unchanged: the whole file, no header.
    same = story.diff("new/file.txt", revision="2", base="1")
    assert same["content"] == [{"ab": ["first", "second", ""]}]
    assert "diff_header" not in same
    # Against the revision's parent, both changes show.
    both = story.diff("src/app.py", revision="2", context="0")
    assert [b for b in both["content"] if "a" in b] == [
        {"a": ["line 10"], "b": ["line ten"]},
        {"a": ["line 15"], "b": ["line fifteen"]},
    ]


def test_whitespace_modes_hide_or_show_whitespace_edits(story: Story) -> None:
    exact = story.diff("ws.txt", whitespace="IGNORE_NONE", context="ALL")
    all_ignored = story.diff("ws.txt", whitespace="IGNORE_ALL", context="ALL")
    default = story.diff("ws.txt", context="ALL")

    assert exact["content"] == [
        {"ab": ["def f():"]},
        {"a": ["  return 1", "x = a b"], "b": ["    return 1", "x = ab"]},
        {"ab": [""]},
    ]
    # Ignoring all whitespace both edits are common lines, shown on both sides.
    assert all_ignored["content"] == [
        {"ab": ["def f():"]},
        {"a": ["  return 1", "x = a b"], "b": ["    return 1", "x = ab"], "common": True},
        {"ab": [""]},
    ]
    # Gerrit's default ignores leading and trailing whitespace only.
    assert default["content"] == [
        {"ab": ["def f():"]},
        {"a": ["  return 1"], "b": ["    return 1"], "common": True},
        {"a": ["x = a b"], "b": ["x = ab"]},
        {"ab": [""]},
    ]


def test_intraline_marks_the_changed_characters(story: Story) -> None:
    diff = story.diff("src/app.py", revision="1", intraline="", context="0")

    assert diff["intraline_status"] == "OK"
    [change] = [b for b in diff["content"] if "a" in b]
    # "line 10\n" became "line ten\n": "10" gave way to "ten" at offset 5.
    assert change == {
        "a": ["line 10"],
        "b": ["line ten"],
        "edit_a": [[5, 2]],
        "edit_b": [[5, 3]],
    }


def test_parent_one_is_the_revision_parent(story: Story) -> None:
    assert story.diff("src/app.py", parent="1") == story.diff("src/app.py")


# --- contents -------------------------------------------------------------------------


def test_content_is_base64_with_gerrit_headers(story: Story) -> None:
    response = story.raw("src/app.py", "content")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-fyi-content-encoding"] == "base64"
    assert response.headers["x-fyi-content-type"] == "text/x-python"
    expected = APP.replace("line 10\n", "line ten\n").replace("line 15\n", "line fifteen\n")
    assert base64.b64decode(response.text) == expected.encode()

    parent = story.raw("src/app.py", "content", parent="1")
    assert base64.b64decode(parent.text) == APP.encode()

    image = story.raw("image.png", "content")
    assert base64.b64decode(image.text) == PNG_2
    assert image.headers["x-fyi-content-type"] == "image/png"

    message = story.raw("/COMMIT_MSG", "content")
    assert base64.b64decode(message.text).decode().startswith("Rework the app again\n")
    assert message.headers["x-fyi-content-type"] == "text/x-gerrit-commit-message"


def test_content_as_json_when_only_json_is_accepted(story: Story) -> None:
    url = f"{story.server.url}changes/{story.number}/revisions/1/files/new%2Ffile.txt/content"
    response = httpx.get(url, headers={"Accept": "application/json"})

    assert response.status_code == 200
    assert response.headers["x-fyi-content-encoding"] == "json"
    assert json.loads(response.text[5:]) == "first\nsecond\n"


def test_real_clients_read_diffs(story: Story) -> None:
    rest = GerritRestAPI(url=story.server.url.rstrip("/"))
    diff = rest.get(f"/changes/{story.number}/revisions/current/files/new%2Ffile.txt/diff")
    assert diff["content"] == [{"b": ["first", "second", ""]}]
    name, password = story.server.admin
    signed_in = httpx.get(
        f"{story.server.url}a/changes/{story.number}/revisions/1/files/new/file.txt/diff",
        auth=(name, password),
    )
    assert signed_in.status_code == 200, signed_in.text
    assert json.loads(signed_in.text[5:])["change_type"] == "ADDED"


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "suffix", "params", "answer"),
    [
        ("nope.txt", "diff", {}, (404, "file nope.txt is neither in revision 2 nor in its parent")),
        ("nope.txt", "content", {}, (404, "file nope.txt in revision 2")),
        ("remove_me.txt", "content", {}, (404, "file remove_me.txt in revision 2")),
        ("", "diff", {}, (404, "name the file")),
        ("src/app.py", "diff", {"context": "some"}, (400, "context=some is not valid")),
        ("src/app.py", "diff", {"context": "-1"}, (400, "or context=ALL")),
        (
            "src/app.py",
            "diff",
            {"whitespace": "SOME"},
            (
                400,
                "whitespace=SOME is not valid: give one of IGNORE_NONE, IGNORE_TRAILING, "
                "IGNORE_LEADING_AND_TRAILING, IGNORE_ALL",
            ),
        ),
        ("src/app.py", "diff", {"base": "9"}, (400, "base=9 names no patch set of change")),
        ("src/app.py", "diff", {"base": "2"}, (400, "base=2 is the revision itself")),
        ("src/app.py", "diff", {"parent": "2"}, (400, "parent=2 is out of range")),
        ("src/app.py", "content", {"parent": "3"}, (400, "parent=3 is out of range")),
        ("src/app.py", "diff", {"parent": "x"}, (400, "parent=x is not a number")),
        ("src/app.py", "diff", {"base": "1", "parent": "1"}, (400, "give base= or parent=")),
    ],
)
def test_refusals_name_the_problem(
    story: Story, path: str, suffix: str, params: dict[str, str], answer: tuple[int, str]
) -> None:
    status, message = answer
    response = story.raw(path, suffix, **params)

    assert response.status_code == status, response.text
    assert message in response.text
    assert response.headers["content-type"].startswith("text/plain")


def test_an_unknown_change_or_revision_is_not_found(story: Story) -> None:
    base = f"{story.server.url}changes"
    assert httpx.get(f"{base}/9999/revisions/1/files/src%2Fapp.py/diff").status_code == 404
    missing = httpx.get(f"{base}/{story.number}/revisions/7/files/src%2Fapp.py/diff")
    assert missing.status_code == 404
    assert "revision 7" in missing.text
