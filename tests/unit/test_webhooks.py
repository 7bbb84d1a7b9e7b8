"""Webhook rules: signatures receivers check, pauses between attempts, and
which events a webhook takes."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from lockgate.core import webhooks


def test_the_signature_is_the_hex_hmac_sha256_of_the_body_with_its_prefix() -> None:
    body = b'{"type":"ref-updated"}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()

    assert webhooks.sign(b"s3cret", body) == "sha256=" + expected


def test_a_receiver_accepts_only_the_right_secret_body_and_form() -> None:
    body = b'{"type":"patchset-created"}'
    signature = webhooks.sign(b"key", body)

    assert webhooks.verify(b"key", body, signature)
    assert not webhooks.verify(b"other", body, signature)
    assert not webhooks.verify(b"key", body + b" ", signature)
    assert not webhooks.verify(b"key", body, signature.removeprefix("sha256="))
    assert not webhooks.verify(b"key", body, None)


@given(st.binary(), st.binary())
def test_every_signature_verifies(secret: bytes, body: bytes) -> None:
    assert webhooks.verify(secret, body, webhooks.sign(secret, body))


def test_pauses_double_from_the_first_and_stop_at_the_cap() -> None:
    pauses = [webhooks.backoff(n, initial=1.0, cap=60.0) for n in range(1, 10)]

    assert pauses == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert webhooks.backoff(0, initial=1.0, cap=60.0) == 0


def test_a_pause_after_very_many_failures_is_the_cap() -> None:
    assert webhooks.backoff(100_000, initial=0.5, cap=300.0) == 300.0


@given(st.integers(1, 5000), st.floats(0.01, 100), st.floats(0.01, 10_000))
def test_pauses_never_shrink_and_never_pass_the_cap(
    failures: int, initial: float, cap: float
) -> None:
    pause = webhooks.backoff(failures, initial=initial, cap=cap)
    assert pause <= cap
    assert webhooks.backoff(failures + 1, initial=initial, cap=cap) >= pause


def test_a_webhook_takes_its_types_of_its_projects() -> None:
    kinds = {"change-merged"}
    assert webhooks.wanted("change-merged", "app", types=kinds, projects=())
    assert not webhooks.wanted("patchset-created", "app", types=kinds, projects=())
    assert webhooks.wanted("anything-new", "app", types=(), projects=())
    assert webhooks.wanted("ref-updated", "app", types=(), projects={"app"})
    assert not webhooks.wanted("ref-updated", "lib", types=(), projects={"app"})
    assert not webhooks.wanted("project-created", None, types=(), projects={"app"})
    assert webhooks.wanted("project-created", None, types=(), projects=())


def test_only_a_2xx_answer_is_a_delivery() -> None:
    assert [webhooks.succeeded(s) for s in (200, 204, 299)] == [True] * 3
    assert [webhooks.succeeded(s) for s in (None, 199, 301, 404, 500)] == [False] * 5
