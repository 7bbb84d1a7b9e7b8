"""`job` and `nodeset` objects, and the parts of a job (playbooks, roles,
required projects, dependencies, secrets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lockgate.core.config.objects import (
    GroupDef,
    JobDef,
    JobDependency,
    NodeDef,
    NodesetDef,
    PlaybookRef,
    RequiredProject,
    RoleRef,
    SecretUse,
)
from lockgate.core.config.parse_common import MERGE_TAGS, Checker, check_vars, describe
from lockgate.core.config.source import ConfigList, ConfigMap, Tagged, Where

WORKSPACE_SCHEMES = ("golang", "flat", "unique")

_Reader = Callable[[Checker, Any, Where, str], Any]


def _string(checker: Checker, value: Any, where: Where, attribute: str) -> str | None:
    if isinstance(value, str):
        return value
    checker.error(where, attribute, f"must be a string, not {describe(value)}")
    return None


def _boolean(checker: Checker, value: Any, where: Where, attribute: str) -> bool | None:
    if isinstance(value, bool):
        return value
    checker.error(where, attribute, f"must be true or false, not {describe(value)}")
    return None


def _seconds(checker: Checker, value: Any, where: Where, attribute: str) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    checker.error(where, attribute, f"must be a positive integer (seconds), not {describe(value)}")
    return None


def _attempts(checker: Checker, value: Any, where: Where, attribute: str) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    checker.error(where, attribute, f"must be a positive integer, not {describe(value)}")
    return None


def _strings(checker: Checker, value: Any, where: Where, attribute: str) -> tuple[str, ...] | None:
    return checker.string_list(value, where, attribute)


def _regexes(checker: Checker, value: Any, where: Where, attribute: str) -> tuple[str, ...] | None:
    return checker.string_list(value, where, attribute, regex=True)


def _workspace_scheme(checker: Checker, value: Any, where: Where, attribute: str) -> str | None:
    if value in WORKSPACE_SCHEMES:
        return str(value)
    checker.error(where, attribute, f"{value!r} is not one of {', '.join(WORKSPACE_SCHEMES)}")
    return None


def _deduplicate(checker: Checker, value: Any, where: Where, attribute: str) -> bool | str | None:
    if isinstance(value, bool) or value == "auto":
        return value  # type: ignore[no-any-return]
    checker.error(where, attribute, f"must be true, false or auto, not {describe(value)}")
    return None


def _ansible_version(checker: Checker, value: Any, where: Where, attribute: str) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    checker.error(where, attribute, f"must be a version such as '9', not {describe(value)}")
    return None


def _vars(checker: Checker, value: Any, where: Where, attribute: str) -> ConfigMap | None:
    holder = ConfigMap(where, {"_": where.mark})
    holder["_"] = value
    return check_vars(checker, holder, "_", attribute)


def _nested_vars(
    checker: Checker, value: Any, where: Where, attribute: str
) -> dict[str, Any] | None:
    """`host-vars` / `group-vars`: a mapping of host or group names to vars."""
    if not checker.is_mapping(value, where, attribute):
        return None
    result: dict[str, Any] = {}
    for name, inner in value.items():
        checked = _vars(checker, inner, value.at(name), f"{attribute}.{name}")
        if checked is not None:
            result[name] = checked
    return result


def _nodeset(checker: Checker, value: Any, where: Where, attribute: str) -> str | NodesetDef | None:
    if isinstance(value, str):
        return value
    if isinstance(value, ConfigMap):
        return parse_nodeset(checker, value, attribute, named=False)
    checker.error(
        where, attribute, f"must be a nodeset name or a nodeset mapping, not {describe(value)}"
    )
    return None


def _semaphore(
    checker: Checker, value: Any, where: Where, attribute: str
) -> tuple[str, ...] | None:
    name = _string(checker, value, where, attribute)
    return None if name is None else (name,)


# --- playbooks and roles ------------------------------------------------------


def _playbooks(cleanup_allowed: bool) -> _Reader:
    valid = ("name", "semaphores", "cleanup") if cleanup_allowed else ("name", "semaphores")

    def read(
        checker: Checker, value: Any, where: Where, attribute: str
    ) -> tuple[PlaybookRef, ...] | None:
        result: list[PlaybookRef] = []
        for item, item_where in checker.items(value, where):
            if isinstance(item, str):
                result.append(PlaybookRef(path=item, where=item_where))
                continue
            if not isinstance(item, ConfigMap):
                checker.error(
                    item_where,
                    attribute,
                    f"a playbook is a path or a mapping with name, not {describe(item)}",
                )
                continue
            checker.keys(item, valid, attribute)
            if not checker.required(item, "name", attribute):
                continue
            path = checker.string(item, "name", f"{attribute}.name")
            semaphores = (
                checker.strings(item, "semaphores", f"{attribute}.semaphores")
                if "semaphores" in item
                else ()
            )
            cleanup = (
                checker.boolean(item, "cleanup", f"{attribute}.cleanup")
                if "cleanup" in item
                else False
            )
            if path is not None and semaphores is not None and cleanup is not None:
                result.append(
                    PlaybookRef(path=path, semaphores=semaphores, cleanup=cleanup, where=item.where)
                )
        return tuple(result)

    return read


def _roles(
    checker: Checker, value: Any, where: Where, attribute: str
) -> tuple[RoleRef, ...] | None:
    if not isinstance(value, ConfigList):
        checker.error(
            where,
            attribute,
            f"must be a list of roles, not {describe(value)}",
            "write - zuul: org/project",
        )
        return None
    result: list[RoleRef] = []
    for item, item_where in checker.items(value, where):
        if not isinstance(item, ConfigMap):
            checker.error(
                item_where,
                attribute,
                f"a role is a mapping such as zuul: org/project, not {describe(item)}",
            )
            continue
        checker.keys(item, ("zuul", "name"), attribute, unsupported=("galaxy",))
        if not checker.required(item, "zuul", attribute):
            continue
        project = checker.string(item, "zuul", f"{attribute}.zuul")
        name = checker.string(item, "name", f"{attribute}.name") if "name" in item else None
        if project is not None:
            result.append(RoleRef(project=project, name=name, where=item.where))
    return tuple(result)


def _required_projects(
    checker: Checker, value: Any, where: Where, attribute: str
) -> tuple[RequiredProject, ...] | None:
    result: list[RequiredProject] = []
    for item, item_where in checker.items(value, where):
        if isinstance(item, str):
            result.append(RequiredProject(name=item, where=item_where))
            continue
        if not isinstance(item, ConfigMap):
            checker.error(
                item_where,
                attribute,
                f"a required project is a name or a mapping, not {describe(item)}",
            )
            continue
        checker.keys(item, ("name", "override-checkout", "override-branch"), attribute)
        if not checker.required(item, "name", attribute):
            continue
        name = checker.string(item, "name", f"{attribute}.name")
        checkout = _override_checkout(checker, item, attribute)
        if name is not None:
            result.append(RequiredProject(name=name, override_checkout=checkout, where=item.where))
    return tuple(result)


def _override_checkout(checker: Checker, item: ConfigMap, attribute: str) -> str | None:
    """`override-checkout`, or its older name `override-branch`."""
    if "override-checkout" in item and "override-branch" in item:
        checker.error(
            item.at("override-branch"),
            f"{attribute}.override-branch",
            "is the older name of override-checkout; set only one of them",
        )
        return None
    for key in ("override-checkout", "override-branch"):
        if key in item:
            return checker.string(item, key, f"{attribute}.{key}")
    return None


def _dependencies(
    checker: Checker, value: Any, where: Where, attribute: str
) -> tuple[JobDependency, ...] | None:
    result: list[JobDependency] = []
    for item, item_where in checker.items(value, where):
        if isinstance(item, str):
            result.append(JobDependency(name=item, where=item_where))
            continue
        if not isinstance(item, ConfigMap):
            checker.error(
                item_where,
                attribute,
                f"a dependency is a job name or a mapping, not {describe(item)}",
            )
            continue
        checker.keys(item, ("name", "soft"), attribute)
        if not checker.required(item, "name", attribute):
            continue
        name = checker.string(item, "name", f"{attribute}.name")
        soft = checker.boolean(item, "soft", f"{attribute}.soft") if "soft" in item else False
        if name is not None and soft is not None:
            result.append(JobDependency(name=name, soft=soft, where=item.where))
    return tuple(result)


def _secrets(
    checker: Checker, value: Any, where: Where, attribute: str
) -> tuple[SecretUse, ...] | None:
    result: list[SecretUse] = []
    for item, item_where in checker.items(value, where):
        if isinstance(item, str):
            result.append(SecretUse(name=item, secret=item, where=item_where))
            continue
        if not isinstance(item, ConfigMap):
            checker.error(
                item_where, attribute, f"a secret is a name or a mapping, not {describe(item)}"
            )
            continue
        checker.keys(item, ("name", "secret", "pass-to-parent"), attribute)
        if not (
            checker.required(item, "name", attribute)
            and checker.required(item, "secret", attribute)
        ):
            continue
        name = checker.string(item, "name", f"{attribute}.name")
        secret = checker.string(item, "secret", f"{attribute}.secret")
        passed = (
            checker.boolean(item, "pass-to-parent", f"{attribute}.pass-to-parent")
            if "pass-to-parent" in item
            else False
        )
        if name is not None and secret is not None and passed is not None:
            result.append(
                SecretUse(name=name, secret=secret, pass_to_parent=passed, where=item.where)
            )
    return tuple(result)


# attribute -> (JobDef field, reader, takes !override/!inherit)
JOB_ATTRIBUTES: dict[str, tuple[str, _Reader, bool]] = {
    "description": ("description", _string, False),
    "abstract": ("abstract", _boolean, False),
    "final": ("final", _boolean, False),
    "protected": ("protected", _boolean, False),
    "intermediate": ("intermediate", _boolean, False),
    "branches": ("branches", _regexes, False),
    "files": ("files", _regexes, True),
    "irrelevant-files": ("irrelevant_files", _regexes, True),
    "match-on-config-updates": ("match_on_config_updates", _boolean, False),
    "nodeset": ("nodeset", _nodeset, False),
    "timeout": ("timeout", _seconds, False),
    "post-timeout": ("post_timeout", _seconds, False),
    "attempts": ("attempts", _attempts, False),
    "voting": ("voting", _boolean, False),
    "dependencies": ("dependencies", _dependencies, True),
    "semaphores": ("semaphores", _strings, True),
    "semaphore": ("semaphores", _semaphore, False),
    "vars": ("vars", _vars, True),
    "extra-vars": ("extra_vars", _vars, True),
    "host-vars": ("host_vars", _nested_vars, True),
    "group-vars": ("group_vars", _nested_vars, True),
    "pre-run": ("pre_run", _playbooks(False), False),
    "run": ("run", _playbooks(False), False),
    "post-run": ("post_run", _playbooks(True), False),
    "cleanup-run": ("cleanup_run", _playbooks(False), False),
    "roles": ("roles", _roles, True),
    "required-projects": ("required_projects", _required_projects, True),
    "allowed-projects": ("allowed_projects", _strings, False),
    "secrets": ("secrets", _secrets, False),
    "post-review": ("post_review", _boolean, False),
    "hold-following-changes": ("hold_following_changes", _boolean, False),
    "provides": ("provides", _strings, True),
    "requires": ("requires", _strings, True),
    "tags": ("tags", _strings, True),
    "override-checkout": ("override_checkout", _string, False),
    "override-branch": ("override_checkout", _string, False),
    "workspace-scheme": ("workspace_scheme", _workspace_scheme, False),
    "deduplicate": ("deduplicate", _deduplicate, False),
    "failure-output": ("failure_output", _regexes, True),
    "ansible-version": ("ansible_version", _ansible_version, False),
    "ansible-split-streams": ("ansible_split_streams", _boolean, False),
    "success-url": ("success_url", _string, False),
    "failure-url": ("failure_url", _string, False),
}
JOB_UNSUPPORTED = (
    "include-vars",
    "attribute-control",
    "image-build-name",
    "success-message",
    "failure-message",
    "workspace-checkout",
)
_JOB_KEYS = frozenset(JOB_ATTRIBUTES) | {"name", "parent"}
# Older names read as the newer ones; both at once is an error.
_ALIASES = (("override-branch", "override-checkout"), ("semaphore", "semaphores"))


def parse_job(checker: Checker, body: ConfigMap, *, variant_of: str | None = None) -> JobDef | None:
    """A `job` stanza, or (with `variant_of`) the attributes of an inline
    variant written under a job's name in a project pipeline."""
    if variant_of is None:
        checker.keys(body, _JOB_KEYS, "job", unsupported=JOB_UNSUPPORTED)
        name = (
            checker.string(body, "name", "job.name")
            if checker.required(body, "name", "job")
            else None
        )
        if name is not None:
            checker.context = f'job "{name}"'
    else:
        checker.keys(body, _JOB_KEYS - {"name"}, checker.kind, unsupported=JOB_UNSUPPORTED)
        name = variant_of
    prefix = checker.kind
    fields: dict[str, Any] = {}
    merge_tags: dict[str, str] = {}
    for old, new in _ALIASES:
        if old in body and new in body:
            checker.error(
                body.at(old), f"{prefix}.{old}", f"is the older name of {new}; set only one of them"
            )
    for key, written in body.items():
        spec = JOB_ATTRIBUTES.get(key)
        if spec is None:
            continue
        field_name, reader, taggable = spec
        attribute = f"{prefix}.{key}"
        value = written
        if isinstance(value, Tagged):
            if not taggable or value.tag not in MERGE_TAGS:
                checker.error(
                    value.where,
                    attribute,
                    f"the {value.tag} tag is not allowed here",
                    "!override and !inherit apply to a job's list and mapping attributes",
                )
                continue
            merge_tags[field_name] = MERGE_TAGS[value.tag]
            value = value.value
        read = reader(checker, value, body.at(key), attribute)
        if read is not None:
            fields[field_name] = read
    if "parent" in body:
        parent = body["parent"]
        if parent is None:
            fields["is_base"] = True
            if not checker.source.trusted:
                checker.error(
                    body.at("parent"),
                    f"{prefix}.parent",
                    "a base job (parent: null) is only allowed in a config project",
                    "name a parent job, or define the base job in the config project",
                )
        elif isinstance(parent, str):
            fields["parent"] = parent
        else:
            checker.error(
                body.at("parent"),
                f"{prefix}.parent",
                f"must be a job name or null, not {describe(parent)}",
            )
    if fields.get("intermediate") and fields.get("abstract") is not True:
        checker.error(
            body.at("intermediate"),
            f"{prefix}.intermediate",
            "an intermediate job must also be abstract",
            "add abstract: true",
        )
    if checker.failed or name is None:
        return None
    # where each attribute was written, by field name, for errors found later
    # (an undefined parent, a final job's attribute) that name their line
    marks = {
        spec[0]: body.key_marks[key]
        for key, spec in JOB_ATTRIBUTES.items()
        if key in body.key_marks
    }
    if "parent" in body.key_marks:
        marks["parent"] = body.key_marks["parent"]
    return JobDef(name=name, where=body.where, merge_tags=merge_tags, marks=marks, **fields)


# --- nodesets -----------------------------------------------------------------


def parse_nodeset(
    checker: Checker, body: ConfigMap, prefix: str, *, named: bool
) -> NodesetDef | None:
    """A `nodeset` stanza (`named`), or an anonymous one written inline in a job."""
    valid = (
        ("name", "nodes", "groups", "alternatives")
        if named
        else ("nodes", "groups", "alternatives")
    )
    checker.keys(body, valid, prefix)
    failed_before, checker.failed = checker.failed, False
    name = ""
    if named and checker.required(body, "name", prefix):
        name = checker.string(body, "name", f"{prefix}.name") or ""
        if name:
            checker.context = f'nodeset "{name}"'
    nodes: list[NodeDef] = []
    groups: list[GroupDef] = []
    alternatives: list[str | NodesetDef] = []
    if "alternatives" in body:
        if "nodes" in body or "groups" in body:
            checker.error(
                body.at("alternatives"),
                f"{prefix}.alternatives",
                "a nodeset has either nodes and groups or alternatives, not both",
            )
        for item, where in checker.items(body["alternatives"], body.at("alternatives")):
            if isinstance(item, str):
                alternatives.append(item)
            elif isinstance(item, ConfigMap):
                inline = parse_nodeset(checker, item, f"{prefix}.alternatives", named=False)
                if inline is not None:
                    alternatives.append(inline)
            else:
                checker.error(
                    where,
                    f"{prefix}.alternatives",
                    f"an alternative is a nodeset name or mapping, not {describe(item)}",
                )
    if "nodes" in body:
        nodes = _nodes(checker, body["nodes"], body.at("nodes"), f"{prefix}.nodes")
    if "groups" in body:
        groups = _groups(checker, body["groups"], body.at("groups"), f"{prefix}.groups", nodes)
    failed, checker.failed = checker.failed, failed_before or checker.failed
    if failed:
        return None
    return NodesetDef(
        name=name,
        nodes=tuple(nodes),
        groups=tuple(groups),
        alternatives=tuple(alternatives),
        where=body.where,
    )


def _nodes(checker: Checker, value: Any, where: Where, attribute: str) -> list[NodeDef]:
    result: list[NodeDef] = []
    seen: set[str] = set()
    for item, item_where in checker.items(value, where):
        if not isinstance(item, ConfigMap):
            checker.error(
                item_where,
                attribute,
                f"a node is a mapping with name and label, not {describe(item)}",
            )
            continue
        checker.keys(item, ("name", "label"), attribute)
        if not (
            checker.required(item, "name", attribute) and checker.required(item, "label", attribute)
        ):
            continue
        names = checker.strings(item, "name", f"{attribute}.name")
        label = checker.string(item, "label", f"{attribute}.label")
        if names is None or label is None:
            continue
        for node_name in names:
            if node_name in seen:
                checker.error(
                    item.at("name"), f"{attribute}.name", f"duplicate node name {node_name!r}"
                )
            seen.add(node_name)
        result.append(NodeDef(names=names, label=label, where=item.where))
    return result


def _groups(
    checker: Checker, value: Any, where: Where, attribute: str, nodes: list[NodeDef]
) -> list[GroupDef]:
    known = {name for node in nodes for name in node.names}
    result: list[GroupDef] = []
    for item, item_where in checker.items(value, where):
        if not isinstance(item, ConfigMap):
            checker.error(
                item_where,
                attribute,
                f"a group is a mapping with name and nodes, not {describe(item)}",
            )
            continue
        checker.keys(item, ("name", "nodes"), attribute)
        if not (
            checker.required(item, "name", attribute) and checker.required(item, "nodes", attribute)
        ):
            continue
        name = checker.string(item, "name", f"{attribute}.name")
        members = checker.strings(item, "nodes", f"{attribute}.nodes")
        if name is None or members is None:
            continue
        for member in members:
            if member not in known:
                checker.error(
                    item.at("nodes"),
                    f"{attribute}.nodes",
                    f"group {name!r} names node {member!r}, which this nodeset does not have",
                    "nodes: " + (", ".join(sorted(known)) or "none"),
                )
        result.append(GroupDef(name=name, nodes=members, where=item.where))
    return result
