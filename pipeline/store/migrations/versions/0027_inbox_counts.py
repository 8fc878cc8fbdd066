"""Indexes for the inbox's counts at 50,000 items (bench/scale_bench.py, EXPLAIN ANALYZE
on PostgreSQL):

- items.deferred_until, partial (only items ever put off): "Später (n)" on every inbox
  page counted the new items put off beyond now by reading the whole table (27 ms at
  50,000 items, and as much again for the page of one item it also fetched); now it
  reads the few index entries past now (0.03 ms);
- items (status, id), on PostgreSQL with deferred_until as an included column: a count
  of the inbox with a filter that is a semi-join on the item id (topic, source,
  language) reads the ids of the status from the index alone instead of every row
  (the topic filter's count: 41 ms → 8 ms). SQLite gets (status, id) without the
  included column, which it does not know.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

PUT_OFF = sa.text("deferred_until IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_items_deferred_until",
        "items",
        ["deferred_until"],
        postgresql_where=PUT_OFF,
        sqlite_where=PUT_OFF,
    )
    op.create_index(
        "ix_items_status_id", "items", ["status", "id"], postgresql_include=["deferred_until"]
    )


def downgrade() -> None:
    op.drop_index("ix_items_status_id", "items")
    op.drop_index("ix_items_deferred_until", "items")
