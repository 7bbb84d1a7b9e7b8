"""Gerrit's change entities: ChangeInfo, RevisionInfo, CommitInfo, FileInfo,
ChangeMessageInfo and RelatedChangesInfo, shaped by the `o=` options.

Labels, submit requirements and actions are rendered by `label_info` from
what `services/label_views.py` loads; options for parts the server does not
have yet are accepted and rendered minimally, because Zuul and gertty always
send them; docs/rest-api.md says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lockgate.core.review.model import (
    Account,
    ChangeDetail,
    ChangeMessage,
    ChangeStatus,
    CommitInfo,
    FileChange,
    FileStatus,
    PatchSet,
    Person,
    SubmitType,
)
from lockgate.core.review.timestamps import gerrit_timestamp
from lockgate.services.change_views import ChangeViews
from lockgate.services.errors import BadRequest
from lockgate.services.label_views import LabelSummary
from lockgate.services.review import LoadOptions, RelatedChange
from lockgate.web.gerrit.entities import account_ref, encode
from lockgate.web.gerrit.label_info import (
    actions_info,
    labels_info,
    permitted_labels_info,
    removable_info,
    requirement_info,
    revision_actions_info,
    submit_records_info,
)

# Every ListChangesOption of Gerrit 3.13. Unknown names are a 400.
KNOWN_OPTIONS = frozenset(
    {
        "LABELS",
        "DETAILED_LABELS",
        "SUBMIT_REQUIREMENTS",
        "CURRENT_REVISION",
        "ALL_REVISIONS",
        "CURRENT_COMMIT",
        "ALL_COMMITS",
        "CURRENT_FILES",
        "ALL_FILES",
        "DETAILED_ACCOUNTS",
        "MESSAGES",
        "CURRENT_ACTIONS",
        "CHANGE_ACTIONS",
        "REVIEWED",
        "DRAFT_COMMENTS",
        "DOWNLOAD_COMMANDS",
        "WEB_LINKS",
        "CHECK",
        "COMMIT_FOOTERS",
        "PUSH_CERTIFICATES",
        "REVIEWER_UPDATES",
        "SUBMITTABLE",
        "TRACKING_IDS",
        "SKIP_MERGEABLE",
        "SKIP_DIFFSTAT",
        "STAR",
        "CUSTOM_KEYED_VALUES",
        "PARENTS",
    }
)

# What /changes/{id}/detail adds to the options given.
DETAIL_OPTIONS = frozenset(
    {"LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS", "REVIEWER_UPDATES", "MESSAGES"}
)


@dataclass(frozen=True, slots=True)
class ChangeOptions:
    names: frozenset[str]

    def has(self, *names: str) -> bool:
        return any(name in self.names for name in names)

    @property
    def revisions(self) -> bool:
        """Whether revisions are shown: asking for commits or files of the current
        revision implies it, as it does in practice for Gerrit's clients."""
        return self.has(
            "CURRENT_REVISION",
            "ALL_REVISIONS",
            "CURRENT_COMMIT",
            "ALL_COMMITS",
            "CURRENT_FILES",
            "ALL_FILES",
        )

    @property
    def commits_of(self) -> str | None:
        if self.has("ALL_COMMITS"):
            return "all" if self.has("ALL_REVISIONS") else "current"
        return "current" if self.has("CURRENT_COMMIT") else None

    def load_options(self) -> LoadOptions:
        return LoadOptions(
            all_revisions=self.has("ALL_REVISIONS"),
            current_revision=self.revisions,
            files=self.has("CURRENT_FILES", "ALL_FILES"),
            messages=self.has("MESSAGES"),
            labels=self.has("LABELS", "DETAILED_LABELS", "SUBMITTABLE", "SUBMIT_REQUIREMENTS"),
            detailed_labels=self.has("DETAILED_LABELS"),
            actions=self.has("CURRENT_ACTIONS", "CHANGE_ACTIONS"),
        )

    def with_names(self, names: Iterable[str]) -> ChangeOptions:
        return ChangeOptions(self.names | frozenset(names))


def parse_options(values: Iterable[str]) -> ChangeOptions:
    """The `o=` options; Gerrit also takes several in one value, comma separated."""
    names: set[str] = set()
    for value in values:
        for raw in value.split(","):
            name = raw.strip().upper()
            if not name:
                continue
            if name not in KNOWN_OPTIONS:
                raise BadRequest(
                    f'"{raw.strip()}" is not a valid value for "o"; '
                    f"known options: {', '.join(sorted(KNOWN_OPTIONS))}"
                )
            names.add(name)
    return ChangeOptions(frozenset(names))


def person_info(person: Person) -> dict[str, Any]:
    """GitPersonInfo: name, email, date (UTC, Gerrit's format) and tz in minutes."""
    return {
        "name": person.name,
        "email": person.email,
        "date": gerrit_timestamp(person.time * 1_000_000),
        "tz": person.tz_minutes,
    }


def commit_info(
    commit: CommitInfo, subjects: Mapping[str, str], *, with_sha: bool = False
) -> dict[str, Any]:
    """CommitInfo; `commit` (the sha) only where Gerrit puts it, e.g. `/commit`."""
    info: dict[str, Any] = {}
    if with_sha:
        info["commit"] = commit.sha
    parents = []
    for sha in commit.parents:
        parent: dict[str, Any] = {"commit": sha}
        if sha in subjects:
            parent["subject"] = subjects[sha]
        parents.append(parent)
    info["parents"] = parents
    info["author"] = person_info(commit.author)
    info["committer"] = person_info(commit.committer)
    info["subject"] = commit.subject
    info["message"] = commit.message
    return info


def file_info(change: FileChange) -> dict[str, Any]:
    """FileInfo as Gerrit sends it: no status for a modified file, no zero line
    counts, `binary` only when true; sizes always."""
    info: dict[str, Any] = {}
    if change.status is not FileStatus.MODIFIED:
        info["status"] = change.status.value
    if change.binary:
        info["binary"] = True
    if change.old_path:
        info["old_path"] = change.old_path
    if change.lines_inserted:
        info["lines_inserted"] = change.lines_inserted
    if change.lines_deleted:
        info["lines_deleted"] = change.lines_deleted
    info["size_delta"] = change.size_delta
    info["size"] = change.size
    return info


def files_info(files: Iterable[FileChange]) -> dict[str, Any]:
    return {f.path: file_info(f) for f in files}


def related_info(entries: list[RelatedChange]) -> dict[str, Any]:
    """RelatedChangesInfo: `{"changes": []}` when the revision has no relations."""
    changes = []
    for entry in entries:
        changes.append(
            {
                "project": entry.project,
                "change_id": entry.change_key,
                "commit": {
                    "commit": entry.commit.sha,
                    "parents": [{"commit": sha} for sha in entry.commit.parents],
                    "author": person_info(entry.commit.author),
                    "subject": entry.commit.subject,
                },
                "_change_number": entry.change_number,
                "_revision_number": entry.patch_set,
                "_current_revision_number": entry.current_patch_set,
                "status": entry.status,
            }
        )
    return {"changes": changes}


class ChangeRenderer:
    """Renders changes for one response, with its options and public URL."""

    def __init__(
        self,
        *,
        public_url: str,
        options: ChangeOptions,
        submit_types: Mapping[str, SubmitType] | None = None,
        subjects: Mapping[str, str] | None = None,
        labels: Mapping[int, LabelSummary] | None = None,
        comment_counts: Mapping[int, tuple[int, int]] | None = None,
    ) -> None:
        self.public_url = public_url
        self.options = options
        self.submit_types = submit_types or {}
        self.subjects = subjects or {}
        self.labels = labels or {}
        self.comment_counts = comment_counts or {}
        self.detailed = options.has("DETAILED_ACCOUNTS")

    @classmethod
    def for_views(
        cls, views: ChangeViews, *, public_url: str, options: ChangeOptions
    ) -> ChangeRenderer:
        return cls(
            public_url=public_url,
            options=options,
            submit_types=views.submit_types,
            subjects=views.subjects,
            labels=views.labels,
            comment_counts=views.comment_counts,
        )

    def account(self, accounts: Mapping[int, Account], account_id: int) -> dict[str, Any]:
        return account_ref(accounts, account_id, detailed=self.detailed)

    def change(self, detail: ChangeDetail) -> dict[str, Any]:
        change = detail.change
        has = self.options.has
        info: dict[str, Any] = {
            "id": f"{encode(change.project)}~{change.number}",
            "triplet_id": f"{encode(change.project)}~{encode(change.branch)}~{change.change_key}",
            "project": change.project,
            "branch": change.branch,
        }
        if change.topic:
            info["topic"] = change.topic
        info["hashtags"] = list(change.hashtags)
        info["change_id"] = change.change_key
        info["subject"] = change.subject
        info["status"] = change.status.value
        info["created"] = gerrit_timestamp(change.created_at)
        info["updated"] = gerrit_timestamp(change.updated_at)
        if change.status is ChangeStatus.MERGED and change.submitted_at is not None:
            info["submitted"] = gerrit_timestamp(change.submitted_at)
            if change.submitter_id is not None:
                info["submitter"] = self.account(detail.accounts, change.submitter_id)
            info["submission_id"] = str(change.number)
        submit_type = self.submit_types.get(change.project, SubmitType.MERGE_IF_NECESSARY)
        info["submit_type"] = submit_type.value
        if not has("SKIP_DIFFSTAT"):
            info["insertions"] = change.insertions
            info["deletions"] = change.deletions
        total, unresolved = self.comment_counts.get(change.number, (0, 0))
        info["total_comment_count"] = total
        info["unresolved_comment_count"] = unresolved
        info["has_review_started"] = not change.work_in_progress
        info["_number"] = change.number
        info["virtual_id_number"] = change.number
        info["owner"] = self.account(detail.accounts, change.owner_id)
        if change.work_in_progress:
            info["work_in_progress"] = True
        if change.private:
            info["is_private"] = True
        summary = self.labels.get(change.number)

        def account(account_id: int) -> dict[str, Any]:
            return self.account(detail.accounts, account_id)

        if has("LABELS", "DETAILED_LABELS"):
            detailed = has("DETAILED_LABELS")
            info["labels"] = (
                labels_info(summary, change, account, detailed=detailed) if summary else {}
            )
            info["reviewers"] = self._reviewers(detail)
        if has("DETAILED_LABELS"):
            info["permitted_labels"] = permitted_labels_info(summary) if summary else {}
            info["removable_reviewers"] = removable_info(summary, account) if summary else []
        if has("SUBMITTABLE"):
            info["submittable"] = bool(summary and summary.submittable)
        if has("SUBMIT_REQUIREMENTS"):
            info["submit_requirements"] = (
                [requirement_info(r) for r in summary.requirements] if summary else []
            )
            if summary:
                info["submit_records"] = submit_records_info(summary, change, account)
        if has("REVIEWER_UPDATES"):
            info["reviewer_updates"] = []
        if has("CURRENT_ACTIONS", "CHANGE_ACTIONS"):
            info["actions"] = (
                actions_info(summary.change_actions, change, change.current_patch_set)
                if summary
                else {}
            )
        if has("MESSAGES"):
            info["messages"] = [self.message(detail, m) for m in detail.messages]
        info["current_revision_number"] = change.current_patch_set
        if self.options.revisions and detail.patch_sets:
            current = change.current_patch_set
            info["current_revision"] = next(
                (ps.commit.sha for ps in detail.patch_sets if ps.number == current),
                detail.patch_sets[-1].commit.sha,
            )
            info["revisions"] = {
                ps.commit.sha: self.revision(detail, ps)
                for ps in detail.patch_sets
                if has("ALL_REVISIONS") or ps.number == current
            }
        return info

    def _reviewers(self, detail: ChangeDetail) -> dict[str, Any]:
        reviewers: dict[str, Any] = {}
        if detail.change.reviewers:
            reviewers["REVIEWER"] = [
                self.account(detail.accounts, a) for a in detail.change.reviewers
            ]
        if detail.change.ccs:
            reviewers["CC"] = [self.account(detail.accounts, a) for a in detail.change.ccs]
        return reviewers

    def message(self, detail: ChangeDetail, message: ChangeMessage) -> dict[str, Any]:
        info: dict[str, Any] = {"id": message.id}
        if message.author_id is not None:
            info["author"] = self.account(detail.accounts, message.author_id)
        info["date"] = gerrit_timestamp(message.created_at)
        info["message"] = message.message
        if message.tag:
            info["tag"] = message.tag
        if message.patch_set is not None:
            info["_revision_number"] = message.patch_set
        return info

    def fetch(self, project: str, ref: str, number: int, patch_set: int) -> dict[str, Any]:
        """FetchInfo by scheme, as Gerrit's download-commands plugin names them."""
        schemes = {
            "anonymous http": f"{self.public_url}{project}",
            "http": f"{self.public_url}a/{project}",
        }
        fetch: dict[str, Any] = {}
        for scheme, url in schemes.items():
            info: dict[str, Any] = {"url": url, "ref": ref}
            if self.options.has("DOWNLOAD_COMMANDS"):
                info["commands"] = download_commands(url, ref, number, patch_set)
            fetch[scheme] = info
        return fetch

    def revision(self, detail: ChangeDetail, ps: PatchSet) -> dict[str, Any]:
        change = detail.change
        has = self.options.has
        is_current = ps.number == change.current_patch_set
        info: dict[str, Any] = {
            "kind": ps.kind,
            "_number": ps.number,
            "created": gerrit_timestamp(ps.created_at),
            "uploader": self.account(detail.accounts, ps.uploader_id),
            "ref": ps.ref,
            "fetch": self.fetch(change.project, ps.ref, change.number, ps.number),
        }
        if ps.description:
            info["description"] = ps.description
        if has("ALL_COMMITS") or (is_current and has("CURRENT_COMMIT")):
            info["commit"] = commit_info(ps.commit, self.subjects)
        if has("COMMIT_FOOTERS") and is_current:
            info["commit_with_footers"] = ps.commit.message
        if has("ALL_FILES") or (is_current and has("CURRENT_FILES")):
            # As in Gerrit, the magic /COMMIT_MSG is only in the /files endpoint.
            info["files"] = files_info(ps.files)
        if is_current and has("CURRENT_ACTIONS"):
            info["actions"] = revision_actions_info(self.labels.get(change.number), change, ps)
        return info


def download_commands(url: str, ref: str, number: int, patch_set: int) -> dict[str, str]:
    fetch = f'git fetch "{url}" {ref}'
    return {
        "Branch": f"{fetch} && git checkout -b change-{number}-{patch_set} FETCH_HEAD",
        "Checkout": f"{fetch} && git checkout FETCH_HEAD",
        "Cherry Pick": f"{fetch} && git cherry-pick FETCH_HEAD",
        "Format Patch": f"{fetch} && git format-patch -1 --stdout FETCH_HEAD",
        "Pull": f'git pull "{url}" {ref}',
        "Reset": f"{fetch} && git reset --hard FETCH_HEAD",
    }
