"""One review fact about one change, recorded in one transaction.

Every write to an existing change (a vote, an abandon, a topic, a submit)
opens a `ChangeWrite`: a write transaction holding the change's row lock, the
change and its current patch set as they were when the lock was taken, and
the means to add a change message and append the fact's event, so that the
fact, its message and its event commit or roll back together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from lockgate.adapters.db import change_store
from lockgate.adapters.db.account_store import accounts_by_ids
from lockgate.adapters.db.engine import write_transaction
from lockgate.adapters.db.event_store import append_event
from lockgate.core.review.events import ChangeEventSubject
from lockgate.core.review.model import Account, Change, ChangeMessage, PatchSet
from lockgate.services.clock import Clock
from lockgate.services.errors import NotFound


@dataclass
class ChangeWrite:
    conn: Connection
    now: int
    change: Change
    patch_set: PatchSet  # the current one when the lock was taken
    actor: Account | None
    public_url: str
    events: list[int] = field(default_factory=list)  # sequence numbers appended
    _people: dict[int, Account] = field(default_factory=dict)

    def update(self, **values: Any) -> Change:
        """Set columns of the change (and its `updated_at`); returns the change after."""
        change_store.update_change(self.conn, self.change.number, updated_at=self.now, **values)
        return self.reload()

    def reload(self) -> Change:
        change = change_store.get_change(self.conn, self.change.number)
        assert change is not None
        self.change = change
        sets = change_store.load_patch_sets(self.conn, [change.number], current_only=True)
        self.patch_set = sets[change.number][-1]
        return change

    def message(self, text: str, *, tag: str | None = None, patch_set: int | None = None) -> str:
        """Add a change message by the actor; returns its id."""
        message_id = uuid.uuid4().hex
        change_store.insert_message(
            self.conn,
            ChangeMessage(
                id=message_id,
                change_number=self.change.number,
                author_id=self.actor.id if self.actor else None,
                created_at=self.now,
                message=text,
                tag=tag,
                patch_set=self.patch_set.number if patch_set is None else patch_set,
            ),
        )
        change_store.touch_change(self.conn, self.change.number, self.now)
        return message_id

    def remember(self, account: Account) -> None:
        """An account as read in this transaction: `accounts` does not read it again."""
        self._people[account.id] = account

    def accounts(self, ids: list[int]) -> dict[int, Account]:
        """Accounts by id, each read once in this write."""
        missing = [i for i in ids if i not in self._people]
        if missing:
            self._people.update(accounts_by_ids(self.conn, missing))
        return {i: self._people[i] for i in ids if i in self._people}

    def subject(self, *, reload: bool = True) -> ChangeEventSubject:
        """The change as it is now in this transaction, for an event; `reload=False`
        when the write touched nothing an event shows (votes, messages, comments)."""
        change = self.reload() if reload else self.change
        people = self.accounts([change.owner_id, self.patch_set.uploader_id])
        return ChangeEventSubject(
            change=change,
            patch_set=self.patch_set,
            owner=people.get(change.owner_id),
            uploader=people.get(self.patch_set.uploader_id),
            public_url=self.public_url,
            now=self.now,
        )

    def event(
        self, build: Callable[[ChangeEventSubject], dict[str, Any]], *, reload: bool = True
    ) -> int:
        """Append the event `build` makes of the change as it now is (see `subject`)."""
        payload = build(self.subject(reload=reload))
        seq = append_event(
            self.conn,
            payload,
            now=self.now,
            project=self.change.project,
            change_number=self.change.number,
        )
        self.events.append(seq)
        return seq


class ChangeWriter:
    def __init__(self, engine: Engine, clock: Clock, public_url: str) -> None:
        self.engine = engine
        self.clock = clock
        self.public_url = public_url

    @contextmanager
    def write(self, number: int, actor: Account | None) -> Iterator[ChangeWrite]:
        """A write transaction on change `number`, which it locks first."""
        with self.transaction() as conn:
            change = change_store.get_change(conn, number, for_update=True)
            if change is None:
                raise NotFound(f"Not found: change {number}")
            sets = change_store.load_patch_sets(conn, [number], current_only=True)
            yield self.bind(conn, change, sets[number][-1], actor)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction for a caller that reads and locks the change itself
        (`load_changes(..., for_update=True)`) and then `bind`s it."""
        with write_transaction(self.engine) as conn:
            yield conn

    def bind(
        self, conn: Connection, change: Change, current: PatchSet, actor: Account | None
    ) -> ChangeWrite:
        """The write on `change`, read and locked in `conn`, whose current patch set
        is `current`."""
        return ChangeWrite(
            conn=conn,
            now=self.clock(),
            change=change,
            patch_set=current,
            actor=actor,
            public_url=self.public_url,
        )
