"""Alembic environment: the engine comes from the caller, never from a file."""

from __future__ import annotations

from alembic import context

from lockgate.adapters.db.tables import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through `lockgate db upgrade`, which supplies the database")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
