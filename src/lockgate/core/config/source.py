"""Where configuration comes from, and the positioned values it is read into.

YAML is parsed by an adapter into `ConfigMap` / `ConfigList` (a dict and a list
that remember where each key and item stood) and plain scalars, so that the
pure core can validate it and name file, line, column and attribute in every
error without knowing about YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Mark(NamedTuple):
    """A position in a file, 1-based as editors show it."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Source:
    """A configuration file: which project and branch it was read from, and trust."""

    project: str
    branch: str
    path: str
    trusted: bool

    def __str__(self) -> str:
        if not self.project:
            return self.path
        return f"{self.project}/{self.path}@{self.branch}"


@dataclass(frozen=True, slots=True)
class Where:
    source: Source
    mark: Mark

    def __str__(self) -> str:
        return f"{self.source}:{self.mark.line}:{self.mark.column}"


NOWHERE = Where(Source("", "", "<built-in>", True), Mark(0, 0))


class ConfigMap(dict[str, Any]):
    """A YAML mapping that keeps its own position and the position of each key."""

    __slots__ = ("key_marks", "where")

    def __init__(self, where: Where, key_marks: dict[str, Mark] | None = None) -> None:
        super().__init__()
        self.where = where
        self.key_marks: dict[str, Mark] = key_marks if key_marks is not None else {}

    def at(self, key: str) -> Where:
        """The position of `key`, or of the mapping when the key is absent."""
        mark = self.key_marks.get(key)
        return self.where if mark is None else Where(self.where.source, mark)


class ConfigList(list[Any]):
    """A YAML sequence that keeps its own position and the position of each item."""

    __slots__ = ("item_marks", "where")

    def __init__(self, where: Where, item_marks: list[Mark] | None = None) -> None:
        super().__init__()
        self.where = where
        self.item_marks: list[Mark] = item_marks if item_marks is not None else []

    def at(self, index: int) -> Where:
        if 0 <= index < len(self.item_marks):
            return Where(self.where.source, self.item_marks[index])
        return self.where


@dataclass(frozen=True, slots=True)
class Tagged:
    """A value carrying a YAML tag that means something to Zuul:
    `!override`, `!inherit` or `!encrypted/pkcs1-oaep`."""

    tag: str
    value: Any
    where: Where


@dataclass(frozen=True, slots=True)
class ConfigError:
    """One problem in configuration, with where it is and how to fix it.

    `attribute` is the dotted path inside the object (`job.parent`,
    `pipeline.trigger.gerrit.event`); `context` names the object
    (`job "tempest-full"`).
    """

    where: Where
    message: str
    attribute: str = ""
    context: str = ""
    severity: str = "error"  # "error" stops the object from loading; "warning" does not
    hint: str = field(default="", compare=False)

    def render(self) -> str:
        parts = [str(self.where), " "]
        if self.context:
            parts.append(f"{self.context}: ")
        if self.attribute:
            parts.append(f"{self.attribute}: ")
        parts.append(self.message)
        if self.hint:
            parts.append(f" ({self.hint})")
        return "".join(parts)
