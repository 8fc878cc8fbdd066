"""Senders: who is sending an edition right now, with a lease, and how each send ended.

A sender (one `eudigest send` or `send-due` process at work on one edition) registers a
row and renews its lease while it runs; the delivery rows it claims name it
(`deliveries.sender_id`). Recovery after a crash touches only the rows of senders that
are gone (lease expired, ended, or their process known dead on this host), never a live
sender's. The row also tells `status` how the last send of an edition ended (stopped
early, refused key) at once.

Rows claimed before this migration have no sender: they count as orphaned.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "senders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("beat_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("queued", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"], ["editions.id"], name=op.f("fk_senders_edition_id_editions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_senders")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_senders_edition_id", "senders", ["edition_id", "id"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("sender_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("sender_id")
    op.drop_index("ix_senders_edition_id", table_name="senders")
    op.drop_table("senders")
