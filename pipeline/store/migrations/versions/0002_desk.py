"""The editorial desk: staff users, annotations, audit log, editions, full-text search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import html
import re

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TAG = re.compile(r"<[^>]+>")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "annotations",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("comment_md", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_annotations_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_annotations")),
    )
    op.create_table(
        "editions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("newsletter_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_editor", sa.String(length=100), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editions")),
    )
    op.create_index("ix_editions_newsletter_id", "editions", ["newsletter_id"])
    op.create_index("ix_editions_state", "editions", ["state"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("edition_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_audit_log_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_audit_log_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_item_id", "audit_log", ["item_id"])
    op.create_index("ix_audit_log_edition_id", "audit_log", ["edition_id"])
    op.create_table(
        "edition_sections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_sections_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edition_sections")),
    )
    op.create_index("ix_edition_sections_edition_id", "edition_sections", ["edition_id"])
    op.create_table(
        "edition_items",
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_edition_items_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_edition_items_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["edition_sections.id"],
            name=op.f("fk_edition_items_section_id_edition_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("edition_id", "item_id", name=op.f("pk_edition_items")),
    )
    op.add_column("items", sa.Column("search_text", sa.Text(), nullable=True))
    _backfill_search_text()
    _create_full_text_index()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("items_fts_ai", "items_fts_ad", "items_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS items_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_items_search_text_fts")
    # Plain ALTER TABLE (SQLite ≥ 3.35 has DROP COLUMN): a batch copy of `items` would
    # drop and recreate the table, and with foreign keys on that cascades to its children.
    op.execute("ALTER TABLE items DROP COLUMN search_text")
    op.drop_table("edition_items")
    op.drop_table("edition_sections")
    op.drop_table("audit_log")
    op.drop_table("editions")
    op.drop_table("annotations")
    op.drop_table("users")


def _backfill_search_text() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, title, summary_html FROM items")).fetchall()
    for item_id, title, summary_html in rows:
        text = html.unescape(_TAG.sub(" ", summary_html or ""))
        bind.execute(
            sa.text("UPDATE items SET search_text = :t WHERE id = :id"),
            {"t": f"{title}\n{' '.join(text.split())}", "id": item_id},
        )


def _create_full_text_index() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # External-content FTS5 over items.search_text; umlauts folded (ä = a), so
        # "Forderung" also finds "Förderung"; the query adds prefix matching.
        op.execute(
            "CREATE VIRTUAL TABLE items_fts USING fts5("
            "search_text, content='items', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN "
            "INSERT INTO items_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute(
            "CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN "
            "INSERT INTO items_fts(items_fts, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); END"
        )
        op.execute(
            "CREATE TRIGGER items_fts_au AFTER UPDATE OF search_text ON items BEGIN "
            "INSERT INTO items_fts(items_fts, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); "
            "INSERT INTO items_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
    else:
        # German stemming: "Förderprogramme" finds "Förderprogramm".
        op.execute(
            "CREATE INDEX ix_items_search_text_fts ON items "
            "USING gin (to_tsvector('german', coalesce(search_text, '')))"
        )
