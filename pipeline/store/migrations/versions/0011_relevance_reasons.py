"""Relevance reasons: why the rules give an item its relevance, in German, with the item.

A JSON list of short strings, strongest first ("offene Ausschreibung", "Thema
Förderprogramme", "Frist am 22.09.2026"). A reason that depends on today's date is
stored as its fact and worded when shown (pipeline.model.relevance.reasons_as_of).
Items stored before this migration have no reasons until they are fetched again or
reclassified; their relevance is the old rules' score.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch (copy-and-move) of `items` on SQLite
    # would drop the old table and, with foreign keys on, cascade to its dependents.
    op.add_column(
        "items",
        sa.Column("relevance_reasons", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("items", "relevance_reasons")  # SQLite ≥ 3.35 drops a column in place
