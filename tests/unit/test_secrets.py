"""Zuul secrets, the pure rules: how an encrypted value is cut and read, which
build may see which secret, and how secret values are masked out of logs."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.core.config.frozen import FrozenJob, FrozenPlaybook, FrozenSecret
from lockgate.core.config.source import ConfigList, ConfigMap, Mark, Source, Tagged, Where
from lockgate.core.secrets import (
    ENCRYPTED_TAG,
    MASK,
    SecretFormatError,
    chunk_size,
    decode_chunk,
    decrypt_data,
    encrypted_chunks,
    mask,
    secrets_for,
    split_plaintext,
)

WHERE = Where(Source("org/app", "master", "zuul.yaml", False), Mark(4, 13))


def test_a_4096_bit_key_carries_470_bytes_per_chunk_as_zuuls_tools_cut() -> None:
    # encrypt_secret.py: max_bytes = nbytes - 42 (PKCS1-OAEP with SHA-1)
    assert chunk_size(4096) == 512 - 42 == 470
    assert chunk_size(2048) == 214


@given(st.binary(max_size=2000), st.sampled_from([1024, 2048, 4096]))
def test_pieces_join_back_to_the_plaintext_and_none_is_too_long(data: bytes, bits: int) -> None:
    pieces = split_plaintext(data, bits)
    assert b"".join(pieces) == data
    assert all(len(piece) <= chunk_size(bits) for piece in pieces)
    assert len(pieces) == max(1, -(-len(data) // chunk_size(bits)))


def test_a_key_too_small_for_oaep_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        chunk_size(256)


def test_a_chunk_wrapped_over_yaml_lines_reads_as_one() -> None:
    raw = bytes(range(200))
    encoded = base64.b64encode(raw).decode()
    folded = " ".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
    assert decode_chunk(folded) == raw


def test_a_chunk_that_is_not_base64_names_where_it_is() -> None:
    with pytest.raises(SecretFormatError, match=r"org/app/zuul.yaml@master:4:13: .*not base64"):
        decode_chunk("not*base64!", WHERE)


def test_an_encrypted_value_is_a_string_or_a_list_of_strings() -> None:
    assert encrypted_chunks(Tagged(ENCRYPTED_TAG, "abc=", WHERE)) == ("abc=",)
    items = ConfigList(WHERE)
    items.extend(["a", "b"])
    assert encrypted_chunks(Tagged(ENCRYPTED_TAG, items, WHERE)) == ("a", "b")
    with pytest.raises(SecretFormatError, match="needs a base64 string or a list"):
        encrypted_chunks(Tagged(ENCRYPTED_TAG, ConfigMap(WHERE), WHERE))
    with pytest.raises(SecretFormatError, match="has no chunks"):
        encrypted_chunks(Tagged(ENCRYPTED_TAG, ConfigList(WHERE), WHERE))


def test_decrypting_data_replaces_each_encrypted_leaf_and_keeps_the_rest() -> None:
    calls: list[tuple[tuple[str, ...], Where]] = []

    def decrypt(chunks: tuple[str, ...], where: Where) -> str:
        calls.append((chunks, where))
        return "+".join(chunks).upper()

    data = ConfigMap(WHERE)
    data["username"] = "zuul"
    data["password"] = Tagged(ENCRYPTED_TAG, ["one", "two"], WHERE)
    nested = ConfigMap(WHERE)
    nested["token"] = Tagged(ENCRYPTED_TAG, "three", WHERE)
    data["clouds"] = [nested, 5]
    plain = decrypt_data(data, decrypt)
    assert plain == {"username": "zuul", "password": "ONE+TWO", "clouds": [{"token": "THREE"}, 5]}
    assert type(plain) is dict
    assert [c[0] for c in calls] == [("one", "two"), ("three",)]


def test_another_tag_in_secret_data_is_an_error() -> None:
    with pytest.raises(SecretFormatError, match="!override has no meaning in secret data"):
        decrypt_data({"a": Tagged("!override", "x", WHERE)}, lambda c, w: "")


# --- who may see what: zuul.md 1.4 / 1.6 ---------------------------------------

TRUSTED = FrozenSecret("site_creds", "site-creds", "config", trusted=True)
UNTRUSTED = FrozenSecret("app_token", "app-token", "org/app", trusted=False)


def job_with(*secrets: FrozenSecret) -> FrozenJob:
    run = FrozenPlaybook("org/app", "master", "playbooks/run.yaml", False, secrets=("app_token",))
    pre = FrozenPlaybook(
        "config", "master", "playbooks/pre.yaml", True, secrets=("site_creds", "app_token")
    )
    return FrozenJob("publish", pre_run=(pre,), run=(run,), secrets=secrets)


@pytest.mark.parametrize(
    ("secret", "post_review", "project", "allowed"),
    [
        (TRUSTED, False, None, True),  # config-project secrets: any pipeline
        (TRUSTED, True, None, True),
        (TRUSTED, False, "org/other", True),
        (UNTRUSTED, True, None, True),  # untrusted: only after review
        (UNTRUSTED, True, "org/app", True),
        (UNTRUSTED, False, "org/app", False),
        (UNTRUSTED, False, None, False),
        (UNTRUSTED, True, "org/other", False),  # ... and only for its own project
    ],
)
def test_who_may_see_a_secret(
    secret: FrozenSecret, post_review: bool, project: str | None, allowed: bool
) -> None:
    access = secrets_for(job_with(secret), post_review, project=project)
    assert access.ok is allowed
    assert access.allowed == ((secret,) if allowed else ())
    assert [r.secret for r in access.refused] == ([] if allowed else [secret])


def test_a_refusal_says_which_secret_and_what_pipeline_it_needs() -> None:
    access = secrets_for(job_with(TRUSTED, UNTRUSTED), False)
    assert access.allowed == (TRUSTED,)
    assert access.reason() == (
        'job "publish" uses the secret "app-token" of the untrusted project org/app, '
        "which only a post-review pipeline (one that runs after approval, such as gate "
        "or post) may decrypt"
    )
    other = secrets_for(job_with(UNTRUSTED), True, project="org/other")
    assert "a build of org/other may not decrypt it" in other.reason()


def test_a_playbook_sees_only_the_secrets_its_level_binds() -> None:
    job = job_with(TRUSTED, UNTRUSTED)
    access = secrets_for(job, True)
    assert access.for_playbook(job.run[0]) == (UNTRUSTED,)
    assert access.for_playbook(job.pre_run[0]) == (TRUSTED, UNTRUSTED)
    assert secrets_for(job, False).for_playbook(job.pre_run[0]) == (TRUSTED,)


def test_a_job_without_secrets_may_run_anywhere() -> None:
    access = secrets_for(FrozenJob("unit"), False)
    assert access.ok and access.allowed == ()


# --- masking ----------------------------------------------------------------------


def test_every_occurrence_of_a_value_is_masked() -> None:
    log = "login hunter22 ok\nretry with hunter22\n"
    assert mask(log, ["hunter22"]) == f"login {MASK} ok\nretry with {MASK}\n"


def test_nothing_to_mask_leaves_the_text_alone() -> None:
    assert mask("plain log", []) == "plain log"
    assert mask("plain log", ["", "  \n"]) == "plain log"
    assert mask("plain log", ["absent"]) == "plain log"


def test_a_multi_line_value_is_masked_whole_and_line_by_line() -> None:
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END KEY-----\n"
    whole = f"cat key\n{key}done\n"
    assert mask(whole, [key]) == f"cat key\n{MASK}\ndone\n"
    # Ansible prints it with its own prefixes and line ends: each line still goes.
    prefixed = "".join(f"2026-12-01 | {line}\r\n" for line in key.splitlines())
    masked = mask(prefixed, [key])
    for line in key.splitlines():
        assert line not in masked
    assert masked.count(MASK) == 4
    assert masked.startswith(f"2026-12-01 | {MASK}\r\n")


def test_short_lines_of_a_multi_line_value_are_not_masked_on_their_own() -> None:
    value = "{\n  token: abcdef123456\n}"
    assert mask("a { b } c", [value]) == "a { b } c"
    assert mask("token: abcdef123456", [value]) == MASK


def test_overlapping_values_leave_no_part_showing() -> None:
    assert mask("xx abcdefgh yy", ["abcdef", "defgh"]) == f"xx {MASK} yy"
    assert mask("abcabc", ["abca", "cabc"]) == MASK
    # one value inside another
    assert mask("secret-token-2", ["token", "secret-token-2"]) == MASK


def test_adjacent_values_merge_into_one_mask() -> None:
    assert mask("[onetwo]", ["one", "two"]) == f"[{MASK}]"


@given(st.text(alphabet="abc\n ", max_size=40), st.lists(st.text("abc", min_size=1, max_size=4)))
def test_no_masked_value_survives_masking(text: str, values: list[str]) -> None:
    masked = mask(text, values)
    for value in values:
        # the mask itself has none of these letters, so a survivor would show
        assert value not in masked
