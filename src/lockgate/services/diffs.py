"""A revision's file diffs and contents, as Gerrit's Get Diff and Get Content give them.

A file of a patch set is compared with the same file in the patch set's first
parent, in parent N of a merge (`parent=N`), or in another patch set of the
change (`base=P`); a renamed file is compared with its former name. Gerrit's
magic `/COMMIT_MSG` compares the commits' header and message texts.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from lockgate.adapters.git.commit_subjects import commit_subjects
from lockgate.adapters.git.diffs import DiffReader
from lockgate.adapters.git.repos import GitError
from lockgate.core.review.diff import (
    CHANGE_TYPES,
    COMMIT_MESSAGE_TYPE,
    DEFAULT_CONTEXT,
    Block,
    ChangeType,
    FileDiff,
    FileMeta,
    Whitespace,
    build_blocks,
    content_type,
    decode_text,
    is_binary,
    line_edits,
    lines_edits,
    split_lines,
)
from lockgate.core.review.magic_files import COMMIT_MSG, commit_message_text
from lockgate.core.review.model import Account, ChangeDetail, FileStatus, PatchSet
from lockgate.services.errors import BadRequest, Conflict, NotFound
from lockgate.services.permissions import Permissions
from lockgate.services.review import LoadOptions, ReviewService

# The standard MIME table only, never the machine's files, so that every server
# names a file's type alike.
_MIME_TABLE = mimetypes.MimeTypes()


@dataclass(frozen=True, slots=True)
class DiffOptions:
    base: str | None = None  # a patch set of the change to compare with
    parent: int | None = None  # 1-based parent of the revision's commit
    context: int | None = DEFAULT_CONTEXT  # None: the whole file
    intraline: bool = False
    whitespace: Whitespace = Whitespace.IGNORE_LEADING_AND_TRAILING


@dataclass(frozen=True, slots=True)
class FileContent:
    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class _Sides:
    """The two commits a diff compares and how the revision names them."""

    old: str | None  # None: the empty tree (a root commit's parent)
    new: str
    base: PatchSet | None
    against: str  # "its parent", "patch set 2", for messages
    first_parent: bool = False  # the comparison stored at upload, renames known


class DiffService:
    def __init__(self, review: ReviewService, permissions: Permissions, reader: DiffReader) -> None:
        self.review = review
        self.permissions = permissions
        self.reader = reader

    # --- the endpoints -------------------------------------------------------

    def file_diff(
        self,
        change_id: str,
        revision: str,
        path: str,
        options: DiffOptions,
        *,
        viewer: Account | None,
    ) -> FileDiff:
        detail, patch_set = self._revision(change_id, revision, viewer)
        sides = self._sides(detail, patch_set, options)
        if not path:
            raise NotFound("Not found: name the file, percent-encoded, e.g. files/a%2Fb.py/diff")
        if path == COMMIT_MSG:
            return self._commit_message_diff(detail, patch_set, sides, options)
        try:
            return self._file_diff(detail, patch_set, path, sides, options)
        except GitError as error:
            raise Conflict(f"cannot compare {path} in {detail.change.project}: {error}") from error

    def file_content(
        self,
        change_id: str,
        revision: str,
        path: str,
        *,
        parent: int | None,
        viewer: Account | None,
    ) -> FileContent:
        detail, patch_set = self._revision(change_id, revision, viewer)
        if not path:
            raise NotFound("Not found: name the file, percent-encoded, e.g. files/a%2Fb.py/content")
        if path == COMMIT_MSG:
            return FileContent(patch_set.commit.message.encode("utf-8"), COMMIT_MESSAGE_TYPE)
        commit = patch_set.commit.sha
        if parent is not None:
            commit = self._parent(patch_set, parent)
        project = detail.change.project
        mode = self.reader.mode(project, commit, path)
        [data] = self.reader.blobs(project, [(commit, path)]) if mode else [None]
        if mode is None or data is None:
            where = f"parent {parent} of revision" if parent else "revision"
            raise NotFound(f"Not found: file {path} in {where} {patch_set.number}")
        return FileContent(data, _content_type(path, mode, data))

    # --- finding the sides ------------------------------------------------------

    def _revision(
        self, change_id: str, revision: str, viewer: Account | None
    ) -> tuple[ChangeDetail, PatchSet]:
        detail = self.review.detail(change_id, LoadOptions(all_revisions=True, files=True), viewer)
        return detail, self.review.patch_set(detail, revision)

    def _sides(self, detail: ChangeDetail, patch_set: PatchSet, options: DiffOptions) -> _Sides:
        commit = patch_set.commit
        if options.base is not None and options.parent is not None:
            raise BadRequest("give base= or parent=, not both: each names the side to compare with")
        if options.base is not None:
            base = self._base(detail, patch_set, options.base)
            return _Sides(base.commit.sha, commit.sha, base, f"patch set {base.number}")
        if options.parent is not None:
            return _Sides(
                self._parent(patch_set, options.parent),
                commit.sha,
                None,
                f"parent {options.parent}",
            )
        return _Sides(
            commit.parents[0] if commit.parents else None,
            commit.sha,
            None,
            "its parent",
            first_parent=True,
        )

    def _base(self, detail: ChangeDetail, patch_set: PatchSet, base: str) -> PatchSet:
        try:
            found = self.review.patch_set(detail, base)
        except NotFound:
            numbers = ", ".join(str(ps.number) for ps in detail.patch_sets)
            raise BadRequest(
                f"base={base} names no patch set of change {detail.change.number}; "
                f"give one of {numbers}"
            ) from None
        if found.number == patch_set.number:
            raise BadRequest(f"base={base} is the revision itself; name another patch set")
        return found

    def _parent(self, patch_set: PatchSet, parent: int) -> str:
        parents = patch_set.commit.parents
        if not 1 <= parent <= len(parents):
            raise BadRequest(
                f"parent={parent} is out of range: revision {patch_set.number} has "
                f"{len(parents)} parent(s); give a number from 1 to {len(parents)}"
            )
        return parents[parent - 1]

    # --- files ------------------------------------------------------------------

    def _file_diff(
        self,
        detail: ChangeDetail,
        patch_set: PatchSet,
        path: str,
        sides: _Sides,
        options: DiffOptions,
    ) -> FileDiff:
        project = detail.change.project
        old_path = _stored_old_path(patch_set, path) if sides.first_parent else None
        paths = [old_path, path] if old_path else [path]
        patch = self.reader.patch(project, sides.old, sides.new, paths, options.whitespace)
        if patch.status is FileStatus.ADDED and not sides.first_parent:
            # Against another commit a new file may be a rename: git finds its old name.
            old_path = self.reader.renamed_from(project, sides.old, sides.new, path)
            if old_path:
                patch = self.reader.patch(
                    project, sides.old, sides.new, [old_path, path], options.whitespace
                )
        a_name = old_path if patch.status in (FileStatus.RENAMED, FileStatus.COPIED) else None
        a_name = a_name or path
        data_a, data_b = self.reader.blobs(project, [(sides.old, a_name), (sides.new, path)])
        if patch.status is FileStatus.ADDED:
            data_a = None
        if patch.status is FileStatus.DELETED:
            data_b = None
        if data_a is None and data_b is None:
            raise NotFound(
                f"Not found: file {path} is neither in revision {patch_set.number} "
                f"nor in {sides.against}"
            )
        status = patch.status or (
            FileStatus.ADDED
            if data_a is None
            else FileStatus.DELETED
            if data_b is None
            else FileStatus.MODIFIED
        )
        binary = patch.binary or is_binary(data_a or b"") or is_binary(data_b or b"")
        text_a = decode_text(data_a or b"")
        text_b = decode_text(data_b or b"")
        lines_a, lines_b = split_lines(text_a), split_lines(text_b)
        content: tuple[Block, ...] = ()
        if not binary:
            edits = lines_edits(patch.edits, text_a, text_b)
            content = tuple(
                build_blocks(
                    lines_a,
                    lines_b,
                    edits,
                    context=options.context,
                    intraline=options.intraline,
                )
            )
        return FileDiff(
            change_type=CHANGE_TYPES[status],
            meta_a=_meta(a_name, patch.old_mode, data_a, lines_a),
            meta_b=_meta(path, patch.new_mode, data_b, lines_b),
            diff_header=patch.header,
            content=content,
            binary=binary,
            intraline_status="OK" if options.intraline else None,
        )

    # --- the commit message ------------------------------------------------------

    def _commit_message_diff(
        self,
        detail: ChangeDetail,
        patch_set: PatchSet,
        sides: _Sides,
        options: DiffOptions,
    ) -> FileDiff:
        base = sides.base.commit if sides.base else None
        parents = list(patch_set.commit.parents) + list(base.parents if base else ())
        subjects = commit_subjects(self.review.repos, detail.change.project, parents)
        text_b = commit_message_text(patch_set.commit, subjects)
        text_a = commit_message_text(base, subjects) if base else ""
        lines_a, lines_b = split_lines(text_a), split_lines(text_b)
        blocks = build_blocks(
            lines_a,
            lines_b,
            line_edits(text_a, text_b, options.whitespace),
            context=options.context,
            intraline=options.intraline,
        )
        meta_a = FileMeta(COMMIT_MSG, COMMIT_MESSAGE_TYPE, len(lines_a)) if base else None
        return FileDiff(
            change_type=ChangeType.MODIFIED if base else ChangeType.ADDED,
            meta_a=meta_a,
            meta_b=FileMeta(COMMIT_MSG, COMMIT_MESSAGE_TYPE, len(lines_b)),
            diff_header=_magic_header(COMMIT_MSG, added=base is None),
            content=tuple(blocks),
            intraline_status="OK" if options.intraline else None,
        )


def _stored_old_path(patch_set: PatchSet, path: str) -> str | None:
    """The former name of a renamed or copied file, as recorded at upload."""
    for change in patch_set.files:
        if change.path == path and change.status in (FileStatus.RENAMED, FileStatus.COPIED):
            return change.old_path
    return None


def _meta(name: str, mode: str | None, data: bytes | None, lines: list[str]) -> FileMeta | None:
    if data is None:
        return None
    return FileMeta(name, _content_type(name, mode, data), len(lines))


def _content_type(path: str, mode: str | None, data: bytes) -> str:
    guessed, _ = _MIME_TABLE.guess_type(path, strict=True)
    return content_type(path, mode=mode, binary=is_binary(data), guessed=guessed)


def _magic_header(name: str, *, added: bool) -> tuple[str, ...]:
    """git's header for a magic file that exists in no tree, as Gerrit writes it."""
    if added:
        return (
            f"diff --git a/{name} b/{name}",
            "new file mode 100644",
            "--- /dev/null",
            f"+++ b/{name}",
        )
    return (f"diff --git a/{name} b/{name}", f"--- a/{name}", f"+++ b/{name}")
