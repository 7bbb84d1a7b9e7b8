"""The review domain: accounts, projects, changes and patch sets as plain values.

Times are integers of microseconds since the epoch, in UTC: the core never
reads a clock, so callers pass "now" in.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from lockgate.core.review.refs import change_ref


class ChangeStatus(enum.StrEnum):
    NEW = "NEW"
    MERGED = "MERGED"
    ABANDONED = "ABANDONED"


class SubmitType(enum.StrEnum):
    MERGE_IF_NECESSARY = "MERGE_IF_NECESSARY"
    FAST_FORWARD_ONLY = "FAST_FORWARD_ONLY"
    REBASE_IF_NECESSARY = "REBASE_IF_NECESSARY"
    REBASE_ALWAYS = "REBASE_ALWAYS"
    MERGE_ALWAYS = "MERGE_ALWAYS"
    CHERRY_PICK = "CHERRY_PICK"


class ProjectState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    READ_ONLY = "READ_ONLY"
    HIDDEN = "HIDDEN"


ALL_PROJECTS = "All-Projects"
ALL_USERS = "All-Users"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    username: str
    full_name: str | None = None
    email: str | None = None
    inactive: bool = False
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    uuid: str
    name: str
    description: str | None = None
    owner_uuid: str | None = None
    visible_to_all: bool = False
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    name: str
    parent: str | None
    description: str | None = None
    state: ProjectState = ProjectState.ACTIVE
    submit_type: SubmitType = SubmitType.MERGE_IF_NECESSARY
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class Person:
    """An author or committer as git records it."""

    name: str
    email: str
    time: int  # seconds since the epoch
    tz_minutes: int  # offset east of UTC


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str
    tree: str = ""

    @property
    def subject(self) -> str:
        return subject_of(self.message)


def subject_of(message: str) -> str:
    """Git's subject: the first paragraph joined into one line."""
    first = message.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in first.splitlines())


class FileStatus(enum.StrEnum):
    ADDED = "A"
    DELETED = "D"
    RENAMED = "R"
    COPIED = "C"
    REWRITTEN = "W"
    MODIFIED = "M"


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    status: FileStatus
    old_path: str | None = None
    lines_inserted: int = 0
    lines_deleted: int = 0
    size: int = 0
    size_delta: int = 0
    binary: bool = False


@dataclass(frozen=True, slots=True)
class PatchSet:
    change_number: int
    number: int
    commit: CommitInfo
    uploader_id: int
    created_at: int
    files: tuple[FileChange, ...] = ()
    kind: str = "REWORK"
    description: str | None = None

    @property
    def ref(self) -> str:
        return change_ref(self.change_number, self.number)


@dataclass(frozen=True, slots=True)
class ChangeMessage:
    id: str
    change_number: int
    author_id: int | None
    created_at: int
    message: str
    tag: str | None = None
    patch_set: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    number: int
    project: str
    branch: str  # short name, without refs/heads/
    change_key: str  # the Change-Id, I + 40 hex
    owner_id: int
    subject: str
    status: ChangeStatus
    created_at: int
    updated_at: int
    current_patch_set: int
    topic: str | None = None
    hashtags: tuple[str, ...] = ()
    work_in_progress: bool = False
    private: bool = False
    submitted_at: int | None = None
    submitter_id: int | None = None
    insertions: int = 0
    deletions: int = 0
    reviewers: tuple[int, ...] = ()
    ccs: tuple[int, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status is ChangeStatus.NEW

    @property
    def triplet_id(self) -> str:
        return f"{self.project}~{self.branch}~{self.change_key}"


@dataclass(frozen=True, slots=True)
class ChangeDetail:
    """A change with what the read API shows of it."""

    change: Change
    patch_sets: tuple[PatchSet, ...]
    messages: tuple[ChangeMessage, ...] = ()
    accounts: dict[int, Account] = field(default_factory=dict)

    @property
    def current(self) -> PatchSet:
        for ps in self.patch_sets:
            if ps.number == self.change.current_patch_set:
                return ps
        raise LookupError(f"change {self.change.number} has no current patch set")
