"""What the diff page shows, gathered from the services: the file's diff between
two sides, its lines highlighted and folded, the comment threads on them with
the reader's drafts, and the patch set's file list with unresolved counts.

The sides are the patch set's parent and the patch set, or another patch set
(`base`) and the patch set. A comment on the left side of a diff against the
parent is on the patch set's PARENT side; against a base patch set it is on
that patch set's own side, where Gerrit files it too.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from lockgate.core.review.comments import Comment
from lockgate.core.review.comments import Side as CommentSide
from lockgate.core.review.diff import Block, FileDiff, Whitespace
from lockgate.core.review.diff_rows import (
    Cell,
    Mode,
    RowKind,
    Side,
    layout,
    sections,
    shown_lines,
)
from lockgate.core.review.magic_files import COMMIT_MSG
from lockgate.core.review.model import Account, ChangeDetail, FileChange, PatchSet
from lockgate.core.review.threads import Thread, build_threads, unresolved_count
from lockgate.services.bootstrap import Services
from lockgate.services.change_views import revision_files
from lockgate.services.diffs import DiffOptions
from lockgate.services.errors import NotFound
from lockgate.services.permissions import Caller
from lockgate.services.review import LoadOptions
from lockgate.web.ui.highlight import line_html, token_spans

# Gerrit's default context around changes.
CONTEXT = 10


@dataclass(frozen=True, slots=True)
class Target:
    """A diff page's address: /c/<project>/+/<number>/[<base>..]<patch set>/<path>."""

    project: str
    number: int
    patch_set: int
    base: int | None
    path: str

    def url(self, path: str | None = None, **query: str | None) -> str:
        revision = f"{self.base}..{self.patch_set}" if self.base else str(self.patch_set)
        file = urllib.parse.quote(path if path is not None else self.path, safe="/")
        address = (
            f"/c/{urllib.parse.quote(self.project, safe='/')}/+/{self.number}/{revision}/{file}"
        )
        given = {name: value for name, value in query.items() if value}
        return address + ("?" + urllib.parse.urlencode(given) if given else "")

    def change_url(self) -> str:
        project = urllib.parse.quote(self.project, safe="/")
        return f"/c/{project}/+/{self.number}/{self.patch_set}"


@dataclass(frozen=True, slots=True)
class Where:
    """Where a comment on one side of the diff is filed."""

    patch_set: int
    path: str
    side: CommentSide

    def holds(self, thread: Thread) -> bool:
        root = thread.root
        return (
            root.patch_set == self.patch_set
            and root.path == self.path
            and root.side is self.side
            and (root.parent or 1) == 1
        )


@dataclass(frozen=True, slots=True)
class ViewCell:
    line: int
    html: Markup
    threads: tuple[Thread, ...] = ()


@dataclass(frozen=True, slots=True)
class ViewRow:
    kind: RowKind
    a: ViewCell | None
    b: ViewCell | None

    @property
    def threads(self) -> bool:
        return bool((self.a and self.a.threads) or (self.b and self.b.threads))


@dataclass(frozen=True, slots=True)
class ViewGroup:
    """Rows shown, or folded: then only how many and which lines (first, last)
    of each side, which the page fetches when the fold is opened."""

    rows: tuple[ViewRow, ...]
    folded: bool
    index: int
    count: int = 0
    lines_a: tuple[int, int] | None = None
    lines_b: tuple[int, int] | None = None


def _span(cells: Sequence[Cell | None]) -> tuple[int, int] | None:
    lines = [c.line for c in cells if c is not None]
    return (min(lines), max(lines)) if lines else None


@dataclass(frozen=True, slots=True)
class FileEntry:
    file: FileChange
    url: str
    current: bool
    unresolved: int
    comments: int
    drafts: int


@dataclass(frozen=True, slots=True)
class Options:
    mode: Mode = Mode.SIDE_BY_SIDE
    whole_file: bool = False
    # An open form: a new draft at (side, line), a reply to a thread, an edit.
    comment_at: tuple[Side, int] | None = None
    reply_to: str | None = None
    edit: str | None = None


@dataclass
class DiffPage:
    target: Target
    detail: ChangeDetail
    patch_set: PatchSet
    base: PatchSet | None
    diff: FileDiff
    options: Options
    groups: list[ViewGroup]
    file_threads: list[tuple[Side, Thread]]
    files: list[FileEntry]
    where_a: Where | None
    where_b: Where | None
    accounts: dict[int, Account]
    unresolved_here: int
    unresolved_change: int
    drafts_here: int
    drafts_change: int
    previous: FileEntry | None = None
    following: FileEntry | None = None
    highlighted: bool = False
    viewer: Account | None = None
    line_threads: dict[tuple[Side, int], list[Thread]] = field(default_factory=dict)

    @property
    def a_name(self) -> str:
        return self.diff.meta_a.name if self.diff.meta_a else self.target.path

    def where(self, side: Side) -> Where | None:
        return self.where_a if side is Side.A else self.where_b


def _side_texts(blocks: Sequence[Block]) -> tuple[list[str], list[str]]:
    a: list[str] = []
    b: list[str] = []
    for block in blocks:
        a.extend(block.ab or block.a or ())
        b.extend(block.ab or block.b or ())
    return a, b


def _sides(
    target: Target, patch_set: PatchSet, base: PatchSet | None, diff: FileDiff
) -> tuple[Where | None, Where | None]:
    where_b = Where(patch_set.number, target.path, CommentSide.REVISION) if diff.meta_b else None
    if diff.meta_a is None:
        return None, where_b
    if base is not None:
        return Where(base.number, diff.meta_a.name, CommentSide.REVISION), where_b
    if target.path == COMMIT_MSG:
        return None, where_b
    return Where(patch_set.number, target.path, CommentSide.PARENT), where_b


def build_page(
    services: Services, viewer: Account | None, caller: Caller, target: Target, options: Options
) -> DiffPage:
    """Everything the page shows; a change the viewer may not see is not found."""
    change_id = f"{target.project}~{target.number}"
    review = services.review
    detail = review.detail(change_id, LoadOptions(all_revisions=True, files=True), caller)
    patch_set = review.patch_set(detail, str(target.patch_set))
    base = review.patch_set(detail, str(target.base)) if target.base else None
    if base is not None and base.number == patch_set.number:
        raise NotFound(f"Not found: compare patch set {patch_set.number} with another one")
    diff = services.diffs.file_diff(
        change_id,
        str(patch_set.number),
        target.path,
        DiffOptions(
            base=str(base.number) if base else None,
            context=None,
            intraline=True,
            whitespace=Whitespace.IGNORE_NONE,
        ),
        viewer=viewer,
    )
    found = services.comments.of_change(detail.change.number)
    drafts = services.drafts.of_change(detail.change.number, viewer)
    threads = build_threads(found.comments, drafts)
    where_a, where_b = _sides(target, patch_set, base, diff)
    on_file = [t for t in threads if any(w and w.holds(t) for w in (where_a, where_b))]
    line_threads, file_threads = _place(diff, on_file, where_a, where_b)
    groups, highlighted = _groups(diff, target, options, line_threads)
    shown_sets = {patch_set.number} | ({base.number} if base else set())
    files = _file_entries(
        revision_files(review, detail, patch_set, base=base),
        target=target,
        threads=threads,
        drafts=drafts,
        shown_sets=shown_sets,
    )
    position = next((i for i, f in enumerate(files) if f.current), None)
    accounts = dict(found.accounts)
    if viewer is not None:
        accounts[viewer.id] = viewer
    return DiffPage(
        target=target,
        detail=detail,
        patch_set=patch_set,
        base=base,
        diff=diff,
        options=options,
        groups=groups,
        file_threads=file_threads,
        files=files,
        where_a=where_a,
        where_b=where_b,
        accounts=accounts,
        unresolved_here=unresolved_count(on_file),
        unresolved_change=unresolved_count(threads),
        drafts_here=sum(len(t.drafts) for t in on_file),
        drafts_change=len(drafts),
        previous=files[position - 1] if position else None,
        following=(
            files[position + 1] if position is not None and position + 1 < len(files) else None
        ),
        highlighted=highlighted,
        viewer=viewer,
        line_threads=line_threads,
    )


def _place(
    diff: FileDiff, threads: Sequence[Thread], where_a: Where | None, where_b: Where | None
) -> tuple[dict[tuple[Side, int], list[Thread]], list[tuple[Side, Thread]]]:
    """The file's threads under their lines, and those on the whole file (or on a
    line the page does not show: a binary file's, the empty last line)."""
    texts_a, texts_b = _side_texts(diff.content)
    shown = {Side.A: shown_lines(texts_a), Side.B: shown_lines(texts_b)}
    by_line: dict[tuple[Side, int], list[Thread]] = {}
    whole: list[tuple[Side, Thread]] = []
    for thread in threads:
        for side, where in ((Side.A, where_a), (Side.B, where_b)):
            if where is None or not where.holds(thread):
                continue
            line = thread.anchor.line
            if line and not diff.binary and line <= shown[side]:
                by_line.setdefault((side, line), []).append(thread)
            else:
                whole.append((side, thread))
    return by_line, whole


def _groups(
    diff: FileDiff,
    target: Target,
    options: Options,
    line_threads: dict[tuple[Side, int], list[Thread]],
) -> tuple[list[ViewGroup], bool]:
    """The rows of the diff with their HTML, the folded ones left for later; and
    whether the lines are coloured."""
    if diff.binary:
        return [], False
    keep = set(line_threads)
    if options.comment_at is not None:
        keep.add(options.comment_at)
    groups = layout(
        sections(diff.content),
        options.mode,
        context=None if options.whole_file else CONTEXT,
        keep=keep,
    )
    # Tokens depend on all that comes before them, but not on what follows the
    # last line shown.
    last = {Side.A: 0, Side.B: 0}
    for group in groups:
        if not group.folded:
            for row in group.rows:
                for side, found in ((Side.A, row.a), (Side.B, row.b)):
                    if found is not None:
                        last[side] = max(last[side], found.line)
    texts_a, texts_b = _side_texts(diff.content)
    spans = {
        Side.A: token_spans(
            diff.meta_a.name if diff.meta_a else target.path, texts_a, upto=last[Side.A]
        ),
        Side.B: token_spans(target.path, texts_b, upto=last[Side.B]),
    }

    def view(side: Side, found: Cell | None) -> ViewCell | None:
        if found is None:
            return None
        lines = spans[side]
        own = lines[found.line - 1] if lines and found.line <= len(lines) else []
        return ViewCell(
            found.line,
            line_html(found.text, own, found.marks),
            tuple(line_threads.get((side, found.line), ())),
        )

    viewed = []
    for index, group in enumerate(groups):
        if group.folded:
            viewed.append(
                ViewGroup(
                    (),
                    True,
                    index,
                    count=len(group.rows),
                    lines_a=_span([r.a for r in group.rows]),
                    lines_b=_span([r.b for r in group.rows]),
                )
            )
            continue
        rows = tuple(ViewRow(r.kind, view(Side.A, r.a), view(Side.B, r.b)) for r in group.rows)
        viewed.append(ViewGroup(rows, False, index, count=len(rows)))
    return viewed, any(found is not None for found in spans.values())


def _file_entries(
    files: Sequence[FileChange],
    *,
    target: Target,
    threads: Sequence[Thread],
    drafts: Sequence[Comment],
    shown_sets: set[int],
) -> list[FileEntry]:
    """The file list, each with the threads and drafts on the patch sets shown."""
    entries = []
    for changed in files:
        names = {changed.path, changed.old_path} - {None}
        mine = [t for t in threads if t.root.path in names and t.root.patch_set in shown_sets]
        entries.append(
            FileEntry(
                file=changed,
                url=target.url(changed.path),
                current=changed.path == target.path,
                unresolved=unresolved_count(mine),
                comments=sum(len(t.comments) for t in mine),
                drafts=sum(1 for d in drafts if d.path in names and d.patch_set in shown_sets),
            )
        )
    return entries
