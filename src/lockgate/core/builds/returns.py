"""What a job returns with `zuul_return`, as Zuul reads it: the data, its
artifacts, and what the jobs that depend on it get from it.

A playbook calls `zuul_return: {data: {...}}` any number of times; each call
is merged into the build's results (`merge_returned`, Zuul's `merge_data`):
maps are merged key by key, a later scalar or list replaces an earlier one,
except `zuul.artifacts` and `zuul.warnings`, whose lists are appended.

`zuul.artifacts` is a list of `{name, url, metadata}`; a relative `url` is
resolved against the build's log URL when the build ends (`resolve_artifacts`).
A job that depends on others gets, below its own `vars`, the data its
ancestors returned (without their `zuul` key), merged in job-graph order, and
their artifacts in `zuul.artifacts`, each naming the job and change it came
from (`parent_returns`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.core.config.freeze import deep_merge

# zuul.<key> lists that several calls append to, rather than replace
APPENDED = ("artifacts", "warnings")


class ReturnedDataError(ValueError):
    """`zuul_return` data in a shape Zuul would not accept; the message says what to fix."""


def merge_returned(base: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """`new` merged over `base`, neither changed."""
    appended = {
        key: [*_zuul_list(base, key), *_zuul_list(new, key)]
        for key in APPENDED
        if _zuul_list(base, key) or _zuul_list(new, key)
    }
    merged = deep_merge(base, new)
    if appended:
        zuul = dict(merged.get("zuul") or {})
        zuul.update(appended)
        merged["zuul"] = zuul
    return merged


def _zuul_list(data: Mapping[str, Any], key: str) -> list[Any]:
    zuul = data.get("zuul")
    value = zuul.get(key) if isinstance(zuul, Mapping) else None
    return list(value) if isinstance(value, list) else []


def check_returned(data: object) -> dict[str, Any]:
    """`data` if it is what `zuul_return` may return, else a ReturnedDataError."""
    if not isinstance(data, Mapping):
        raise ReturnedDataError(
            f"zuul_return needs `data` to be a mapping, not {type(data).__name__}"
        )
    zuul = data.get("zuul")
    if zuul is None:
        return dict(data)
    if not isinstance(zuul, Mapping):
        raise ReturnedDataError(f"zuul_return: data.zuul must be a mapping, not {_kind(zuul)}")
    artifacts = zuul.get("artifacts")
    if artifacts is None:
        return dict(data)
    if not isinstance(artifacts, list):
        raise ReturnedDataError(
            "zuul_return: data.zuul.artifacts must be a list of "
            f"{{name, url, metadata}}, not {_kind(artifacts)}"
        )
    for n, artifact in enumerate(artifacts, 1):
        where = f"zuul_return: artifact {n} of data.zuul.artifacts"
        if not isinstance(artifact, Mapping):
            raise ReturnedDataError(f"{where} must be a mapping with name and url")
        for key in ("name", "url"):
            if not isinstance(artifact.get(key), str) or not artifact[key]:
                raise ReturnedDataError(f"{where} needs a {key} (a non-empty string)")
        metadata = artifact.get("metadata", {})
        if not isinstance(metadata, Mapping):
            raise ReturnedDataError(f"{where}: metadata must be a mapping, not {_kind(metadata)}")
        unknown = sorted(set(artifact) - {"name", "url", "metadata"})
        if unknown:
            raise ReturnedDataError(
                f"{where} has unknown keys {', '.join(unknown)}; an artifact has "
                "name, url and metadata"
            )
    return dict(data)


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    url: str  # absolute: relative ones are resolved against the build's log URL
    metadata: Mapping[str, Any]


def artifacts_of(data: Mapping[str, Any]) -> list[Artifact]:
    """The artifacts of checked data (`check_returned`), in the order returned."""
    return [
        Artifact(a["name"], a["url"], dict(a.get("metadata") or {}))
        for a in _zuul_list(data, "artifacts")
        if isinstance(a, Mapping)
    ]


def resolve_artifacts(data: Mapping[str, Any], log_url: str) -> dict[str, Any]:
    """`data` with each artifact's relative URL joined to `log_url`, as Zuul
    does (an absolute URL stays as it is)."""
    found = _zuul_list(data, "artifacts")
    if not found or not log_url:
        return dict(data)
    base = log_url if log_url.endswith("/") else log_url + "/"
    resolved = [
        {**a, "url": urllib.parse.urljoin(base, a["url"])} if isinstance(a, Mapping) else a
        for a in found
    ]
    return {**data, "zuul": {**data["zuul"], "artifacts": resolved}}


@dataclass(frozen=True, slots=True)
class ParentBuild:
    """A build of an ancestor job, for what it passes on."""

    job: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ParentReturns:
    variables: dict[str, Any]  # goes below the job's own vars
    artifacts: tuple[dict[str, Any], ...]  # zuul.artifacts


def parent_returns(parents: Sequence[ParentBuild], origin: Mapping[str, Any]) -> ParentReturns:
    """What a job gets from the successful builds of its ancestors, given in
    job-graph order; `origin` (project, change, patchset, ...) is added to each
    artifact, as Zuul names where an artifact came from."""
    variables: dict[str, Any] = {}
    artifacts: list[dict[str, Any]] = []
    for parent in parents:
        variables = deep_merge(variables, {k: v for k, v in parent.data.items() if k != "zuul"})
        for artifact in artifacts_of(parent.data):
            artifacts.append(
                {
                    **origin,
                    "job": parent.job,
                    "name": artifact.name,
                    "url": artifact.url,
                    "metadata": dict(artifact.metadata),
                }
            )
    return ParentReturns(variables, tuple(artifacts))
