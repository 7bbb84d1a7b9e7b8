"""A diff laid out for reading: numbered cells, the changed characters of each
line, side by side and unified rows, folded common lines that keep the lines
with comments; comment threads with the reader's drafts; and a line's HTML
with Pygments' colours, every character escaped."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.core.review.comments import Comment
from lockgate.core.review.diff import Edit, build_blocks, split_lines
from lockgate.core.review.diff_rows import (
    Cell,
    Mode,
    RowKind,
    Section,
    Side,
    layout,
    line_marks,
    rows_of,
    sections,
)
from lockgate.core.review.threads import build_threads, unresolved_count
from lockgate.web.ui.highlight import line_html, token_spans


def _edits(a: list[str], b: list[str]) -> list[Edit]:
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [Edit(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _sections(old: str, new: str) -> list[Section]:
    a, b = split_lines(old), split_lines(new)
    return sections(build_blocks(a, b, _edits(a, b), context=None, intraline=True))


def test_changed_characters_are_marked_in_their_lines_and_the_empty_last_line_is_not_shown() -> (
    None
):
    old = "".join(f"line {n}\n" for n in range(1, 31))
    new = old.replace("line 6\n", "line six\n")
    found = _sections(old, new)
    assert [s.common for s in found] == [True, False, True]
    changed = found[1]
    assert changed.a == (Cell(6, "line 6", ((5, 6),)),)
    assert changed.b == (Cell(6, "line six", ((5, 8),)),)
    # Thirty lines a side, not Gerrit's 31st empty one.
    assert found[2].b[-1] == Cell(30, "line 30")
    # A mark running over a newline goes on in the next line.
    assert line_marks(["ab", "cd"], [(1, 3)]) == [[(1, 2)], [(0, 1)]]

    rows = rows_of(changed, Mode.UNIFIED)
    assert [(r.kind, r.a and r.a.line, r.b and r.b.line) for r in rows] == [
        (RowKind.REMOVE, 6, None),
        (RowKind.ADD, None, 6),
    ]
    # Two lines of context; line 20 has a comment; three lines are not worth a fold.
    groups = layout(found, Mode.SIDE_BY_SIDE, context=2, keep={(Side.B, 20)})
    shown = [(g.folded, [r.b.line for r in g.rows if r.b]) for g in groups]
    assert shown == [
        (False, list(range(1, 9))),
        (True, list(range(9, 20))),
        (False, [20]),
        (True, list(range(21, 31))),
    ]
    assert len(layout(found, Mode.SIDE_BY_SIDE, context=None)) == 1


texts = st.lists(st.sampled_from(["a", "b", "c", "a b", ""]), max_size=12).map(
    lambda lines: "\n".join(lines) + ("\n" if len(lines) % 2 else "")
)


@settings(max_examples=150, deadline=None)
@given(old=texts, new=texts, context=st.integers(min_value=0, max_value=3))
def test_every_line_is_in_one_row_in_order_however_folded(old: str, new: str, context: int) -> None:
    found = _sections(old, new)
    for side, text in ((Side.A, old), (Side.B, new)):
        lines = split_lines(text)
        if lines and lines[-1] == "":
            lines.pop()
        for mode in Mode:
            cells = [
                getattr(row, side.value)
                for group in layout(found, mode, context=context)
                for row in group.rows
            ]
            cells = [c for c in cells if c is not None]
            assert [c.line for c in cells] == list(range(1, len(lines) + 1))
            assert [c.text for c in cells] == lines
            for c in cells:
                assert all(0 <= low < high <= len(c.text) for low, high in c.marks)


def _comment(cid: str, at: int, *, reply: str | None = None, unresolved: bool = False) -> Comment:
    return Comment(
        id=cid,
        change_number=1,
        patch_set=2,
        path="a.py",
        message=cid,
        author_id=1,
        created_at=at,
        line=3,
        in_reply_to=reply,
        unresolved=unresolved,
    )


def test_threads_follow_replies_and_take_the_readers_drafts_in() -> None:
    question = _comment("q", 1, unresolved=True)
    answer = _comment("r", 2, reply="q", unresolved=True)
    other = _comment("o", 3, unresolved=False)
    done = _comment("d", 4, reply="r", unresolved=False)
    fresh = _comment("f", 5, unresolved=True)
    threads = build_threads([answer, question, other], [done, fresh])
    assert [(t.id, [c.id for c in t.comments], [d.id for d in t.drafts]) for t in threads] == [
        ("q", ["q", "r"], ["d"]),
        ("o", ["o"], []),
        ("f", [], ["f"]),
    ]
    first = threads[0]
    assert first.unresolved and first.resolved_with_drafts and first.last.id == "r"
    # Drafts count once they are published; a draft-only thread waits for nobody.
    assert unresolved_count(threads) == 1


def test_a_line_is_coloured_across_multi_line_tokens_and_always_escaped() -> None:
    lines = ["def f():", '    """Say <b>hi</b>', '    & bye"""', "    return '<script>'"]
    spans = token_spans("pkg/mod.py", lines)
    assert spans is not None
    html = [line_html(text, own, []) for text, own in zip(lines, spans, strict=True)]
    assert html[0].startswith('<span class="k">def</span>')
    assert '<span class="sd">&#34;&#34;&#34;Say &lt;b&gt;hi&lt;/b&gt;</span>' in html[1]
    assert html[2] == '<span class="sd">    &amp; bye&#34;&#34;&#34;</span>'
    assert "&lt;script&gt;" in html[3] and "<script>" not in html[3]
    [own] = token_spans("a.py", ["x = 33"]) or [[]]
    marked = line_html("x = 33", own, [(4, 6)])
    assert marked.endswith('<mark><span class="mi">33</span></mark>')
    # Unknown names and magic files are shown plain; their text is escaped all the same.
    assert token_spans("/COMMIT_MSG", lines) is None
    assert line_html("<i>", [], [(0, 1)]) == "<mark>&lt;</mark>i&gt;"
