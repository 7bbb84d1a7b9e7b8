"""Positioned config values for tests of the pure config core.

`values()` builds `ConfigMap` / `ConfigList` from plain Python with a made-up
line for every key and item (the order they are written in), so that a test
can say which line an error must name. `from_yaml()` reads real YAML text with
PyYAML's composer, keeping its line and column, for tests on real files.
"""

from __future__ import annotations

from typing import Any

import yaml

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
    """Each YAML document of `text` as positioned values."""
    loader = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
    return [_node(node, source, loader) for node in yaml.compose_all(text, Loader=loader)]


def _at(node: yaml.Node, source: Source) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _node(node: yaml.Node, source: Source, loader: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = ConfigMap(Where(source, _at(node, source)))
        for key_node, value_node in node.value:
            key = _node(key_node, source, loader)
            result.key_marks[key] = _at(key_node, source)
            result[key] = _node(value_node, source, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = ConfigList(Where(source, _at(node, source)))
        for child in node.value:
            items.item_marks.append(_at(child, source))
            items.append(_node(child, source, loader))
        return items
    return loader(" ").construct_object(node)
