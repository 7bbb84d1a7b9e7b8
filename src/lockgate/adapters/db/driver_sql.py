"""Statements of the hottest paths, run on the database driver's own cursor.

Running a prebuilt SQLAlchemy Core statement costs about six times what the
driver itself spends on it: on SQLite, a one-row SELECT by key takes about
185,000 instructions through `Connection.execute` (cache lookup, execution
context, parameter and result processing, event dispatch) against 30,000
through the sqlite3 cursor. A vote runs a dozen such statements while it holds
the write lock, so that overhead was most of the lock's time.

`DriverStatement` compiles a Core statement once per dialect, then runs it on
the DBAPI connection of the SQLAlchemy connection it is given, inside the same
transaction, and returns its rows as named tuples, so that the row mappers of
`rows.py` read them as they read SQLAlchemy rows. What it leaves out is type
processing, so it takes only statements whose values need none: integers,
text and booleans (SQLite returns booleans as 0 and 1; the row mappers apply
`bool`). Expanding `IN` parameters are refused: their SQL differs per call.
Statements are checked for both when they are first compiled.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Connection, Integer, String
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import NullType

# Types whose values go to and come from the drivers as they are.
_PLAIN = (Integer, String, Boolean, NullType)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # of the parameters, in placeholder order when positional
    positional: bool  # SQLite's qmark; psycopg's pyformat is named
    fixed: dict[str, Any]  # values bound in the statement itself


class DriverStatement:
    def __init__(self, statement: Executable) -> None:
        assert isinstance(statement, ClauseElement)
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._rows: dict[str, Any] = {}  # named tuple classes, by dialect
        self._lock = threading.Lock()

    def _for(self, conn: Connection) -> _Compiled:
        name = conn.dialect.name
        found = self._compiled.get(name)
        if found is None:
            compiled = self._statement.compile(dialect=conn.dialect)
            assert isinstance(compiled, SQLCompiler)
            fixed: dict[str, Any] = {}
            for key, bind in compiled.binds.items():
                if bind.expanding:
                    raise TypeError(f"{key}: expanding IN is not for driver statements")
                if not isinstance(bind.type, _PLAIN):
                    raise TypeError(f"{key}: {bind.type!r} needs type processing")
                if not bind.required:  # a value bound in the statement (LIMIT's OFFSET 0)
                    fixed[key] = bind.value
            positional = bool(compiled.positional)
            names = (
                tuple(compiled.positiontup or ())
                if positional
                else tuple(dict.fromkeys(compiled.bind_names.values()))
            )
            found = _Compiled(compiled.string, names, positional, fixed)
            with self._lock:
                self._compiled[name] = found
        return found

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        compiled = self._for(conn)
        values = {**compiled.fixed, **params} if compiled.fixed else params
        try:
            if compiled.positional:
                args: Any = tuple(values[n] for n in compiled.names)
            else:
                args = {n: values[n] for n in compiled.names}
        except KeyError as missing:
            raise TypeError(f"a value is required for the parameter {missing}") from None
        driver = conn.connection.driver_connection
        assert driver is not None
        return driver.execute(compiled.sql, args)

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, as named tuples."""
        cursor = self._run(conn, params)
        rows = cursor.fetchall()
        if not rows:
            return []
        make = self._row_type(conn.dialect.name, cursor.description)
        return [make._make(row) for row in rows]

    def one_or_none(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        found = self.rows(conn, params)
        if len(found) > 1:
            raise ValueError(f"more than one row for {self._statement}")
        return found[0] if found else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self._run(conn, params).fetchone()
        return None if row is None else row[0]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """A statement that returns no rows; how many rows it changed."""
        count: int = self._run(conn, params).rowcount
        return count

    def _row_type(self, dialect: str, description: Any) -> Any:
        made = self._rows.get(dialect)
        if made is None:
            made = _row_class([column[0] for column in description])
            with self._lock:
                self._rows[dialect] = made
        return made


def _row_class(names: list[str]) -> Any:
    """Rows named by their columns; a name that is no identifier is an error
    here, when the statement first runs."""
    return namedtuple("Row", names)
