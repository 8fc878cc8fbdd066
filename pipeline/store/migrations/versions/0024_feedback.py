"""Reader feedback without tracking (issue 17).

- `feedback_answers`: one row per counted answer ("Hilfreich? Ja · Nein", "Mehr dazu
  bitte") of an item in an edition, with the reader's organisation type; a keyed hash of
  reader and item only while it is needed to count one answer per reader (30 days).
- `feedback_suggestions`: "Was fehlt Ihnen?" free text per edition, no reader.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op


TS = sa.DateTime(timezone=True)

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_answers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "edition_id",
            sa.Integer(),
            sa.ForeignKey("editions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("question", sa.String(8), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=False),
        sa.Column("org_type", sa.String(20), nullable=False, server_default=""),
        sa.Column("reader_hash", sa.String(64)),
        sa.Column("answered_on", TS, nullable=False),
        sa.UniqueConstraint(
            "reader_hash", "item_id", "question", name="uq_feedback_answers_reader"
        ),
    )
    op.create_index("ix_feedback_answers_edition_id", "feedback_answers", ["edition_id"])
    op.create_index("ix_feedback_answers_item_id", "feedback_answers", ["item_id"])
    op.create_table(
        "feedback_suggestions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "edition_id",
            sa.Integer(),
            sa.ForeignKey("editions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("org_type", sa.String(20), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index(
        "ix_feedback_suggestions_edition_id", "feedback_suggestions", ["edition_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_suggestions_edition_id", table_name="feedback_suggestions")
    op.drop_table("feedback_suggestions")
    op.drop_index("ix_feedback_answers_item_id", table_name="feedback_answers")
    op.drop_index("ix_feedback_answers_edition_id", table_name="feedback_answers")
    op.drop_table("feedback_answers")
