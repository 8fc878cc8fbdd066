"""Which entries were merged into an item by a shared cross-language key, and why.

`item_merges`: one row per item and incoming entry (its identity) that joined it by its
family key: another language version (`added_version` true; the version is in
item_versions too) or the same document again from another channel (false; only this
row and the sighting remember it). `key` is the family key ("IP/26/1692",
"EP:20260713IPR46512", "CELEX:32024R1234"), `rule` the name of the rule that found it
(pipeline/ingest/normalize.py TWIN_RULES, or press_number_text / procedure_text);
pipeline.model.merge_reason gives the German "why". Merges made before this revision
are not known and are not guessed.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "item_merges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=700), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("added_version", sa.Boolean(), nullable=False),
        sa.Column("merged_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_merges_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_item_merges_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_merges")),
        sa.UniqueConstraint("item_id", "identity", name=op.f("uq_item_merges_item_id")),
    )


def downgrade() -> None:
    op.drop_table("item_merges")
