"""Editions whose send stopped for a person to fix: state 'halted' with the German reason.

`halt_reason` says what to change (a variable, a file, the SendGrid key), `halted_at`
since when; both are cleared when staff resume the send ("Versand fortsetzen"). The state
column is a string already: 'halted' needs no change there.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("editions") as batch:
        batch.add_column(sa.Column("halt_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("halted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # a halted edition goes back to what older code shows: sending, resumed by send-due
    op.execute("UPDATE editions SET state = 'sending' WHERE state = 'halted'")
    with op.batch_alter_table("editions") as batch:
        batch.drop_column("halted_at")
        batch.drop_column("halt_reason")
