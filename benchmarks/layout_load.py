"""What a large tenant's layout costs: building it, freezing job graphs, and a
speculative layout.

    .venv/bin/python -m benchmarks.layout_load [--projects 1500] [--jobs 5000]
        [--templates 50] [--runs 3]

Generates, as definitions in code (YAML parsing is timed by the config
loader's own benchmark), an OpenStack-shaped tenant: a config project with
the pipelines, a base job and nodesets; a shared-jobs project with abstract
parents, templates and the jobs the templates name; and `--projects`
untrusted projects, each with its own jobs (branch variants included) and a
stanza using two templates and inline variants, up to `--jobs` jobs in all.
It times:

- `build_layout` of the whole tenant;
- one `check` job graph frozen per project (a fresh layout, so nothing is cached);
- `with_config` replacing one project's configuration, and that project's graph.

The baseline in the same run is one pass that files every job definition
under its name in a dict: the least any loader has to do.

Then the same tenant is written as YAML files (`tenant_yaml.py`: one
`.zuul.yaml` per project, the config and shared-jobs projects in `zuul.d/`)
and the whole load is timed from disk, as the scheduler does it: read and
parse every project's files (`read_config_in` + `parse_config_files`),
`build_layout`, and one check graph per project. Its baseline is reading
the same files and giving them to `yaml.load(..., CSafeLoader)`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

from benchmarks.tenant_yaml import write_tenant
from lockgate.adapters.git.config_files import read_config_in
from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.layout import Layout, LoadedConfig, build_layout
from lockgate.core.config.objects import (
    JobDef,
    JobDependency,
    JobUse,
    NodeDef,
    NodesetDef,
    ParsedConfig,
    PipelineDef,
    PlaybookRef,
    ProjectDef,
    ProjectPipelineDef,
    ProjectTemplateDef,
    RequiredProject,
)
from lockgate.core.config.source import Mark, Source, Where
from lockgate.core.config.tenants import TenantDef, TenantProject
from lockgate.core.gating.changes import Change
from lockgate.services.config_check import DEFAULT_CONNECTIONS, parse_config_files

CONFIG = "project-config"
SHARED = "shared-jobs"


def _where(project: str, line: int, path: str = "zuul.d/jobs.yaml") -> Where:
    return Where(Source(project, "master", path, project == CONFIG), Mark(line, 3))


def _use(name: str, where: Where, variant: JobDef | None = None) -> JobUse:
    return JobUse(name, variant, where)


def generate(projects: int, jobs: int, templates: int) -> tuple[TenantDef, list[LoadedConfig]]:
    names = [f"org/project-{i:04d}" for i in range(projects)]
    tenant = TenantDef(
        "generated",
        config_projects=(TenantProject(CONFIG, "gerrit", True),),
        untrusted_projects=tuple(TenantProject(n, "gerrit", False) for n in (SHARED, *names)),
    )
    w = _where(CONFIG, 1, "zuul.d/pipelines.yaml")
    config = ParsedConfig(
        pipelines=[
            PipelineDef("check", "independent", where=w),
            PipelineDef("gate", "dependent", where=w, post_review=True),
            PipelineDef("post", "independent", where=w, post_review=True),
        ],
        nodesets=[
            NodesetDef(
                f"nodes-{i}",
                nodes=(NodeDef((f"node-{i}",), f"label-{i}"),),
                where=_where(CONFIG, 10 + i),
            )
            for i in range(20)
        ],
        jobs=[
            JobDef(
                "base",
                where=_where(CONFIG, 100),
                is_base=True,
                pre_run=(PlaybookRef("playbooks/base/pre.yaml"),),
                post_run=(PlaybookRef("playbooks/base/post.yaml"),),
                run=(PlaybookRef("playbooks/base/run.yaml"),),
                nodeset="nodes-0",
                timeout=1800,
                vars={"mirror": "mirror.example", "tox": {"envlist": "py3"}},
            )
        ],
    )
    # Shared jobs: a few abstract families, then the jobs templates name.
    shared_jobs: list[JobDef] = []
    families = 25
    for f in range(families):
        shared_jobs.append(
            JobDef(
                f"family-{f}",
                where=_where(SHARED, 10 + f),
                abstract=True,
                pre_run=(PlaybookRef(f"playbooks/family-{f}/pre.yaml"),),
                vars={"family": f, "tox": {"family": f}},
                required_projects=(RequiredProject(SHARED),),
            )
        )
    per_template = 6
    shared_count = templates * per_template
    for j in range(shared_count):
        shared_jobs.append(
            JobDef(
                f"shared-{j}",
                where=_where(SHARED, 100 + j),
                parent=f"family-{j % families}",
                run=(PlaybookRef(f"playbooks/shared-{j}.yaml"),),
                nodeset=f"nodes-{j % 20}",
                irrelevant_files=(r"^doc/.*$", r"^.*\.rst$"),
                vars={"job": j},
            )
        )
        if j % 10 == 0:
            shared_jobs.append(
                JobDef(
                    f"shared-{j}",
                    where=_where(SHARED, 5000 + j),
                    branches=("^stable/.*",),
                    voting=False,
                )
            )
    shared_templates = [
        ProjectTemplateDef(
            f"template-{t}",
            where=_where(SHARED, 9000 + t, "zuul.d/templates.yaml"),
            pipelines={
                "check": ProjectPipelineDef(
                    jobs=tuple(
                        _use(f"shared-{t * per_template + k}", _where(SHARED, 9000 + t))
                        for k in range(per_template)
                    )
                ),
                "gate": ProjectPipelineDef(
                    jobs=tuple(
                        _use(f"shared-{t * per_template + k}", _where(SHARED, 9000 + t))
                        for k in range(3)
                    )
                ),
            },
        )
        for t in range(templates)
    ]
    configs = [
        LoadedConfig(tenant.config_projects[0], "master", config),
        LoadedConfig(
            tenant.untrusted_projects[0],
            "master",
            ParsedConfig(jobs=shared_jobs, templates=shared_templates),
        ),
    ]
    own_total = max(jobs - 1 - families - shared_count, 0)
    for p, name in enumerate(names):
        count = own_total // projects + (1 if p < own_total % projects else 0)
        own: list[JobDef] = []
        for k in range(count):
            job_name = f"{name.rsplit('/', 1)[1]}-job-{k}"
            own.append(
                JobDef(
                    job_name,
                    where=_where(name, 10 + k * 10, ".zuul.yaml"),
                    parent=f"shared-{(p + k) % shared_count}" if k else f"family-{p % families}",
                    run=(PlaybookRef(f"playbooks/{k}.yaml"),),
                    vars={"project": p, "tox": {"k": k}},
                    dependencies=(JobDependency(f"{name.rsplit('/', 1)[1]}-job-0"),) if k else None,
                )
            )
        if own:
            own.append(JobDef(own[-1].name, where=_where(name, 900, ".zuul.yaml"), timeout=600))
        stanza_where = _where(name, 1000, ".zuul.yaml")
        uses = [_use(j.name, stanza_where) for j in own if j.where.mark.line != 900]
        uses.append(
            _use(
                f"shared-{p % shared_count}",
                stanza_where,
                JobDef(
                    f"shared-{p % shared_count}",
                    where=stanza_where,
                    voting=False,
                    vars={"inline": True},
                ),
            )
        )
        stanza = ProjectDef(
            "",
            where=stanza_where,
            templates=(f"template-{p % templates}", f"template-{(p * 7 + 3) % templates}"),
            queue="integrated" if p % 3 == 0 else None,
            pipelines={
                "check": ProjectPipelineDef(jobs=tuple(uses)),
                "gate": ProjectPipelineDef(jobs=tuple(uses[:2])),
            },
        )
        configs.append(
            LoadedConfig(
                tenant.untrusted_projects[p + 1],
                "master",
                ParsedConfig(jobs=own, projects=[stanza]),
            )
        )
    return tenant, configs


def _change(project: str) -> Change:
    return Change(
        project=project,
        branch="master",
        number=1,
        patchset=1,
        commit="c" * 40,
        ref="refs/changes/01/1/1",
        url="",
        owner="bench",
        subject="bench",
        message="bench\n",
        files=("src/module.py",),
    )


def _median(run: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1500)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--templates", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    tenant, configs = generate(args.projects, args.jobs, args.templates)
    job_count = sum(len(c.parsed.jobs) for c in configs)
    names = [p.name for p in tenant.untrusted_projects[1:]]

    def baseline() -> None:
        by_name: dict[str, list[JobDef]] = {}
        for loaded in configs:
            for definition in loaded.parsed.jobs:
                by_name.setdefault(definition.name, []).append(definition)

    def freeze_all(layout: Layout) -> int:
        frozen = 0
        for name in names:
            graph = layout.job_graph("check", _change(name))
            assert isinstance(graph, JobGraph), graph
            frozen += len(graph)
        return frozen

    base_s = _median(baseline, args.runs)
    build_s = _median(lambda: build_layout(tenant, configs), args.runs)
    layout = build_layout(tenant, configs)
    assert not layout.errors, layout.errors[:3]
    frozen = freeze_all(build_layout(tenant, configs))
    freeze_s = _median(lambda: freeze_all(build_layout(tenant, configs)), args.runs) - build_s

    target = configs[len(configs) // 2]
    replacement = {(target.project.name, target.branch): target.parsed}
    spec_s = _median(lambda: layout.with_config(replacement, "speculative"), args.runs)
    speculative = layout.with_config(replacement, "speculative")
    graph_s = _median(
        lambda: layout.with_config(replacement, "speculative").job_graph(
            "check", _change(target.project.name)
        ),
        args.runs,
    )
    assert isinstance(speculative.job_graph("check", _change(target.project.name)), JobGraph)

    tracemalloc.start()
    build_layout(tenant, configs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    rows = [
        ("baseline (file every job definition by name)", f"{base_s * 1000:8.1f} ms"),
        ("build_layout", f"{build_s * 1000:8.1f} ms  ({build_s / base_s:6.1f}x baseline)"),
        ("peak memory of build_layout (tracemalloc)", f"{peak / 1e6:8.1f} MB"),
        (
            "freeze one check graph per project",
            f"{freeze_s * 1000:8.1f} ms  ({len(names)} graphs, {frozen} jobs, "
            f"{freeze_s / len(names) * 1e6:.0f} us per graph)",
        ),
        (
            "with_config replacing one project",
            f"{spec_s * 1000:8.1f} ms  ({spec_s / build_s:6.1%} of a full build)",
        ),
        ("  ... and freezing that project's graph", f"{graph_s * 1000:8.1f} ms"),
        ("build + every graph", f"{build_s + freeze_s:8.2f} s   (goal with parsing: <= 5 s)"),
    ]
    print(
        f"tenant: {len(tenant.projects)} projects, {job_count} job definitions "
        f"({len(layout.jobs)} jobs), {args.templates} templates"
    )
    for label, figure in rows:
        print(f"{label + ':':47}{figure}")

    with tempfile.TemporaryDirectory() as tmp:
        folders = write_tenant(configs, Path(tmp))
        _from_files(
            tenant,
            configs=configs,
            folders=folders,
            job_count=len(layout.jobs),
            freeze_all=freeze_all,
            runs=args.runs,
        )


def _from_files(
    tenant: TenantDef,
    *,
    configs: list[LoadedConfig],
    folders: Mapping[str, Path],
    job_count: int,
    freeze_all: Callable[[Layout], int],
    runs: int,
) -> None:
    files = [data for folder in folders.values() for _path, data in read_config_in(folder)]

    def parse_all() -> list[LoadedConfig]:
        out = []
        for loaded in configs:
            project = loaded.project
            parsed = parse_config_files(
                read_config_in(folders[project.name]),
                project=project.name,
                branch="master",
                trusted=project.trusted,
                connections=DEFAULT_CONNECTIONS,
            )
            out.append(LoadedConfig(project, "master", parsed))
        return out

    def yaml_baseline() -> None:
        for folder in folders.values():
            for _path, data in read_config_in(folder):
                yaml.load(data, Loader=yaml.CSafeLoader)

    def whole() -> int:
        return freeze_all(build_layout(tenant, parse_all()))

    parsed = parse_all()
    problems = [e.render() for c in parsed for e in c.parsed.errors]
    assert not problems, problems[:3]
    layout = build_layout(tenant, parsed)
    assert not layout.errors, layout.errors[:3]
    assert len(layout.jobs) == job_count, (len(layout.jobs), job_count)

    base_s = _median(yaml_baseline, runs)
    parse_s = _median(parse_all, runs)
    whole_s = _median(whole, runs)
    size = sum(len(data) for data in files)
    lines = sum(data.count(b"\n") for data in files)
    print(f"as YAML files: {len(files)} files, {size / 1e6:.1f} MB, {lines} lines")
    rows = [
        ("baseline (read + yaml.load CSafeLoader)", f"{base_s:8.2f} s"),
        (
            "read + parse + validate every file",
            f"{parse_s:8.2f} s   ({parse_s / base_s:.2f}x baseline)",
        ),
        (
            "parse + build_layout + every check graph",
            f"{whole_s:8.2f} s   ({whole_s / base_s:.2f}x baseline; goal <= 5 s)",
        ),
    ]
    for label, figure in rows:
        print(f"{label + ':':47}{figure}")


if __name__ == "__main__":
    main()
