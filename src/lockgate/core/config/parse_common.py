"""The checks every object kind shares: attribute names, types, regexes.

A `Checker` reads one configuration object. Each accessor returns the
value when it is well formed and records a `ConfigError` (naming the
attribute, its position and the fix) when it is not; the object is kept
only when its checker recorded no error, so one pass reports every
problem of an object instead of the first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from typing import Any

from lockgate.core.config.objects import NegatedRegex
from lockgate.core.config.source import ConfigError, ConfigList, ConfigMap, Source, Tagged, Where

MERGE_TAGS = {"!override": "override", "!inherit": "inherit"}


def describe(value: Any) -> str:
    """How a value reads in an error: its YAML kind, not its Python type."""
    if value is None:
        return "empty (null)"
    if isinstance(value, Tagged):
        return f"a {value.tag} value"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def closest(name: str, valid: Iterable[str]) -> str:
    found = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return found[0] if found else ""


def unknown_hint(name: str, valid: Collection[str]) -> str:
    near = closest(name, valid)
    listed = ", ".join(sorted(valid))
    if near:
        return f"did you mean {near!r}? valid attributes: {listed}"
    return f"valid attributes: {listed}"


class Checker:
    """Reads the attributes of one object and collects what is wrong with them."""

    __slots__ = ("context", "errors", "failed", "kind", "source")

    def __init__(self, source: Source, kind: str, context: str, errors: list[ConfigError]):
        self.source = source
        self.kind = kind  # the attribute path prefix: "job", "pipeline"
        self.context = context  # 'job "unit"'
        self.errors = errors
        self.failed = False

    def error(self, where: Where, attribute: str, message: str, hint: str = "") -> None:
        self.failed = True
        self.errors.append(ConfigError(where, message, attribute, self.context, "error", hint))

    def warning(self, where: Where, attribute: str, message: str, hint: str = "") -> None:
        self.errors.append(ConfigError(where, message, attribute, self.context, "warning", hint))

    def path(self, attribute: str) -> str:
        return f"{self.kind}.{attribute}" if attribute else self.kind

    # --- shapes -------------------------------------------------------------

    def is_mapping(self, value: Any, where: Where, attribute: str) -> bool:
        if isinstance(value, ConfigMap):
            return True
        self.error(where, attribute, f"must be a mapping, not {describe(value)}")
        return False

    def keys(
        self,
        mapping: ConfigMap,
        valid: Collection[str],
        prefix: str,
        *,
        unsupported: Collection[str] = (),
    ) -> None:
        """Every key of `mapping` must be in `valid`; `unsupported` ones are
        Zuul's but not read here, and say so."""
        for key in mapping:
            if key in valid:
                continue
            attribute = f"{prefix}.{key}" if prefix else str(key)
            if not isinstance(key, str):
                self.error(
                    mapping.at(key),
                    attribute,
                    f"an attribute name must be a string, not {describe(key)}",
                )
            elif key in unsupported:
                self.error(
                    mapping.at(key),
                    attribute,
                    "is a Zuul attribute that lockgate does not support",
                    "remove it",
                )
            else:
                self.error(
                    mapping.at(key), attribute, "unknown attribute", unknown_hint(key, valid)
                )

    def required(self, mapping: ConfigMap, key: str, prefix: str) -> bool:
        if key in mapping:
            return True
        attribute = f"{prefix}.{key}" if prefix else key
        self.error(mapping.where, attribute, "is required", f"add {key}:")
        return False

    # --- scalars --------------------------------------------------------------

    def string(self, mapping: ConfigMap, key: str, attribute: str) -> str | None:
        value = mapping[key]
        if isinstance(value, str):
            return value
        self.error(mapping.at(key), attribute, f"must be a string, not {describe(value)}")
        return None

    def boolean(self, mapping: ConfigMap, key: str, attribute: str) -> bool | None:
        value = mapping[key]
        if isinstance(value, bool):
            return value
        self.error(mapping.at(key), attribute, f"must be true or false, not {describe(value)}")
        return None

    def integer(
        self, mapping: ConfigMap, key: str, attribute: str, *, minimum: int | None = None
    ) -> int | None:
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(mapping.at(key), attribute, f"must be an integer, not {describe(value)}")
            return None
        if minimum is not None and value < minimum:
            self.error(mapping.at(key), attribute, f"must be at least {minimum}, not {value}")
            return None
        return value

    def choice(
        self, mapping: ConfigMap, key: str, attribute: str, choices: Collection[str]
    ) -> str | None:
        value = mapping[key]
        if isinstance(value, str) and value in choices:
            return value
        shown = repr(value) if isinstance(value, str) else describe(value)
        near = closest(value, choices) if isinstance(value, str) else ""
        self.error(
            mapping.at(key),
            attribute,
            f"{shown} is not one of {', '.join(choices)}",
            f"did you mean {near!r}?" if near else "",
        )
        return None

    def regex(self, value: str, where: Where, attribute: str) -> str | None:
        """The pattern, checked with `re`; None (and an error) when it is not one."""
        try:
            re.compile(value)
        except re.error as error:
            rewritten = _repeated_anchors(value)
            if rewritten != value:
                try:
                    re.compile(rewritten)
                except re.error:
                    pass
                else:
                    return rewritten
            self.error(where, attribute, f"invalid regular expression {value!r}: {error}")
            return None
        return value

    # --- lists ------------------------------------------------------------------

    def items(self, value: Any, where: Where) -> list[tuple[Any, Where]]:
        """A value that may be one item or a list of them, with each item's position."""
        if isinstance(value, ConfigList):
            return [(item, value.at(index)) for index, item in enumerate(value)]
        return [(value, where)]

    def strings(
        self, mapping: ConfigMap, key: str, attribute: str, *, regex: bool = False
    ) -> tuple[str, ...] | None:
        """A string or a list of strings (Zuul's shorthand for a one-item list)."""
        return self.string_list(mapping[key], mapping.at(key), attribute, regex=regex)

    def string_list(
        self, value: Any, where: Where, attribute: str, *, regex: bool = False
    ) -> tuple[str, ...] | None:
        if value is None:
            self.error(where, attribute, "must be a string or a list of strings, not empty (null)")
            return None
        result: list[str] = []
        ok = True
        kind = "regex (a string or a mapping with regex and negate)" if regex else "string"
        for item, item_where in self.items(value, where):
            if regex and isinstance(item, ConfigMap):
                pattern = self.regex_mapping(item, attribute)
                if pattern is None:
                    ok = False
                else:
                    result.append(pattern)
            elif not isinstance(item, str):
                self.error(
                    item_where,
                    attribute,
                    f"must be a {kind} or a list of them; found {describe(item)}",
                )
                ok = False
            elif regex:
                pattern = self.regex(item, item_where, attribute)
                if pattern is None:
                    ok = False
                else:
                    result.append(pattern)
            else:
                result.append(item)
        return tuple(result) if ok else None

    def regex_mapping(self, item: ConfigMap, attribute: str) -> str | None:
        """`{regex: ..., negate: true}`, Zuul's long form of a regex."""
        self.keys(item, ("regex", "negate"), attribute)
        if not self.required(item, "regex", attribute):
            return None
        pattern = self.string(item, "regex", f"{attribute}.regex")
        negate = self.boolean(item, "negate", f"{attribute}.negate") if "negate" in item else False
        if pattern is None or negate is None:
            return None
        checked = self.regex(pattern, item.at("regex"), attribute)
        if checked is None:
            return None
        return NegatedRegex(checked) if negate else checked

    def untag(self, value: Any, attribute: str) -> Any:
        """A Zuul tag where this attribute cannot take one is an error."""
        if isinstance(value, Tagged):
            self.error(
                value.where,
                attribute,
                f"the {value.tag} tag is not allowed here",
                "!override and !inherit apply to a job's list and mapping attributes",
            )
            return value.value
        return value


def _repeated_anchors(pattern: str) -> str:
    """Zuul compiles regexes with RE2, which accepts a repeated anchor such as
    `^*/stable` (the anchor may match zero times); Python's `re` calls that
    "nothing to repeat". Writing the anchor as a group, `(?:^)*`, means
    the same to both, so configuration that Zuul loads loads here too."""
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # a ] right after [ or [^ is a literal, not the end of the class
            opening = "[^" if pattern[index + 1 : index + 2] == "^" else "["
            index += len(opening)
            if pattern[index : index + 1] == "]":
                opening += "]"
                index += 1
            out.append(opening)
            continue
        elif char in "^$" and pattern[index + 1 : index + 2] in ("*", "+", "?", "{"):
            out.append(f"(?:{char})")
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


def check_vars(checker: Checker, mapping: ConfigMap, key: str, attribute: str) -> ConfigMap | None:
    """`vars`-like attributes: a mapping whose names Ansible can use."""
    value = mapping[key]
    if not checker.is_mapping(value, mapping.at(key), attribute):
        return None
    for name in value:
        if not isinstance(name, str):
            checker.error(
                value.at(name), attribute, f"a variable name must be a string, not {describe(name)}"
            )
        elif name in ("zuul", "nodepool", "unsafe_vars"):
            checker.error(
                value.at(name),
                f"{attribute}.{name}",
                f"the variable name {name!r} is reserved by Zuul",
                "choose another name",
            )
    return value  # type: ignore[no-any-return]
