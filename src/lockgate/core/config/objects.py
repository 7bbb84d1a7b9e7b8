"""The definitions of the Zuul configuration language, as parsed and validated.

One dataclass per object kind (`pipeline`, `job`, `project`,
`project-template`, `nodeset`, `secret`, `semaphore`, `queue`). Attribute
names are Zuul's with `_` for `-`. On a `JobDef` every attribute that the
YAML did not set is `None`, so that inheritance and variants can tell
"not set" from "set to the default"; defaults are applied when a job is
frozen (`frozen.py`). Other objects carry their defaults directly, as Zuul
documents them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lockgate.core.config.source import NOWHERE, ConfigError, Mark, Where

MANAGERS = ("independent", "dependent", "serial", "supercedent")
PRECEDENCES = ("high", "normal", "low")
MERGE_MODES = (
    "merge",
    "merge-resolve",
    "merge-recursive",
    "merge-ort",
    "cherry-pick",
    "squash-merge",
    "rebase",
)
# Reporter actions of a pipeline, in Zuul's names. `merge-failure` is the
# older name of `merge-conflict` and is read as it.
REPORTER_ACTIONS = (
    "enqueue",
    "start",
    "success",
    "failure",
    "merge-conflict",
    "config-error",
    "no-jobs",
    "disabled",
    "dequeue",
)


class NegatedRegex(str):
    """A regex written as `{regex: ..., negate: true}`: it matches what the
    pattern does not. It is a `str` (the pattern) so that it sits in the
    same tuples as plain regexes; use `regex_matches` to honour it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"NegatedRegex({str.__repr__(self)})"


def regex_matches(pattern: str, text: str) -> bool:
    """Whether a configured regex matches `text` at its start, as Zuul's
    matchers do, inverted for a `NegatedRegex`."""
    found = re.match(pattern, text) is not None
    return not found if isinstance(pattern, NegatedRegex) else found


# --- pipelines --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApprovalMatch:
    """One entry of `approval:` in a trigger or a requirement: label values,
    optionally from one account and within an age."""

    labels: Mapping[str, tuple[int, ...]]  # label -> accepted values
    username: str | None = None  # a regex
    email: str | None = None  # a regex
    newer_than: str | None = None  # Zuul's age syntax: "48h", "2d"
    older_than: str | None = None


@dataclass(frozen=True, slots=True)
class TriggerDef:
    """One trigger filter of a pipeline, for one connection.

    `driver` is the connection's driver (`gerrit`, `timer`, `zuul`, `git`);
    the fields that the driver does not use stay empty.
    """

    connection: str
    driver: str
    events: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()  # regexes
    refs: tuple[str, ...] = ()  # regexes
    approvals: tuple[ApprovalMatch, ...] = ()  # the event must add one of these
    require_approvals: tuple[ApprovalMatch, ...] = ()  # the change must have these
    reject_approvals: tuple[ApprovalMatch, ...] = ()
    comments: tuple[str, ...] = ()  # regexes, matched against the comment text
    usernames: tuple[str, ...] = ()  # regexes, matched against the event's author
    emails: tuple[str, ...] = ()
    ignore_deletes: bool = True
    times: tuple[str, ...] = ()  # timer driver: cron specs
    pipelines: tuple[str, ...] = ()  # zuul driver: parent-change-enqueued etc.
    where: Where = NOWHERE
    # `require:` / `reject:` inside the trigger: what the change must (not)
    # have when the event arrives; their approvals are also in
    # `require_approvals` / `reject_approvals`
    require: RequirementDef | None = None
    reject: RequirementDef | None = None
    # other drivers' filters (github `action`, timer `jitter`), as written
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RequirementDef:
    """`require:` or `reject:` of a pipeline, for one connection."""

    connection: str
    open: bool | None = None
    current_patchset: bool | None = None
    wip: bool | None = None
    status: tuple[str, ...] = ()
    approvals: tuple[ApprovalMatch, ...] = ()
    hashtags: tuple[str, ...] = ()  # regexes
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class ReporterDef:
    """What a pipeline does through one connection for one action.

    For the review server: label votes, `submit`, whether to comment and
    whom to notify. Other drivers' settings are kept in `options`.
    """

    connection: str
    driver: str
    labels: Mapping[str, int] = field(default_factory=dict)
    submit: bool = False
    comment: bool = True
    notify: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class PipelineDef:
    name: str
    manager: str
    where: Where = NOWHERE
    description: str = ""
    precedence: str = "normal"
    post_review: bool = False
    supercedes: tuple[str, ...] = ()
    dequeue_on_new_patchset: bool = True
    ignore_dependencies: bool = False
    allow_other_connections: bool = True
    success_message: str = "Build succeeded."
    failure_message: str = "Build failed."
    merge_conflict_message: str = (
        "Merge Failed.\n\nThis change or one of its cross-repo dependencies was unable to "
        "be automatically merged with the current state of its repository. Please rebase "
        "the change and upload a new patchset."
    )
    start_message: str = "Starting {pipeline.name} jobs."
    enqueue_message: str = ""
    no_jobs_message: str = ""
    dequeue_message: str = "Build canceled."
    footer_message: str = ""
    window: int = 20
    window_floor: int = 3
    window_ceiling: int | None = None
    window_increase_type: str = "linear"  # or "exponential"
    window_increase_factor: int = 1
    window_decrease_type: str = "exponential"  # or "linear"
    window_decrease_factor: int = 2
    disable_after_consecutive_failures: int | None = None
    triggers: tuple[TriggerDef, ...] = ()
    require: tuple[RequirementDef, ...] = ()
    reject: tuple[RequirementDef, ...] = ()
    # action (REPORTER_ACTIONS) -> reporters; an action with no entry reports nothing
    reporters: Mapping[str, tuple[ReporterDef, ...]] = field(default_factory=dict)


# --- jobs -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleRef:
    project: str  # `zuul: <project>`; the job's own project when only `name` is given
    name: str | None = None  # the role's name when it differs from the project's
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class PlaybookRef:
    path: str
    roles: tuple[RoleRef, ...] = ()
    semaphores: tuple[str, ...] = ()
    cleanup: bool = False
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class RequiredProject:
    name: str
    override_checkout: str | None = None
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class JobDependency:
    name: str
    soft: bool = False
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class SecretUse:
    """`secrets:` entry of a job: the secret `secret`, seen by playbooks as `name`."""

    name: str
    secret: str
    pass_to_parent: bool = False
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class NodeDef:
    names: tuple[str, ...]
    label: str
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class GroupDef:
    name: str
    nodes: tuple[str, ...]
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class NodesetDef:
    name: str  # empty for an anonymous nodeset written inline in a job
    nodes: tuple[NodeDef, ...] = ()
    groups: tuple[GroupDef, ...] = ()
    alternatives: tuple[str | NodesetDef, ...] = ()
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class JobDef:
    """One definition (variant) of a job. `None` means "not set here"."""

    name: str
    where: Where = NOWHERE
    # `parent: null` makes a base job; that is `is_base`, not `parent is None`
    parent: str | None = None
    is_base: bool = False
    description: str | None = None
    abstract: bool | None = None
    final: bool | None = None
    protected: bool | None = None
    intermediate: bool | None = None
    branches: tuple[str, ...] | None = None  # regexes
    files: tuple[str, ...] | None = None  # regexes
    irrelevant_files: tuple[str, ...] | None = None
    match_on_config_updates: bool | None = None
    nodeset: str | NodesetDef | None = None
    timeout: int | None = None
    post_timeout: int | None = None
    attempts: int | None = None
    voting: bool | None = None
    dependencies: tuple[JobDependency, ...] | None = None
    semaphores: tuple[str, ...] | None = None
    vars: Mapping[str, Any] | None = None
    extra_vars: Mapping[str, Any] | None = None
    host_vars: Mapping[str, Mapping[str, Any]] | None = None
    group_vars: Mapping[str, Mapping[str, Any]] | None = None
    pre_run: tuple[PlaybookRef, ...] | None = None
    run: tuple[PlaybookRef, ...] | None = None
    post_run: tuple[PlaybookRef, ...] | None = None
    cleanup_run: tuple[PlaybookRef, ...] | None = None
    roles: tuple[RoleRef, ...] | None = None
    required_projects: tuple[RequiredProject, ...] | None = None
    allowed_projects: tuple[str, ...] | None = None
    secrets: tuple[SecretUse, ...] | None = None
    post_review: bool | None = None
    hold_following_changes: bool | None = None
    provides: tuple[str, ...] | None = None
    requires: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    override_checkout: str | None = None
    workspace_scheme: str | None = None
    deduplicate: bool | str | None = None
    failure_output: tuple[str, ...] | None = None
    ansible_version: str | None = None
    ansible_split_streams: bool | None = None
    success_url: str | None = None
    failure_url: str | None = None
    # attribute -> "override" or "inherit", from the `!override` / `!inherit` tags
    merge_tags: Mapping[str, str] = field(default_factory=dict)
    # field name -> where the attribute was written, for errors about it
    marks: Mapping[str, Mark] = field(default_factory=dict, compare=False)

    def at(self, attribute: str) -> Where:
        """Where `attribute` (a field name) was written, else where the job starts."""
        mark = self.marks.get(attribute)
        return self.where if mark is None else Where(self.where.source, mark)


# --- projects, templates and the rest ---------------------------------------


@dataclass(frozen=True, slots=True)
class JobUse:
    """A job named in a project's (or template's) pipeline, with an optional
    inline variant: the attributes written under its name there."""

    name: str
    variant: JobDef | None = None
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class ProjectPipelineDef:
    jobs: tuple[JobUse, ...] = ()
    queue: str | None = None  # the older place for the queue name
    debug: bool = False
    fail_fast: bool | None = None
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class ProjectDef:
    """A `project` stanza. `name` is empty when the stanza names no project
    (it then applies to the project it is read from), and may be a regex
    (starting with `^`) in a config project."""

    name: str
    where: Where = NOWHERE
    description: str = ""
    templates: tuple[str, ...] = ()
    queue: str | None = None
    merge_mode: str | None = None
    default_branch: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    pipelines: Mapping[str, ProjectPipelineDef] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProjectTemplateDef:
    name: str
    where: Where = NOWHERE
    description: str = ""
    queue: str | None = None
    pipelines: Mapping[str, ProjectPipelineDef] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SecretDef:
    name: str
    data: Mapping[str, Any]  # encrypted values stay `Tagged` until an executor decrypts them
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class SemaphoreDef:
    name: str
    max: int = 1
    where: Where = NOWHERE


@dataclass(frozen=True, slots=True)
class QueueDef:
    name: str
    per_branch: bool = False
    allow_circular_dependencies: bool = False
    dependencies_by_topic: bool = False
    where: Where = NOWHERE


ConfigObject = (
    PipelineDef
    | JobDef
    | ProjectDef
    | ProjectTemplateDef
    | NodesetDef
    | SecretDef
    | SemaphoreDef
    | QueueDef
)


@dataclass(slots=True)
class ParsedConfig:
    """What one or more files of one project and branch define, in file order,
    and the errors met reading them. An object with an error is left out;
    the others are kept."""

    pipelines: list[PipelineDef] = field(default_factory=list)
    jobs: list[JobDef] = field(default_factory=list)
    projects: list[ProjectDef] = field(default_factory=list)
    templates: list[ProjectTemplateDef] = field(default_factory=list)
    nodesets: list[NodesetDef] = field(default_factory=list)
    secrets: list[SecretDef] = field(default_factory=list)
    semaphores: list[SemaphoreDef] = field(default_factory=list)
    queues: list[QueueDef] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)

    def extend(self, other: ParsedConfig) -> None:
        self.pipelines.extend(other.pipelines)
        self.jobs.extend(other.jobs)
        self.projects.extend(other.projects)
        self.templates.extend(other.templates)
        self.nodesets.extend(other.nodesets)
        self.secrets.extend(other.secrets)
        self.semaphores.extend(other.semaphores)
        self.queues.extend(other.queues)
        self.errors.extend(other.errors)
