"""Dossiers: a title in another language, and the Legislative Train page.

- `dossiers.title_other`, `dossiers.title_other_language`: when a source gives the
  procedure's title in neither German nor English, the first other language it has
  (French before the rest), and which one; titles fall back de → en → this.
- `dossiers.train_url`: the European Parliament's Legislative Train page of the file,
  only where a source (the EP API, an OEIL page) names one; never made up.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("title_other", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("title_other_language", sa.String(8), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("train_url", sa.String(500), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("train_url")
        batch.drop_column("title_other_language")
        batch.drop_column("title_other")
