"""Read and validate Zuul configuration files offline: `lockgate config check`.

`parse_config_files` is the one path from file bytes to `ParsedConfig`
(YAML with positions, then validation); `check_paths` applies it to files
and repository folders named on the command line. The layout's reference
checks (parents, nodesets, pipelines named by projects) come after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from lockgate.adapters.config_yaml import read_yaml
from lockgate.adapters.git.config_files import read_config_in
from lockgate.core.config.files import CONFIG_ROOTS
from lockgate.core.config.objects import ParsedConfig
from lockgate.core.config.parse import parse_config
from lockgate.core.config.source import ConfigError, Mark, Source, Where

# The connections a lockgate site always has: its review server answers to
# the name OpenStack's configuration uses, and the timer and zuul drivers
# are built in.
DEFAULT_CONNECTIONS: Mapping[str, str] = {"gerrit": "gerrit", "timer": "timer", "zuul": "zuul"}


def parse_config_files(
    files: Iterable[tuple[str, bytes | str]],
    *,
    project: str,
    branch: str,
    trusted: bool,
    connections: Mapping[str, str],
) -> ParsedConfig:
    """The objects of `files` ((path, text) in load order) of one project and branch."""
    parsed = ParsedConfig()
    for path, text in files:
        source = Source(project, branch, path, trusted)
        documents, error = read_yaml(text, source)
        if error is not None:
            parsed.errors.append(error)
            continue
        parsed.extend(parse_config(documents, source, connections=connections))
    return parsed


def load_folder(
    folder: Path,
    *,
    project: str,
    branch: str,
    trusted: bool,
    connections: Mapping[str, str],
    extra_config_paths: Sequence[str] = (),
) -> ParsedConfig:
    """The configuration of a repository checked out in `folder`."""
    return parse_config_files(
        read_config_in(folder, extra_config_paths),
        project=project,
        branch=branch,
        trusted=trusted,
        connections=connections,
    )


def check_paths(
    paths: Sequence[Path], *, trusted: bool, connections: Mapping[str, str]
) -> list[ConfigError]:
    """Every error and warning in the configuration at `paths`: files, or
    folders holding a repository (whose `zuul.yaml`, `zuul.d/`, ... are read)."""
    errors: list[ConfigError] = []
    for path in paths:
        if path.is_dir():
            files = [(str(path / name), data) for name, data in read_config_in(path)]
            if not files:
                errors.append(
                    ConfigError(
                        Where(Source("", "", str(path), trusted), Mark(0, 0)),
                        "holds no Zuul configuration",
                        hint="looked for " + ", ".join(CONFIG_ROOTS),
                    )
                )
                continue
        elif path.is_file():
            files = [(str(path), path.read_bytes())]
        else:
            errors.append(
                ConfigError(
                    Where(Source("", "", str(path), trusted), Mark(0, 0)),
                    "no such file or folder",
                )
            )
            continue
        parsed = parse_config_files(
            files, project="", branch="", trusted=trusted, connections=connections
        )
        errors.extend(parsed.errors)
    return errors
