"""The site folder: its layout and its settings file, `lockgate.toml`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

SETTINGS_FILE = "lockgate.toml"


class SiteError(RuntimeError):
    """The site cannot be used as it is; the message says what to do."""


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listen: str = "127.0.0.1:8080"
    url: str = "http://127.0.0.1:8080/"
    name: str = "lockgate"

    @field_validator("url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError("must be HOST:PORT, for example 127.0.0.1:8080")
        return value


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "sqlite:///db/lockgate.db"


_WEBHOOK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class WebhookSettings(BaseModel):
    """One `[[webhooks]]` table: where to POST which events, signed with what."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    secret: str | None = None
    secret_file: str | None = None  # relative to the site folder
    events: list[str] = Field(default_factory=list)  # empty: every type
    projects: list[str] = Field(default_factory=list)  # empty: every project
    timeout: float = Field(default=10.0, gt=0)
    min_backoff: float = Field(default=1.0, gt=0)
    max_backoff: float = Field(default=300.0, gt=0)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _WEBHOOK_NAME.match(value):
            raise ValueError(
                "must be letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookSettings:
        if (self.secret is None) == (self.secret_file is None):
            raise ValueError(
                f"webhook {self.name} needs exactly one of secret or secret_file "
                "(the key receivers check the X-Lockgate-Signature-256 header with)"
            )
        if self.min_backoff > self.max_backoff:
            raise ValueError(f"webhook {self.name}: min_backoff is more than max_backoff")
        return self


_CONNECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class GatingSettings(BaseModel):
    """`[gating]`: how the gating scheduler sees this server and its tenants."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # The name Zuul configuration uses for this review server (`source:` in the
    # tenants file, trigger and reporter keys of pipelines).
    connection: str = "gerrit"
    tenants_file: str = "etc/main.yaml"  # relative to the site folder
    default_tenant: str = "main"
    # Projects that no tenant lists join the default tenant as untrusted.
    auto_add_projects: bool = True
    ci_account: str = "zuul"
    log_url: str | None = None  # None: `{server.url}logs/`

    @field_validator("connection")
    @classmethod
    def _connection_name(cls, value: str) -> str:
        if not _CONNECTION_NAME.match(value):
            raise ValueError(
                "must be letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return value

    @field_validator("default_tenant", "ci_account", "tenants_file")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("log_url")
    @classmethod
    def _log_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"


class LogsSettings(BaseModel):
    """`[logs]`: the build log store, a folder of the site. Its public URL is
    `[gating] log_url` (one knob for where logs are read, whoever serves them)."""

    model_config = ConfigDict(extra="forbid")

    folder: str = "logs"  # relative to the site folder
    # Builds whose logs are older than this many days go with `lockgate logs
    # prune`; 0 keeps them forever. 180 days is Zuul's upload roles' default.
    keep_days: int = Field(default=180, ge=0)
    # Text files at least this large are stored gzipped when a build finishes.
    gzip_min_bytes: int = Field(default=64 * 1024, ge=0)

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


_NODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _node_name(value: str) -> str:
    if not _NODE_NAME.match(value):
        raise ValueError(
            "must be letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


DEFAULT_LABEL = "local"


class LabelSettings(BaseModel):
    """One `[[nodepool.labels]]`: a kind of node jobs ask for in their nodesets."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    # nodes kept booted ahead of demand, best effort as in Nodepool
    min_ready: int = Field(default=0, ge=0, alias="min-ready")
    network: bool = False  # whether its nodes may reach the network

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _node_name(value)


class PoolSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = "main"
    max_servers: int = Field(default=4, ge=1, alias="max-servers")
    launch_retries: int = Field(default=3, ge=1, alias="launch-retries")
    boot_timeout: float = Field(default=120.0, gt=0, alias="boot-timeout")
    labels: list[str] = Field(default_factory=lambda: [DEFAULT_LABEL])

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _node_name(value)


class ProviderSettings(BaseModel):
    """One `[[nodepool.providers]]`: where nodes come from."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    driver: Literal["local", "static"] = "local"
    pools: list[PoolSettings] = Field(default_factory=lambda: [PoolSettings()])
    # the driver's own options (docs/nodes.md, "Providers"), checked by the driver
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _node_name(value)

    @model_validator(mode="after")
    def _unique_pools(self) -> ProviderSettings:
        names = [pool.name for pool in self.pools]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"provider {self.name}: pool names given twice: {', '.join(twice)}")
        return self


class NodepoolSettings(BaseModel):
    """`[nodepool]`: the labels jobs ask for and the providers that make them.

    The default, for an embedded site, is one `local` provider whose pool
    `main` serves the label `local` with up to 4 nodes at a time."""

    model_config = ConfigDict(extra="forbid")

    labels: list[LabelSettings] = Field(default_factory=lambda: [LabelSettings(name=DEFAULT_LABEL)])
    providers: list[ProviderSettings] = Field(
        default_factory=lambda: [ProviderSettings(name="local")]
    )

    @property
    def min_ready(self) -> dict[str, int]:
        return {label.name: label.min_ready for label in self.labels if label.min_ready}

    @model_validator(mode="after")
    def _consistent(self) -> NodepoolSettings:
        for kind, names in (
            ("label", [label.name for label in self.labels]),
            ("provider", [provider.name for provider in self.providers]),
        ):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{kind} names must be unique; given twice: {', '.join(twice)}")
        known = {label.name for label in self.labels}
        for provider in self.providers:
            for pool in provider.pools:
                unknown = [label for label in pool.labels if label not in known]
                if unknown:
                    raise ValueError(
                        f"provider {provider.name} pool {pool.name} serves "
                        f"{', '.join(unknown)}, which [[nodepool.labels]] does not define; "
                        "add a [[nodepool.labels]] entry with that name"
                    )
        return self


class SiteExecutorSettings(BaseModel):
    """`[executor]`: whether this site runs jobs itself, and how many at once."""

    model_config = ConfigDict(extra="forbid")

    # False: builds wait, queued, as on a site without an executor
    enabled: bool = True
    workers: int = Field(default=4, ge=1)  # builds running at once
    # seconds a build waits for its nodes before it ends NODE_FAILURE; None: no limit
    node_wait: float | None = Field(default=None, gt=0)
    keep_jobs: bool = False  # keep each build's job folder (run/jobs/<build>) for debugging


class WebSettings(BaseModel):
    """`[web]`: the browser interface's sign-in."""

    model_config = ConfigDict(extra="forbid")

    # "Anyone can sign up for a code review account": off unless the site says so.
    self_signup: bool = False
    session_days: float = Field(default=7.0, gt=0)
    # Where a bug footer (`Closes-Bug: #123`) links: `{bug}` is the number.
    bug_url: str | None = None

    @field_validator("bug_url")
    @classmethod
    def _bug_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")) or "{bug}" not in value:
            raise ValueError(
                f"bug_url {value!r} must be an http(s) address with {{bug}} where the "
                "bug number goes, e.g. https://bugs.launchpad.net/bugs/{bug}"
            )
        return value


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    gating: GatingSettings = Field(default_factory=GatingSettings)
    logs: LogsSettings = Field(default_factory=LogsSettings)
    nodepool: NodepoolSettings = Field(default_factory=NodepoolSettings)
    executor: SiteExecutorSettings = Field(default_factory=SiteExecutorSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @property
    def log_url(self) -> str:
        """The base of build log URLs: `[gating] log_url`, or the server's `logs/`."""
        return self.gating.log_url or f"{self.server.url}logs/"

    @model_validator(mode="after")
    def _unique_webhooks(self) -> Settings:
        names = [hook.name for hook in self.webhooks]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"webhook names must be unique; given twice: {', '.join(twice)}")
        return self


class Site:
    """Where a lockgate installation keeps everything it owns."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def settings_file(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def git_dir(self) -> Path:
        return self.root / "git"

    @property
    def db_dir(self) -> Path:
        return self.root / "db"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def hooks_dir(self) -> Path:
        return self.run_dir / "hooks"

    @property
    def credentials_file(self) -> Path:
        return self.root / "admin.credentials"

    @property
    def ci_credentials_file(self) -> Path:
        """The CI account's generated HTTP password, readable by the owner only."""
        return self.root / "ci.credentials"

    def tenants_file(self, settings: Settings) -> Path:
        """The tenants file (`[gating] tenants_file`, read from the site folder)."""
        return self.root / settings.gating.tenants_file

    def logs_dir(self, settings: Settings) -> Path:
        """The build log store (`[logs] folder`, read from the site folder)."""
        return self.root / settings.logs.folder

    def exists(self) -> bool:
        return self.settings_file.is_file()

    def load(self) -> Settings:
        if not self.exists():
            raise SiteError(
                f"{self.root} is not a lockgate site (no {SETTINGS_FILE}); "
                f"create one with: lockgate init {self.root}"
            )
        try:
            data = tomllib.loads(self.settings_file.read_text())
        except tomllib.TOMLDecodeError as error:
            raise SiteError(f"{self.settings_file}: {error}") from error
        try:
            return Settings.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
            )
            raise SiteError(f"{self.settings_file}: {problems}") from error

    def database_url(self, settings: Settings) -> str:
        """The database URL with a relative SQLite path read from the site folder."""
        url = settings.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            return prefix + str(self.root / url[len(prefix) :])
        return url

    def webhook_secret(self, webhook: WebhookSettings) -> bytes:
        """The webhook's signing key: `secret`, or the contents of `secret_file`
        (relative to the site folder) without its trailing newline."""
        if webhook.secret is not None:
            return webhook.secret.encode()
        assert webhook.secret_file is not None
        path = self.root / webhook.secret_file
        try:
            return path.read_bytes().rstrip(b"\r\n")
        except OSError as error:
            raise SiteError(
                f"{self.settings_file}: webhook {webhook.name}: cannot read secret_file "
                f"{path}: {error.strerror}; create it or fix the path"
            ) from error

    def write_settings(self, *, listen: str, url: str, database_url: str) -> None:
        self.settings_file.write_text(
            "# lockgate site settings; docs/configuration.md describes every key.\n"
            "[server]\n"
            f"listen = {_toml(listen)}\n"
            f"url = {_toml(url)}\n"
            "\n[database]\n"
            "# SQLite by default; a PostgreSQL URL such as\n"
            "# postgresql://user@host:5432/lockgate works the same.\n"
            f"url = {_toml(database_url)}\n"
            "\n[gating]\n"
            "# The gating scheduler; docs/gating.md explains tenants and the config project.\n"
            'connection = "gerrit"\n'
            'tenants_file = "etc/main.yaml"\n'
            'default_tenant = "main"\n'
            "auto_add_projects = true\n"
            'ci_account = "zuul"\n'
        )


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
