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
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("deferred_until", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("deferred_until")
    op.drop_table("saved_views")
