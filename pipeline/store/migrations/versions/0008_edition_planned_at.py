"""Editions remember when their delivery ledger was planned: the audience is fixed once.

A resumed send (after a crash, or after staff chose "Erneut senden") sends only the rows
already in the ledger; nobody who confirmed after the first planning is added. Editions
that already have deliveries count as planned when they got their first row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE editions SET planned_at = ("
        "SELECT MIN(deliveries.created_at) FROM deliveries"
        " WHERE deliveries.edition_id = editions.id"
        ") WHERE planned_at IS NULL"
        " AND EXISTS (SELECT 1 FROM deliveries WHERE deliveries.edition_id = editions.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("planned_at")
