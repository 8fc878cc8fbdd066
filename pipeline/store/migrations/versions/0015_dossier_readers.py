"""Subscribers follow published dossiers; what their digests reported of them.

- `dossiers.published`: the office publishes a dossier (staff, `eudigest dossier
  publish`); only published ones are offered on the subscriber's preference page.
- `subscriber_dossiers`: a subscriber follows a dossier; `since_event_id` is the newest
  event id of the dossier when they began (older events are not news to them).
- `dossier_reports`: per edition, subscriber and dossier, the window of event ids
  (`after_event_id` < id <= `through_event_id`) the digest's block "Neues in Ihren
  Verfahren" reports. Frozen when the edition's deliveries are planned; a window
  counts as reported unless its delivery ended `failed` or `skipped`.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(
            sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "subscriber_dossiers",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("followed_at", TS, nullable=False),
        sa.Column("since_event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriber_dossiers_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_subscriber_dossiers_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "subscriber_id", "dossier_id", name=op.f("pk_subscriber_dossiers")
        ),
    )
    op.create_index("ix_subscriber_dossiers_dossier_id", "subscriber_dossiers", ["dossier_id"])
    op.create_table(
        "dossier_reports",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("after_event_id", sa.Integer(), nullable=False),
        sa.Column("through_event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_dossier_reports_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_dossier_reports_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_reports_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "edition_id", "subscriber_id", "dossier_id", name=op.f("pk_dossier_reports")
        ),
    )
    op.create_index(
        "ix_dossier_reports_subscriber_id", "dossier_reports", ["subscriber_id", "dossier_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_dossier_reports_subscriber_id", table_name="dossier_reports")
    op.drop_table("dossier_reports")
    op.drop_index("ix_subscriber_dossiers_dossier_id", table_name="subscriber_dossiers")
    op.drop_table("subscriber_dossiers")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("published")
