"""A real lockgate server on a loopback port, for tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lockgate.services.bootstrap import Services, init_site, open_site
from lockgate.web.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server, dropped afterwards; yields its URL."""
    schema = f"lockgate_{uuid.uuid4().hex[:12]}"
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class LiveServer:
    url: str
    services: Services
    admin_password: str
    site_path: Path

    @property
    def admin(self) -> tuple[str, str]:
        return ("admin", self.admin_password)

    def git_url(self, project: str, *, user: str | None = None, password: str | None = None) -> str:
        if user is None:
            return f"{self.url}{project}"
        host = self.url.split("://", 1)[1]
        auth = f"{user}:{password}@" if password is not None else f"{user}@"
        return f"http://{auth}{host}{project}"


@contextmanager
def live_server(
    site_path: Path,
    database_url: str = "sqlite:///db/lockgate.db",
    *,
    settings: str = "",
    demo: bool = False,
) -> Iterator[LiveServer]:
    """Create a site (with the demo project when asked) and serve it on a free
    loopback port until the block ends; `settings` (TOML) is added to its
    lockgate.toml first."""
    # The socket stays bound from choosing the port to serving on it, so that
    # no other test server can take the port in between.
    sock = _bound_socket(0)
    port = sock.getsockname()[1]
    created = init_site(site_path, listen=f"127.0.0.1:{port}", database_url=database_url, demo=demo)
    created.services.close()
    if settings:
        toml = site_path / "lockgate.toml"
        toml.write_text(toml.read_text() + "\n" + settings)
    with serve_site(site_path, sock=sock) as live:
        yield live


def _bound_socket(port: int) -> socket.socket:
    sock = socket.socket()
    # A restart binds the port its last run left in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@contextmanager
def serve_site(site_path: Path, *, sock: socket.socket | None = None) -> Iterator[LiveServer]:
    """Serve an existing site on the port its settings name (or on `sock`, bound
    to it) until the block ends; the same site can be served again afterwards,
    as after a restart."""
    services = open_site(site_path)
    port = int(services.settings.server.listen.rpartition(":")[2])
    if sock is None:
        sock = _bound_socket(port)
    credentials = dict(
        line.split("=", 1) for line in services.site.credentials_file.read_text().splitlines()
    )
    config = uvicorn.Config(
        create_app(services),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        # Event streams never end by themselves: cut them off at shutdown.
        timeout_graceful_shutdown=3,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"lockgate-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(services.public_url, services, credentials["password"], site_path)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        services.close()
