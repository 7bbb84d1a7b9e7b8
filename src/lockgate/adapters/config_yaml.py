"""YAML text into the positioned values of `core.config.source`.

libyaml parses; the constructors here build `ConfigMap`, `ConfigList`, plain
scalars and `Tagged` values in one pass, with a `Where` per mapping and
list and a `Mark` per key and item. Scalars stay plain Python values (no
object per scalar) because a config load constructs tens of thousands of
them and the cost per node decides the load time.

Zuul reads configuration with a safe loader that rejects duplicate keys;
so does this one. Merge keys (`<<: *anchor`) fill in the keys the mapping
does not set itself.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from lockgate.core.config.source import (
    ConfigError,
    ConfigList,
    ConfigMap,
    Mark,
    Source,
    Tagged,
    Where,
)

# The tags that mean something to Zuul; any other `!tag` is an error.
ZUUL_TAGS = ("!override", "!inherit", "!encrypted/pkcs1-oaep")

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_LIMIT = 100_000
_STR_TAG = "tag:yaml.org,2002:str"


class YamlSyntaxError(Exception):
    """The text is not YAML that Zuul would read; `error` says where and why."""

    def __init__(self, error: ConfigError) -> None:
        super().__init__(error.render())
        self.error = error


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


def _mark(node: Node) -> Mark:
    start = node.start_mark
    return Mark(start.line + 1, start.column + 1)


class _Loader(yaml.CSafeLoader):
    source: Source

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # The composer asks for the tag of every node; configuration repeats
        # the same plain scalars (attribute names, job names) thousands of
        # times, so the regex search of the implicit resolvers is cached.
        if kind is ScalarNode and implicit[0]:
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                if len(_PLAIN_TAGS) < _PLAIN_TAGS_LIMIT:
                    _PLAIN_TAGS[value] = tag
            return tag
        if kind is ScalarNode:
            return _STR_TAG
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # Scalars never take part in recursion and are not worth caching by
        # node: build them directly and keep the bookkeeping for collections.
        if node.__class__ is ScalarNode:
            tag = node.tag
            if tag == _STR_TAG:
                return node.value
            constructor = self.yaml_constructors.get(tag)
            if constructor is not None:
                return constructor(self, node)
        return super().construct_object(node, deep)


def _construct_map(loader: _Loader, node: MappingNode) -> ConfigMap:
    source = loader.source
    start = node.start_mark
    key_marks: dict[Any, Mark] = {}
    result = ConfigMap(Where(source, Mark(start.line + 1, start.column + 1)), key_marks)
    merged: list[ConfigMap] = []
    construct = loader.construct_object
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            merged.extend(_merge_sources(loader, node, value_node))
            continue
        key = construct(key_node)
        try:
            seen = key in key_marks
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                start,
                "a key must be a plain value, not a list or a mapping",
                key_node.start_mark,
            ) from None
        if seen:
            first = key_marks[key]
            raise _DuplicateKey(
                "while reading a mapping",
                start,
                f"duplicate key {key!r} (first at line {first.line}, column {first.column})",
                key_node.start_mark,
            )
        key_mark = key_node.start_mark
        key_marks[key] = Mark(key_mark.line + 1, key_mark.column + 1)
        result[key] = construct(value_node)
    for source_map in merged:
        for key, value in source_map.items():
            if key not in key_marks:
                key_marks[key] = source_map.key_marks[key]
                result[key] = value
    return result


def _merge_sources(loader: _Loader, node: MappingNode, value_node: Node) -> list[ConfigMap]:
    nodes = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
    sources: list[ConfigMap] = []
    for each in nodes:
        value = loader.construct_object(each)
        if not isinstance(value, ConfigMap):
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                "a merge key (<<) takes a mapping or a list of mappings",
                each.start_mark,
            )
        sources.append(value)
    return sources


def _construct_list(loader: _Loader, node: SequenceNode) -> ConfigList:
    start = node.start_mark
    item_marks: list[Mark] = []
    result = ConfigList(Where(loader.source, Mark(start.line + 1, start.column + 1)), item_marks)
    construct = loader.construct_object
    for item in node.value:
        item_mark = item.start_mark
        item_marks.append(Mark(item_mark.line + 1, item_mark.column + 1))
        result.append(construct(item))
    return result


def _construct_tagged(loader: _Loader, node: Node) -> Tagged:
    value: Any
    if isinstance(node, MappingNode):
        value = _construct_map(loader, node)
    elif isinstance(node, SequenceNode):
        value = _construct_list(loader, node)
    elif isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
    else:
        raise TypeError(node)
    return Tagged(node.tag, value, Where(loader.source, _mark(node)))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)
for _tag in ZUUL_TAGS:
    _Loader.add_constructor(_tag, _construct_tagged)
# Sets and ordered maps are not part of Zuul's language; read them as what
# they are written as, so that the validator names the attribute instead.
_Loader.add_constructor("tag:yaml.org,2002:omap", _construct_list)
_Loader.add_constructor("tag:yaml.org,2002:set", _construct_map)


def load_yaml(text: str | bytes, source: Source) -> Any:
    """The single document of `text` as positioned values; None for an empty file.

    Raises `YamlSyntaxError` for text that is not YAML, several documents,
    duplicate keys, unknown tags and aliases that refer to themselves.
    """
    loader = _Loader(text)
    loader.source = source
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        raise YamlSyntaxError(_config_error(error, source)) from None
    except yaml.YAMLError as error:  # reader errors: bad bytes, control characters
        raise YamlSyntaxError(_reader_error(error, text, source)) from None
    finally:
        loader.dispose()


def read_yaml(text: str | bytes, source: Source) -> tuple[Any, ConfigError | None]:
    """`load_yaml` that answers with the error instead of raising it."""
    try:
        return load_yaml(text, source), None
    except YamlSyntaxError as error:
        return None, error.error


def _config_error(error: yaml.MarkedYAMLError, source: Source) -> ConfigError:
    mark = error.problem_mark or error.context_mark
    position = Mark(mark.line + 1, mark.column + 1) if mark is not None else Mark(1, 1)
    problem = error.problem or "is not valid YAML"
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1].strip("'")
        return ConfigError(
            Where(source, position),
            f"unknown YAML tag {tag}",
            hint="Zuul knows " + ", ".join(ZUUL_TAGS),
        )
    message = problem
    if isinstance(error, _DuplicateKey):
        return ConfigError(Where(source, position), message, hint="Zuul rejects duplicate keys")
    if error.context:
        message = f"{error.context}: {problem}"
        context = error.context_mark
        if context is not None and (context.line, context.column) != (
            position.line - 1,
            position.column - 1,
        ):
            message += f" (started at line {context.line + 1}, column {context.column + 1})"
    if "\t" in problem or "cannot start any token" in problem:
        return ConfigError(
            Where(source, position),
            f"YAML syntax error: {message}",
            hint="indent with spaces; YAML does not allow tabs there",
        )
    return ConfigError(Where(source, position), f"YAML syntax error: {message}")


def _reader_error(error: yaml.YAMLError, text: str | bytes, source: Source) -> ConfigError:
    position = Mark(1, 1)
    offset = getattr(error, "position", None)
    if isinstance(offset, int):
        before = text[:offset]
        newline: Any = b"\n" if isinstance(before, bytes) else "\n"
        line = before.count(newline) + 1
        position = Mark(line, offset - (before.rfind(newline) + 1) + 1)
    character = getattr(error, "character", None)
    reason = getattr(error, "reason", None) or str(error)
    if isinstance(character, int):
        message = f"character #x{character:04x}: {reason}"
    elif isinstance(character, bytes):
        message = f"byte #x{character[0]:02x}: {reason}"
    else:
        message = reason
    return ConfigError(Where(source, position), f"cannot read the file: {message}")
