"""Login throttling per client and per (client, name); sessions that logout ends.

- `login_throttle`: failed logins per key (a SHA-256 of the client, or of the client and
  the name typed), counted in a window, with the time the key is blocked until. Replaces
  the account lock (`users.failed_logins`, `users.locked_until` are no longer written).
- `users.session_version`: part of every desk session id; logout and a new password
  raise it, so a session cookie copied before stops working at once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("blocked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
