"""Alembic environment: runs on the connection the Store hands over."""

from __future__ import annotations

from alembic import context

from pipeline.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when alembic's own CLI is used
    raise SystemExit("run migrations with `eudigest init` (Store.upgrade), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
