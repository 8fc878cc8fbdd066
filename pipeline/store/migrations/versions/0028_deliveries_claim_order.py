"""The claim's order in an index (issue 16, a send of 100,000 readers):

A claim takes the next queued rows of an edition in (segment_key, id) order, so that
one claim holds whole small segments. ix_deliveries_edition_state (edition_id, state)
found the queued rows but not their order: every claim read all of them and sorted
them to take 1,000 (the first claims of a 100,000 send sorted 100,000 rows each), and
on SQLite it did so holding the write lock that a second sender process waits for.
ix_deliveries_claim (edition_id, state, segment_key, id) gives the rows in order; a
claim reads the 1,000 it takes. It replaces the old index, of which it is an extension
(every statement that used that one uses this one): one index to update per change of
state, as before. In bench/ledger_bench.py's claim scenario: see the CHANGELOG.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_claim", "deliveries", ["edition_id", "state", "segment_key", "id"]
    )
    op.drop_index("ix_deliveries_edition_state", "deliveries")


def downgrade() -> None:
    op.create_index("ix_deliveries_edition_state", "deliveries", ["edition_id", "state"])
    op.drop_index("ix_deliveries_claim", "deliveries")
