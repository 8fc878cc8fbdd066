"""Corrections of items in sent editions, and what each segment of an edition contained.

- `delivery_segments`: per edition and segment key, the ids of the items that segment's
  digest contained; written in the transaction that plans the edition's ledger.
- `corrections`: staff correct an item of a sent edition (old → new per field, or
  withdrawn), with a German reason, who and when, and how readers hear of it.
- `correction_notices`: one row per correction and reader who got the item; the notice's
  ledger (queued → claimed → sending → sent | failed | unknown | skipped), or `waiting`
  for the reader's next digest.
- `correction_reports`: which digest carries a waiting notice (frozen at planning).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "delivery_segments",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("segment_key", sa.String(64), nullable=False),
        sa.Column("item_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_delivery_segments_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("edition_id", "segment_key", name=op.f("pk_delivery_segments")),
    )
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("delivery", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_corrections_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_corrections_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    op.create_index("ix_corrections_edition_id", "corrections", ["edition_id"])
    op.create_index("ix_corrections_item_id", "corrections", ["item_id"])
    op.create_table(
        "correction_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claim_token", sa.String(64)),
        sa.Column("claimed_at", TS),
        sa.Column("sender_host", sa.String(200)),
        sa.Column("sender_pid", sa.Integer()),
        sa.Column("sender_key", sa.String(200)),
        sa.Column("lease_until", TS),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("message_id", sa.String(200)),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["corrections.id"],
            name=op.f("fk_correction_notices_correction_id_corrections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_notices")),
        sa.UniqueConstraint(
            "correction_id", "subscriber_id", name="uq_correction_notices_correction_id"
        ),
    )
    op.create_index(
        "ix_correction_notices_state", "correction_notices", ["state", "correction_id"]
    )
    op.create_index(
        "ix_correction_notices_subscriber_id", "correction_notices", ["subscriber_id"]
    )
    op.create_table(
        "correction_reports",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("correction_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_correction_reports_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["correction_id"],
            ["corrections.id"],
            name=op.f("fk_correction_reports_correction_id_corrections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "edition_id", "subscriber_id", "correction_id", name=op.f("pk_correction_reports")
        ),
    )
    op.create_index(
        "ix_correction_reports_correction_id",
        "correction_reports",
        ["correction_id", "subscriber_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_correction_reports_correction_id", table_name="correction_reports")
    op.drop_table("correction_reports")
    op.drop_index("ix_correction_notices_subscriber_id", table_name="correction_notices")
    op.drop_index("ix_correction_notices_state", table_name="correction_notices")
    op.drop_table("correction_notices")
    op.drop_index("ix_corrections_item_id", table_name="corrections")
    op.drop_index("ix_corrections_edition_id", table_name="corrections")
    op.drop_table("corrections")
    op.drop_table("delivery_segments")
