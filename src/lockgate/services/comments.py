"""Inline comments: checking a review's comments against the revision they are
on, recording them with the review, and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import comment_store
from lockgate.adapters.db.account_store import accounts_by_ids
from lockgate.adapters.db.engine import read_transaction
from lockgate.adapters.git.commit_subjects import commit_subjects
from lockgate.adapters.git.repos import RepoStore
from lockgate.core.review.comments import (
    MAGIC_PATHS,
    PATCHSET_LEVEL,
    Comment,
    CommentError,
    CommentInput,
    Side,
    check_position,
    line_count,
    thread_counts,
)
from lockgate.core.review.magic_files import COMMIT_MSG, MERGE_LIST, commit_message_text
from lockgate.core.review.model import Account, ChangeDetail, PatchSet
from lockgate.services.errors import BadRequest


def new_comment_id() -> str:
    """An id shaped like Gerrit's: two groups of eight hex digits."""
    raw = uuid.uuid4().hex
    return f"{raw[:8]}_{raw[8:16]}"


@dataclass(frozen=True, slots=True)
class ChangeComments:
    comments: list[Comment]
    accounts: dict[int, Account]


class CommentService:
    def __init__(self, engine: Engine, repos: RepoStore) -> None:
        self.engine = engine
        self.repos = repos

    # --- checking a review's comments ------------------------------------------

    def check(
        self,
        detail: ChangeDetail,
        patch_set: PatchSet,
        inputs: Sequence[CommentInput],
        *,
        whole_tree: bool = False,
    ) -> list[CommentInput]:
        """The comments with a message, each checked against the revision: its path
        must be a file the revision changes (or a magic path) and its line or
        range must lie within the file on its side. Reads git, not the database.

        With `whole_tree`, a comment on the revision's side may also be on a file
        the revision holds unchanged: a diff between two patch sets shows such a
        file on the older one's side, and a draft may be left there."""
        kept = [c for c in inputs if c.message.strip()]
        files = {f.path: f for f in patch_set.files}
        commit = patch_set.commit
        lines: dict[tuple[str, Side, int | None], int | None] = {}
        for comment in kept:
            path = comment.path
            in_tree = (
                whole_tree
                and comment.side is Side.REVISION
                and path not in files
                and self.repos.read_blob(detail.change.project, commit.sha, path) is not None
            )
            if path not in files and path not in MAGIC_PATHS and not in_tree:
                raise BadRequest(
                    f"file {path} not found in revision {patch_set.number} of change "
                    f"{detail.change.number}; comment on a file the revision changes, "
                    f"or on {COMMIT_MSG} or {PATCHSET_LEVEL}"
                )
            if path == MERGE_LIST and len(commit.parents) < 2:
                raise BadRequest(f"{MERGE_LIST} exists only for merge commits")
            if (
                comment.side is Side.PARENT
                and comment.parent is not None
                and not (1 <= comment.parent <= len(commit.parents))
            ):
                raise BadRequest(
                    f"parent {comment.parent} of the comment on {path} is out of range: "
                    f"revision {patch_set.number} has {len(commit.parents)} parent(s)"
                )
            count: int | None = None
            if path == MERGE_LIST:
                count = 1 << 30  # generated text; lines are not checked
            elif path != PATCHSET_LEVEL and (comment.line or comment.range):
                key = (path, comment.side, comment.parent)
                if key not in lines:
                    lines[key] = self._lines(detail, patch_set, comment)
                count = lines[key]
            try:
                check_position(comment, lines=count, patch_set=patch_set.number)
            except CommentError as error:
                raise BadRequest(str(error)) from error
        return kept

    def _lines(
        self, detail: ChangeDetail, patch_set: PatchSet, comment: CommentInput
    ) -> int | None:
        """How many lines the comment's file has on its side; None when absent there."""
        project = detail.change.project
        commit = patch_set.commit
        if comment.side is Side.REVISION:
            if comment.path == COMMIT_MSG:
                subjects = commit_subjects(self.repos, project, commit.parents)
                return len(commit_message_text(commit, subjects).splitlines())
            blob = self.repos.read_blob(project, commit.sha, comment.path)
            return None if blob is None else line_count(blob)
        if comment.path == COMMIT_MSG or not commit.parents:
            return None
        parent = commit.parents[(comment.parent or 1) - 1]
        changed = next(f for f in patch_set.files if f.path == comment.path)
        blob = self.repos.read_blob(project, parent, changed.old_path or comment.path)
        return None if blob is None else line_count(blob)

    # --- recording them ---------------------------------------------------------

    def record(
        self,
        conn: Connection,
        *,
        change_number: int,
        patch_set: int,
        inputs: Sequence[CommentInput],
        author: Account,
        now: int,
        tag: str | None,
        omit_duplicates: bool,
    ) -> list[Comment]:
        """The comments as they will be stored (not yet written): replies must name a
        comment of the change and inherit its resolved state when they set none."""
        replies = [c.in_reply_to for c in inputs if c.in_reply_to]
        parents = comment_store.unresolved_of(conn, replies)
        known = comment_store.existing_ids(conn, change_number, replies)
        for reply in replies:
            if reply not in known:
                raise BadRequest(
                    f'in_reply_to "{reply}" names no comment of change {change_number}; '
                    "reply to the id of one of its comments (GET .../comments)"
                )
        existing: set[tuple[str, int, str, int, str]] = set()
        if omit_duplicates:
            existing = {
                (c.path, c.patch_set, c.side.value, c.line or 0, c.message)
                for c in comment_store.comments_of(conn, change_number)
            }
        made: list[Comment] = []
        for c in inputs:
            key = (c.path, patch_set, c.side.value, c.position_line or 0, c.message.strip())
            if key in existing:
                continue
            unresolved = c.unresolved
            if unresolved is None:
                unresolved = parents.get(c.in_reply_to, False) if c.in_reply_to else False
            made.append(
                Comment(
                    id=new_comment_id(),
                    change_number=change_number,
                    patch_set=patch_set,
                    path=c.path,
                    message=c.message.strip(),
                    author_id=author.id,
                    created_at=now,
                    side=c.side,
                    line=c.position_line,
                    range=c.range,
                    in_reply_to=c.in_reply_to,
                    unresolved=unresolved,
                    tag=tag,
                    parent=c.parent if c.side is Side.PARENT else None,
                )
            )
        return made

    # --- reading them back -------------------------------------------------------

    def of_change(self, change_number: int, patch_set: int | None = None) -> ChangeComments:
        with read_transaction(self.engine) as conn:
            comments = comment_store.comments_of(conn, change_number, patch_set)
            accounts = accounts_by_ids(conn, sorted({c.author_id for c in comments}))
        return ChangeComments(comments, accounts)

    def counts(self, numbers: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(comments, unresolved threads) per change."""
        with read_transaction(self.engine) as conn:
            points = comment_store.thread_points(conn, numbers)
        return {number: thread_counts(rows) for number, rows in points.items()}
