"""`lockgate encrypt`: encrypt a value for a project's Zuul secret, as
`zuul-client encrypt` does, and print the YAML to paste into `zuul.yaml`."""

from __future__ import annotations

import argparse
import sys
import textwrap
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from lockgate.adapters.secret_keys import SecretKeyError, SecretKeys, encrypt_with_public_pem
from lockgate.adapters.site import Site, SiteError
from lockgate.core.secrets import ENCRYPTED_TAG


def register(commands: Any) -> None:
    encrypt = commands.add_parser(
        "encrypt",
        help="encrypt a value for a project's secret",
        description=(
            "Encrypt a value (read from standard input or --infile) with the public key of "
            "a project, fetched from the server's API (--url) or read from the site's key "
            "store (--site), and print a `secret` definition ready to paste into the "
            "project's zuul.yaml. Leading and trailing whitespace is stripped unless "
            "--no-strip is given."
        ),
    )
    encrypt.add_argument("--tenant", default="main", help="the tenant the project is in")
    encrypt.add_argument("--project", required=True, help="the project whose jobs use the secret")
    encrypt.add_argument("--infile", type=Path, help="read the value from this file")
    encrypt.add_argument("--outfile", type=Path, help="write the YAML here instead of stdout")
    where = encrypt.add_mutually_exclusive_group()
    where.add_argument("--url", help="the server's URL; the key comes from its API")
    where.add_argument(
        "--site", type=Path, help="a site folder; the key comes from its key store (default: site)"
    )
    encrypt.add_argument("--secret-name", default="<name>", help="the secret's name in the YAML")
    encrypt.add_argument("--field-name", default="<fieldname>", help="the data key of the value")
    encrypt.add_argument("--no-strip", action="store_true", help="keep surrounding whitespace")
    encrypt.set_defaults(run=_encrypt)


def _public_key(args: argparse.Namespace) -> bytes:
    if args.url is not None:
        base = args.url.rstrip("/")
        scheme = urllib.parse.urlsplit(base).scheme
        if scheme not in ("http", "https"):
            raise SiteError(f"--url {args.url}: expected an http:// or https:// URL")
        if scheme == "http":
            print(
                "lockgate: warning: fetching the key over plain HTTP; "
                "someone between you and the server could swap it",
                file=sys.stderr,
            )
        tenant = urllib.parse.quote(args.tenant, safe="")
        project = urllib.parse.quote(args.project, safe="/")
        url = f"{base}/api/tenant/{tenant}/key/{project}.pub"
        try:
            response = httpx.get(url, timeout=60)
        except httpx.HTTPError as error:
            raise SiteError(f"cannot fetch the key from {url}: {error}") from error
        if response.status_code != 200:
            raise SiteError(
                f"cannot fetch the key from {url}: {response.status_code} {response.text.strip()}"
            )
        return response.content
    site = Site(args.site if args.site is not None else Path("site"))
    if not site.exists():
        raise SiteError(f"{site.root} is not a lockgate site: pass --site or --url")
    return SecretKeys.of_site(site.root).public_pem(args.project)


def render(secret_name: str, field_name: str, chunks: list[str]) -> str:
    """The YAML Zuul's tools print: long chunks wrapped at 79 columns
    (a plain scalar folds them back, and whitespace is not part of a chunk)."""
    lines = [
        "- secret:",
        f"    name: {secret_name}",
        "    data:",
        f"      {field_name}: {ENCRYPTED_TAG}",
    ]
    wrap = textwrap.TextWrapper(width=79, initial_indent=" " * 8, subsequent_indent=" " * 10)
    lines.extend(wrap.fill("- " + chunk) for chunk in chunks)
    return "\n".join(lines) + "\n"


def _encrypt(args: argparse.Namespace) -> int:
    if args.infile is not None:
        try:
            plaintext = args.infile.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            print(f"lockgate: cannot read {args.infile}: {error}", file=sys.stderr)
            return 1
    else:
        plaintext = sys.stdin.read()
    if not args.no_strip:
        plaintext = plaintext.strip()
    try:
        pem = _public_key(args)
        chunks = encrypt_with_public_pem(pem, plaintext, f"the key of {args.project}")
    except SecretKeyError as error:
        print(f"lockgate: {error}", file=sys.stderr)
        return 1
    output = render(args.secret_name, args.field_name, chunks)
    if args.outfile is not None:
        args.outfile.write_text(output)
    else:
        sys.stdout.write(output)
    return 0
