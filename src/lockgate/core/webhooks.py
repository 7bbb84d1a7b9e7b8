"""Webhook deliveries, the pure parts: which events a webhook takes, how a
body is signed, and how long to wait before the next attempt."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection

SIGNATURE_HEADER = "X-Lockgate-Signature-256"
EVENT_HEADER = "X-Lockgate-Event"
DELIVERY_HEADER = "X-Lockgate-Delivery"
ATTEMPT_HEADER = "X-Lockgate-Attempt"
WEBHOOK_HEADER = "X-Lockgate-Webhook"

_PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of `body`."""
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str | None) -> bool:
    """Whether `signature` (the header's value) signs `body` with `secret`."""
    if signature is None or not signature.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body), signature)


def backoff(failures: int, *, initial: float, cap: float) -> float:
    """Seconds to wait after the `failures`-th failed attempt at one event:
    `initial`, doubling with each further failure, never more than `cap`."""
    if failures < 1:
        return 0.0
    # Doubling past the cap overflows a float long before it matters, so stop
    # doubling once the cap is reached.
    delay = initial
    for _ in range(failures - 1):
        if delay >= cap:
            break
        delay *= 2
    return min(delay, cap)


def wanted(
    event_type: str,
    project: str | None,
    *,
    types: Collection[str],
    projects: Collection[str],
) -> bool:
    """Whether a webhook that takes `types` of `projects` (empty: all) takes this event.
    An event about no project (none yet) goes only to webhooks of all projects."""
    if types and event_type not in types:
        return False
    return not projects or project in projects


def succeeded(status: int | None) -> bool:
    """A delivery succeeds on any 2xx answer; redirects are not followed."""
    return status is not None and 200 <= status < 300
