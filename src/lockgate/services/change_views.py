"""What the change read API shows beyond the stored change: each project's submit
type, the subjects of parent commits, labels and comment counts, and a
revision's file list with Gerrit's magic `/COMMIT_MSG` file, also against
another patch set (`?base=`)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field

from lockgate.adapters.git.commit_subjects import commit_subjects
from lockgate.adapters.git.repos import GitError
from lockgate.core.review.magic_files import commit_message_file
from lockgate.core.review.model import (
    Account,
    ChangeDetail,
    CommitInfo,
    FileChange,
    PatchSet,
    Project,
    SubmitType,
)
from lockgate.services.comments import CommentService
from lockgate.services.errors import BadRequest, Conflict
from lockgate.services.label_views import LabelSummary, LabelViews
from lockgate.services.review import LoadOptions, ReviewService


@dataclass(frozen=True, slots=True)
class ChangeViews:
    details: list[ChangeDetail]
    submit_types: dict[str, SubmitType]  # by project name
    subjects: dict[str, str]  # commit sha -> subject, for the parents of shown commits
    labels: dict[int, LabelSummary] = field(default_factory=dict)  # by change number
    comment_counts: dict[int, tuple[int, int]] = field(default_factory=dict)


def load_views(
    review: ReviewService,
    numbers: list[int],
    options: LoadOptions,
    *,
    commits_of: str | None = None,
    labels: LabelViews | None = None,
    comments: CommentService | None = None,
    viewer: Account | None = None,
) -> ChangeViews:
    """The changes with `options`; `commits_of` is "current" or "all" when commit
    details are shown, so that their parents' subjects are read from git. Labels
    need `labels`, comment counts `comments`; each is one query per page."""
    details = review.details(numbers, options)
    projects: dict[str, Project] = {}
    submit_types: dict[str, SubmitType] = {}
    for name in {d.change.project for d in details}:
        project = review.projects.find(name)
        if project is not None:
            projects[name] = project
        submit_types[name] = project.submit_type if project else SubmitType.MERGE_IF_NECESSARY
    summaries: dict[int, LabelSummary] = {}
    if labels is not None and (options.labels or options.actions):
        summaries = labels.summaries(
            [d.change for d in details],
            projects,
            viewer,
            detailed=options.detailed_labels,
            actions=options.actions,
        )
        details = _with_voters(review, details, summaries)
    counts: dict[int, tuple[int, int]] = {}
    if comments is not None and options.comment_counts:
        counts = comments.counts([d.change.number for d in details])
    subjects: dict[str, str] = {}
    if commits_of is not None:
        parents: dict[str, set[str]] = defaultdict(set)
        for detail in details:
            for ps in detail.patch_sets:
                if commits_of == "all" or ps.number == detail.change.current_patch_set:
                    parents[detail.change.project].update(ps.commit.parents)
        for name, shas in parents.items():
            subjects.update(commit_subjects(review.repos, name, shas))
    return ChangeViews(details, submit_types, subjects, summaries, counts)


def _with_voters(
    review: ReviewService, details: list[ChangeDetail], summaries: dict[int, LabelSummary]
) -> list[ChangeDetail]:
    """The details with the accounts of voters who are not otherwise on the change."""
    missing = {
        a
        for d in details
        if d.change.number in summaries
        for a in summaries[d.change.number].account_ids
        if a not in d.accounts
    }
    if not missing:
        return details
    extra = review.account_map(sorted(missing))
    return [dataclasses.replace(d, accounts={**d.accounts, **extra}) for d in details]


def parent_subjects(review: ReviewService, project: str, patch_set: PatchSet) -> dict[str, str]:
    return commit_subjects(review.repos, project, patch_set.commit.parents)


def revision_files(
    review: ReviewService,
    detail: ChangeDetail,
    patch_set: PatchSet,
    *,
    base: PatchSet | None = None,
    parent: int | None = None,
) -> list[FileChange]:
    """The files of a revision, `/COMMIT_MSG` first: against its first parent (as
    stored at upload), parent number `parent` of a merge, or patch set `base`."""
    project = detail.change.project
    commit = patch_set.commit
    subjects = commit_subjects(review.repos, project, commit.parents)
    if parent is not None and not 1 <= parent <= max(len(commit.parents), 1):
        raise BadRequest(
            f"parent={parent} is out of range: revision {patch_set.number} has "
            f"{len(commit.parents)} parent(s)"
        )
    if base is not None:
        if base.number == patch_set.number:
            raise BadRequest(f"base={base.number} is the revision itself; name an earlier one")
        # The stored list is against the first parent; against another commit
        # git computes it, as if that commit were the parent.
        files = _diff(review, project, dataclasses.replace(commit, parents=(base.commit.sha,)))
        message = commit_message_file(commit, subjects, base=base.commit)
    elif parent is not None and parent > 1:
        against = dataclasses.replace(commit, parents=(commit.parents[parent - 1],))
        files = _diff(review, project, against)
        message = commit_message_file(commit, subjects)
    else:
        files = list(patch_set.files)
        message = commit_message_file(commit, subjects)
    return [message, *sorted(files, key=lambda f: f.path)]


def _diff(review: ReviewService, project: str, commit: CommitInfo) -> list[FileChange]:
    try:
        return review.repos.file_changes(project, commit)
    except GitError as error:
        raise Conflict(f"cannot compare the commits of {project}: {error}") from error
