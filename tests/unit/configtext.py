"""Configuration written as YAML text in a test, read as the loader reads it."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from lockgate.adapters.config_yaml import load_yaml
from lockgate.core.config.objects import ParsedConfig
from lockgate.core.config.parse import parse_config
from lockgate.core.config.source import ConfigError, Source

CONNECTIONS = {"gerrit": "gerrit", "timer": "timer", "zuul": "zuul", "smtp": "smtp"}


def source(trusted: bool = True) -> Source:
    return Source("org/project", "master", "zuul.d/test.yaml", trusted)


def parse(
    text: str, *, trusted: bool = True, connections: Mapping[str, str] = CONNECTIONS
) -> ParsedConfig:
    where = source(trusted)
    return parse_config(load_yaml(textwrap.dedent(text), where), where, connections=connections)


def errors(text: str, **options: object) -> list[ConfigError]:
    return [e for e in parse(text, **options).errors if e.severity == "error"]  # type: ignore[arg-type]


def only_error(text: str, **options: object) -> ConfigError:
    found = errors(text, **options)
    assert len(found) == 1, [e.render() for e in found]
    return found[0]
