"""What a site needs before the gating scheduler can run: the CI account it
reports as, the trusted config project with the site's pipelines and base job,
and the tenants file naming that project.

`ensure_gating` creates whichever of the three is missing and never touches
one that exists, so it runs on `lockgate init` and again each time a site is
opened: a site made before gating existed gets them on its next start, and an
operator's edits are never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lockgate.adapters.git.repos import ZERO_SHA, RepoStore
from lockgate.adapters.site import Settings, Site
from lockgate.core.review.model import Person
from lockgate.core.review.refs import branch_ref
from lockgate.services.accounts import SERVICE_USERS, AccountService
from lockgate.services.clock import Clock
from lockgate.services.errors import Conflict
from lockgate.services.projects import ProjectService

CONFIG_PROJECT = "project-config"
CONFIG_BRANCH = "master"

# OpenStack's recheck comment: an optional "Patch Set N:" header and vote
# summary words (as Gerrit prefixes review comments), then "recheck".
RECHECK_COMMENT = r"(?i)^(Patch Set [0-9]+:)?( [\w\\+-]*)*(\n\n)?\s*recheck"


def pipelines_yaml(connection: str) -> str:
    """OpenStack's pipelines, in Zuul syntax, for the connection `connection`."""
    c = connection
    return f"""\
# The pipelines of this site, in Zuul's configuration language.
# Changes to this file take effect once they merge.

- pipeline:
    name: check
    description: |
      Newly uploaded patch sets enter this pipeline to receive an
      initial +/-1 Verified vote. Leave a comment starting with
      "recheck" to run it again.
    manager: independent
    precedence: low
    require:
      {c}:
        open: true
        current-patchset: true
    trigger:
      {c}:
        - event: patchset-created
        - event: change-restored
        - event: comment-added
          comment: '{RECHECK_COMMENT}'
    success-message: Build succeeded (check pipeline).
    failure-message: Build failed (check pipeline).
    success:
      {c}:
        Verified: 1
    failure:
      {c}:
        Verified: -1

- pipeline:
    name: gate
    description: |
      Changes approved by core reviewers (Code-Review +2 and
      Workflow +1) are enqueued in order in this pipeline, tested
      together with the changes ahead of them, and merged if they pass.
    manager: dependent
    precedence: high
    post-review: true
    require:
      {c}:
        open: true
        current-patchset: true
        approval:
          - Code-Review: 2
          - Workflow: 1
        # OpenStack also requires a passing check first ("clean check");
        # to do the same, add here:
        #   - Verified: [1, 2]
        #     username: <the CI account>
    trigger:
      {c}:
        - event: comment-added
          approval:
            - Workflow: 1
        # A +2 given while Workflow +1 already stands also enqueues.
        - event: comment-added
          approval:
            - Code-Review: 2
    success-message: Build succeeded (gate pipeline).
    failure-message: Build failed (gate pipeline).
    start:
      {c}:
        Verified: 0
    success:
      {c}:
        Verified: 2
        submit: true
    failure:
      {c}:
        Verified: -2

- pipeline:
    name: post
    description: |
      Jobs that run after each change merges, on the new branch tip.
    manager: independent
    precedence: low
    post-review: true
    trigger:
      {c}:
        - event: ref-updated
          ref: ^refs/heads/.*$
          ignore-deletes: true

- pipeline:
    name: periodic
    description: Jobs in this pipeline run every day at 02:00 UTC.
    manager: independent
    precedence: low
    post-review: true
    trigger:
      timer:
        - time: '0 2 * * *'

- pipeline:
    name: release
    description: |
      When a commit is tagged, this pipeline runs the jobs that publish
      the release.
    manager: independent
    precedence: high
    post-review: true
    trigger:
      {c}:
        - event: ref-updated
          ref: ^refs/tags/.*$
"""


JOBS_YAML = """\
# The base job: every job of the site inherits from it unless it names
# another parent. Only this trusted project may define jobs with no parent.

- job:
    name: base
    parent: null
    description: |
      The job every other job inherits from. It needs no nodes; jobs
      that do say so with their own nodeset.
    nodeset:
      nodes: []
"""


def projects_yaml(project: str = CONFIG_PROJECT) -> str:
    return f"""\
# Changes to this project run Zuul's built-in "noop" job, which succeeds at
# once without a node: the configuration they carry is checked by the
# scheduler itself before they can merge.

- project:
    name: {project}
    check:
      jobs:
        - noop
    gate:
      jobs:
        - noop
"""


def config_project_files(connection: str) -> dict[str, str]:
    """The files of the config project a new site starts with."""
    return {
        "zuul.d/pipelines.yaml": pipelines_yaml(connection),
        "zuul.d/jobs.yaml": JOBS_YAML,
        "zuul.d/projects.yaml": projects_yaml(),
    }


def tenants_yaml(connection: str, tenant: str, config_project: str = CONFIG_PROJECT) -> str:
    return f"""\
# The tenants of this site, in Zuul's main.yaml format; docs/gating.md
# describes it. With [gating] auto_add_projects, every project that no tenant
# lists joins tenant "{tenant}" as an untrusted project.

- tenant:
    name: {tenant}
    source:
      {connection}:
        config-projects:
          - {config_project}
        untrusted-projects: []
"""


@dataclass(frozen=True, slots=True)
class GatingSetup:
    """What `ensure_gating` created this time (None or False: it was there)."""

    ci_password: str | None = None
    config_commit: str | None = None
    tenants_file_written: bool = False


def ensure_gating(
    site: Site,
    settings: Settings,
    *,
    accounts: AccountService,
    projects: ProjectService,
    repos: RepoStore,
    clock: Clock,
) -> GatingSetup:
    """Create the CI account, the config project and the tenants file where missing."""
    gating = settings.gating
    if not gating.enabled:
        return GatingSetup()
    ci_password = _ensure_ci_account(site, settings, accounts)
    commit = _ensure_config_project(settings, projects, repos, clock)
    written = False
    tenants_file = site.tenants_file(settings)
    if not tenants_file.exists():
        tenants_file.parent.mkdir(parents=True, exist_ok=True)
        tenants_file.write_text(tenants_yaml(gating.connection, gating.default_tenant))
        written = True
    return GatingSetup(ci_password, commit, written)


def _ensure_ci_account(site: Site, settings: Settings, accounts: AccountService) -> str | None:
    name = settings.gating.ci_account
    if accounts.find(name) is not None:
        return None
    try:
        account = accounts.create_account(
            name,
            full_name="Zuul CI",
            email=f"{name}@localhost",
            groups=[SERVICE_USERS],
        )
    except Conflict:
        return None  # another process opening the site made it first
    password = accounts.set_http_password(account, generate=True)
    assert password is not None
    path = site.ci_credentials_file
    # Created owner-only before the secret is written, as admin.credentials is.
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(f"username={name}\npassword={password}\n")
    return password


def _ensure_config_project(
    settings: Settings,
    projects: ProjectService,
    repos: RepoStore,
    clock: Clock,
) -> str | None:
    if projects.find(CONFIG_PROJECT) is not None:
        # A project whose first commit was never written (the process stopped
        # in between) gets it now; one with any history is the operator's.
        if projects.branch_tip(CONFIG_PROJECT, CONFIG_BRANCH) is not None:
            return None
    else:
        # Administrators own it through All-Projects; nobody else may push to it.
        try:
            projects.create(
                CONFIG_PROJECT,
                description="The site's trusted Zuul configuration: "
                "pipelines, base jobs, projects.",
                branches=[CONFIG_BRANCH],
            )
        except Conflict:
            return None  # another process opening the site made it first
    tree = write_tree(repos, CONFIG_PROJECT, config_project_files(settings.gating.connection))
    who = Person(settings.server.name, "lockgate@localhost", clock() // 1_000_000, 0)
    commit = repos.create_commit(
        CONFIG_PROJECT,
        tree=tree,
        parents=[],
        message="Initial configuration: pipelines, base job and project\n",
        author=who,
    )
    repos.update_ref(CONFIG_PROJECT, branch_ref(CONFIG_BRANCH), commit, ZERO_SHA)
    repos.write_commit_graph(CONFIG_PROJECT)
    return commit


def write_tree(repos: RepoStore, project: str, files: Mapping[str, str]) -> str:
    """A tree object holding `files` (paths with `/`), written bottom-up with mktree."""
    blobs: dict[str, str] = {}
    folders: dict[str, dict[str, str]] = {}
    for path, text in files.items():
        head, _, name = path.rpartition("/")
        blob = repos.git(project, "hash-object", "-w", "--stdin", input=text.encode()).strip()
        if head:
            folders.setdefault(head, {})[name] = blob
        else:
            blobs[name] = blob
    entries = [f"100644 blob {sha}\t{name}" for name, sha in sorted(blobs.items())]
    for folder, contents in sorted(folders.items()):
        if "/" in folder:
            raise ValueError(f"only one folder level is supported: {folder}")
        lines = [f"100644 blob {sha}\t{name}" for name, sha in sorted(contents.items())]
        sub = repos.git(project, "mktree", input=("\n".join(lines) + "\n").encode()).strip()
        entries.append(f"040000 tree {sub}\t{folder}")
    return repos.git(project, "mktree", input=("\n".join(entries) + "\n").encode()).strip()
