"""initial schema: sources, topics, items and their versions

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 06:40:06.069095
"""

from alembic import op
import sqlalchemy as sa


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("institution", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("adapter", sa.String(length=64), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_attempt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("next_try", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    op.create_table(
        "topics",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("label_de", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("summary_html", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("relevance", sa.Float(), nullable=False),
        sa.Column("family", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_items_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index("ix_items_family", ["family"], unique=False)
        batch_op.create_index("ix_items_published", ["published"], unique=False)
        batch_op.create_index("ix_items_source_id", ["source_id"], unique=False)
        batch_op.create_index("ix_items_status_published", ["status", "published"], unique=False)

    op.create_table(
        "item_deadlines",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_deadlines_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "date", "kind", name=op.f("pk_item_deadlines")),
    )
    with op.batch_alter_table("item_deadlines", schema=None) as batch_op:
        batch_op.create_index("ix_item_deadlines_date", ["date"], unique=False)

    op.create_table(
        "item_references",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_references_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "reference", name=op.f("pk_item_references")),
    )
    with op.batch_alter_table("item_references", schema=None) as batch_op:
        batch_op.create_index("ix_item_references_reference", ["reference"], unique=False)

    op.create_table(
        "item_topics",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_topics_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "topic_id", name=op.f("pk_item_topics")),
    )
    with op.batch_alter_table("item_topics", schema=None) as batch_op:
        batch_op.create_index("ix_item_topics_topic_id", ["topic_id"], unique=False)

    op.create_table(
        "item_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=700), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("summary_html", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_versions_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_item_versions_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_versions")),
        sa.UniqueConstraint("identity", name="uq_item_versions_identity"),
    )
    with op.batch_alter_table("item_versions", schema=None) as batch_op:
        batch_op.create_index("ix_item_versions_item_id", ["item_id"], unique=False)
        batch_op.create_index("ix_item_versions_url", ["url"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("item_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_item_versions_url")
        batch_op.drop_index("ix_item_versions_item_id")

    op.drop_table("item_versions")
    with op.batch_alter_table("item_topics", schema=None) as batch_op:
        batch_op.drop_index("ix_item_topics_topic_id")

    op.drop_table("item_topics")
    with op.batch_alter_table("item_references", schema=None) as batch_op:
        batch_op.drop_index("ix_item_references_reference")

    op.drop_table("item_references")
    with op.batch_alter_table("item_deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_item_deadlines_date")

    op.drop_table("item_deadlines")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_status_published")
        batch_op.drop_index("ix_items_source_id")
        batch_op.drop_index("ix_items_published")
        batch_op.drop_index("ix_items_family")

    op.drop_table("items")
    op.drop_table("topics")
    op.drop_table("sources")
