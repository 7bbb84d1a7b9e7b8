"""`[nodepool]` in lockgate.toml: its defaults, what it accepts and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.adapters.site import Site, SiteError
from lockgate.services.launcher import pools_of
from lockgate.services.node_ports import PoolInfo


def site_with(tmp_path: Path, text: str) -> Site:
    site = Site(tmp_path)
    site.settings_file.write_text('[server]\nurl = "http://review.example/"\n' + text)
    return site


def test_an_embedded_site_gets_one_local_provider_serving_label_local(tmp_path: Path) -> None:
    nodepool = site_with(tmp_path, "").load().nodepool
    assert [(label.name, label.min_ready, label.network) for label in nodepool.labels] == [
        ("local", 0, False)
    ]
    [provider] = nodepool.providers
    assert (provider.name, provider.driver) == ("local", "local")
    assert pools_of(provider) == [PoolInfo("main", frozenset({"local"}), 4, 3, 120.0)]
    assert nodepool.min_ready == {}


def test_labels_and_pools_take_nodepools_spelling(tmp_path: Path) -> None:
    site = site_with(
        tmp_path,
        '[[nodepool.labels]]\nname = "small"\nmin-ready = 2\n'
        '[[nodepool.labels]]\nname = "net"\nnetwork = true\n'
        '[[nodepool.providers]]\nname = "hosts"\ndriver = "static"\n'
        '[[nodepool.providers.pools]]\nname = "rack"\nmax-servers = 9\nlaunch-retries = 5\n'
        'boot-timeout = 30\nlabels = ["small", "net"]\n',
    )
    nodepool = site.load().nodepool
    assert nodepool.min_ready == {"small": 2}
    [provider] = nodepool.providers
    assert provider.driver == "static"
    assert pools_of(provider) == [PoolInfo("rack", frozenset({"small", "net"}), 9, 5, 30.0)]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '[[nodepool.labels]]\nname = "small"\n[[nodepool.providers]]\nname = "p"\n'
            '[[nodepool.providers.pools]]\nlabels = ["gpu"]\n',
            "serves gpu, which [[nodepool.labels]] does not define",
        ),
        ('[[nodepool.providers]]\nname = "p"\ndriver = "cloud"\n', "nodepool.providers.0.driver"),
        (
            '[[nodepool.providers]]\nname = "p"\n[[nodepool.providers.pools]]\nmax-servers = 0\n',
            "max-servers",
        ),
        ('[[nodepool.labels]]\nname = "a b"\n', "nodepool.labels.0.name"),
        ('[[nodepool.labels]]\nname = "x"\n[[nodepool.labels]]\nname = "x"\n', "given twice: x"),
        ('[[nodepool.labels]]\nname = "x"\nmin-ready = -1\n', "min-ready"),
    ],
)
def test_bad_nodepool_settings_are_refused_naming_the_key(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(SiteError, match=r"lockgate\.toml") as refused:
        site_with(tmp_path, text).load()
    assert problem in str(refused.value)


def test_a_providers_driver_options_reach_its_driver_and_bad_ones_are_named(
    tmp_path: Path,
) -> None:
    from lockgate.services.node_providers import build_provider

    site = site_with(
        tmp_path,
        '[[nodepool.providers]]\nname = "local"\n'
        '[nodepool.providers.options]\nnode-folder = "elsewhere"\nbogus = 1\n',
    )
    nodepool = site.load().nodepool
    [provider] = nodepool.providers
    assert provider.options == {"node-folder": "elsewhere", "bogus": 1}
    with pytest.raises(ValueError, match="local provider 'local': unknown option bogus"):
        build_provider(provider, nodepool.labels, run_folder=tmp_path, options=provider.options)


def test_the_executor_section_has_defaults_and_refuses_nonsense(tmp_path: Path) -> None:
    executor = site_with(tmp_path, "").load().executor
    assert (executor.enabled, executor.workers, executor.node_wait, executor.keep_jobs) == (
        True,
        4,
        None,
        False,
    )
    with pytest.raises(SiteError, match="workers"):
        site_with(tmp_path, "[executor]\nworkers = 0\n").load()
