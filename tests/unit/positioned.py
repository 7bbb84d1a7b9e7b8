"""Positioned config values for tests of the pure config core.

`values()` builds `ConfigMap` / `ConfigList` from plain Python with a made-up
line for every key and item (the order they are written in), so that a test
can say which line an error must name. `from_yaml()` reads real YAML text
through the YAML adapter, with its real lines and columns.
"""

from __future__ import annotations

from typing import Any

from lockgate.adapters.config_yaml import read_yaml
from lockgate.core.config.source import ConfigList, ConfigMap, Mark, Source, Where

SOURCE = Source("", "", "etc/main.yaml", True)


class _Lines:
    def __init__(self) -> None:
        self.line = 0

    def next(self) -> Mark:
        self.line += 1
        return Mark(self.line, 1)


def values(data: Any, source: Source = SOURCE) -> Any:
    """`data` as positioned values; each key and list item gets the next line."""
    return _convert(data, source, _Lines(), Mark(1, 1))


def _convert(data: Any, source: Source, lines: _Lines, mark: Mark) -> Any:
    if isinstance(data, dict):
        result = ConfigMap(Where(source, mark))
        for key, value in data.items():
            key_mark = lines.next()
            result.key_marks[key] = key_mark
            result[key] = _convert(value, source, lines, key_mark)
        return result
    if isinstance(data, list):
        items = ConfigList(Where(source, mark))
        for value in data:
            item_mark = lines.next()
            items.item_marks.append(item_mark)
            items.append(_convert(value, source, lines, item_mark))
        return items
    return data


def from_yaml(text: str, source: Source = SOURCE) -> list[Any]:
    """`text` read by the site's YAML adapter, as the one-document list
    `parse_tenants` takes; a syntax error fails the test."""
    value, error = read_yaml(text, source)
    assert error is None, error.render()
    return [value]
