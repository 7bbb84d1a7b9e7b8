"""Loading OpenStack's Zuul configuration, against libyaml reading the same files.

    .venv/bin/python -m benchmarks.config_load [--corpus PATH] [--runs 7]

`load_corpus` is the whole path from files on disk to definitions: find each
repository's configuration files (zuul.yaml, zuul.d/, ...), read them, parse
the YAML with positions and validate every object into `ParsedConfig`. The
baseline in the same run reads the same files and parses them with
`yaml.load(text, Loader=CSafeLoader)` (a subclass that reads Zuul's three
tags as plain values, since CSafeLoader alone rejects them).

"with layout" goes on to what the scheduler does with the definitions: the
five repositories parsed as the projects of the real `openstack` tenant of
the corpus's `zuul/main.yaml` (1,280 projects; parsed once, outside the
timing) and combined by `build_layout`.

Times are the median of `--runs` runs in this process. Memory is measured
in a fresh child process for each side: the peak RSS growth of one load
(`ru_maxrss` after it minus the RSS before it, after imports), then the
tracemalloc peak of a second load (Python allocations only).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

from lockgate.adapters.config_yaml import read_yaml
from lockgate.adapters.git.config_files import read_config_in
from lockgate.core.config.layout import Layout, LoadedConfig, build_layout
from lockgate.core.config.objects import ParsedConfig
from lockgate.core.config.source import Source
from lockgate.core.config.tenant_parse import parse_tenants
from lockgate.core.config.tenants import TenantDef
from lockgate.services.config_check import DEFAULT_CONNECTIONS, parse_config_files

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "zuul-configs"
TRUSTED = {"openstack-project-config"}


def load_corpus(root: Path) -> dict[str, ParsedConfig]:
    """Each repository folder under `root`, read and validated."""
    loaded: dict[str, ParsedConfig] = {}
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        loaded[folder.name] = parse_config_files(
            read_config_in(folder),
            project=folder.name,
            branch="master",
            trusted=folder.name in TRUSTED,
            connections=DEFAULT_CONNECTIONS,
        )
    return loaded


def openstack_tenant(root: Path) -> TenantDef:
    """The `openstack` tenant of the corpus's own main.yaml."""
    name = "zuul/main.yaml"
    source = Source("openstack/project-config", "master", name, True)
    documents, error = read_yaml((root / "openstack-project-config" / name).read_bytes(), source)
    assert error is None, error
    tenants, errors = parse_tenants([documents])
    assert not errors, errors[:3]
    return next(t for t in tenants if t.name == "openstack")


def _project_name(folder: str) -> str:
    return (
        "openstack/project-config"
        if folder == "openstack-project-config"
        else f"openstack/{folder}"
    )


def load_layout(root: Path, tenant: TenantDef) -> Layout:
    """Each repository parsed as its project of `tenant`, then the layout."""
    folders = {_project_name(path.name): path for path in root.iterdir() if path.is_dir()}
    loaded = []
    for project in tenant.projects:
        folder = folders.get(project.name)
        if folder is None:
            continue
        parsed = parse_config_files(
            read_config_in(folder),
            project=project.name,
            branch="master",
            trusted=project.trusted,
            connections=DEFAULT_CONNECTIONS,
        )
        loaded.append(LoadedConfig(project, "master", parsed))
    return build_layout(tenant, loaded)


class _BaselineLoader(yaml.CSafeLoader):
    pass


for _tag in ("!override", "!inherit", "!encrypted/pkcs1-oaep"):
    _BaselineLoader.add_constructor(
        _tag,
        lambda loader, node: (
            loader.construct_sequence(node)
            if isinstance(node, yaml.SequenceNode)
            else loader.construct_scalar(node)
        ),
    )


def baseline(root: Path) -> list[object]:
    """The same files, read and given to libyaml with nothing else."""
    documents = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        for _path, data in read_config_in(folder):
            documents.append(yaml.load(data, Loader=_BaselineLoader))
    return documents


def _median_seconds(run: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _current_rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() // 1024


def _child(which: str, root: Path) -> None:
    run: Callable[[Path], object]
    if which == "layout":
        # main.yaml's tenants are parsed inside too: they are part of the load

        def run(path: Path) -> object:
            return load_layout(path, openstack_tenant(path))

    else:
        run = load_corpus if which == "load" else baseline
    before = _current_rss_kb()
    run(root)
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    tracemalloc.start()
    run(root)
    _current, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"rss_growth_kb": growth, "traced_peak_bytes": peak}))


def _memory_mb(which: str, root: Path) -> tuple[float, float]:
    """(peak RSS growth, tracemalloc peak) of one load in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.config_load", "--child", which, "--corpus", str(root)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(out)
    return figures["rss_growth_kb"] / 1024, figures["traced_peak_bytes"] / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", choices=("load", "layout", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.corpus)
        return
    loaded = load_corpus(args.corpus)
    files = sum(len(read_config_in(path)) for path in args.corpus.iterdir() if path.is_dir())
    lines = sum(
        data.count(b"\n")
        for path in args.corpus.iterdir()
        if path.is_dir()
        for _name, data in read_config_in(path)
    )
    totals = {
        kind: sum(len(getattr(parsed, kind)) for parsed in loaded.values())
        for kind in (
            "pipelines",
            "jobs",
            "projects",
            "templates",
            "nodesets",
            "secrets",
            "semaphores",
        )
    }
    problems = [e for parsed in loaded.values() for e in parsed.errors]
    errors = sum(1 for e in problems if e.severity == "error")
    print(
        f"corpus: {files} files, {lines} lines; " + ", ".join(f"{v} {k}" for k, v in totals.items())
    )
    print(f"        {errors} errors, {len(problems) - errors} warnings")
    ours = _median_seconds(lambda: load_corpus(args.corpus), args.runs)
    base = _median_seconds(lambda: baseline(args.corpus), args.runs)
    print(f"load (read + YAML with positions + validation): {ours:.3f} s (median of {args.runs})")
    print(f"baseline (read + yaml.load CSafeLoader):        {base:.3f} s")
    print(f"ratio load / baseline:                          {ours / base:.2f}")
    tenant = openstack_tenant(args.corpus)
    tenant_s = _median_seconds(lambda: openstack_tenant(args.corpus), args.runs)
    print(f"main.yaml's tenants (parsed once, not in the figure below): {tenant_s:.3f} s")
    layout = load_layout(args.corpus, tenant)
    with_layout = _median_seconds(lambda: load_layout(args.corpus, tenant), args.runs)
    layout_errors = sum(1 for e in layout.errors if e.severity == "error")
    print(
        f"with layout (load as the openstack tenant's projects + build_layout): "
        f"{with_layout:.3f} s, {with_layout / base:.2f}x baseline (goal <= 0.3 s); "
        f"{len(tenant.projects)} projects, {len(layout.jobs)} jobs, "
        f"{layout_errors} errors (root causes)"
    )
    load_rss, load_traced = _memory_mb("load", args.corpus)
    layout_rss, layout_traced = _memory_mb("layout", args.corpus)
    base_rss, base_traced = _memory_mb("baseline", args.corpus)
    print(
        f"peak RSS growth (child process): load {load_rss:.1f} MB, with layout "
        f"{layout_rss:.1f} MB (main.yaml included; goal <= 60 MB), baseline {base_rss:.1f} MB"
    )
    print(
        f"tracemalloc peak (child process): load {load_traced:.1f} MB, with layout "
        f"{layout_traced:.1f} MB, baseline {base_traced:.1f} MB"
    )


if __name__ == "__main__":
    main()
