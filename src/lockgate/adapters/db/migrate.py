"""Schema migrations with Alembic, driven from code (no alembic.ini in the site)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(_config_without_engine())
    head = script.get_current_head()
    assert head is not None
    return head


def _config_without_engine() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(_config(engine), revision)


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    known: bool  # whether this code knows the database's revision

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_status(engine: Engine) -> SchemaStatus:
    script = ScriptDirectory.from_config(_config_without_engine())
    current = current_revision(engine)
    head = script.get_current_head()
    assert head is not None
    known = current is None or any(rev.revision == current for rev in script.walk_revisions())
    return SchemaStatus(current=current, head=head, known=known)
