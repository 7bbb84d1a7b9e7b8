"""A webhook receiver on loopback: a real HTTP server that checks each
delivery's signature, answers as a test plans, and keeps what it got; and
sites with webhooks for it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lockgate.core import webhooks
from lockgate.services.bootstrap import init_site
from lockgate.testing.server import free_port


@dataclass(frozen=True)
class Got:
    seq: int
    attempt: int
    type: str
    webhook: str
    payload: dict[str, Any]
    status: int  # what the receiver answered


# An answer plan: the status for a delivery, from its seq and attempt.
Plan = Callable[[int, int], int]


def always_ok(_seq: int, _attempt: int) -> int:
    return 200


class Receiver:
    def __init__(self, secret: bytes, plan: Plan = always_ok) -> None:
        self.secret = secret
        self.plan = plan
        self.got: list[Got] = []
        self.bad_signatures = 0
        self.requests = 0
        self.hold_nth: int | None = None  # the nth request waits for `release`
        self.held_seq: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get(webhooks.SIGNATURE_HEADER)
                if not webhooks.verify(receiver.secret, body, signature):
                    with receiver._changed:
                        receiver.bad_signatures += 1
                    self._answer(401)
                    return
                seq = int(self.headers[webhooks.DELIVERY_HEADER])
                attempt = int(self.headers[webhooks.ATTEMPT_HEADER])
                with receiver._lock:
                    receiver.requests += 1
                    hold = receiver.requests == receiver.hold_nth
                if hold:
                    receiver.held_seq = seq
                    receiver.holding.set()
                    receiver.release.wait(60)
                status = receiver.plan(seq, attempt)
                payload = json.loads(body)
                assert self.headers[webhooks.EVENT_HEADER] == payload["type"]
                with receiver._changed:
                    receiver.got.append(
                        Got(
                            seq,
                            attempt,
                            payload["type"],
                            self.headers[webhooks.WEBHOOK_HEADER],
                            payload,
                            status,
                        )
                    )
                    receiver._changed.notify_all()
                self._answer(status)

            def _answer(self, status: int) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender is gone (killed mid-delivery)
                    pass

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def accepted(self) -> list[Got]:
        """The deliveries answered with a 2xx, in the order they arrived."""
        with self._lock:
            return [g for g in self.got if 200 <= g.status < 300]

    def wait_for(self, count: int) -> list[Got]:
        """Wait until `count` deliveries were accepted; fails instead of hanging."""
        deadline = time.monotonic() + 60
        with self._changed:
            while sum(1 for g in self.got if 200 <= g.status < 300) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [(g.seq, g.status) for g in self.got]
                    raise AssertionError(f"{count} deliveries never came; got {got}")
                self._changed.wait(left)
        return self.accepted

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


PROJECT = "hooked"
SECRET = "webhook-secret"


def new_site(tmp_path: Path, database_url: str) -> Path:
    site = tmp_path / "site"
    created = init_site(site, listen=f"127.0.0.1:{free_port()}", database_url=database_url)
    created.services.projects.create(PROJECT, create_empty_commit=True)
    created.services.close()
    return site


def add_webhook(site: Path, name: str, url: str, **keys: Any) -> None:
    """Append a [[webhooks]] table to the site's settings, with fast retries."""
    values = {"name": name, "url": url, "min_backoff": 0.05, "max_backoff": 0.2, **keys}
    if "secret_file" not in values:
        values.setdefault("secret", SECRET)
    lines = ["", "[[webhooks]]"]
    for key, value in values.items():
        if isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
        else:
            lines.append(f"{key} = {value}")
    with (site / "lockgate.toml").open("a") as settings:
        settings.write("\n".join(lines) + "\n")
