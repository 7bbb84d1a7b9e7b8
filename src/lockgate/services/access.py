"""Reading and changing a project's access and label definitions.

All-Projects carries a site's defaults, written when the site is created and,
for a site made before access control existed, when it is opened with none:

- Anonymous Users read everything (`read` on refs/*);
- Registered Users upload changes (`push` on refs/for/*) and vote
  Code-Review -1..+1;
- Service Users (CI systems) vote Verified -2..+2 and submit;
- a change's owner may vote Workflow -1..0 (mark it work in progress);
- project owners vote Code-Review -2..+2 and Workflow -1..+1, submit, abandon
  and rebase on their projects;
- Administrators do everything.

Only a project's owners and administrators change its access and labels;
changing its parent takes an administrator. Every change is checked in full
before anything is written, and written in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import access_store, account_store, label_store
from lockgate.adapters.db.engine import read_transaction, write_transaction
from lockgate.adapters.db.locks import lock_name
from lockgate.core.review import acl
from lockgate.core.review.acl import (
    AccessError,
    AccessSection,
    Action,
    Permission,
    PermissionRules,
    Rule,
)
from lockgate.core.review.label_definitions import (
    LabelDefinition,
    LabelDefinitionError,
    build_definition,
    default_definitions,
    forbidding_override,
)
from lockgate.core.review.labels import CODE_REVIEW, VERIFIED, WORKFLOW, LabelType, format_value
from lockgate.core.review.model import ALL_PROJECTS, Group, Project
from lockgate.core.review.refs import HEADS, META_CONFIG, TAGS
from lockgate.services.accounts import SERVICE_USERS
from lockgate.services.errors import BadRequest, Conflict, Forbidden, NotFound
from lockgate.services.labels import LabelConfig
from lockgate.services.permissions import (
    ALL_REFS,
    ANONYMOUS_UUID,
    CHANGE_OWNER_UUID,
    PROJECT_OWNERS_UUID,
    REGISTERED_UUID,
    SYSTEM_GROUPS,
    Permissions,
    Who,
)
from lockgate.services.project_config import ProjectConfig, chain_names
from lockgate.services.projects import ProjectService

_LABEL = acl.LABEL_PREFIX


def _grant(*rules: Rule, exclusive: bool = False) -> PermissionRules:
    return PermissionRules(tuple(rules), exclusive)


def _range(group: str, label: LabelType, low: int | None = None, high: int | None = None) -> Rule:
    return Rule(
        group, Action.ALLOW, label.min if low is None else low, label.max if high is None else high
    )


def default_access(service_users: str | None) -> tuple[AccessSection, ...]:
    """All-Projects' access on a new site; `service_users` is that group's UUID."""
    bots = (service_users,) if service_users else ()
    heads: dict[str, PermissionRules] = {
        _LABEL + CODE_REVIEW.name: _grant(
            _range(REGISTERED_UUID, CODE_REVIEW, -1, 1), _range(PROJECT_OWNERS_UUID, CODE_REVIEW)
        ),
        _LABEL + VERIFIED.name: _grant(*(_range(g, VERIFIED) for g in bots)),
        _LABEL + WORKFLOW.name: _grant(
            _range(CHANGE_OWNER_UUID, WORKFLOW, -1, 0), _range(PROJECT_OWNERS_UUID, WORKFLOW)
        ),
        Permission.SUBMIT: _grant(*(Rule(g) for g in (*bots, PROJECT_OWNERS_UUID))),
        Permission.ABANDON: _grant(Rule(PROJECT_OWNERS_UUID)),
        Permission.REBASE: _grant(Rule(PROJECT_OWNERS_UUID)),
    }
    return (
        AccessSection(ALL_REFS, {Permission.READ: _grant(Rule(ANONYMOUS_UUID))}),
        AccessSection("refs/for/*", {Permission.PUSH: _grant(Rule(REGISTERED_UUID))}),
        AccessSection(HEADS + "*", {k: v for k, v in heads.items() if v.rules}),
    )


@dataclass(frozen=True, slots=True)
class AccessView:
    """A project's access as one caller sees it (Gerrit's ProjectAccessInfo)."""

    project: Project
    parent: Project | None
    revision: str
    local: tuple[AccessSection, ...]
    is_owner: bool
    owner_of: tuple[str, ...]
    can_upload: bool
    can_add: bool
    can_add_tags: bool
    config_visible: bool
    groups: Mapping[str, Group | str]  # a stored group, or a system group's name


class AccessService:
    def __init__(
        self,
        engine: Engine,
        projects: ProjectService,
        permissions: Permissions,
        labels: LabelConfig,
        config: ProjectConfig,
    ) -> None:
        self._engine = engine
        self._projects = projects
        self._permissions = permissions
        self._labels = labels
        self._config = config

    # --- the site's defaults ----------------------------------------------------

    def ensure_defaults(self) -> None:
        """Give All-Projects the default access and labels if it has none yet."""
        with read_transaction(self._engine) as conn:
            if access_store.has_access(conn, ALL_PROJECTS) and label_store.has_labels(
                conn, ALL_PROJECTS
            ):
                return
        with write_transaction(self._engine) as conn:
            lock_name(conn, "access", ALL_PROJECTS)
            if not access_store.has_access(conn, ALL_PROJECTS):
                bots = account_store.group_by_name(conn, SERVICE_USERS)
                sections = default_access(bots.uuid if bots else None)
                access_store.replace_access(conn, ALL_PROJECTS, sections)
            if not label_store.has_labels(conn, ALL_PROJECTS):
                for definition in default_definitions(ALL_PROJECTS):
                    label_store.insert_label(conn, definition)
        self._config.invalidate()

    # --- groups ---------------------------------------------------------------

    def owner_groups(self, names: Sequence[str]) -> list[str]:
        """The UUIDs of the groups `names` (names or UUIDs), for a new project's owners."""
        with read_transaction(self._engine) as conn:
            found = []
            for name in names:
                if name in SYSTEM_GROUPS:
                    found.append(name)
                    continue
                group = account_store.group_by_name(conn, name) or account_store.group_by_uuid(
                    conn, name
                )
                if group is None:
                    raise BadRequest(f"owner group {name} not found; create it first")
                found.append(group.uuid)
        return found

    def _check_groups(self, conn: Connection, uuids: set[str]) -> None:
        for uuid in sorted(uuids - SYSTEM_GROUPS.keys()):
            if account_store.group_by_uuid(conn, uuid) is not None:
                continue
            named = account_store.group_by_name(conn, uuid)
            hint = (
                f"; rules name groups by UUID: use {named.uuid} for {named.name}"
                if named
                else "; GET /a/groups/ lists the groups and their ids"
            )
            raise BadRequest(f"unknown group {uuid}{hint}")

    def _groups_of(
        self, conn: Connection, sections: Sequence[AccessSection]
    ) -> dict[str, Group | str]:
        named: dict[str, Group | str] = {}
        for uuid in sorted(acl.groups_named(sections)):
            if uuid in SYSTEM_GROUPS:
                named[uuid] = SYSTEM_GROUPS[uuid]
            elif (group := account_store.group_by_uuid(conn, uuid)) is not None:
                named[uuid] = group
        return named

    # --- access ---------------------------------------------------------------

    def view(self, who: Who, project: Project) -> AccessView:
        caller = self._permissions.caller(who)
        chain = self._config.chain(project.name)
        own = chain.access[0]
        owner = self._permissions.is_owner(caller, project)
        check = self._permissions.check
        local = tuple(
            s
            for s in own.sections
            if owner
            or (
                not s.ref_pattern.startswith("refs/meta/")
                and check(caller, project, Permission.READ, s.ref_pattern)
            )
        )
        if owner:
            owned = [s.ref_pattern for s in local]
            owner_of = tuple(owned if ALL_REFS in owned else [*owned, ALL_REFS])
        else:
            owner_of = tuple(
                s.ref_pattern
                for s in local
                if check(caller, project, Permission.OWNER, s.ref_pattern)
            )
        with read_transaction(self._engine) as conn:
            groups = self._groups_of(conn, local)
        parent_name = own.parent or (ALL_PROJECTS if project.name != ALL_PROJECTS else None)
        return AccessView(
            project=project,
            parent=self._projects.find(parent_name) if parent_name else None,
            revision=acl.access_revision(own),
            local=local,
            is_owner=owner,
            owner_of=owner_of,
            can_upload=self._permissions.can_upload(caller, project),
            can_add=check(caller, project, Permission.CREATE, HEADS + "*"),
            can_add_tags=any(
                check(caller, project, p, TAGS + "*")
                for p in (Permission.CREATE_TAG, Permission.CREATE)
            ),
            config_visible=owner or check(caller, project, Permission.READ, META_CONFIG),
            groups=groups,
        )

    def change_access(self, who: Who, project: Project, raw: Mapping[str, object]) -> AccessView:
        """Apply a ProjectAccessInput (`remove`, then `add`; `parent`; `message`)."""
        caller = self._permissions.caller(who)
        self._permissions.require_owner(
            caller, project, action=f"changing the access of {project.name}"
        )
        try:
            remove = acl.parse_access_changes(raw.get("remove"), what="remove", removal=True)
            add = acl.parse_access_changes(raw.get("add"), what="add")
        except AccessError as error:
            raise BadRequest(str(error)) from None
        message = raw.get("message")
        if message is not None and not isinstance(message, str):
            raise BadRequest("message must be a string")
        parent = raw.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise BadRequest("parent must be a project name")
        added = [
            AccessSection(ref, {n: PermissionRules(c.rules) for n, c in perms.items()})
            for ref, perms in add.items()
        ]
        if parent and parent != project.parent and not caller.admin:
            raise Forbidden(
                f"changing the parent of {project.name} not permitted: only administrators "
                "may; leave out parent or ask an administrator"
            )
        self._check_label_ranges(project, added)
        with write_transaction(self._engine) as conn:
            lock_name(conn, "access", project.name)
            self._check_groups(conn, acl.groups_named(added))
            if parent and parent != project.parent:
                self._check_parent(conn, project, parent)
                access_store.set_parent(conn, project.name, parent)
            current = access_store.load_access(conn, [project.name])[project.name]
            changed = acl.apply_access_changes(current, remove, add)
            access_store.replace_access(conn, project.name, changed)
        self._config.invalidate()
        return self.view(caller, self._projects.get(project.name))

    def _check_parent(self, conn: Connection, project: Project, parent: str) -> None:
        if project.name == ALL_PROJECTS:
            raise BadRequest(f"{ALL_PROJECTS} is the root of every project and takes no parent")
        if access_store.parents(conn, [parent]) == {}:
            raise BadRequest(f"parent project {parent} not found")
        names, _ = chain_names(conn, parent)
        if project.name in names:
            raise BadRequest(
                f"{parent} cannot be the parent of {project.name}: it inherits from "
                f"{project.name}, which would make a cycle"
            )

    def _check_label_ranges(self, project: Project, sections: Sequence[AccessSection]) -> None:
        labels = {lt.name: lt for lt in self._labels.for_project(project.name)}
        for ref, name, rule in acl.label_permissions(sections):
            label = labels.get(name) or self._labels.find(project.name, name)
            if label is None:
                known = ", ".join(labels) or "none"
                raise BadRequest(
                    f"add[{ref}].label-{name}: {project.name} has no label {name} "
                    f"(its labels: {known}); define it first"
                )
            if label.name != name:
                raise BadRequest(f"add[{ref}].label-{name}: the label is spelt {label.name}")
            assert rule.min is not None and rule.max is not None
            if rule.min < label.min or rule.max > label.max:
                raise BadRequest(
                    f"add[{ref}].label-{name}.rules[{rule.group}]: range "
                    f"{format_value(rule.min).strip()}..{format_value(rule.max).strip()} is "
                    f"outside the label's values {format_value(label.min).strip()}.."
                    f"{format_value(label.max).strip()}"
                )

    # --- label definitions ----------------------------------------------------

    def own_labels(self, project: Project) -> tuple[LabelDefinition, ...]:
        """The labels the project defines itself, by name."""
        chain = self._config.chain(project.name)
        return tuple(sorted(chain.inherited_labels[-1], key=lambda d: d.name))

    def all_labels(self, project: Project) -> tuple[LabelDefinition, ...]:
        """Its and its ancestors' definitions: All-Projects' first, down to its own,
        each project's by name (Gerrit's `?inherited`)."""
        chain = self._config.chain(project.name)
        return tuple(
            d for level in chain.inherited_labels for d in sorted(level, key=lambda d: d.name)
        )

    def label(self, project: Project, name: str) -> LabelDefinition:
        found = self._own_label(project, name)
        if found is None:
            inherited = self._labels.find(project.name, name)
            hint = (
                f"; it is inherited: PUT it here to override it in {project.name}"
                if inherited
                else ""
            )
            raise NotFound(f"Not found: label {name} is not defined in {project.name}{hint}")
        return found

    def _own_label(self, project: Project, name: str) -> LabelDefinition | None:
        wanted = name.lower()
        chain = self._config.chain(project.name)
        return next((d for d in chain.inherited_labels[-1] if d.name.lower() == wanted), None)

    def put_label(
        self, who: Who, project: Project, name: str, raw: Mapping[str, object]
    ) -> tuple[LabelDefinition, bool]:
        """Create or update label `name` of the project; True when it was created."""
        self._permissions.require_owner(
            who, project, action=f"changing the labels of {project.name}"
        )
        existing = self._own_label(project, name)
        try:
            # A name differing only in case addresses the label; only `name` renames it.
            definition = build_definition(
                raw,
                project=project.name,
                name=existing.name if existing else name,
                existing=existing,
            )
        except LabelDefinitionError as error:
            raise BadRequest(str(error)) from None
        chain = self._config.chain(project.name)
        inherited = [d for level in chain.inherited_labels[:-1] for d in level]
        for label_name in {definition.name, name}:
            locked = forbidding_override(inherited, label_name)
            if locked is not None and locked.project != project.name:
                raise Conflict(
                    f"label {locked.name} of {locked.project} may not be overridden "
                    f"(can_override is false there)"
                )
        clash = self._own_label(project, definition.name)
        if clash is not None and (existing is None or clash.name != existing.name):
            raise Conflict(f"label {clash.name} already exists in {project.name}")
        with write_transaction(self._engine) as conn:
            lock_name(conn, "access", project.name)
            if existing is None:
                label_store.insert_label(conn, definition)
            else:
                label_store.update_label(conn, existing.name, definition)
        self._config.invalidate()
        return definition, existing is None

    def delete_label(self, who: Who, project: Project, name: str) -> None:
        self._permissions.require_owner(
            who, project, action=f"changing the labels of {project.name}"
        )
        found = self.label(project, name)
        with write_transaction(self._engine) as conn:
            lock_name(conn, "access", project.name)
            label_store.delete_label(conn, project.name, found.name)
        self._config.invalidate()
