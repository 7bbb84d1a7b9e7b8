"""Definitions built in code for the layout tests: a tenant with a config
project and untrusted projects, and short constructors that give every
object a position in a named file, as the parser would."""

from __future__ import annotations

from typing import Any

from lockgate.core.config.layout import Layout, LoadedConfig, build_layout
from lockgate.core.config.objects import (
    JobDef,
    JobDependency,
    JobUse,
    ParsedConfig,
    PipelineDef,
    PlaybookRef,
    ProjectDef,
    ProjectPipelineDef,
    ProjectTemplateDef,
)
from lockgate.core.config.source import Mark, Source, Where
from lockgate.core.config.tenants import TenantDef, TenantProject
from lockgate.core.gating.changes import Change, Ref

CONFIG = "project-config"


def at(project: str, line: int, path: str = "zuul.yaml", branch: str = "master") -> Where:
    return Where(Source(project, branch, path, project == CONFIG), Mark(line, 1))


def tenant(*untrusted: str, **settings: Any) -> TenantDef:
    return TenantDef(
        "example",
        config_projects=(TenantProject(CONFIG, "gerrit", True),),
        untrusted_projects=tuple(TenantProject(name, "gerrit", False) for name in untrusted),
        **settings,
    )


def job(name: str, where: Where, **attributes: Any) -> JobDef:
    for key in ("pre_run", "run", "post_run", "cleanup_run"):
        value = attributes.get(key)
        if isinstance(value, str):
            attributes[key] = (PlaybookRef(value, where=where),)
        elif isinstance(value, tuple):
            attributes[key] = tuple(
                PlaybookRef(v, where=where) if isinstance(v, str) else v for v in value
            )
    deps = attributes.get("dependencies")
    if deps is not None:
        attributes["dependencies"] = tuple(
            JobDependency(d, where=where) if isinstance(d, str) else d for d in deps
        )
    for key in (
        "branches",
        "files",
        "irrelevant_files",
        "tags",
        "semaphores",
        "provides",
        "requires",
    ):
        if isinstance(attributes.get(key), str):
            attributes[key] = (attributes[key],)
    return JobDef(name, where=where, **attributes)


def use(name: str, where: Where, **variant: Any) -> JobUse:
    return JobUse(name, job(name, where, **variant) if variant else None, where=where)


def pipelines(where: Where, **sections: Any) -> dict[str, ProjectPipelineDef]:
    """check=[...] -> {"check": ProjectPipelineDef(...)}; a use may be a name."""
    out = {}
    for pipeline, uses in sections.items():
        out[pipeline] = ProjectPipelineDef(
            jobs=tuple(use(u, where) if isinstance(u, str) else u for u in uses), where=where
        )
    return out


def project(name: str, where: Where, templates: tuple[str, ...] = (), **kw: Any) -> ProjectDef:
    queue = kw.pop("queue", None)
    merge_mode = kw.pop("merge_mode", None)
    project_vars = kw.pop("vars", {})
    return ProjectDef(
        name,
        where=where,
        templates=templates,
        queue=queue,
        merge_mode=merge_mode,
        vars=project_vars,
        pipelines=pipelines(where, **kw),
    )


def template(name: str, where: Where, queue: str | None = None, **kw: Any) -> ProjectTemplateDef:
    return ProjectTemplateDef(name, where=where, queue=queue, pipelines=pipelines(where, **kw))


def standard_config(**extra: Any) -> ParsedConfig:
    """The config project: check, gate and post pipelines and a base job."""
    where = at(CONFIG, 1)
    parsed = ParsedConfig(
        pipelines=[
            PipelineDef("check", "independent", where=at(CONFIG, 1)),
            PipelineDef("gate", "dependent", where=at(CONFIG, 10)),
            PipelineDef("post", "independent", where=at(CONFIG, 20), post_review=True),
        ],
        jobs=[
            job(
                "base",
                at(CONFIG, 30),
                is_base=True,
                pre_run="playbooks/base/pre.yaml",
                post_run="playbooks/base/post.yaml",
                run="playbooks/base/run.yaml",
                vars={"site": "example", "nested": {"a": 1, "b": 1}},
            )
        ],
    )
    for key, values in extra.items():
        getattr(parsed, key).extend(values)
    del where
    return parsed


def loaded(t: TenantDef, name: str, parsed: ParsedConfig, branch: str = "master") -> LoadedConfig:
    tenant_project = t.project(name)
    assert tenant_project is not None, name
    return LoadedConfig(tenant_project, branch, parsed)


def layout_of(
    t: TenantDef, *configs: tuple[str, ParsedConfig] | tuple[str, ParsedConfig, str]
) -> Layout:
    loaded_configs = [loaded(t, CONFIG, standard_config())]
    for entry in configs:
        if entry[0] == CONFIG:
            loaded_configs[0] = loaded(t, CONFIG, entry[1])
            continue
        loaded_configs.append(loaded(t, *entry))
    return build_layout(t, loaded_configs)


def change(
    project: str, branch: str = "master", files: tuple[str, ...] = ("src/app.py",)
) -> Change:
    return Change(
        project=project,
        branch=branch,
        number=1,
        patchset=1,
        commit="a" * 40,
        ref="refs/changes/01/1/1",
        url="http://review.example/c/1",
        owner="alice",
        subject="Change",
        message="Change\n",
        files=files,
    )


def ref(project: str, name: str = "refs/heads/master") -> Ref:
    return Ref(project, name, "0" * 40, "b" * 40)
