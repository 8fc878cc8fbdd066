"""The inbox remembers: saved views per staff member, and items put off until later.

- `saved_views`: "Meine Ansichten" — a staff member's named inbox filters (the query
  string of the inbox, its known filters only), unique per (user, name).
- `items.deferred_until`: "Später" — a new item put off leaves the default inbox until
  this instant (the start of the next day in the office's time zone); NULL: not put off.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),
    )
    # in place, not a batch copy of `items` (which would drop the FTS triggers on SQLite)
    op.add_column("items", sa.Column("deferred_until", TS, nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite ≥ 3.35; keeps the FTS triggers
        op.execute("ALTER TABLE items DROP COLUMN deferred_until")
    else:
        op.drop_column("items", "deferred_until")
    op.drop_table("saved_views")
