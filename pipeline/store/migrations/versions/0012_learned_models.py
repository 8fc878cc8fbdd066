"""Learning from the desk (issue 12, item 6): learned models and the items' suggestions.

- `learned_models`: every training, newest last, per output (relevance first): when, the
  cross-validated figures beside the rules', the verdict, and the model itself as JSON
  (vocabulary, idf weights, coefficients; never pickle) with the versions it was made by.
- `items.suggestion`: the score the desk orders by when a model is active (the rules'
  relevance blended with the model's probability); NULL: the rules' relevance counts.
- `items.suggested_by`: `rules` or `model`, shown on the inbox item.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "learned_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("output", sa.String(length=32), nullable=False),
        sa.Column("trained_at", TS, nullable=False),
        sa.Column("format_version", sa.Integer(), nullable=False),
        sa.Column("sklearn_version", sa.String(length=32), nullable=False),
        sa.Column("eudigest_version", sa.String(length=32), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("positives", sa.Integer(), nullable=False),
        sa.Column("negatives", sa.Integer(), nullable=False),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("folds", sa.Integer(), nullable=False),
        sa.Column("auc_model", sa.Float(), nullable=True),
        sa.Column("auc_rules", sa.Float(), nullable=True),
        sa.Column("auc_blended", sa.Float(), nullable=True),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_models")),
    )
    op.create_index(
        "ix_learned_models_output_id", "learned_models", ["output", "id"], unique=False
    )
    # plain ADD COLUMN: a batch (copy-and-move) of `items` would drop SQLite's FTS triggers
    op.add_column("items", sa.Column("suggestion", sa.Float(), nullable=True))
    op.add_column(
        "items",
        sa.Column("suggested_by", sa.String(length=8), nullable=False, server_default="rules"),
    )


def downgrade() -> None:
    for name in ("suggested_by", "suggestion"):
        if op.get_bind().dialect.name == "sqlite":  # SQLite ≥ 3.35; keeps the FTS triggers
            op.execute(f"ALTER TABLE items DROP COLUMN {name}")
        else:
            op.drop_column("items", name)
    op.drop_index("ix_learned_models_output_id", table_name="learned_models")
    op.drop_table("learned_models")
