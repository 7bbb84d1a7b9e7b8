"""A maintainer fetches their project's public key from the server, as Zuul's
tools do, encrypts a value with `lockgate encrypt --url`, and the server's own
key opens it."""

from __future__ import annotations

import subprocess
import sys

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lockgate.adapters.config_yaml import load_yaml
from lockgate.adapters.secret_keys import SecretKeys
from lockgate.core.config.parse import parse_config
from lockgate.core.config.source import Source
from lockgate.testing.server import LiveServer

ENCRYPT = (sys.executable, "-m", "lockgate.cli.main", "encrypt")


def test_the_key_endpoint_serves_a_4096_bit_pem_and_keeps_it(sqlite_server: LiveServer) -> None:
    sqlite_server.services.projects.create("org/app")
    url = f"{sqlite_server.url}api/tenant/main/key/org/app.pub"
    response = httpx.get(url, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.text.startswith("-----BEGIN PUBLIC KEY-----\n")
    key = serialization.load_pem_public_key(response.content)
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 4096
    # the percent-encoded form zuul-client may send names the same project and key
    again = httpx.get(f"{sqlite_server.url}api/tenant/main/key/org%2Fapp.pub", timeout=60)
    assert again.content == response.content
    assert (sqlite_server.site_path / "keys" / "org" / "app.pem").is_file()


def test_unknown_tenants_and_projects_are_not_found(sqlite_server: LiveServer) -> None:
    sqlite_server.services.projects.create("org/app")
    base = f"{sqlite_server.url}api/tenant"
    missing = httpx.get(f"{base}/main/key/org/nope.pub", timeout=10)
    assert missing.status_code == 404
    assert "project org/nope is not in tenant main" in missing.text
    assert httpx.get(f"{base}/other/key/org/app.pub", timeout=10).status_code == 404
    assert not (sqlite_server.site_path / "keys" / "org" / "nope.pem").exists()


def test_lockgate_encrypt_with_the_servers_key_decrypts_on_the_server(
    sqlite_server: LiveServer,
) -> None:
    sqlite_server.services.projects.create("org/app")
    result = subprocess.run(
        [
            *ENCRYPT,
            "--url",
            sqlite_server.url,
            "--tenant",
            "main",
            "--project",
            "org/app",
            "--secret-name",
            "pypi",
            "--field-name",
            "token",
        ],
        input="pypi-AgEIcHlwaS5vcmc\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "fetching the key over plain HTTP" in result.stderr
    source = Source("org/app", "master", "zuul.yaml", trusted=False)
    parsed = parse_config(load_yaml(result.stdout, source), source, connections={})
    [secret] = parsed.secrets
    assert secret.name == "pypi"
    keys = SecretKeys.of_site(sqlite_server.site_path)
    assert keys.decrypt("org/app", secret.data["token"].value) == "pypi-AgEIcHlwaS5vcmc"


def test_lockgate_encrypt_names_the_url_it_could_not_use(sqlite_server: LiveServer) -> None:
    result = subprocess.run(
        [*ENCRYPT, "--url", sqlite_server.url, "--project", "org/absent"],
        input="x",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert (
        f"cannot fetch the key from {sqlite_server.url}api/tenant/main/key/org/absent.pub: 404"
        in (result.stderr)
    )
