"""Item sightings: which sources carried an item, so a filter by source finds all of them.

Before, an item belonged to the source that fetched it first (items.source_id, and the
source of each version); a second source carrying the same entry left no trace. The
backfill takes what is known: the item's own source and the source of every version,
each with the earliest first and the latest last sighting.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "item_sightings",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_sightings_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_item_sightings_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("item_id", "source_id", name=op.f("pk_item_sightings")),
    )
    op.create_index("ix_item_sightings_source_id", "item_sightings", ["source_id"])
    op.execute(
        "INSERT INTO item_sightings (item_id, source_id, first_seen, last_seen)"
        " SELECT item_id, source_id, MIN(first_seen), MAX(last_seen) FROM ("
        "  SELECT id AS item_id, source_id, fetched_at AS first_seen, fetched_at AS last_seen"
        "  FROM items"
        "  UNION ALL"
        "  SELECT item_id, source_id, first_seen, last_seen FROM item_versions"
        " ) AS seen GROUP BY item_id, source_id"
    )


def downgrade() -> None:
    op.drop_index("ix_item_sightings_source_id", table_name="item_sightings")
    op.drop_table("item_sightings")
