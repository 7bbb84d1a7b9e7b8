"""`pipeline` objects: manager, triggers, requirements, reporters, window."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lockgate.core.config.objects import (
    MANAGERS,
    PRECEDENCES,
    REPORTER_ACTIONS,
    ApprovalMatch,
    PipelineDef,
    ReporterDef,
    RequirementDef,
    TriggerDef,
)
from lockgate.core.config.parse_common import Checker, describe
from lockgate.core.config.source import ConfigMap, Where

WINDOW_TYPES = ("linear", "exponential")
NOTIFY = ("NONE", "OWNER", "OWNER_REVIEWERS", "ALL")
GERRIT_EVENTS = (
    "patchset-created",
    "draft-published",
    "change-abandoned",
    "change-restored",
    "change-merged",
    "comment-added",
    "ref-updated",
    "pending-check",
    "vote-deleted",
    "wip-state-changed",
    "hashtags-changed",
    "topic-changed",
)
ZUUL_EVENTS = ("parent-change-enqueued", "project-change-merged", "image-build", "image-validate")
GIT_EVENTS = ("ref-updated",)
_AGE = re.compile(r"^\d+[smhdw]?$")

# attribute -> PipelineDef field; the kind of value is checked by _SCALARS
_STRINGS = {
    "description": "description",
    "success-message": "success_message",
    "failure-message": "failure_message",
    "merge-conflict-message": "merge_conflict_message",
    "merge-failure-message": "merge_conflict_message",
    "start-message": "start_message",
    "enqueue-message": "enqueue_message",
    "no-jobs-message": "no_jobs_message",
    "dequeue-message": "dequeue_message",
    "footer-message": "footer_message",
}
_BOOLEANS = {
    "post-review": "post_review",
    "dequeue-on-new-patchset": "dequeue_on_new_patchset",
    "ignore-dependencies": "ignore_dependencies",
    "allow-other-connections": "allow_other_connections",
}
_INTEGERS = {
    "window": ("window", 0),
    "window-floor": ("window_floor", 1),
    "window-ceiling": ("window_ceiling", 1),
    "window-increase-factor": ("window_increase_factor", 1),
    "window-decrease-factor": ("window_decrease_factor", 1),
    "disable-after-consecutive-failures": ("disable_after_consecutive_failures", 1),
}
_CHOICES = {
    "manager": ("manager", MANAGERS),
    "precedence": ("precedence", PRECEDENCES),
    "window-increase-type": ("window_increase_type", WINDOW_TYPES),
    "window-decrease-type": ("window_decrease_type", WINDOW_TYPES),
}
PIPELINE_ATTRIBUTES = frozenset(
    {"name", "supercedes", "trigger", "require", "reject", "merge-failure"}
    | set(_STRINGS)
    | set(_BOOLEANS)
    | set(_INTEGERS)
    | set(_CHOICES)
    | set(REPORTER_ACTIONS)
)


def parse_pipeline(
    checker: Checker, body: ConfigMap, connections: Mapping[str, str]
) -> PipelineDef | None:
    checker.keys(body, PIPELINE_ATTRIBUTES, "pipeline")
    name = (
        checker.string(body, "name", "pipeline.name")
        if checker.required(body, "name", "pipeline")
        else None
    )
    if name is not None:
        checker.context = f'pipeline "{name}"'
    checker.required(body, "manager", "pipeline")
    if not checker.source.trusted:
        checker.error(
            body.where,
            "pipeline",
            "a pipeline is only allowed in a config project",
            "define pipelines in the tenant's config project",
        )
    if "merge-failure-message" in body and "merge-conflict-message" in body:
        checker.error(
            body.at("merge-failure-message"),
            "pipeline.merge-failure-message",
            "is the older name of merge-conflict-message; set only one of them",
        )
    fields: dict[str, Any] = {}
    for key in body:
        attribute = f"pipeline.{key}"
        if key in _STRINGS:
            fields[_STRINGS[key]] = checker.string(body, key, attribute)
        elif key in _BOOLEANS:
            fields[_BOOLEANS[key]] = checker.boolean(body, key, attribute)
        elif key in _INTEGERS:
            field_name, minimum = _INTEGERS[key]
            fields[field_name] = checker.integer(body, key, attribute, minimum=minimum)
        elif key in _CHOICES:
            field_name, choices = _CHOICES[key]
            fields[field_name] = checker.choice(body, key, attribute, choices)
        elif key == "supercedes":
            fields["supercedes"] = checker.strings(body, key, attribute)
    fields["triggers"] = _triggers(checker, body, connections)
    fields["require"] = _requirements(checker, body, "require", connections)
    fields["reject"] = _requirements(checker, body, "reject", connections)
    fields["reporters"] = _reporters(checker, body, connections)
    if checker.failed or name is None:
        return None
    return PipelineDef(
        name=name, where=body.where, **{k: v for k, v in fields.items() if v is not None}
    )


# --- connections ------------------------------------------------------------


def _per_connection(
    checker: Checker, body: ConfigMap, key: str, connections: Mapping[str, str], what: str
) -> list[tuple[str, str, Any, Where]]:
    """(connection, driver, value, where) for each known connection under `key`;
    an unknown connection is a warning and its part is left out."""
    value = checker.untag(body[key], f"pipeline.{key}")
    if value is None:
        return []
    if not checker.is_mapping(value, body.at(key), f"pipeline.{key}"):
        return []
    result = []
    for connection, settings in value.items():
        where = value.at(connection)
        if not isinstance(connection, str):
            checker.error(
                where,
                f"pipeline.{key}",
                f"a connection name must be a string, not {describe(connection)}",
            )
            continue
        driver = connections.get(connection)
        if driver is None:
            known = ", ".join(sorted(connections)) or "none"
            checker.warning(
                where,
                f"pipeline.{key}.{connection}",
                f"unknown connection {connection!r}; its {what} is left out",
                f"connections of this site: {known}",
            )
            continue
        result.append((connection, driver, settings, where))
    return result


# --- approvals --------------------------------------------------------------

_APPROVAL_KEYS = {
    "username",
    "email",
    "email-filter",
    "username-filter",
    "newer-than",
    "older-than",
}


def approvals(
    checker: Checker, value: Any, where: Where, attribute: str
) -> tuple[ApprovalMatch, ...] | None:
    """`approval:`: one mapping or a list of them, each of label values and filters."""
    result: list[ApprovalMatch] = []
    ok = True
    for item, item_where in checker.items(value, where):
        if not isinstance(item, ConfigMap):
            checker.error(
                item_where,
                attribute,
                f"an approval must be a mapping of labels to values, not {describe(item)}",
            )
            ok = False
            continue
        match = _approval(checker, item, attribute)
        if match is None:
            ok = False
        else:
            result.append(match)
    return tuple(result) if ok else None


def _approval(checker: Checker, item: ConfigMap, attribute: str) -> ApprovalMatch | None:
    labels: dict[str, tuple[int, ...]] = {}
    filters: dict[str, str] = {}
    ok = True
    for key, raw in item.items():
        where = item.at(key)
        if key in _APPROVAL_KEYS:
            if not isinstance(raw, str):
                checker.error(where, f"{attribute}.{key}", f"must be a string, not {describe(raw)}")
                ok = False
            elif key in ("newer-than", "older-than") and not _AGE.match(raw):
                checker.error(
                    where,
                    f"{attribute}.{key}",
                    f"{raw!r} is not an age",
                    "write a number with s, m, h, d or w: 48h",
                )
                ok = False
            elif (
                key not in ("newer-than", "older-than")
                and checker.regex(raw, where, f"{attribute}.{key}") is None
            ):
                ok = False
            else:
                filters[key.removesuffix("-filter").replace("-", "_")] = raw
            continue
        if not isinstance(key, str):
            checker.error(where, attribute, f"a label name must be a string, not {describe(key)}")
            ok = False
            continue
        values = raw if isinstance(raw, list) else [raw]
        if not values or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
            checker.error(
                where,
                f"{attribute}.{key}",
                f"a label takes an integer or a list of integers, not {describe(raw)}",
            )
            ok = False
            continue
        labels[key] = tuple(values)
    if not ok:
        return None
    if not labels and not filters:
        checker.error(
            item.where, attribute, "an approval names at least one label", "write Label: value"
        )
        return None
    return ApprovalMatch(labels=labels, **filters)


# --- triggers ---------------------------------------------------------------

_GERRIT_TRIGGER = frozenset(
    {
        "event", "branch", "ref", "ignore-deletes", "approval", "require-approval",
        "reject-approval", "require", "reject", "username", "email", "comment",
    }
)  # fmt: skip
_GERRIT_TRIGGER_UNSUPPORTED = ("added", "removed", "uuid", "scheme")
_GITHUB_TRIGGER = frozenset(
    {
        "event", "action", "branch", "ref", "comment", "label", "unlabel", "state",
        "status", "check", "require", "reject", "require-status",
    }
)  # fmt: skip


def _triggers(
    checker: Checker, body: ConfigMap, connections: Mapping[str, str]
) -> tuple[TriggerDef, ...] | None:
    if not checker.required(body, "trigger", "pipeline"):
        return None
    result: list[TriggerDef] = []
    for connection, driver, settings, where in _per_connection(
        checker, body, "trigger", connections, "trigger"
    ):
        attribute = f"pipeline.trigger.{connection}"
        for item, item_where in checker.items(settings, where):
            if not isinstance(item, ConfigMap):
                checker.error(
                    item_where, attribute, f"a trigger must be a mapping, not {describe(item)}"
                )
                continue
            trigger = _trigger(checker, item, connection, driver, attribute)
            if trigger is not None:
                result.append(trigger)
    return tuple(result)


def _trigger(
    checker: Checker, item: ConfigMap, connection: str, driver: str, attribute: str
) -> TriggerDef | None:
    fields: dict[str, Any] = {}
    failed_before = checker.failed
    checker.failed = False
    if driver == "gerrit":
        checker.keys(item, _GERRIT_TRIGGER, attribute, unsupported=_GERRIT_TRIGGER_UNSUPPORTED)
        if checker.required(item, "event", attribute):
            fields["events"] = _events(checker, item, attribute, GERRIT_EVENTS)
        _gerrit_filters(checker, item, attribute, fields, connection)
    elif driver == "timer":
        checker.keys(item, ("time", "jitter"), attribute)
        if checker.required(item, "time", attribute):
            times = checker.strings(item, "time", f"{attribute}.time")
            for spec in times or ():
                if len(spec.split()) not in (5, 6, 7):
                    checker.error(
                        item.at("time"),
                        f"{attribute}.time",
                        f"{spec!r} is not a cron specification",
                        "write 5 fields (minute hour day month weekday),"
                        " then optionally seconds and a jitter in seconds",
                    )
            fields["times"] = times
        if "jitter" in item:
            jitter = checker.integer(item, "jitter", f"{attribute}.jitter", minimum=0)
            fields["options"] = {"jitter": jitter}
    elif driver == "zuul":
        checker.keys(item, ("event", "pipeline", "debug"), attribute)
        if checker.required(item, "event", attribute):
            fields["events"] = _events(checker, item, attribute, ZUUL_EVENTS)
        if "pipeline" in item:
            fields["pipelines"] = checker.strings(item, "pipeline", f"{attribute}.pipeline")
        if "debug" in item:
            fields["options"] = {"debug": checker.boolean(item, "debug", f"{attribute}.debug")}
    elif driver == "git":
        checker.keys(item, ("event", "ref", "ignore-deletes"), attribute)
        if checker.required(item, "event", attribute):
            fields["events"] = _events(checker, item, attribute, GIT_EVENTS)
        _gerrit_filters(checker, item, attribute, fields, connection)
    else:
        if driver == "github":
            checker.keys(item, _GITHUB_TRIGGER, attribute)
        if checker.required(item, "event", attribute):
            fields["events"] = checker.strings(item, "event", f"{attribute}.event")
        for key, name in (("branch", "branches"), ("ref", "refs"), ("comment", "comments")):
            if key in item:
                fields[name] = checker.strings(item, key, f"{attribute}.{key}", regex=True)
        fields["options"] = {
            k: v for k, v in item.items() if k not in ("event", "branch", "ref", "comment")
        }
    failed, checker.failed = checker.failed, failed_before or checker.failed
    if failed:
        return None
    return TriggerDef(
        connection=connection,
        driver=driver,
        where=item.where,
        **{k: v for k, v in fields.items() if v is not None},
    )


def _events(
    checker: Checker, item: ConfigMap, attribute: str, valid: tuple[str, ...]
) -> tuple[str, ...] | None:
    events = checker.strings(item, "event", f"{attribute}.event")
    if events is None:
        return None
    for event in events:
        if event not in valid:
            checker.error(
                item.at("event"),
                f"{attribute}.event",
                f"unknown event {event!r}",
                "valid events: " + ", ".join(valid),
            )
            return None
    return events


def _gerrit_filters(
    checker: Checker, item: ConfigMap, attribute: str, fields: dict[str, Any], connection: str
) -> None:
    for key, name in (
        ("branch", "branches"),
        ("ref", "refs"),
        ("comment", "comments"),
        ("username", "usernames"),
        ("email", "emails"),
    ):
        if key in item:
            fields[name] = checker.strings(item, key, f"{attribute}.{key}", regex=True)
    if "ignore-deletes" in item:
        fields["ignore_deletes"] = checker.boolean(
            item, "ignore-deletes", f"{attribute}.ignore-deletes"
        )
    if "approval" in item:
        fields["approvals"] = approvals(
            checker, item["approval"], item.at("approval"), f"{attribute}.approval"
        )
    require: list[ApprovalMatch] = []
    reject: list[ApprovalMatch] = []
    for key, into in (("require-approval", require), ("reject-approval", reject)):
        if key in item:
            into.extend(approvals(checker, item[key], item.at(key), f"{attribute}.{key}") or ())
    for key, into in (("require", require), ("reject", reject)):
        if key in item:
            requirement = _gerrit_requirement(
                checker, item[key], item.at(key), connection, f"{attribute}.{key}"
            )
            if requirement is not None:
                fields[key] = requirement
                into.extend(requirement.approvals)
    if require:
        fields["require_approvals"] = tuple(require)
    if reject:
        fields["reject_approvals"] = tuple(reject)


# --- requirements -----------------------------------------------------------

_GERRIT_REQUIREMENT = frozenset(
    {"approval", "open", "current-patchset", "wip", "status", "hashtags"}
)


def _requirements(
    checker: Checker, body: ConfigMap, key: str, connections: Mapping[str, str]
) -> tuple[RequirementDef, ...] | None:
    if key not in body:
        return None
    result: list[RequirementDef] = []
    for connection, driver, settings, where in _per_connection(
        checker, body, key, connections, key
    ):
        attribute = f"pipeline.{key}.{connection}"
        if driver not in ("gerrit",):
            checker.warning(
                where,
                attribute,
                f"lockgate checks requirements of gerrit connections only;"
                f" this {driver} {key} is left out",
            )
            continue
        requirement = _gerrit_requirement(checker, settings, where, connection, attribute)
        if requirement is not None:
            result.append(requirement)
    return tuple(result)


def _gerrit_requirement(
    checker: Checker, value: Any, where: Where, connection: str, attribute: str
) -> RequirementDef | None:
    if not checker.is_mapping(value, where, attribute):
        return None
    checker.keys(value, _GERRIT_REQUIREMENT, attribute)
    fields: dict[str, Any] = {}
    for key, name in (("open", "open"), ("current-patchset", "current_patchset"), ("wip", "wip")):
        if key in value:
            fields[name] = checker.boolean(value, key, f"{attribute}.{key}")
    if "status" in value:
        fields["status"] = checker.strings(value, "status", f"{attribute}.status")
    if "hashtags" in value:
        fields["hashtags"] = checker.strings(value, "hashtags", f"{attribute}.hashtags", regex=True)
    if "approval" in value:
        fields["approvals"] = approvals(
            checker, value["approval"], value.at("approval"), f"{attribute}.approval"
        )
    if any(v is None for v in fields.values()):
        return None
    return RequirementDef(connection=connection, where=value.where, **fields)


# --- reporters --------------------------------------------------------------

_SMTP = frozenset({"from", "to", "subject"})
_MQTT = frozenset({"topic", "include-returned-data"})
_GITHUB_REPORTER = frozenset(
    {
        "status",
        "status-url",
        "comment",
        "check",
        "label",
        "unlabel",
        "review",
        "review-body",
        "merge",
        "draft",
    }
)
_OPTION_KEYS: dict[str, frozenset[str]] = {
    "smtp": _SMTP,
    "mqtt": _MQTT,
    "github": _GITHUB_REPORTER,
    "sql": frozenset(),
}


def _reporters(
    checker: Checker, body: ConfigMap, connections: Mapping[str, str]
) -> dict[str, tuple[ReporterDef, ...]]:
    if "merge-failure" in body and "merge-conflict" in body:
        checker.error(
            body.at("merge-failure"),
            "pipeline.merge-failure",
            "is the older name of merge-conflict; set only one of them",
        )
    result: dict[str, tuple[ReporterDef, ...]] = {}
    for key in body:
        if key not in REPORTER_ACTIONS and key != "merge-failure":
            continue
        action = "merge-conflict" if key == "merge-failure" else key
        reporters: list[ReporterDef] = []
        for connection, driver, settings, where in _per_connection(
            checker, body, key, connections, f"{key} report"
        ):
            reporter = _reporter(
                checker,
                settings,
                where,
                connection,
                driver,
                attribute=f"pipeline.{key}.{connection}",
            )
            if reporter is not None:
                reporters.append(reporter)
        result[action] = tuple(reporters)
    return result


def _reporter(
    checker: Checker, value: Any, where: Where, connection: str, driver: str, *, attribute: str
) -> ReporterDef | None:
    if value is None:
        return ReporterDef(connection=connection, driver=driver, where=where)
    if not checker.is_mapping(value, where, attribute):
        return None
    if driver != "gerrit":
        valid = _OPTION_KEYS.get(driver)
        if valid is not None:
            checker.keys(value, valid, attribute)
        return ReporterDef(
            connection=connection, driver=driver, options=dict(value), where=value.where
        )
    labels: dict[str, int] = {}
    fields: dict[str, Any] = {}
    ok = True
    for key, raw in value.items():
        key_attribute = f"{attribute}.{key}"
        if key in ("submit", "comment"):
            fields[key] = checker.boolean(value, key, key_attribute)
        elif key == "notify":
            fields["notify"] = checker.choice(value, key, key_attribute, NOTIFY)
        elif not isinstance(key, str):
            checker.error(
                value.at(key), attribute, f"a label name must be a string, not {describe(key)}"
            )
            ok = False
        elif isinstance(raw, bool) or not isinstance(raw, int):
            checker.error(
                value.at(key),
                key_attribute,
                f"a label vote must be an integer, not {describe(raw)}",
                "gerrit reporters take label votes (Verified: 1), submit, comment and notify",
            )
            ok = False
        else:
            labels[key] = raw
    if not ok or any(v is None for v in fields.values()):
        return None
    return ReporterDef(
        connection=connection, driver=driver, labels=labels, where=value.where, **fields
    )
