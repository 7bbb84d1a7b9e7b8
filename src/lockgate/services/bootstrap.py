"""The composition root: builds the services of a site from its settings."""

from __future__ import annotations

import asyncio
import secrets
import urllib.parse
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from lockgate.adapters.db.engine import make_engine
from lockgate.adapters.db.event_signal import watch_event_log
from lockgate.adapters.db.migrate import schema_status, upgrade
from lockgate.adapters.git.diffs import DiffReader
from lockgate.adapters.git.repos import RepoStore
from lockgate.adapters.logstore.filesystem import FilesystemLogStore
from lockgate.adapters.site import Settings, Site, SiteError
from lockgate.services.access import AccessService
from lockgate.services.accounts import ADMINISTRATORS, AccountService
from lockgate.services.autoholds import AutoholdService
from lockgate.services.build_logs import BuildLogs
from lockgate.services.build_visibility import BuildVisibility
from lockgate.services.change_edits import ChangeEdits, ChangeLookup
from lockgate.services.change_writes import ChangeWriter
from lockgate.services.clock import Clock, system_clock
from lockgate.services.comments import CommentService
from lockgate.services.demo_project import ensure_demo_project
from lockgate.services.diffs import DiffService
from lockgate.services.drafts import DraftService
from lockgate.services.event_stream import EventStream
from lockgate.services.executor_port import Executor
from lockgate.services.gate_api import GateApi
from lockgate.services.gate_inputs import GateInputs
from lockgate.services.gate_reporter import GateReporter
from lockgate.services.gating import Gating, NoExecutor, build_gating
from lockgate.services.gating_setup import ensure_gating
from lockgate.services.job_running import JobRunning, build_job_running
from lockgate.services.label_views import LabelViews
from lockgate.services.labels import LabelConfig
from lockgate.services.launcher import NodeLauncher
from lockgate.services.node_ports import Provider
from lockgate.services.permissions import Permissions
from lockgate.services.project_config import ProjectConfig
from lockgate.services.projects import ProjectService
from lockgate.services.rebase import RebaseService
from lockgate.services.review import ReviewService
from lockgate.services.reviewers import ReviewerService
from lockgate.services.submit import SubmitService
from lockgate.services.tenants import TenantCatalog
from lockgate.services.uploads import UploadService
from lockgate.services.votes import ReviewPoster
from lockgate.services.web_sessions import WebSessions
from lockgate.services.webhooks import Webhook, WebhookService


@dataclass
class Services:
    site: Site
    settings: Settings
    engine: Engine
    repos: RepoStore
    accounts: AccountService
    projects: ProjectService
    review: ReviewService
    clock: Clock
    permissions: Permissions
    uploads: UploadService
    labels: LabelConfig
    writer: ChangeWriter
    edits: ChangeEdits
    reviewers: ReviewerService
    diffs: DiffService
    comments: CommentService
    drafts: DraftService
    label_views: LabelViews
    reviews: ReviewPoster
    access: AccessService
    project_config: ProjectConfig
    submit: SubmitService
    rebase: RebaseService
    events: EventStream
    webhooks: WebhookService
    tenants: TenantCatalog
    gate_inputs: GateInputs
    # The gating scheduler and its parts; None when `[gating] enabled = false`.
    gating: Gating | None = None
    gate_api: GateApi | None = None
    # Build logs: the store under /logs/ and the builds' folders in it (always
    # set by build_services; None only for a Services built by hand).
    log_store: FilesystemLogStore | None = None
    build_logs: BuildLogs | None = None
    # who may see which builds, status items and log folders (set with the log store)
    build_visibility: BuildVisibility | None = None
    autoholds: AutoholdService | None = None
    # sign-in by cookie for the web interface (always set by build_services)
    web_sessions: WebSessions | None = None
    # the node launcher, when the caller gave providers (it is not started here)
    launcher: NodeLauncher | None = None
    # the site's own launcher and executor, when no executor was passed in and
    # `[executor]` lets it run jobs (started and stopped with the background work)
    jobs: JobRunning | None = None
    # Proves to the server that a git hook call comes from a git process it started.
    hook_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def public_url(self) -> str:
        return self.settings.server.url

    def gate_reporter(self, account: str, connections: Collection[str]) -> GateReporter:
        """The scheduler's reporter, posting as `account` for pipelines' reporters
        of `connections` (the names this review server has in their config)."""
        return GateReporter(
            engine=self.engine,
            review=self.review,
            writer=self.writer,
            labels=self.labels,
            permissions=self.permissions,
            comments=self.comments,
            submit=self.submit,
            accounts=self.accounts,
            account=account,
            connections=connections,
        )

    @property
    def gating_connection(self) -> str:
        return self.settings.gating.connection

    @property
    def public_host(self) -> str:
        return urllib.parse.urlsplit(self.settings.server.url).hostname or "localhost"

    async def start_background(self) -> None:
        """Start the work that runs beside requests (webhook deliveries, the scheduler)."""
        await self.webhooks.start()
        if self.jobs is not None:
            await asyncio.to_thread(self.jobs.start)
        if self.gating is not None:
            await self.gating.start()

    async def stop_background(self) -> None:
        if self.gating is not None:
            await self.gating.stop()
        if self.jobs is not None:
            await asyncio.to_thread(self.jobs.stop)
        await self.webhooks.stop()

    def close(self) -> None:
        if self.gating is not None:
            self.gating.close()
        if self.jobs is not None:
            self.jobs.executor.close(wait=False)
        self.engine.dispose()


def build_services(
    site: Site,
    settings: Settings,
    engine: Engine,
    clock: Clock,
    *,
    executor: Executor | None = None,
    providers: Sequence[Provider] | None = None,
    run_jobs: bool = True,
) -> Services:
    """`run_jobs`: give the site its own launcher and executor when no executor
    is passed (False for services that never start their background work)."""
    repos = RepoStore(site.git_dir)
    event_log = watch_event_log(engine)
    accounts = AccountService(engine, clock)
    projects = ProjectService(engine, repos, clock)
    config = ProjectConfig(engine)
    labels = LabelConfig(engine, projects, config)
    permissions = Permissions(engine, config, labels)
    review = ReviewService(
        engine=engine,
        repos=repos,
        accounts=accounts,
        projects=projects,
        clock=clock,
        public_url=settings.server.url,
        labels=labels,
        permissions=permissions,
    )
    uploads = UploadService(
        engine=engine,
        repos=repos,
        accounts=accounts,
        projects=projects,
        permissions=permissions,
        clock=clock,
        public_url=settings.server.url,
        labels=labels,
    )
    writer = ChangeWriter(engine, clock, settings.server.url)
    lookup = ChangeLookup(review, projects)
    comments = CommentService(engine, repos)
    # The committer of the commits a submit makes, as Gerrit's server identity.
    host = urllib.parse.urlsplit(settings.server.url).hostname or "localhost"
    server_ident = (settings.server.name, f"{settings.server.name}@{host}")
    services = Services(
        site,
        settings,
        engine,
        repos,
        accounts,
        projects,
        review,
        clock,
        permissions=permissions,
        uploads=uploads,
        labels=labels,
        writer=writer,
        edits=ChangeEdits(lookup=lookup, writer=writer, permissions=permissions, accounts=accounts),
        reviewers=ReviewerService(
            lookup=lookup,
            writer=writer,
            permissions=permissions,
            accounts=accounts,
            labels=labels,
        ),
        diffs=DiffService(review, permissions, DiffReader(repos)),
        comments=comments,
        drafts=DraftService(engine, review, comments, clock),
        label_views=LabelViews(engine, labels, permissions),
        reviews=ReviewPoster(
            review=review,
            writer=writer,
            labels=labels,
            permissions=permissions,
            comments=comments,
        ),
        access=AccessService(engine, projects, permissions, labels, config),
        project_config=config,
        submit=SubmitService(
            engine=engine,
            repos=repos,
            projects=projects,
            permissions=permissions,
            labels=labels,
            clock=clock,
            public_url=settings.server.url,
            server_ident=server_ident,
        ),
        rebase=RebaseService(
            engine=engine,
            repos=repos,
            projects=projects,
            permissions=permissions,
            labels=labels,
            writer=writer,
            clock=clock,
            public_url=settings.server.url,
        ),
        events=EventStream(
            engine=engine,
            signal=event_log,
            accounts=accounts,
            projects=projects,
            permissions=permissions,
        ),
        webhooks=WebhookService(
            engine=engine,
            signal=event_log,
            clock=clock,
            webhooks=[Webhook.from_settings(site, hook) for hook in settings.webhooks],
        ),
        tenants=TenantCatalog(site, settings, projects),
        gate_inputs=GateInputs(engine=engine, labels=labels, server_url=settings.server.url),
    )
    services.log_store = FilesystemLogStore(
        site.logs_dir(settings), settings.log_url, gzip_min_bytes=settings.logs.gzip_min_bytes
    )
    services.build_logs = BuildLogs(engine, services.log_store, settings.server.url)
    visibility = BuildVisibility(engine, permissions, services.log_store)
    services.build_visibility = visibility
    services.autoholds = AutoholdService(engine)
    services.web_sessions = WebSessions(
        engine,
        clock,
        accounts,
        session_days=settings.web.session_days,
        self_signup=settings.web.self_signup,
    )
    if providers:
        services.launcher = NodeLauncher(engine, providers, min_ready=settings.nodepool.min_ready)
    if settings.gating.enabled and executor is None and run_jobs:
        services.jobs = build_job_running(
            site,
            settings,
            engine,
            repos=repos,
            logs=services.log_store,
            build_logs=services.build_logs,
            canonical_hostname=host,
        )
        if services.jobs is not None:
            executor = services.jobs.executor
            services.launcher = services.jobs.launcher
    if settings.gating.enabled:
        gating = build_gating(
            engine=engine,
            signal=event_log,
            repos=repos,
            catalog=services.tenants,
            inputs=services.gate_inputs,
            reporter=services.gate_reporter(
                settings.gating.ci_account, [settings.gating.connection]
            ),
            executor=executor or NoExecutor(),
            settings=settings.gating,
            server_ident=server_ident,
            clock=clock,
        )
        services.gating = gating
        services.gate_api = GateApi(engine, gating, clock, visibility=visibility)
    return services


def open_site(
    path: Path, *, clock: Clock = system_clock, executor: Executor | None = None
) -> Services:
    """The services of an existing site whose database schema matches this code."""
    site = Site(path)
    settings = site.load()
    engine = make_engine(site.database_url(settings))
    status = schema_status(engine)
    if not status.up_to_date:
        engine.dispose()
        if status.current is None:
            raise SiteError(
                f"the database of {site.root} has no lockgate schema; "
                f"create it with: lockgate db upgrade --site {site.root}"
            )
        if not status.known:
            raise SiteError(
                f"the database of {site.root} is at schema {status.current}, newer than this "
                f"lockgate (which knows up to {status.head}); upgrade lockgate to serve it"
            )
        raise SiteError(
            f"the database of {site.root} is at schema {status.current}, older than this "
            f"lockgate's {status.head}; migrate it with: lockgate db upgrade --site {site.root}"
        )
    services = build_services(site, settings, engine, clock, executor=executor)
    # A site made before access control existed gets All-Projects' defaults now,
    # and one made before gating its CI account, config project and tenants file.
    services.access.ensure_defaults()
    _ensure_gating(services)
    return services


def _ensure_gating(services: Services) -> None:
    ensure_gating(
        services.site,
        services.settings,
        accounts=services.accounts,
        projects=services.projects,
        repos=services.repos,
        clock=services.clock,
    )


@dataclass(frozen=True)
class InitResult:
    services: Services
    admin_password: str


def init_site(
    path: Path,
    *,
    listen: str = "127.0.0.1:8080",
    url: str | None = None,
    database_url: str = "sqlite:///db/lockgate.db",
    clock: Clock = system_clock,
    executor: Executor | None = None,
    demo: bool = False,
) -> InitResult:
    """Create a site: settings, migrated database, repos folder, admin account,
    and what gating needs (CI account, config project, tenants file); with
    `demo`, the demo project too."""
    site = Site(path)
    if site.exists():
        raise SiteError(
            f"{site.root} is already a lockgate site; "
            f"serve it with: lockgate serve --site {site.root}"
        )
    site.root.mkdir(parents=True, exist_ok=True)
    for folder in (site.git_dir, site.db_dir, site.run_dir):
        folder.mkdir(parents=True, exist_ok=True)
    host, _, port = listen.rpartition(":")
    public = url or f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}/"
    site.write_settings(listen=listen, url=public, database_url=database_url)
    settings = site.load()
    engine = make_engine(site.database_url(settings))
    upgrade(engine)
    # the site it makes is served later: no sandbox probe, no executor now
    services = build_services(site, settings, engine, clock, executor=executor, run_jobs=False)
    services.accounts.ensure_built_in_groups()
    services.projects.ensure_system_projects()
    services.access.ensure_defaults()
    admin = services.accounts.create_account(
        "admin", full_name="Administrator", email="admin@localhost", groups=[ADMINISTRATORS]
    )
    password = services.accounts.set_http_password(admin, generate=True)
    assert password is not None
    site.credentials_file.touch(mode=0o600)
    site.credentials_file.chmod(0o600)
    site.credentials_file.write_text(f"username=admin\npassword={password}\n")
    _ensure_gating(services)
    if demo:
        ensure_demo_project(settings, services.projects, services.repos, clock)
    return InitResult(services, password)
