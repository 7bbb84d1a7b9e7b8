"""Zuul secrets, the pure parts: the encrypted-value format, who may see a
secret, and masking secret values out of logs.

A secret's `data` (as the YAML adapter reads it) holds plain values and
`Tagged("!encrypted/pkcs1-oaep", ...)` leaves. An encrypted leaf is one
base64 string or a list of them: the plaintext (UTF-8) cut into pieces that
RSA-OAEP with SHA-1 can carry, each piece encrypted with the project's
public key. Zuul's `encrypt_secret.py` and `zuul-client encrypt` cut at
`key bytes - 42` (2 * 20 hash bytes + 2, RFC 8017 7.1.1); so does this.
Zuul wraps long chunks across YAML lines, which a plain scalar folds into
spaces, so whitespace inside a chunk is not part of it.

Visibility follows Zuul: a secret of a config project (trusted) may be used
in any pipeline; a secret of an untrusted project only in a post-review
pipeline, and only by builds of its own project (freezing already makes such
a job post-review and allowed only there). A playbook sees only the secrets
of the job variant that defined it, plus those a child passed to its parents.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lockgate.core.config.frozen import FrozenJob, FrozenPlaybook, FrozenSecret
from lockgate.core.config.source import Tagged, Where

ENCRYPTED_TAG = "!encrypted/pkcs1-oaep"
# PKCS#1 OAEP with SHA-1: two hash lengths and two bytes of padding per block.
OAEP_SHA1_OVERHEAD = 2 * 20 + 2
MASK = "******"
# A line of a multi-line secret shorter than this is not masked on its own:
# masking every "}" or "--" of a log would hide the log, not the secret.
MIN_MASKED_LINE = 4


class SecretFormatError(ValueError):
    """An encrypted value that is not what `lockgate encrypt` writes."""

    def __init__(self, where: Where | None, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where is not None else message)


def chunk_size(key_bits: int) -> int:
    """How many plaintext bytes one OAEP-SHA-1 block of a `key_bits` key carries."""
    size = key_bits // 8 - OAEP_SHA1_OVERHEAD
    if size <= 0:
        raise ValueError(f"a {key_bits}-bit key is too small for PKCS#1 OAEP with SHA-1")
    return size


def split_plaintext(plaintext: bytes, key_bits: int) -> list[bytes]:
    """The pieces of `plaintext` to encrypt one by one; an empty value is one
    empty piece, so that it still round-trips."""
    size = chunk_size(key_bits)
    if not plaintext:
        return [b""]
    return [plaintext[i : i + size] for i in range(0, len(plaintext), size)]


def encode_chunk(ciphertext: bytes) -> str:
    return base64.b64encode(ciphertext).decode("ascii")


def decode_chunk(chunk: str, where: Where | None = None) -> bytes:
    """The ciphertext of one chunk; whitespace (from folded YAML lines) is dropped."""
    compact = "".join(chunk.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SecretFormatError(
            where,
            f"an {ENCRYPTED_TAG} chunk is not base64 ({error}); "
            "paste the output of `lockgate encrypt` unchanged",
        ) from error


def encrypted_chunks(value: Tagged) -> tuple[str, ...]:
    """The chunks of an encrypted leaf: a string, or a list of strings."""
    raw = value.value
    if isinstance(raw, str):
        items: Sequence[Any] = (raw,)
    elif isinstance(raw, list):
        items = raw
    else:
        raise SecretFormatError(
            value.where,
            f"{ENCRYPTED_TAG} needs a base64 string or a list of them, not {type(raw).__name__}",
        )
    if not items:
        raise SecretFormatError(value.where, f"{ENCRYPTED_TAG} has no chunks")
    for item in items:
        if not isinstance(item, str):
            raise SecretFormatError(
                value.where,
                f"every {ENCRYPTED_TAG} chunk must be a base64 string, not {type(item).__name__}",
            )
    return tuple(items)


def is_encrypted(value: object) -> bool:
    return isinstance(value, Tagged) and value.tag == ENCRYPTED_TAG


def decrypt_data(data: Any, decrypt: Callable[[tuple[str, ...], Where], str]) -> Any:
    """`data` as plain dicts, lists and scalars, with every encrypted leaf
    replaced by `decrypt(chunks, where)`."""
    if isinstance(data, Tagged):
        if data.tag != ENCRYPTED_TAG:
            raise SecretFormatError(data.where, f"{data.tag} has no meaning in secret data")
        return decrypt(encrypted_chunks(data), data.where)
    if isinstance(data, Mapping):
        return {str(key): decrypt_data(item, decrypt) for key, item in data.items()}
    if isinstance(data, list | tuple):
        return [decrypt_data(item, decrypt) for item in data]
    return data


# --- who may see what --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefusedSecret:
    secret: FrozenSecret
    reason: str


@dataclass(frozen=True, slots=True)
class SecretAccess:
    """The secrets one build may decrypt, and those it may not, with why."""

    allowed: tuple[FrozenSecret, ...]
    refused: tuple[RefusedSecret, ...]

    @property
    def ok(self) -> bool:
        return not self.refused

    def for_playbook(self, playbook: FrozenPlaybook) -> tuple[FrozenSecret, ...]:
        """The allowed secrets `playbook` sees, by the names its level binds."""
        names = set(playbook.secrets)
        return tuple(secret for secret in self.allowed if secret.name in names)

    def reason(self) -> str:
        """One message for the build's error, naming every refused secret."""
        return "; ".join(refused.reason for refused in self.refused)


def secrets_for(
    job: FrozenJob, pipeline_post_review: bool, *, project: str | None = None
) -> SecretAccess:
    """Which of `job`'s secrets a build in a pipeline may see. `project` is the
    item's project; when given, an untrusted secret is refused to others."""
    allowed: list[FrozenSecret] = []
    refused: list[RefusedSecret] = []
    for secret in job.secrets:
        if secret.trusted:
            allowed.append(secret)
        elif not pipeline_post_review:
            refused.append(
                RefusedSecret(
                    secret,
                    f'job "{job.name}" uses the secret "{secret.secret}" of the untrusted '
                    f"project {secret.project}, which only a post-review pipeline "
                    "(one that runs after approval, such as gate or post) may decrypt",
                )
            )
        elif project is not None and project != secret.project:
            refused.append(
                RefusedSecret(
                    secret,
                    f'job "{job.name}" uses the secret "{secret.secret}" of the untrusted '
                    f"project {secret.project}; a build of {project} may not decrypt it "
                    "(an untrusted secret is for its own project only)",
                )
            )
        else:
            allowed.append(secret)
    return SecretAccess(tuple(allowed), tuple(refused))


# --- masking -------------------------------------------------------------------


def mask_needles(secret_values: Iterable[str]) -> list[str]:
    """What to look for in a log: each whole value, and each line of a
    multi-line value (a log prints lines with its own prefixes and line ends)."""
    needles: set[str] = set()
    for value in secret_values:
        whole = value.strip()
        if whole:  # surrounding whitespace is not secret, and keeps the log's lines
            needles.add(whole)
        lines = [line.strip() for line in value.splitlines()]
        if len(lines) > 1:
            needles.update(line for line in lines if len(line) >= MIN_MASKED_LINE)
    return sorted(needles, key=len, reverse=True)


def mask(text: str, secret_values: Iterable[str]) -> str:
    """`text` with every occurrence of a secret value, or of a line of one,
    replaced by `******`. Occurrences that overlap or touch are merged first,
    so no part of either value is left showing between two masks."""
    return _mask(text, mask_needles(secret_values))


class Masker:
    """`mask` for one build's values, their needles worked out once: the log
    writers call it for every line."""

    def __init__(self, secret_values: Iterable[str]) -> None:
        self.needles = mask_needles(secret_values)

    def __bool__(self) -> bool:
        return bool(self.needles)

    def text(self, text: str) -> str:
        return _mask(text, self.needles)

    def data(self, value: Any) -> Any:
        """`value` (JSON-like: maps, lists, scalars) with every string masked,
        keys included; masking the data rather than its JSON text also catches
        values that JSON would escape (quotes, new lines)."""
        if not self.needles:
            return value
        if isinstance(value, str):
            return _mask(value, self.needles)
        if isinstance(value, Mapping):
            return {self.data(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def _mask(text: str, needles: Sequence[str]) -> str:
    if not needles or not text:
        return text
    spans: list[tuple[int, int]] = []
    for needle in needles:
        start = text.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = text.find(needle, start + 1)
    if not spans:
        return text
    spans.sort()
    merged: list[list[int]] = [list(spans[0])]
    for start, end in spans[1:]:
        last = merged[-1]
        if start <= last[1]:
            last[1] = max(last[1], end)
        else:
            merged.append([start, end])
    parts: list[str] = []
    position = 0
    for start, end in merged:
        parts.append(text[position:start])
        parts.append(MASK)
        position = end
    parts.append(text[position:])
    return "".join(parts)
