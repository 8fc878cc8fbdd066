"""Dossiers (Verfahrensakten): procedures, their aliases and events, threaded items, follows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("title_de", sa.Text(), nullable=False),
        sa.Column("title_en", sa.Text(), nullable=False),
        sa.Column("procedure_type", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("lead_committee", sa.String(length=200), nullable=False),
        sa.Column("rapporteur", sa.String(length=300), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint("reference", name="uq_dossiers_reference"),
    )
    op.create_index("ix_dossiers_stage", "dossiers", ["stage"])
    op.create_table(
        "dossier_aliases",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_aliases_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dossier_id", "alias", name=op.f("pk_dossier_aliases")),
    )
    op.create_index("ix_dossier_aliases_alias", "dossier_aliases", ["alias"])
    op.create_table(
        "dossier_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("label_en", sa.Text(), nullable=False),
        sa.Column("document", sa.String(length=200), nullable=False),
        sa.Column("forecast", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_events_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_events")),
        sa.UniqueConstraint("dossier_id", "source", "key", name="uq_dossier_events_dossier_id"),
    )
    op.create_index(
        "ix_dossier_events_dossier_id_date", "dossier_events", ["dossier_id", "date"]
    )
    op.create_table(
        "dossier_items",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("detached", sa.Boolean(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_items_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_dossier_items_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dossier_id", "item_id", name=op.f("pk_dossier_items")),
    )
    op.create_index("ix_dossier_items_item_id", "dossier_items", ["item_id"])
    op.create_table(
        "dossier_follows",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("followed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_follows_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dossier_id", "user_name", name=op.f("pk_dossier_follows")),
    )
    op.create_index("ix_dossier_follows_user_name", "dossier_follows", ["user_name"])


def downgrade() -> None:
    op.drop_index("ix_dossier_follows_user_name", table_name="dossier_follows")
    op.drop_table("dossier_follows")
    op.drop_index("ix_dossier_items_item_id", table_name="dossier_items")
    op.drop_table("dossier_items")
    op.drop_index("ix_dossier_events_dossier_id_date", table_name="dossier_events")
    op.drop_table("dossier_events")
    op.drop_index("ix_dossier_aliases_alias", table_name="dossier_aliases")
    op.drop_table("dossier_aliases")
    op.drop_index("ix_dossiers_stage", table_name="dossiers")
    op.drop_table("dossiers")
