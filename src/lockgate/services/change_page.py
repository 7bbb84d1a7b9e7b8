"""Everything the web interface's change page shows of one change, read through
the same services and permissions as the REST API's `/detail`.

One call loads the change with all its patch sets (files included), its
messages, labels with who voted and what the viewer may vote and do, the
published comments, the relation chain, which of the message authors are CI
systems (members of Service Users, whose reports become the CI results
table), and the change's place in the queues of the tenants holding its
project.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lockgate.adapters.db import change_store
from lockgate.adapters.db.engine import read_transaction
from lockgate.core.review.ci_reports import PostedReport, latest_reports, parse_report
from lockgate.core.review.comments import Comment
from lockgate.core.review.labels import LabelType, Vote
from lockgate.core.review.model import (
    Account,
    Change,
    ChangeDetail,
    ChangeMessage,
    PatchSet,
    SubmitType,
)
from lockgate.services.accounts import SERVICE_USERS
from lockgate.services.bootstrap import Services
from lockgate.services.change_views import load_views
from lockgate.services.errors import NotFound
from lockgate.services.label_views import LabelSummary
from lockgate.services.permissions import Caller
from lockgate.services.review import LoadOptions, RelatedChange

# Files are read for the patch set shown only: a change of 30 patch sets of 50
# files would read 1,500 rows to show 50.
_OPTIONS = LoadOptions(
    all_revisions=True,
    messages=True,
    labels=True,
    detailed_labels=True,
    actions=True,
    comment_counts=False,
)
# Results of a job still counted as passing when an item's jobs are summed up.
_PASSING = frozenset({"SUCCESS", "SKIPPED"})


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where an item holding the change stands in one pipeline's queue."""

    tenant: str
    pipeline: str
    queue: str
    position: int  # 1: at the head of its queue
    length: int  # items in that queue
    jobs: int
    jobs_done: int
    failing: bool
    live: bool


@dataclass(frozen=True, slots=True)
class LabelVotes:
    """A label on the current patch set and the votes cast on it."""

    label: LabelType
    votes: tuple[Vote, ...]  # non-zero votes, best first


@dataclass(frozen=True, slots=True)
class ChangePage:
    detail: ChangeDetail
    patch_set: PatchSet  # the one shown
    submit_type: SubmitType
    labels: LabelSummary
    comments: tuple[Comment, ...]
    accounts: Mapping[int, Account]  # everyone the page names
    related: tuple[RelatedChange, ...]
    ci_accounts: frozenset[int]
    queue_positions: tuple[QueuePosition, ...]
    viewer: Account | None
    # The viewer's drafts on every patch set: a reply publishes them all, as
    # Gerrit's reply does.
    drafts: tuple[Comment, ...] = ()
    by_message: Mapping[str, Sequence[Comment]] = field(default_factory=dict)

    @property
    def change(self) -> Change:
        return self.detail.change

    def label_votes(self) -> list[LabelVotes]:
        by_label: dict[str, list[Vote]] = defaultdict(list)
        for vote in self.labels.votes:
            if vote.value:
                by_label[vote.label.lower()].append(vote)
        return [
            LabelVotes(label, tuple(sorted(by_label[label.name.lower()], key=lambda v: -v.value)))
            for label in self.labels.labels
        ]

    def viewer_votes(self) -> dict[str, int]:
        if self.viewer is None:
            return {}
        return {v.label: v.value for v in self.labels.votes if v.account_id == self.viewer.id}

    def is_ci(self, message: ChangeMessage) -> bool:
        return message.author_id is not None and message.author_id in self.ci_accounts

    def comments_of(self, message: ChangeMessage) -> Sequence[Comment]:
        """The inline comments published with `message`, in Gerrit's order."""
        return self.by_message.get(message.id, ())

    def file_comment_counts(self) -> dict[str, int]:
        """Comments on each file of the shown patch set."""
        counts: dict[str, int] = defaultdict(int)
        for comment in self.comments:
            if comment.patch_set == self.patch_set.number:
                counts[comment.path] += 1
        return counts

    def ci_results(self) -> list[PostedReport]:
        """The newest report of each CI account and pipeline on the shown patch set."""
        found = []
        for message in self.detail.messages:
            if message.patch_set != self.patch_set.number or not self.is_ci(message):
                continue
            report = parse_report(message.message, message.tag)
            if report is not None:
                assert message.author_id is not None
                found.append(
                    PostedReport(message.author_id, message.created_at, message.patch_set, report)
                )
        return latest_reports(found)

    def submit_blockers(self) -> list[str]:
        """Why the change cannot be submitted now, in words; [] when it can."""
        change = self.detail.change
        if not change.is_open:
            return [f"The change is {change.status.value.lower()}."]
        reasons = []
        if change.work_in_progress:
            reasons.append("The change is work in progress: mark it ready for review first.")
        for result in self.labels.record.unmet:
            label = result.label
            if result.rejected_by is not None:
                who = self.accounts.get(result.rejected_by)
                by = f" by {who.full_name or who.username}" if who else ""
                reasons.append(f"{label.name} is blocked by a {label.min:+d} vote{by}.")
            else:
                reasons.append(f"{label.name} needs a {label.max:+d} vote.")
        return reasons


def load_change_page(
    services: Services,
    change_id: str,
    revision: str | None,
    caller: Caller,
) -> ChangePage:
    """The change `change_id` as `caller` may see it (404 otherwise), showing
    patch set `revision` (None: the current one)."""
    review = services.review
    change = review.resolve(change_id, caller)
    viewer = caller.account
    views = load_views(
        review,
        [change.number],
        _OPTIONS,
        labels=services.label_views,
        viewer=viewer,
    )
    detail = views.details[0]
    patch_set = review.patch_set(detail, revision) if revision else detail.current
    with read_transaction(services.engine) as conn:
        files = change_store.patch_set_files(conn, change.number, patch_set.number)
    patch_set = dataclasses.replace(patch_set, files=files)
    summary = views.labels.get(change.number)
    if summary is None:
        raise NotFound(f"Not found: {change.number}")
    published = services.comments.of_change(change.number)
    comments = tuple(sorted(published.comments, key=Comment.sort_key))
    by_message: dict[str, list[Comment]] = defaultdict(list)
    for comment in comments:
        if comment.change_message_id:
            by_message[comment.change_message_id].append(comment)
    return ChangePage(
        detail=detail,
        patch_set=patch_set,
        submit_type=views.submit_types.get(change.project, SubmitType.MERGE_IF_NECESSARY),
        labels=summary,
        comments=comments,
        accounts={**published.accounts, **detail.accounts},
        related=tuple(review.related(detail, patch_set)),
        ci_accounts=_ci_accounts(services),
        queue_positions=tuple(queue_positions(services, change.project, change.number))
        if change.is_open
        else (),
        viewer=viewer,
        drafts=tuple(services.drafts.of_change(change.number, viewer)),
        by_message=dict(by_message),
    )


def _ci_accounts(services: Services) -> frozenset[int]:
    """The accounts of CI systems: Service Users, and the site's own CI account."""
    try:
        group = services.accounts.group(SERVICE_USERS)
    except NotFound:
        return frozenset()
    ids = {a.id for a in services.accounts.members(group)}
    own = services.accounts.find(services.settings.gating.ci_account)
    if own is not None:
        ids.add(own.id)
    return frozenset(ids)


def queue_positions(services: Services, project: str, number: int) -> list[QueuePosition]:
    """The change's items in the live queues of each tenant holding `project`."""
    api = services.gate_api
    if api is None:
        return []
    found: list[QueuePosition] = []
    for tenant in services.tenants.tenant_of(project):
        try:
            status = api.status(tenant)
        except NotFound:
            continue
        found.extend(positions_in_status(tenant, status, number))
    return found


def positions_in_status(tenant: str, status: Mapping[str, Any], number: int) -> list[QueuePosition]:
    """The items of Zuul's status JSON that hold change `number`, with their place
    in their queue: counted along the chain of items from its head, as the
    status page draws it."""
    found = []
    for pipeline in status.get("pipelines", []):
        for queue in pipeline.get("change_queues", []):
            for head in queue.get("heads", []):
                for index, item in enumerate(head):
                    if not _holds(item.get("refs", []), number):
                        continue
                    jobs: Sequence[Mapping[str, Any]] = item.get("jobs", [])
                    found.append(
                        QueuePosition(
                            tenant=tenant,
                            pipeline=str(pipeline.get("name", "")),
                            queue=str(queue.get("name", "")),
                            position=index + 1,
                            length=len(head),
                            jobs=len(jobs),
                            jobs_done=sum(1 for j in jobs if j.get("result")),
                            failing=bool(item.get("failing_reasons")) or _failing(jobs),
                            live=bool(item.get("live", True)),
                        )
                    )
    return [p for p in found if p.live]


def _holds(refs: Iterable[Mapping[str, Any]], number: int) -> bool:
    return any(ref.get("change") == number for ref in refs)


def _failing(jobs: Iterable[Mapping[str, Any]]) -> bool:
    return any(
        j.get("voting", True) and j.get("result") and j.get("result") not in _PASSING for j in jobs
    )
