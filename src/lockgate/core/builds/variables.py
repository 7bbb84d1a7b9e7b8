"""A build's Ansible inventory and its `zuul` variables, as data.

Precedence follows Zuul (zuul.md 1.4), in Ansible's own terms: what the
job's ancestors returned with zuul_return, with the job's `vars` over it, are
the inventory's `all` vars (lowest), `group-vars` the groups',
`host-vars` the hosts' (which also carry the node's connection and
`nodepool` facts), and `extra-vars` with `zuul` on top are passed as extra
variables, which Ansible ranks above everything a playbook can set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.core.builds.workspace import ProjectCheckout, item_project
from lockgate.core.config.freeze import deep_merge
from lockgate.core.gating.actions import StartBuild
from lockgate.core.gating.changes import Change
from lockgate.core.nodes.model import Node


class InventoryError(ValueError):
    """The nodeset does not fit the nodes handed out (a launcher bug or a
    nodeset naming a node twice)."""


@dataclass(frozen=True, slots=True)
class BuildPaths:
    work_root: str  # the build's work folder on the executor
    src_root: str  # <work_root>/src
    log_root: str  # <work_root>/logs


@dataclass(frozen=True, slots=True)
class CheckedOut:
    """A workspace project once cloned: the branch it is on and its commit."""

    checkout: ProjectCheckout
    branch: str
    commit: str


def inventory(build: StartBuild, nodes: Sequence[Node]) -> dict[str, Any]:
    """The YAML inventory, in the nodeset's order: node `names` map to the
    launcher's nodes one label at a time. `localhost` stays Ansible's implicit
    host, outside `all`, as in Zuul."""
    job = build.job
    names = [(name, nd.label) for nd in job.nodeset.nodes for name in nd.names]
    if len(names) != len(nodes):
        raise InventoryError(
            f"nodeset {job.nodeset.name or '(inline)'} of job {job.name} names {len(names)} "
            f"nodes but {len(nodes)} were handed out"
        )
    hosts: dict[str, Any] = {}
    for (name, label), node in zip(names, nodes, strict=True):
        if name in hosts:
            raise InventoryError(f"nodeset of job {job.name} names node {name!r} twice")
        host: dict[str, Any] = dict(node.connection)
        host["nodepool"] = {
            "label": label,
            "provider": node.provider,
            "pool": node.pool,
            "id": node.id,
            "interface_ip": node.connection.get("ansible_host", ""),
        }
        host.update(job.host_vars.get(name, {}))
        hosts[name] = host
    children: dict[str, Any] = {}
    for group in job.nodeset.groups:
        children[group.name] = {
            "hosts": {n: None for n in group.nodes},
            "vars": dict(job.group_vars.get(group.name, {})),
        }
    # what the job's ancestors returned ranks below the job's own vars, as Zuul's
    all_group: dict[str, Any] = {"hosts": hosts, "vars": deep_merge(build.parent_data, job.vars)}
    if children:
        all_group["children"] = children
    return {"all": all_group}


def zuul_variables(
    build: StartBuild,
    *,
    host: str,
    paths: BuildPaths,
    projects: Sequence[CheckedOut],
) -> dict[str, Any]:
    """The `zuul` dict of zuul.md 1.11 for this build."""
    project, branch = item_project(build)
    job = build.job
    own = build.changes[-1] if build.changes else None
    by_name = {p.checkout.project: p for p in projects}
    result: dict[str, Any] = {
        "tenant": build.tenant,
        "pipeline": build.pipeline,
        "job": job.name,
        "build": build.build,
        "buildset": build.buildset,
        "voting": job.voting,
        "attempts": build.attempt,
        "timeout": job.timeout,
        "post_timeout": job.post_timeout,
        "jobtags": list(job.tags),
        "project": {
            "name": project,
            "short_name": project.rsplit("/", 1)[-1],
            "canonical_hostname": host,
            "canonical_name": f"{host}/{project}",
            "src_dir": by_name[project].checkout.src_dir if project in by_name else "",
        },
        "branch": branch,
        "override_checkout": job.override_checkout,
        "items": [_item(c, host) for c in build.changes],
        "projects": {
            f"{host}/{p.checkout.project}": {
                "name": p.checkout.project,
                "short_name": p.checkout.project.rsplit("/", 1)[-1],
                "canonical_hostname": host,
                "canonical_name": f"{host}/{p.checkout.project}",
                "src_dir": p.checkout.src_dir,
                "checkout": p.branch,
                "commit": p.commit,
                "required": p.checkout.required,
            }
            for p in projects
        },
        "child_jobs": [],
        "artifacts": [dict(a) for a in build.artifacts],
        "executor": {
            "src_root": paths.src_root,
            "log_root": paths.log_root,
            "work_root": paths.work_root,
        },
    }
    if own is not None:
        result.update(
            change=str(own.number),
            patchset=str(own.patchset),
            change_url=own.url,
            message=own.message,
            topic=own.topic or None,
            ref=own.ref,
        )
    elif build.ref is not None:
        ref = build.ref
        result.update(ref=ref.ref, oldrev=ref.oldrev, newrev=ref.newrev, change_url=ref.url)
        if ref.is_tag:
            result["tag"] = ref.ref.removeprefix("refs/tags/")
    return result


def _item(change: Change, host: str) -> dict[str, Any]:
    return {
        "project": {
            "name": change.project,
            "short_name": change.project.rsplit("/", 1)[-1],
            "canonical_hostname": host,
            "canonical_name": f"{host}/{change.project}",
            "src_dir": f"src/{host}/{change.project}",
        },
        "branch": change.branch,
        "change": str(change.number),
        "patchset": str(change.patchset),
        "change_url": change.url,
        "change_message": change.message,
        "topic": change.topic or None,
    }


def extra_variables(build: StartBuild, zuul: Mapping[str, Any]) -> dict[str, Any]:
    """What goes to `ansible-playbook -e @file`: the job's extra-vars with `zuul`
    over them (a job cannot override the `zuul` variables)."""
    result = dict(build.job.extra_vars)
    result["zuul"] = dict(zuul)
    return result
