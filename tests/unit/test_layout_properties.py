"""Random job hierarchies: loading never raises, and every job that is
frozen inherits, through its ancestry, from a base job."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockgate.core.config.frozen import JobGraph
from lockgate.core.config.layout import build_layout
from lockgate.core.config.objects import JobDependency, ParsedConfig
from lockgate.core.gating.layout_view import ConfigProblem
from tests.unit.layout_defs import (
    CONFIG,
    at,
    change,
    job,
    loaded,
    project,
    standard_config,
    tenant,
    use,
)

PROJECTS = ("app", "lib")
NAMES = tuple(f"j{i}" for i in range(8))
# each project defines its own jobs (another project's variants would be errors, and dropped)
OWN = {CONFIG: NAMES[:4], "app": NAMES[4:6], "lib": NAMES[6:]}
BRANCHES = ("master", "stable")


@st.composite
def variants(draw: st.DrawFn, project: str, line_base: int) -> list:  # type: ignore[type-arg]
    out = [job(name, at(project, line_base - 50 + i)) for i, name in enumerate(OWN[project])]
    for i in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(OWN[project] if draw(st.integers(0, 4)) else NAMES))
        parent = draw(st.sampled_from((None, None, "base", "missing", *NAMES, *NAMES)))
        attributes = {
            "parent": parent,
            "branches": draw(st.sampled_from((None, None, None, ("^master$",), ("^stable",)))),
            "final": draw(st.sampled_from((None, None, None, None, True, False))),
            "abstract": draw(st.sampled_from((None, None, None, None, True))),
            "protected": draw(st.sampled_from((None, None, None, None, True))),
            "is_base": project == CONFIG and draw(st.integers(0, 9)) == 0,
            "timeout": draw(st.sampled_from((None, 60, 100000))),
            "vars": draw(st.sampled_from((None, {"k": i}, {"n": {"x": i}}))),
            "pre_run": draw(st.sampled_from((None, f"{project}/{i}.yaml"))),
        }
        if draw(st.booleans()):
            attributes["dependencies"] = tuple(
                JobDependency(d, soft=draw(st.booleans()))
                for d in draw(st.lists(st.sampled_from(NAMES), max_size=2))
            )
        if attributes["is_base"]:
            attributes["parent"] = None
        out.append(job(name, at(project, line_base + i), **attributes))
    return out


@st.composite
def tenants(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    t = tenant(*PROJECTS)
    config = standard_config(jobs=draw(variants(CONFIG, 100)))
    configs = [loaded(t, CONFIG, config)]
    for name in PROJECTS:
        for branch in draw(
            st.lists(st.sampled_from(BRANCHES), unique=True, min_size=1, max_size=2)
        ):
            uses = [
                use(n, at(name, 200)) for n in draw(st.lists(st.sampled_from(NAMES), max_size=6))
            ]
            parsed = ParsedConfig(
                jobs=draw(variants(name, 1)),
                projects=[project("", at(name, 300, branch=branch), check=uses)],
            )
            configs.append(loaded(t, name, parsed, branch))
    return t, configs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tenants())
def test_random_hierarchies_load_and_freeze_to_a_base_job(case: tuple) -> None:  # type: ignore[type-arg]
    t, configs = case
    layout = build_layout(t, configs)
    base_jobs = {name for name, defs in layout.jobs.items() if any(d.is_base for d in defs)}
    for name in PROJECTS:
        for branch in BRANCHES:
            graph = layout.job_graph("check", change(name, branch))
            assert isinstance(graph, (JobGraph, ConfigProblem))
            if isinstance(graph, ConfigProblem):
                assert graph.errors
                continue
            for frozen in graph.jobs:
                chain = (frozen.name, *frozen.ancestry)
                assert chain[-1] in base_jobs, chain
                assert len(set(chain)) == len(chain)
                assert frozen.timeout is not None and frozen.timeout <= t.max_job_timeout
                # the graph is ordered: every dependency comes first
                position = graph.names().index(frozen.name)
                assert all(graph.names().index(d.name) < position for d in frozen.dependencies)


def _summary(layout, t) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    graphs = []
    for name in PROJECTS:
        for branch in BRANCHES:
            graphs.append(layout.job_graph("check", change(name, branch)))
    return (
        sorted(e.render() for e in layout.errors),
        {name: [d.where for d in defs] for name, defs in layout.jobs.items()},
        graphs,
        {p: layout.errors_for(p) for p in (CONFIG, *PROJECTS)},
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tenants(), st.data())
def test_a_speculative_layout_equals_a_layout_built_from_scratch(
    case: tuple, data: st.DataObject
) -> None:  # type: ignore[type-arg]
    t, configs = case
    layout = build_layout(t, configs)
    position = data.draw(st.integers(0, len(configs) - 1))
    target = configs[position]
    name = target.project.name
    proposed = ParsedConfig(
        jobs=data.draw(variants(name, 1 if name != CONFIG else 100)),
        projects=[
            project(
                "",
                at(name, 400, branch=target.branch),
                check=[use(n, at(name, 401)) for n in NAMES[:3]],
            )
        ],
    )
    if name == CONFIG:
        proposed = standard_config(jobs=proposed.jobs)
    speculative = layout.with_config({(name, target.branch): proposed}, "speculative")
    rebuilt = build_layout(
        t, [*configs[:position], loaded(t, name, proposed, target.branch), *configs[position + 1 :]]
    )
    assert _summary(speculative, t) == _summary(rebuilt, t)
