"""Funding calls the reader may apply for.

- `item_eligibility`: a funding call's facets (programme, who may apply, type of action,
  budget, funding rate, German applicants), derived at ingest and corrected by staff
  (`edited_by`). Calls stored before this revision get theirs when their source
  changes them or staff fill them in; until then the digest says "siehe Aufruf".
- `subscribers.applicant_type`: what kind of applicant a subscriber is (NULL: follows
  from `org_type` where that is unambiguous).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_eligibility",
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("programme", sa.String(200), nullable=False, server_default=""),
        sa.Column("applicants", sa.String(200), nullable=False, server_default=""),
        sa.Column("action_type", sa.String(200), nullable=False, server_default=""),
        sa.Column("budget_eur", sa.BigInteger()),
        sa.Column("funding_rate", sa.Integer()),
        sa.Column("rate_note", sa.String(200), nullable=False, server_default=""),
        sa.Column("german_applicants", sa.Boolean()),
        sa.Column("edited_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("applicant_type", sa.String(20)))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("applicant_type")
    op.drop_table("item_eligibility")
