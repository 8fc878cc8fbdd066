"""Indexes for a larger office: 50,000 items and 100,000 subscribers.

Measured with bench/scale_bench.py (EXPLAIN ANALYZE on PostgreSQL):

- PostgreSQL: items (status, score, published, id) and (score, published, id), where
  score is coalesce(suggestion, relevance): the inbox's order "by relevance" (its
  default view) reads the first page straight from the index instead of sorting every
  new item. Not on SQLite, whose reflection cannot read expression indexes (every
  schema comparison would warn about them) and which serves a smaller office;
- items.fetched_at, deliveries.sent_at, webhook_events.occurred_at: the status page's
  counts per day read only the window of their time column;
- items (status, source_id): the learning figures of the status page (decisions per
  status, the office's own items left out) from the index alone;
- items.doc_type, item_versions.language: the inbox's filter lists skip from one value
  to the next (`store.base.distinct_values`) instead of reading every row;
- PostgreSQL only: trigram indexes (pg_trgm) on the subscriber list's search columns,
  so "müller" finds its rows without reading 100,000. Where the extension cannot be
  created (no privilege), the search stays a scan and the upgrade goes on.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

SCORE = "(coalesce(suggestion, relevance)) DESC, published DESC, id DESC"
TRIGRAM = {
    "ix_subscribers_email_trgm": "email",
    "ix_subscribers_name_trgm": "lower(name)",
    "ix_subscribers_organisation_trgm": "lower(organisation)",
}


def upgrade() -> None:
    op.create_index("ix_items_fetched_at", "items", ["fetched_at"])
    op.create_index("ix_items_doc_type", "items", ["doc_type"])
    op.create_index("ix_items_status_source_id", "items", ["status", "source_id"])
    op.create_index("ix_item_versions_language", "item_versions", ["language"])
    op.create_index("ix_deliveries_sent_at", "deliveries", ["sent_at"])
    op.create_index("ix_webhook_events_occurred_at", "webhook_events", ["occurred_at"])
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_items_status_score ON items (status, {SCORE})")
    op.execute(f"CREATE INDEX ix_items_score ON items ({SCORE})")
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm not available, subscriber search stays a scan: %s", exc.orig)
        return
    for name, expression in TRIGRAM.items():
        op.execute(f"CREATE INDEX {name} ON subscribers USING gin ({expression} gin_trgm_ops)")


def downgrade() -> None:
    for name in TRIGRAM:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP INDEX IF EXISTS ix_items_score")
    op.execute("DROP INDEX IF EXISTS ix_items_status_score")
    op.drop_index("ix_webhook_events_occurred_at", "webhook_events")
    op.drop_index("ix_deliveries_sent_at", "deliveries")
    op.drop_index("ix_item_versions_language", "item_versions")
    op.drop_index("ix_items_status_source_id", "items")
    op.drop_index("ix_items_doc_type", "items")
    op.drop_index("ix_items_fetched_at", "items")
