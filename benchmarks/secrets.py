"""Secrets: masking a build log, and decrypting with a 4096-bit project key.

    .venv/bin/python -m benchmarks.secrets [--megabytes 20] [--values 20]

Masking: a log of ansible-like lines with the secret values sprinkled in,
against the same log passed through one `str.replace` per value (the floor,
which does not merge overlaps nor mask lines of multi-line values).
Decryption: one chunk with the key store, against one OAEP decryption done
directly with `cryptography` (the floor). Goal: masking within 3x of the floor.
"""

from __future__ import annotations

import argparse
import base64
import random
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from lockgate.adapters.secret_keys import SecretKeys
from lockgate.core.secrets import MASK, mask


def _log(megabytes: int, values: list[str]) -> str:
    rng = random.Random(5)
    words = ["TASK", "ok:", "changed:", "[node]", "pip", "install", "tox", "-e", "py311", "=>"]
    lines: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        line = " ".join(rng.choice(words) for _ in range(12))
        if rng.random() < 0.01:
            line += " " + rng.choice(values)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _best(fn: object, repeat: int = 3) -> float:
    assert callable(fn)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=20)
    parser.add_argument("--values", type=int, default=20)
    args = parser.parse_args()

    rng = random.Random(7)
    values = [
        "".join(rng.choice("abcdefXYZ0123456789") for _ in range(24)) for _ in range(args.values)
    ]
    values.append("-----BEGIN KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END KEY-----")
    log = _log(args.megabytes, values)

    def floor() -> str:
        text = log
        for value in values:
            text = text.replace(value, MASK)
        return text

    masked = mask(log, values)
    assert all(v not in masked for v in values[:-1])
    base = _best(floor)
    ours = _best(lambda: mask(log, values))
    print(f"masking {args.megabytes} MB, {len(values)} values: {ours * 1000:.0f} ms")
    print(f"  floor (str.replace per value): {base * 1000:.0f} ms; ratio {ours / base:.2f}x")
    print(f"  throughput {args.megabytes / ours:.0f} MB/s")

    with tempfile.TemporaryDirectory() as folder:
        keys = SecretKeys(Path(folder) / "keys")
        start = time.perf_counter()
        keys.public_pem("org/app")
        made = time.perf_counter() - start
        chunks = keys.encrypt("org/app", "x" * 470)
        private = keys.private_key("org/app")
        n = 50
        start = time.perf_counter()
        for _ in range(n):
            keys.decrypt("org/app", chunks)
        decrypt = (time.perf_counter() - start) / n
        ciphertext = base64.b64decode(chunks[0])
        oaep = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)
        start = time.perf_counter()
        for _ in range(n):
            private.decrypt(ciphertext, oaep)
        raw = (time.perf_counter() - start) / n
        print(f"making a 4096-bit project key: {made * 1000:.0f} ms (once per project)")
        print(
            f"decrypting one 470-byte chunk: {decrypt * 1000:.2f} ms; "
            f"floor (one OAEP decrypt by cryptography): {raw * 1000:.2f} ms; "
            f"ratio {decrypt / raw:.2f}x"
        )


if __name__ == "__main__":
    main()
