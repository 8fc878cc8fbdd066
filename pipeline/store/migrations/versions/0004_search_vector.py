"""PostgreSQL: a stored tsvector column for full-text search.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

The expression index of 0002 was only used when the planner expected few rows; a
sequential scan then rebuilt every row's vector (about 100 ms for 5,000 items,
measured with bench/desk_bench.py). A stored generated column is computed once per
write and makes both the index scan and a sequential scan cheap. SQLite keeps FTS5.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE items ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        "(to_tsvector('german', coalesce(search_text, ''))) STORED"
    )
    op.execute("CREATE INDEX ix_items_search_vector ON items USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_items_search_text_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_items_search_vector")
    op.execute("ALTER TABLE items DROP COLUMN search_vector")
    op.execute(
        "CREATE INDEX ix_items_search_text_fts ON items "
        "USING gin (to_tsvector('german', coalesce(search_text, '')))"
    )
