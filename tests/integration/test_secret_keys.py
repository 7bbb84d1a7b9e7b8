"""Projects' secret keys in a site, and decrypting secrets for a build: a key
is made once and kept, values encrypted the way Zuul's tools do decrypt, and
a value encrypted for one project does not open with another's key."""

from __future__ import annotations

import base64
import shutil
import stat
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.adapters.config_yaml import load_yaml
from lockgate.adapters.secret_keys import SecretKeyError, SecretKeys
from lockgate.core.config.frozen import FrozenJob, FrozenPlaybook, FrozenSecret
from lockgate.core.config.objects import SecretDef
from lockgate.core.config.parse import parse_config
from lockgate.core.config.source import Source
from lockgate.core.gating.actions import StartBuild
from lockgate.core.gating.changes import Change, Ref
from lockgate.core.secrets import MASK
from lockgate.services.secrets import SecretService, SecretsUnavailable, item_project

# what `openssl rsautl -encrypt -oaep -pubin -inkey` (encrypt_secret.py) does
OPENSSL_OAEP_SHA1 = (
    "openssl",
    "pkeyutl",
    "-encrypt",
    "-pubin",
    "-pkeyopt",
    "rsa_padding_mode:oaep",
)
OPENSSL_OAEP_SHA1 += ("-pkeyopt", "rsa_oaep_md:sha1", "-inkey")
BITS = 2048  # 4096 in a site; smaller keys keep these stories quick


@pytest.fixture(scope="module")
def small_keys(tmp_path_factory: pytest.TempPathFactory) -> SecretKeys:
    """One 1024-bit key (the smallest `cryptography` makes) for the property test."""
    return SecretKeys(tmp_path_factory.mktemp("small") / "keys", key_bits=1024)


@pytest.fixture
def keys(tmp_path: Path) -> SecretKeys:
    (tmp_path / "site").mkdir()
    return SecretKeys.of_site(tmp_path / "site", key_bits=BITS)


def test_a_key_is_made_once_owner_only_and_reused(tmp_path: Path, keys: SecretKeys) -> None:
    first = keys.public_pem("org/app")
    path = tmp_path / "site" / "keys" / "org" / "app.pem"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "site" / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "site" / "keys" / "org").stat().st_mode) == 0o700
    saved = path.read_bytes()
    # another store on the same site (another process, a restart) reads the same key
    again = SecretKeys.of_site(tmp_path / "site", key_bits=BITS)
    assert again.public_pem("org/app") == first
    assert path.read_bytes() == saved
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    assert keys.public_pem("org/other") != first


def test_a_value_round_trips_through_many_chunks(keys: SecretKeys) -> None:
    # 1200 UTF-8 bytes in pieces of 214: pieces end inside a character, and
    # the value is whole again only when the pieces are joined before decoding
    value = "ü-" * 400
    chunks = keys.encrypt("org/app", value)
    assert len(chunks) == 6
    assert keys.decrypt("org/app", chunks) == value
    assert keys.decrypt("org/app", keys.encrypt("org/app", "")) == ""


def test_another_projects_key_cannot_decrypt(keys: SecretKeys) -> None:
    chunks = keys.encrypt("org/a", "for a only")
    with pytest.raises(SecretKeyError) as raised:
        keys.decrypt("org/b", chunks)
    assert str(raised.value) == (
        "chunk 1 of 1 cannot be decrypted with the key of project org/b: it was encrypted "
        "for another project's key, or changed since; encrypt it again with "
        "`lockgate encrypt --project org/b`"
    )


def test_a_damaged_key_file_is_named(tmp_path: Path, keys: SecretKeys) -> None:
    keys.public_pem("org/app")
    path = keys.path("org/app")
    path.write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SecretKeyError, match=rf"the secret key {path} is damaged"):
        SecretKeys.of_site(tmp_path / "site", key_bits=BITS).public_pem("org/app")


def test_a_project_name_cannot_leave_the_keys_folder(keys: SecretKeys) -> None:
    for name in ("../escape", "/etc/passwd", "org//app", ""):
        with pytest.raises(SecretKeyError, match="not a project name"):
            keys.path(name)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_value_encrypted_as_zuuls_encrypt_secret_does_decrypts(
    tmp_path: Path, keys: SecretKeys
) -> None:
    """encrypt_secret.py: openssl OAEP (SHA-1) over pieces of key bytes - 42, each
    base64, printed wrapped at 79 columns under `!encrypted/pkcs1-oaep`."""
    pub = tmp_path / "app.pub"
    pub.write_bytes(keys.public_pem("org/app"))
    plaintext = ("s3cr3t-" * 60).encode()  # 420 bytes: two pieces of 214
    max_bytes = BITS // 8 - 42
    chunks = []
    for start in range(0, len(plaintext), max_bytes):
        encrypted = subprocess.run(
            [*OPENSSL_OAEP_SHA1, str(pub)],
            input=plaintext[start : start + max_bytes],
            capture_output=True,
            check=True,
        ).stdout
        chunks.append(base64.b64encode(encrypted).decode())
    assert len(chunks) == 2
    wrap = textwrap.TextWrapper(width=79, initial_indent=" " * 8, subsequent_indent=" " * 10)
    yaml_text = (
        "- secret:\n    name: app-token\n    data:\n      token: !encrypted/pkcs1-oaep\n"
        + "".join(wrap.fill("- " + chunk) + "\n" for chunk in chunks)
    )
    [secret] = _secrets(yaml_text)
    job = _job(FrozenSecret("token", "app-token", "org/app", trusted=False))
    built = SecretService(keys).for_build(
        job, pipeline_post_review=True, secrets={"app-token": secret}
    )
    assert built.variables == {"token": {"token": plaintext.decode()}}


def _secrets(text: str) -> list[SecretDef]:
    source = Source("org/app", "master", "zuul.yaml", trusted=False)
    parsed = parse_config(load_yaml(text, source), source, connections={})
    assert not parsed.errors, [e.render() for e in parsed.errors]
    return parsed.secrets


def _job(*secrets: FrozenSecret) -> FrozenJob:
    run = FrozenPlaybook(
        "org/app", "master", "playbooks/run.yaml", False, secrets=tuple(s.name for s in secrets)
    )
    return FrozenJob("publish", run=(run,), secrets=secrets)


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lockgate.cli.main", "encrypt", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_lockgate_encrypt_output_decrypts_through_the_service(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "lockgate.toml").write_text("")
    result = _cli(
        "--site", str(site), "--tenant", "main", "--project", "org/app",
        "--secret-name", "app-creds", "--field-name", "password",
        stdin="  correct horse battery staple\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "- secret:\n    name: app-creds\n    data:\n      password: !encrypted/pkcs1-oaep\n"
        "        - "
    )
    assert max(len(line) for line in result.stdout.splitlines()) <= 79
    [secret] = _secrets(result.stdout)
    keys = SecretKeys.of_site(site)  # the key the command made, 4096-bit
    key = serialization.load_pem_public_key(keys.public_pem("org/app"))
    assert getattr(key, "key_size", None) == 4096
    job = _job(FrozenSecret("creds", "app-creds", "org/app", trusted=False))
    built = SecretService(keys).for_build(
        job, pipeline_post_review=True, secrets={"app-creds": secret}.get, project="org/app"
    )
    assert built.variables == {"creds": {"password": "correct horse battery staple"}}
    assert built.for_playbook(job.run[0]) == built.variables
    assert built.mask("login: correct horse battery staple") == f"login: {MASK}"


def test_lockgate_encrypt_reads_a_file_and_keeps_whitespace_when_told(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "lockgate.toml").write_text("")
    value = tmp_path / "id_rsa"
    value.write_text("line one\nline two\n")
    out = tmp_path / "secret.yaml"
    result = _cli(
        "--site", str(site), "--project", "org/app", "--infile", str(value),
        "--no-strip", "--outfile", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [secret] = _secrets(out.read_text())
    plain = SecretKeys.of_site(site).decrypt("org/app", secret.data["<fieldname>"].value)
    assert plain == "line one\nline two\n"


def test_lockgate_encrypt_without_a_site_says_what_to_pass(tmp_path: Path) -> None:
    result = _cli("--site", str(tmp_path / "nowhere"), "--project", "org/app")
    assert result.returncode == 1
    assert "is not a lockgate site: pass --site or --url" in result.stderr


def test_a_secret_of_another_project_fails_the_build_with_a_clear_reason(
    keys: SecretKeys,
) -> None:
    chunks = keys.encrypt("org/a", "value")
    yaml_text = "- secret:\n    name: s\n    data:\n      v: !encrypted/pkcs1-oaep\n" + "".join(
        f"        - {chunk}\n" for chunk in chunks
    )
    [secret] = _secrets(yaml_text)
    job = _job(FrozenSecret("s", "s", "org/b", trusted=False))
    with pytest.raises(SecretsUnavailable) as raised:
        SecretService(keys).for_build(job, pipeline_post_review=True, secrets={"s": secret})
    message = str(raised.value)
    assert message.startswith("org/app/zuul.yaml@master:4:10: secret s: chunk 1 of 1")
    assert "cannot be decrypted with the key of project org/b" in message


def test_a_damaged_chunk_fails_the_build_naming_where_it_is(keys: SecretKeys) -> None:
    yaml_text = "- secret:\n    name: s\n    data:\n      v: !encrypted/pkcs1-oaep ab*cd\n"
    [secret] = _secrets(yaml_text)
    job = _job(FrozenSecret("s", "s", "org/app", trusted=False))
    with pytest.raises(SecretsUnavailable) as raised:
        SecretService(keys).for_build(job, pipeline_post_review=True, secrets={"s": secret})
    assert str(raised.value).startswith(
        "org/app/zuul.yaml@master:4:10: secret s: an !encrypted/pkcs1-oaep chunk is not base64"
    )


def test_keys_made_at_once_by_two_stores_end_as_one(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    stores = [SecretKeys.of_site(tmp_path / "site", key_bits=BITS) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        pems = list(pool.map(lambda store: store.public_pem("org/app"), stores))
    assert len(set(pems)) == 1
    assert stores[0].path("org/app").read_bytes()  # the one on disk
    assert SecretKeys.of_site(tmp_path / "site").public_pem("org/app") == pems[0]


@settings(max_examples=25, deadline=None)
@given(value=st.text(max_size=600))
def test_any_text_round_trips_through_a_real_key(small_keys: SecretKeys, value: str) -> None:
    assert small_keys.decrypt("p", small_keys.encrypt("p", value)) == value


def test_an_untrusted_secret_in_a_pre_review_pipeline_is_refused(keys: SecretKeys) -> None:
    job = _job(FrozenSecret("s", "s", "org/app", trusted=False))
    with pytest.raises(SecretsUnavailable, match="only a post-review pipeline"):
        SecretService(keys).for_build(job, pipeline_post_review=False, secrets={})
    assert not keys.exists("org/app")  # nothing was even decrypted


def test_a_secret_the_layout_lost_is_reported(keys: SecretKeys) -> None:
    job = _job(FrozenSecret("s", "gone", "config", trusted=True))
    with pytest.raises(SecretsUnavailable, match='"gone", which the layout no longer defines'):
        SecretService(keys).for_build(job, pipeline_post_review=False, secrets={})


def test_the_item_project_is_the_changes_or_the_refs() -> None:
    change = Change(
        "org/app", "master", 1, 1, "c" * 40, "refs/changes/01/1/1", "", "alice", "Fix", "Fix"
    )
    build = StartBuild("b", "i", "bs", "main", "gate", _job(), 1, (change,), None, 1, 0)
    assert item_project(build) == "org/app"
    ref = Ref("org/tag", "refs/tags/1.0", "0" * 40, "a" * 40)
    tagged = StartBuild("b", "i", "bs", "main", "release", _job(), 1, (), ref, 1, 0)
    assert item_project(tagged) == "org/tag"
