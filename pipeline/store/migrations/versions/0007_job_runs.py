"""Job runs claimed by the scheduler (one row per job and scheduled time) and its heartbeats.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("run_key", sa.String(length=64), nullable=False),
        sa.Column("scheduled_for", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "run_key", name="uq_job_runs_job_run_key"),
    )
    op.create_index("ix_job_runs_job_scheduled_for", "job_runs", ["job", "scheduled_for"])
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("beat_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_scheduler_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_heartbeats")
    op.drop_index("ix_job_runs_job_scheduled_for", table_name="job_runs")
    op.drop_table("job_runs")
