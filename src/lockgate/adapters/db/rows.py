"""Mapping between table rows and domain values."""

from __future__ import annotations

from typing import Any

from lockgate.core.review.comments import Comment, CommentRange, Side
from lockgate.core.review.model import (
    Account,
    Change,
    ChangeMessage,
    ChangeStatus,
    CommitInfo,
    FileChange,
    FileStatus,
    Group,
    PatchSet,
    Person,
    Project,
    ProjectState,
    SubmitType,
)


def account_from_row(row: Any) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        email=row.email,
        inactive=bool(row.inactive),
        created_at=row.created_at,
    )


def group_from_row(row: Any) -> Group:
    return Group(
        id=row.id,
        uuid=row.uuid,
        name=row.name,
        description=row.description,
        owner_uuid=row.owner_uuid,
        visible_to_all=bool(row.visible_to_all),
        created_at=row.created_at,
    )


def project_from_row(row: Any) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        parent=row.parent,
        description=row.description,
        state=ProjectState(row.state),
        submit_type=SubmitType(row.submit_type),
        created_at=row.created_at,
    )


def change_from_row(
    row: Any,
    hashtags: tuple[str, ...] = (),
    reviewers: tuple[int, ...] = (),
    ccs: tuple[int, ...] = (),
) -> Change:
    return Change(
        number=row.number,
        project=row.project,
        branch=row.branch,
        change_key=row.change_key,
        owner_id=row.owner_id,
        subject=row.subject,
        status=ChangeStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        current_patch_set=row.current_patch_set,
        topic=row.topic,
        hashtags=hashtags,
        work_in_progress=bool(row.work_in_progress),
        private=bool(row.private),
        submitted_at=row.submitted_at,
        submitter_id=row.submitter_id,
        insertions=row.insertions,
        deletions=row.deletions,
        reviewers=reviewers,
        ccs=ccs,
    )


def commit_values(commit: CommitInfo) -> dict[str, Any]:
    return {
        "commit_sha": commit.sha,
        "tree_sha": commit.tree,
        "parents": " ".join(commit.parents),
        "author_name": commit.author.name,
        "author_email": commit.author.email,
        "author_time": commit.author.time,
        "author_tz": commit.author.tz_minutes,
        "committer_name": commit.committer.name,
        "committer_email": commit.committer.email,
        "committer_time": commit.committer.time,
        "committer_tz": commit.committer.tz_minutes,
        "message": commit.message,
    }


def commit_from_row(row: Any) -> CommitInfo:
    return CommitInfo(
        sha=row.commit_sha,
        parents=tuple(row.parents.split()) if row.parents else (),
        author=Person(row.author_name, row.author_email, row.author_time, row.author_tz),
        committer=Person(
            row.committer_name, row.committer_email, row.committer_time, row.committer_tz
        ),
        message=row.message,
        tree=row.tree_sha,
    )


def file_from_row(row: Any) -> FileChange:
    return FileChange(
        path=row.path,
        status=FileStatus(row.status),
        old_path=row.old_path,
        lines_inserted=row.lines_inserted,
        lines_deleted=row.lines_deleted,
        size=row.size,
        size_delta=row.size_delta,
        binary=bool(row.binary),
    )


def file_values(patch_set_id: int, change: FileChange) -> dict[str, Any]:
    return {
        "patch_set_id": patch_set_id,
        "path": change.path,
        "status": change.status.value,
        "old_path": change.old_path,
        "lines_inserted": change.lines_inserted,
        "lines_deleted": change.lines_deleted,
        "size": change.size,
        "size_delta": change.size_delta,
        "binary": change.binary,
    }


def patch_set_from_row(row: Any, files: tuple[FileChange, ...] = ()) -> PatchSet:
    return PatchSet(
        change_number=row.change_number,
        number=row.number,
        commit=commit_from_row(row),
        uploader_id=row.uploader_id,
        created_at=row.created_at,
        files=files,
        kind=row.kind,
        description=row.description,
    )


def message_from_row(row: Any) -> ChangeMessage:
    return ChangeMessage(
        id=row.id,
        change_number=row.change_number,
        author_id=row.author_id,
        created_at=row.created_at,
        message=row.message,
        tag=row.tag,
        patch_set=row.patch_set,
    )


def comment_from_row(
    row: Any, *, created_at: int, change_message_id: str | None = None, tag: str | None = None
) -> Comment:
    """A published comment's or a draft's row (the same columns but for when it
    was written and, for a published one, its message and tag)."""
    span = None
    if row.start_line is not None:
        span = CommentRange(row.start_line, row.start_character, row.end_line, row.end_character)
    return Comment(
        id=row.id,
        change_number=row.change_number,
        patch_set=row.patch_set,
        path=row.path,
        message=row.message,
        author_id=row.author_id,
        created_at=created_at,
        side=Side(row.side),
        line=row.line,
        range=span,
        in_reply_to=row.in_reply_to,
        unresolved=bool(row.unresolved),
        change_message_id=change_message_id,
        tag=tag,
        parent=row.parent_number,
    )
