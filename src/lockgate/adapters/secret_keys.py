"""Per-project RSA key pairs for Zuul secrets, kept in the site's `keys/` folder.

One private key per project, `keys/<project>.pem` (PKCS#8 PEM, mode 0600,
folders 0700), made the first time the project's key is asked for. Only this
server holds private keys; users encrypt with the public key the API serves.
Zuul uses 4096-bit keys; so does this store unless told otherwise (tests).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lockgate.core.secrets import decode_chunk, encode_chunk, split_plaintext

KEY_BITS = 4096
KEYS_FOLDER = "keys"


class SecretKeyError(RuntimeError):
    """A key cannot be made, read or used; the message says which and what to do."""


def _oaep() -> padding.OAEP:
    # SHA-1 as Zuul's tools (openssl rsautl -oaep) use; OAEP's security does
    # not rest on SHA-1's collision resistance.
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None
    )


def load_public_pem(pem: bytes, origin: str = "the public key") -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise SecretKeyError(f"{origin} is not a PEM public key ({error})") from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise SecretKeyError(f"{origin} is not an RSA key; Zuul secrets need RSA")
    return key


def encrypt_with_public_pem(
    pem: bytes, plaintext: str, origin: str = "the public key"
) -> list[str]:
    """`plaintext` as base64 chunks for an `!encrypted/pkcs1-oaep` list."""
    key = load_public_pem(pem, origin)
    return [
        encode_chunk(key.encrypt(piece, _oaep()))
        for piece in split_plaintext(plaintext.encode("utf-8"), key.key_size)
    ]


def _check_project(project: str) -> None:
    parts = project.split("/")
    if not project or project.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise SecretKeyError(f"{project!r} is not a project name a key can be kept for")


class SecretKeys:
    """The key store of one site."""

    def __init__(self, folder: Path, *, key_bits: int = KEY_BITS) -> None:
        self.folder = folder
        self.key_bits = key_bits
        self._lock = threading.Lock()
        self._cache: dict[str, rsa.RSAPrivateKey] = {}

    @classmethod
    def of_site(cls, site_root: Path, *, key_bits: int = KEY_BITS) -> SecretKeys:
        return cls(site_root / KEYS_FOLDER, key_bits=key_bits)

    def path(self, project: str) -> Path:
        _check_project(project)
        return self.folder / f"{project}.pem"

    def exists(self, project: str) -> bool:
        return self.path(project).is_file()

    def private_key(self, project: str) -> rsa.RSAPrivateKey:
        """The project's key, made and saved the first time."""
        with self._lock:
            key = self._cache.get(project)
            if key is None:
                path = self.path(project)
                key = self._read(path) if path.exists() else self._create(path)
                self._cache[project] = key
            return key

    def public_pem(self, project: str) -> bytes:
        return (
            self.private_key(project)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def encrypt(self, project: str, plaintext: str) -> list[str]:
        return encrypt_with_public_pem(self.public_pem(project), plaintext, f"the key of {project}")

    def decrypt(self, project: str, chunks: Sequence[str]) -> str:
        """The plaintext of an encrypted value; a clear error when it was not
        encrypted with this project's key."""
        key = self.private_key(project)
        data = bytearray()
        for index, chunk in enumerate(chunks, 1):
            ciphertext = decode_chunk(chunk)
            try:
                data += key.decrypt(ciphertext, _oaep())
            except ValueError as error:
                raise SecretKeyError(
                    f"chunk {index} of {len(chunks)} cannot be decrypted with the key of project "
                    f"{project}: it was encrypted for another project's key, or changed since; "
                    f"encrypt it again with `lockgate encrypt --project {project}`"
                ) from error
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SecretKeyError(
                f"a value decrypted with the key of project {project} is not UTF-8 text"
            ) from error

    # --- files ----------------------------------------------------------------

    def _read(self, path: Path) -> rsa.RSAPrivateKey:
        try:
            pem = path.read_bytes()
        except OSError as error:
            raise SecretKeyError(f"cannot read the secret key {path}: {error.strerror}") from error
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            raise SecretKeyError(
                f"the secret key {path} is damaged or not an unencrypted PEM private key "
                f"({error}); restore it from a backup (secrets encrypted for it cannot be "
                "read without it) or delete it to make a new key and re-encrypt its secrets"
            ) from error
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SecretKeyError(f"the secret key {path} is not an RSA key; Zuul secrets need RSA")
        return key

    def _create(self, path: Path) -> rsa.RSAPrivateKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=self.key_bits)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            self._make_folders(path.parent)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-", suffix=".pem")
        except OSError as error:
            raise SecretKeyError(
                f"cannot make the secret key {path}: {error.strerror}; "
                f"{self.folder} must be a folder the server may write"
            ) from error
        try:
            os.fchmod(handle, 0o600)
            os.write(handle, pem)
            os.fsync(handle)
            os.close(handle)
            try:
                # A link fails when another process made the key first; theirs wins.
                os.link(temporary, path)
            except FileExistsError:
                return self._read(path)
        finally:
            Path(temporary).unlink()
        return key

    def _make_folders(self, folder: Path) -> None:
        missing: list[Path] = []
        current = folder
        while not current.exists():
            missing.append(current)
            if current in (self.folder, current.parent):
                break
            current = current.parent
        for item in reversed(missing):
            with contextlib.suppress(FileExistsError):
                item.mkdir(mode=0o700)
            item.chmod(0o700)
