"""Reading Zuul's tenants file (`main.yaml`) into `TenantDef`s.

The input is the positioned values the YAML adapter produces (`ConfigMap`,
`ConfigList`, scalars), one per YAML document. Every problem becomes a
`ConfigError` naming the file, line, column and attribute; a tenant with
errors is still returned with what could be read, so that one bad project
entry never hides a whole tenant from the operator.

Besides `tenant`, the file may hold `admin-rule` (and its older name
`authorization-rule`), `api-root` and `global-semaphore` stanzas. They are
checked for unknown attributes and otherwise not used: lockgate's own
permissions decide who may administer pipelines, and global semaphores are
not supported yet. A tenant's `admin-rules` naming a rule that no stanza
defines is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lockgate.core.config.parse_common import unknown_hint
from lockgate.core.config.source import ConfigError, ConfigList, ConfigMap, Where
from lockgate.core.config.tenant_schema import (
    BOOL_PROJECT_FIELDS,
    BOOL_TENANT_FIELDS,
    GROUP_KEYS,
    INT_TENANT_FIELDS,
    KNOWN_CLASSES,
    LIST_TENANT_FIELDS,
    OTHER_STANZAS,
    PROJECT_KEYS,
    REGEX_PROJECT_FIELDS,
    SOURCE_KEYS,
    STR_TENANT_FIELDS,
    TENANT_KEYS,
    TUPLE_TENANT_FIELDS,
    UNTRUSTED_PROJECT_KEYS,
)
from lockgate.core.config.tenants import CONFIG_CLASSES, TenantDef, TenantProject


def parse_tenants(documents: Iterable[Any]) -> tuple[list[TenantDef], list[ConfigError]]:
    """The tenants of a tenants file and every problem found in it.

    `documents` holds the value of each YAML document of the file (a
    `ConfigList` of stanzas, or None for an empty document).
    """
    parser = _Parser()
    for document in documents:
        parser.document(document)
    parser.check_rule_references()
    return parser.tenants, parser.errors


@dataclass
class _Parser:
    tenants: list[TenantDef] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)
    rule_uses: list[tuple[str, Where, str]] = field(default_factory=list)
    _names: dict[str, Where] = field(default_factory=dict)

    def error(
        self, where: Where, message: str, attribute: str = "", context: str = "", hint: str = ""
    ) -> None:
        self.errors.append(ConfigError(where, message, attribute, context, hint=hint))

    # --- stanzas --------------------------------------------------------------

    def document(self, document: Any) -> None:
        if document is None:
            return
        if not isinstance(document, ConfigList):
            where = getattr(document, "where", None)
            if where is not None:
                self.error(
                    where,
                    "a tenants file is a list of stanzas",
                    hint="start each one with '- tenant:'",
                )
            return
        for index, stanza in enumerate(document):
            self.stanza(stanza, document.at(index))

    def stanza(self, stanza: Any, where: Where) -> None:
        if not isinstance(stanza, ConfigMap) or len(stanza) != 1:
            self.error(
                where,
                "each item must be a mapping with one key, the kind of the stanza",
                hint="for example '- tenant:' followed by its attributes, indented",
            )
            return
        ((kind, body),) = stanza.items()
        if kind == "tenant":
            self.tenant(body, stanza.at(kind))
        elif kind in OTHER_STANZAS:
            self.other(kind, body, stanza.at(kind))
        else:
            known = ", ".join(("tenant", *OTHER_STANZAS))
            self.error(
                stanza.at(kind),
                f"unknown stanza kind {kind!r}",
                hint=f"a tenants file holds: {known}",
            )

    def other(self, kind: str, body: Any, where: Where) -> None:
        if not isinstance(body, ConfigMap):
            self.error(where, f"{kind} must be a mapping of attributes", kind)
            return
        self.unknown_keys(body, OTHER_STANZAS[kind], kind, "")
        name = body.get("name")
        if kind in ("admin-rule", "authorization-rule"):
            if not isinstance(name, str):
                self.error(body.at("name"), "a rule needs a name (a string)", f"{kind}.name")
            else:
                self.rules.add(name)

    def check_rule_references(self) -> None:
        for name, where, context in self.rule_uses:
            if name not in self.rules:
                self.errors.append(
                    ConfigError(
                        where,
                        f"no admin-rule named {name!r} is defined in this file",
                        "tenant.admin-rules",
                        context,
                        severity="warning",
                        hint="add an '- admin-rule:' stanza with that name, or remove it",
                    )
                )

    # --- tenants --------------------------------------------------------------

    def tenant(self, body: Any, where: Where) -> None:
        if not isinstance(body, ConfigMap):
            self.error(where, "a tenant must be a mapping of attributes", "tenant")
            return
        name = body.get("name")
        if not isinstance(name, str) or not name:
            self.error(
                body.at("name"),
                "a tenant needs a name (a non-empty string)",
                "tenant.name",
                hint="add 'name: <tenant>'",
            )
            return
        context = f'tenant "{name}"'
        first = self._names.get(name)
        if first is not None:
            self.error(
                body.at("name"),
                f"tenant {name!r} is defined twice (first at {first})",
                "tenant.name",
                context,
                hint="merge the two definitions or rename one",
            )
            return
        self._names[name] = body.at("name")
        self.unknown_keys(body, TENANT_KEYS, "tenant", context)
        values: dict[str, Any] = {}
        for key, attr in BOOL_TENANT_FIELDS.items():
            if key in body and self.is_bool(body, key, "tenant", context):
                values[attr] = body[key]
        for key, attr in INT_TENANT_FIELDS.items():
            if key in body and self.is_count(body, key, "tenant", context):
                values[attr] = body[key]
        for key, attr in LIST_TENANT_FIELDS.items():
            if key in body:
                listed = self.str_list(body, key, "tenant", context)
                if listed is not None:
                    values[attr] = listed
        for key, attr in TUPLE_TENANT_FIELDS.items():
            if key in body:
                listed = self.str_list(body, key, "tenant", context)
                if listed is not None:
                    values[attr] = listed
        for key, attr in STR_TENANT_FIELDS.items():
            if key in body and self.is_str(body, key, "tenant", context):
                values[attr] = body[key]
        if "default-ansible-version" in body:
            version = body["default-ansible-version"]
            # YAML reads `8` or `2.9` as numbers; Zuul takes them as the version text.
            if isinstance(version, (str, int, float)) and not isinstance(version, bool):
                values["default_ansible_version"] = str(version)
            else:
                self.error(
                    body.at("default-ansible-version"),
                    "must be a version such as '9'",
                    "tenant.default-ansible-version",
                    context,
                )
        if "web-root" in body and self.is_str(body, "web-root", "tenant", context):
            root = body["web-root"]
            values["web_root"] = root if root.endswith("/") else root + "/"
        for rule in values.get("admin_rules", ()):
            self.rule_uses.append((rule, body.at("admin-rules"), context))
        config: list[TenantProject] = []
        untrusted: list[TenantProject] = []
        if "source" in body:
            self.source(body["source"], body.at("source"), context, config, untrusted)
        self.tenants.append(
            TenantDef(
                name=name,
                config_projects=tuple(config),
                untrusted_projects=tuple(untrusted),
                where=where,
                **values,
            )
        )

    def source(
        self,
        source: Any,
        where: Where,
        context: str,
        config: list[TenantProject],
        untrusted: list[TenantProject],
    ) -> None:
        if not isinstance(source, ConfigMap):
            self.error(
                where,
                "source must map connection names to their projects",
                "tenant.source",
                context,
                hint="for example 'source: {gerrit: {config-projects: [...]}}'",
            )
            return
        seen: dict[tuple[str, str], Where] = {}
        for connection, lists in source.items():
            attr = f"tenant.source.{connection}"
            if not isinstance(lists, ConfigMap):
                self.error(
                    source.at(connection),
                    "must be a mapping with config-projects and/or untrusted-projects",
                    attr,
                    context,
                )
                continue
            self.unknown_keys(lists, frozenset(SOURCE_KEYS), attr, context)
            for key in SOURCE_KEYS:
                if key not in lists:
                    continue
                trusted = key == "config-projects"
                into = config if trusted else untrusted
                found: list[TenantProject] = []
                self.entries(
                    lists[key],
                    lists.at(key),
                    scope=_Scope(connection, trusted, frozenset(CONFIG_CLASSES)),
                    attr=f"{attr}.{key}",
                    context=context,
                    found=found,
                )
                for project in found:
                    first = seen.get((connection, project.name))
                    if first is not None:
                        self.error(
                            project.where,
                            f"project {project.name} is listed twice in this tenant "
                            f"(first at {first})",
                            f"{attr}.{key}",
                            context,
                            hint="list each project once, with all its options",
                        )
                        continue
                    seen[(connection, project.name)] = project.where
                    into.append(project)

    def entries(
        self,
        value: Any,
        where: Where,
        *,
        scope: _Scope,
        attr: str,
        context: str,
        found: list[TenantProject],
    ) -> None:
        """A project list: names, projects with options, and groups."""
        if value is None:
            return
        if isinstance(value, ConfigList):
            for index, item in enumerate(value):
                self.entry(
                    item,
                    value.at(index),
                    scope=scope,
                    attr=f"{attr}[{index}]",
                    context=context,
                    found=found,
                )
        else:
            self.entry(value, where, scope=scope, attr=attr, context=context, found=found)

    def entry(
        self,
        item: Any,
        where: Where,
        *,
        scope: _Scope,
        attr: str,
        context: str,
        found: list[TenantProject],
    ) -> None:
        if isinstance(item, str):
            if item:
                found.append(scope.project(item, where))
            else:
                self.error(where, "a project name must not be empty", attr, context)
            return
        if not isinstance(item, ConfigMap) or not item:
            self.error(
                where,
                "must be a project name, a project with options, or a group with 'projects:'",
                attr,
                context,
            )
            return
        if "projects" in item:
            self.group(item, scope, attr, context, found)
            return
        if len(item) != 1:
            self.error(
                item.where,
                "a project with options is one key, the project name, with its options "
                "indented below it",
                attr,
                context,
                hint="a group of projects sharing options needs a 'projects:' list",
            )
            return
        ((name, options),) = item.items()
        self.project(
            name, options, item.at(name), scope=scope, attr=attr, context=context, found=found
        )

    def group(
        self,
        group: ConfigMap,
        scope: _Scope,
        attr: str,
        context: str,
        found: list[TenantProject],
    ) -> None:
        self.unknown_keys(group, GROUP_KEYS, attr, context)
        classes = scope.classes
        included = self.classes(group, "include", attr, context)
        if included is not None:
            classes = included
        excluded = self.classes(group, "exclude", attr, context)
        if excluded is not None:
            classes = classes - excluded
        self.entries(
            group["projects"],
            group.at("projects"),
            scope=_Scope(scope.connection, scope.trusted, classes),
            attr=f"{attr}.projects",
            context=context,
            found=found,
        )

    def project(
        self,
        name: str,
        options: Any,
        where: Where,
        *,
        scope: _Scope,
        attr: str,
        context: str,
        found: list[TenantProject],
    ) -> None:
        attr = f"{attr}.{name}"
        if options is None:
            found.append(scope.project(name, where))
            return
        if not isinstance(options, ConfigMap):
            self.error(where, "the options of a project must be a mapping", attr, context)
            return
        allowed = PROJECT_KEYS if scope.trusted else UNTRUSTED_PROJECT_KEYS
        self.unknown_keys(options, allowed, attr, context)
        values: dict[str, Any] = {}
        classes = scope.classes
        included = self.classes(options, "include", attr, context)
        if included is not None:
            classes = included
        excluded = self.classes(options, "exclude", attr, context)
        if excluded is not None:
            classes = classes - excluded
        for key, field_name in BOOL_PROJECT_FIELDS.items():
            if key in options and self.is_bool(options, key, attr, context):
                values[field_name] = options[key]
        if "shadow" in options:
            shadow = self.str_list(options, "shadow", attr, context)
            if shadow is not None:
                values["shadow"] = shadow
        if "load-branch" in options and self.is_str(options, "load-branch", attr, context):
            values["load_branch"] = options["load-branch"]
        for key, field_name in REGEX_PROJECT_FIELDS.items():
            if key in options:
                patterns = self.regex_list(options, key, attr, context)
                if patterns is not None:
                    values[field_name] = patterns
        if "always-dynamic-branches" in options:
            dynamic = self.regex_list(options, "always-dynamic-branches", attr, context)
            if dynamic is not None:
                values["always_dynamic_branches"] = dynamic
                # As in Zuul: an always-dynamic branch is never loaded statically.
                excluded_branches = values.get("exclude_branches", ())
                values["exclude_branches"] = excluded_branches + tuple(
                    b for b in dynamic if b not in excluded_branches
                )
        if "extra-config-paths" in options:
            paths = self.str_list(options, "extra-config-paths", attr, context)
            if paths is not None:
                twice = sorted({p for p in paths if paths.count(p) > 1})
                if twice:
                    self.error(
                        options.at("extra-config-paths"),
                        f"paths given twice: {', '.join(twice)}",
                        f"{attr}.extra-config-paths",
                        context,
                    )
                values["extra_config_paths"] = tuple(dict.fromkeys(paths))
        found.append(
            TenantProject(
                name=name,
                connection=scope.connection,
                trusted=scope.trusted,
                load_classes=classes,
                where=where,
                **values,
            )
        )

    # --- values ---------------------------------------------------------------

    def unknown_keys(
        self, body: ConfigMap, allowed: frozenset[str], attr: str, context: str
    ) -> None:
        for key in body:
            if key not in allowed:
                self.error(
                    body.at(key),
                    f"unknown attribute {key!r}",
                    f"{attr}.{key}" if attr else key,
                    context,
                    hint=unknown_hint(key, allowed),
                )

    def is_bool(self, body: ConfigMap, key: str, attr: str, context: str) -> bool:
        if isinstance(body[key], bool):
            return True
        self.error(body.at(key), "must be true or false", f"{attr}.{key}", context)
        return False

    def is_str(self, body: ConfigMap, key: str, attr: str, context: str) -> bool:
        if isinstance(body[key], str):
            return True
        self.error(body.at(key), "must be a string", f"{attr}.{key}", context)
        return False

    def is_count(self, body: ConfigMap, key: str, attr: str, context: str) -> bool:
        value = body[key]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return True
        self.error(body.at(key), "must be a whole number, 0 or more", f"{attr}.{key}", context)
        return False

    def str_list(
        self, body: ConfigMap, key: str, attr: str, context: str
    ) -> tuple[str, ...] | None:
        """A string or a list of strings, as Zuul's `to_list(str)`."""
        value = body[key]
        if isinstance(value, str):
            return (value,)
        if isinstance(value, ConfigList):
            bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
            if not bad:
                return tuple(value)
            self.error(value.at(bad[0]), "must be a string", f"{attr}.{key}[{bad[0]}]", context)
            return None
        self.error(body.at(key), "must be a string or a list of strings", f"{attr}.{key}", context)
        return None

    def regex_list(
        self, body: ConfigMap, key: str, attr: str, context: str
    ) -> tuple[str, ...] | None:
        patterns = self.str_list(body, key, attr, context)
        if patterns is None:
            return None
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as problem:
                self.error(
                    body.at(key),
                    f"{pattern!r} is not a valid regular expression: {problem}",
                    f"{attr}.{key}",
                    context,
                )
                return None
        return patterns

    def classes(self, body: ConfigMap, key: str, attr: str, context: str) -> frozenset[str] | None:
        if key not in body:
            return None
        value = body[key]
        if value is None or (isinstance(value, ConfigList) and not value):
            return frozenset()
        names = self.str_list(body, key, attr, context)
        if names is None:
            return None
        unknown = [name for name in names if name not in KNOWN_CLASSES]
        if unknown:
            self.error(
                body.at(key),
                f"unknown configuration kind {unknown[0]!r}",
                f"{attr}.{key}",
                context,
                hint=f"kinds: {', '.join(KNOWN_CLASSES)}",
            )
            return None
        return frozenset(names)


@dataclass(frozen=True, slots=True)
class _Scope:
    """What a project entry inherits from where it is listed."""

    connection: str
    trusted: bool
    classes: frozenset[str]

    def project(self, name: str, where: Where) -> TenantProject:
        return TenantProject(
            name=name,
            connection=self.connection,
            trusted=self.trusted,
            load_classes=self.classes,
            where=where,
        )
