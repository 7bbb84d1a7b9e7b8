"""Draft inline comments, as Gerrit keeps them: saved on a patch set for their
author alone, changed or deleted freely, and published by the author's next
review (ReviewInput `drafts`), in the review's transaction.

A draft is checked like a published comment when it is saved (its file and
line must exist on its side), so that publishing it checks nothing again:
patch sets never change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import comment_store, draft_store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.core.review.comments import Comment, CommentInput, CommentRange, Side
from lockgate.core.review.model import Account, ChangeDetail, PatchSet
from lockgate.core.review.review_input import Drafts
from lockgate.services.clock import Clock
from lockgate.services.comments import CommentService, new_comment_id
from lockgate.services.errors import BadRequest, NotFound
from lockgate.services.review import LoadOptions, ReviewService


@dataclass(frozen=True, slots=True)
class DraftUpdate:
    """What an update sets; a field left None keeps the draft's own."""

    path: str | None = None
    message: str | None = None
    side: Side | None = None
    line: int | None = None
    range: CommentRange | None = None
    in_reply_to: str | None = None
    unresolved: bool | None = None
    parent: int | None = None


@dataclass(frozen=True, slots=True)
class DraftListing:
    drafts: list[Comment]
    commits: dict[int, str]  # patch set number -> commit sha, for CommentInfo's commit_id


def _as_input(draft: Comment) -> CommentInput:
    return CommentInput(
        path=draft.path,
        message=draft.message,
        side=draft.side,
        line=draft.line,
        range=draft.range,
        in_reply_to=draft.in_reply_to,
        unresolved=draft.unresolved,
        parent=draft.parent,
    )


def publish_drafts(
    conn: Connection,
    *,
    change_number: int,
    author_id: int,
    patch_set: int,
    mode: Drafts,
    now: int,
    tag: str | None,
) -> list[Comment]:
    """The author's drafts that a review on `patch_set` publishes, as comments of
    the review (its time and tag), taken out of the drafts in `conn`.

    They keep the order they were written in a microsecond apart: a thread's
    state is its latest comment's, so "Fixed" then "Done" must stay resolved."""
    if mode is Drafts.KEEP:
        return []
    only = None if mode is Drafts.PUBLISH_ALL_REVISIONS else patch_set
    taken = draft_store.take_drafts(conn, change_number, author_id, only)
    written = sorted(taken, key=lambda d: (d.created_at, d.id))
    return [
        dataclasses.replace(d, created_at=now + index, tag=tag) for index, d in enumerate(written)
    ]


class DraftService:
    def __init__(
        self, engine: Engine, review: ReviewService, comments: CommentService, clock: Clock
    ) -> None:
        self.engine = engine
        self.review = review
        self.comments = comments
        self.clock = clock

    # --- reading ---------------------------------------------------------------

    def of_change(self, change_number: int, account: Account | None) -> list[Comment]:
        """`account`'s drafts on every patch set of the change, in Gerrit's order
        (path, patch set, side, line); none for someone not signed in. The caller
        has already found the change visible to `account`."""
        if account is None:
            return []
        with read_transaction(self.engine) as conn:
            return draft_store.drafts_of(conn, change_number, account.id)

    def listing(self, change_id: str, actor: Account, revision: str | None = None) -> DraftListing:
        """The actor's drafts on the change, or on one revision of it."""
        detail = self._detail(change_id, actor)
        number = None if revision is None else self.review.patch_set(detail, revision).number
        with read_transaction(self.engine) as conn:
            found = draft_store.drafts_of(conn, detail.change.number, actor.id, number)
        return DraftListing(found, _commits(detail))

    def get(self, change_id: str, revision: str, draft_id: str, actor: Account) -> DraftListing:
        detail, patch_set = self._revision(change_id, revision, actor)
        return DraftListing([self._own(detail, patch_set, draft_id, actor)], _commits(detail))

    # --- writing ---------------------------------------------------------------

    def create(
        self, change_id: str, revision: str, actor: Account, given: CommentInput
    ) -> DraftListing:
        """A new draft by `actor` on the revision; a reply that leaves `unresolved`
        out takes its parent's state, a new thread starts resolved (as Gerrit's)."""
        detail, patch_set = self._revision(change_id, revision, actor)
        checked = self._checked(detail, patch_set, given)
        with write_transaction(self.engine) as conn:
            unresolved = self._unresolved(conn, detail, checked)
            draft = Comment(
                id=new_comment_id(),
                change_number=detail.change.number,
                patch_set=patch_set.number,
                path=checked.path,
                message=checked.message.strip(),
                author_id=actor.id,
                created_at=self.clock(),
                side=checked.side,
                line=checked.position_line,
                range=checked.range,
                in_reply_to=checked.in_reply_to,
                unresolved=unresolved,
                parent=checked.parent if checked.side is Side.PARENT else None,
            )
            draft_store.insert_draft(conn, draft)
        return DraftListing([draft], _commits(detail))

    def reply(
        self,
        change_id: str,
        actor: Account,
        comment_id: str,
        message: str,
        *,
        unresolved: bool | None,
    ) -> DraftListing:
        """A draft answering the published comment `comment_id`, where it sits."""
        detail = self._detail(change_id, actor)
        parent = next(
            (
                c
                for c in self.comments.of_change(detail.change.number).comments
                if c.id == comment_id
            ),
            None,
        )
        if parent is None:
            raise BadRequest(
                f"comment {comment_id} is not a published comment of change "
                f"{detail.change.number}; reply to one shown on the change"
            )
        given = CommentInput(
            path=parent.path,
            message=message,
            side=parent.side,
            line=parent.line,
            range=parent.range,
            in_reply_to=parent.id,
            unresolved=unresolved,
            parent=parent.parent,
        )
        return self.create(change_id, str(parent.patch_set), actor, given)

    def update(
        self, change_id: str, revision: str, draft_id: str, actor: Account, change: DraftUpdate
    ) -> DraftListing | None:
        """The draft with `change` applied; an empty message deletes it (None)."""
        detail, patch_set = self._revision(change_id, revision, actor)
        draft = self._own(detail, patch_set, draft_id, actor)
        if change.message is not None and not change.message.strip():
            self.delete(change_id, revision, draft_id, actor)
            return None
        merged = dataclasses.replace(
            draft,
            path=change.path or draft.path,
            message=(change.message if change.message is not None else draft.message).strip(),
            side=change.side or draft.side,
            line=change.line if change.line is not None else draft.line,
            range=change.range if change.range is not None else draft.range,
            in_reply_to=change.in_reply_to or draft.in_reply_to,
            unresolved=change.unresolved if change.unresolved is not None else draft.unresolved,
            parent=change.parent if change.parent is not None else draft.parent,
            created_at=self.clock(),
        )
        checked = self._checked(detail, patch_set, _as_input(merged))
        if change.range is not None:
            merged = dataclasses.replace(merged, line=checked.position_line)
        with write_transaction(self.engine) as conn:
            if change.in_reply_to:
                self._unresolved(conn, detail, checked)  # the parent must exist
            draft_store.update_draft(conn, merged)
        return DraftListing([merged], _commits(detail))

    def delete(self, change_id: str, revision: str, draft_id: str, actor: Account) -> None:
        detail, patch_set = self._revision(change_id, revision, actor)
        self._own(detail, patch_set, draft_id, actor)
        with write_transaction(self.engine) as conn:
            draft_store.delete_draft(conn, draft_id, actor.id)

    # --- checks ----------------------------------------------------------------

    def _detail(self, change_id: str, actor: Account) -> ChangeDetail:
        return self.review.detail(change_id, LoadOptions(all_revisions=True, files=True), actor)

    def _revision(
        self, change_id: str, revision: str, actor: Account
    ) -> tuple[ChangeDetail, PatchSet]:
        detail = self._detail(change_id, actor)
        return detail, self.review.patch_set(detail, revision)

    def _own(
        self, detail: ChangeDetail, patch_set: PatchSet, draft_id: str, actor: Account
    ) -> Comment:
        """The actor's draft `draft_id` on the patch set; anyone else's is not found."""
        with read_transaction(self.engine) as conn:
            found = draft_store.draft(conn, detail.change.number, draft_id, actor.id)
        if found is None or found.patch_set != patch_set.number:
            raise NotFound(
                f"Not found: draft {draft_id} on patch set {patch_set.number} of change "
                f"{detail.change.number}"
            )
        return found

    def _checked(
        self, detail: ChangeDetail, patch_set: PatchSet, given: CommentInput
    ) -> CommentInput:
        if not given.path:
            raise BadRequest("path must be non-empty: name the file the draft is on")
        if not given.message.strip():
            raise BadRequest("message must be non-empty: a draft says something")
        if given.line is not None and given.line < 0:
            raise BadRequest(f"line must be >= 0, not {given.line}")
        if given.line and given.range is not None and given.line != given.range.end_line:
            raise BadRequest(
                f"line {given.line} must be the range's end line {given.range.end_line}; "
                "give one or the other"
            )
        [checked] = self.comments.check(detail, patch_set, [given], whole_tree=True)
        return checked

    @staticmethod
    def _unresolved(conn: Connection, detail: ChangeDetail, given: CommentInput) -> bool:
        """The draft's state; a reply must answer a published comment of the change."""
        if not given.in_reply_to:
            return bool(given.unresolved)
        number = detail.change.number
        if not comment_store.existing_ids(conn, number, [given.in_reply_to]):
            raise BadRequest(
                f'in_reply_to "{given.in_reply_to}" names no published comment of change '
                f"{number}; reply to the id of one of its comments (GET .../comments)"
            )
        if given.unresolved is not None:
            return given.unresolved
        return comment_store.unresolved_of(conn, [given.in_reply_to])[given.in_reply_to]


def _commits(detail: ChangeDetail) -> dict[int, str]:
    return {ps.number: ps.commit.sha for ps in detail.patch_sets}
