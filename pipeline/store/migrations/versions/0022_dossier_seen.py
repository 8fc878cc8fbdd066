"""Staff see which events of a followed dossier are new to them.

- `dossier_follows.seen_event_id`: the newest event id of the dossier when that staff
  member last opened its page (or began to follow it). Events with a higher id are
  "neu" for them: the inbox, the Verfahren list and `eudigest dossiers --followed`
  count them. Existing follows start as seen through the dossier's newest event, so an
  upgrade marks nothing new.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossier_follows") as batch:
        batch.add_column(
            sa.Column("seen_event_id", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE dossier_follows SET seen_event_id = COALESCE("
        "(SELECT MAX(e.id) FROM dossier_events e"
        " WHERE e.dossier_id = dossier_follows.dossier_id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("dossier_follows") as batch:
        batch.drop_column("seen_event_id")
