"""OpenStack's real configuration loads: every file, every object, no errors
except the connections a lockgate site does not have."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from lockgate.adapters.git.config_files import read_config_in
from lockgate.services.config_check import DEFAULT_CONNECTIONS, load_folder

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "zuul-configs"
# The config project of the corpus; the others are untrusted, as in OpenStack's tenants.
TRUSTED = {"openstack-project-config"}
KINDS = {
    "pipeline": "pipelines",
    "job": "jobs",
    "project": "projects",
    "project-template": "templates",
    "nodeset": "nodesets",
    "secret": "secrets",
    "semaphore": "semaphores",
    "queue": "queues",
}

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the Zuul corpus is not next to the repository ({CORPUS})"
)


def _repositories() -> list[Path]:
    # read while collecting: without the corpus there is nothing to parametrize
    if not CORPUS.is_dir():
        return []
    return sorted(path for path in CORPUS.iterdir() if path.is_dir())


class _PlainLoader(yaml.CSafeLoader):
    """The baseline: PyYAML's own reading, Zuul's tags as plain values."""


for _tag in ("!override", "!inherit", "!encrypted/pkcs1-oaep"):
    _PlainLoader.add_constructor(
        _tag,
        lambda loader, node: (
            loader.construct_sequence(node)
            if isinstance(node, yaml.SequenceNode)
            else loader.construct_scalar(node)
        ),
    )


def _plain_counts(folder: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _path, data in read_config_in(folder):
        for item in yaml.load(data, Loader=_PlainLoader) or []:
            (kind,) = item
            counts[KINDS[kind]] += 1
    return counts


def test_the_corpus_has_every_repository_it_lists() -> None:
    names = [path.name for path in _repositories()]
    assert names == [
        "devstack",
        "nova",
        "openstack-project-config",
        "openstack-zuul-jobs",
        "tempest",
    ]


@pytest.mark.parametrize("folder", _repositories(), ids=lambda path: path.name)
def test_every_object_of_a_repository_loads_without_errors(folder: Path) -> None:
    parsed = load_folder(
        folder,
        project=folder.name,
        branch="master",
        trusted=folder.name in TRUSTED,
        connections=DEFAULT_CONNECTIONS,
    )
    problems = [e.render() for e in parsed.errors if not e.message.startswith("unknown connection")]
    assert problems == []
    counts = Counter({attribute: len(getattr(parsed, attribute)) for attribute in KINDS.values()})
    assert +counts == _plain_counts(folder)


def test_the_connections_the_site_lacks_are_the_warnings() -> None:
    parsed = load_folder(
        CORPUS / "openstack-project-config",
        project="openstack/project-config",
        branch="master",
        trusted=True,
        connections=DEFAULT_CONNECTIONS,
    )
    lacking = Counter(e.attribute.split(".")[-1] for e in parsed.errors)
    assert all(e.severity == "warning" for e in parsed.errors)
    assert set(lacking) == {"github", "smtp"}
    with_them = load_folder(
        CORPUS / "openstack-project-config",
        project="openstack/project-config",
        branch="master",
        trusted=True,
        connections={**DEFAULT_CONNECTIONS, "github": "github", "smtp": "smtp"},
    )
    assert with_them.errors == []
    check = next(p for p in with_them.pipelines if p.name == "check")
    assert {t.connection for t in check.triggers} == {"gerrit", "github"}


def test_the_corpus_details_that_need_zuuls_long_forms() -> None:
    parsed = load_folder(
        CORPUS / "tempest",
        project="openstack/tempest",
        branch="master",
        trusted=False,
        connections=DEFAULT_CONNECTIONS,
    )
    full = next(j for j in parsed.jobs if j.name == "tempest-full-py3")
    from lockgate.core.config.objects import NegatedRegex

    assert full.branches is not None and isinstance(full.branches[0], NegatedRegex)
    nova = load_folder(
        CORPUS / "nova", project="openstack/nova", branch="master", trusted=False, connections={}
    )
    aliased = [j for j in nova.jobs if j.irrelevant_files]
    assert len({j.irrelevant_files for j in aliased}) < len(aliased)  # anchors shared by aliases


def test_the_files_that_are_not_configuration_objects_still_read_as_yaml() -> None:
    from lockgate.adapters.config_yaml import load_yaml
    from lockgate.core.config.source import Source

    for name in ("zuul/main.yaml", "zuul/site-variables.yaml"):
        path = CORPUS / "openstack-project-config" / name
        value = load_yaml(
            path.read_bytes(), Source("openstack/project-config", "master", name, True)
        )
        assert value, name
