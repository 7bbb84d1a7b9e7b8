"""HTTP delivery of webhook bodies: one POST, its outcome, never an exception."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

# httpx logs every request at INFO; the delivery log keeps what matters.
logging.getLogger("httpx").setLevel(logging.WARNING)

# Enough of a refusal's body for the delivery log to say why.
_ERROR_BODY = 300


@dataclass(frozen=True, slots=True)
class PostOutcome:
    status: int | None  # None when no answer came (refused, timed out, reset)
    error: str | None
    duration_ms: int


class WebhookClient:
    """Posts with one connection pool per server; redirects are not followed,
    so a moved receiver shows in the delivery log instead of being guessed."""

    def __init__(self) -> None:
        self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False)

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float
    ) -> PostOutcome:
        start = time.monotonic()
        try:
            response = await self._client.post(url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            return PostOutcome(None, f"timed out after {timeout:g} s", _since(start))
        except httpx.HTTPError as failure:
            return PostOutcome(None, f"{type(failure).__name__}: {failure}", _since(start))
        refusal = None
        if not 200 <= response.status_code < 300:
            text = response.text[:_ERROR_BODY].strip()
            refusal = f"HTTP {response.status_code}" + (f": {text}" if text else "")
        return PostOutcome(response.status_code, refusal, _since(start))

    async def aclose(self) -> None:
        await self._client.aclose()


def _since(start: float) -> int:
    return int((time.monotonic() - start) * 1000)
