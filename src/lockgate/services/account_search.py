"""`GET /accounts/?q=`: Gerrit's account query operators, all of them ANDed.

Supported: `username:`, `email:`, `name:` (substring), `is:active`,
`is:inactive`, and bare words, which match username, full name or email.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sqlalchemy import Engine

from lockgate.adapters.db.account_query import find_accounts
from lockgate.adapters.db.engine import read_transaction
from lockgate.core.review.model import Account
from lockgate.services.errors import BadRequest

_OPERATORS = ("username", "email", "name", "is")


@dataclass(frozen=True, slots=True)
class AccountPage:
    accounts: list[Account]
    more: bool


def search_accounts(
    engine: Engine, query: str, *, limit: int, start: int, viewer: Account | None
) -> AccountPage:
    try:
        words = shlex.split(query)
    except ValueError as error:
        raise BadRequest(f"malformed account query {query!r}: {error}") from error
    usernames: list[str] = []
    emails: list[str] = []
    names: list[str] = []
    texts: list[str] = []
    active: bool | None = None
    for word in words:
        if word.upper() == "AND":
            continue
        key, sep, value = word.partition(":")
        if not sep:
            texts.append(word)
            continue
        if key not in _OPERATORS or not value:
            raise BadRequest(
                f"unsupported account query term {word!r}: use "
                "username:NAME, email:ADDRESS, name:TEXT, is:active, is:inactive or plain words"
            )
        if key == "username":
            usernames.append(value)
        elif key == "email":
            emails.append(value)
        elif key == "name":
            names.append(value)
        elif value in ("active", "inactive"):
            active = value == "active"
        elif value == "self" and viewer is not None:
            usernames.append(viewer.username)
        else:
            raise BadRequest(
                f"unsupported account query term {word!r}: use is:active or is:inactive"
            )
    with read_transaction(engine) as conn:
        found = find_accounts(
            conn,
            usernames=usernames,
            emails=emails,
            names=names,
            texts=texts,
            active=active,
            limit=limit,
            start=start,
        )
    return AccountPage(found[:limit], len(found) > limit)
