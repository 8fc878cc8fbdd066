"""The tables of the store (SQLAlchemy Core, one MetaData).

Times are stored in UTC; `UTCDateTime` makes SQLite (which has no time zone
type) hand back aware datetimes like PostgreSQL's timestamptz does.
Idempotency lives here: an item version's identity is unique, so a re-fetch
can never create a second row for the same entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError(f"naive or non-datetime value for a UTC column: {value!r}")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, the stored text (UTC, as bound above) straight to an aware datetime:
        SQLAlchemy's parse and then `process_result_value` took 1.4 µs a value, and a send
        of 100,000 reads 300,000 of them before its first request."""
        generic = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return generic

        def process(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is str and len(value) == _SQLITE_DATETIME_CHARS:
                try:  # "2026-12-07 08:00:00.000000", what SQLAlchemy writes
                    return dt.datetime.fromisoformat(value + "+00:00")
                except ValueError:
                    pass
            return generic(value) if generic is not None else value  # anything else

        return process


_SQLITE_DATETIME_CHARS = len("2026-12-07 08:00:00.000000")


sources = Table(
    "sources",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("institution", String(300), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("language", String(8), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("adapter", String(64)),
    Column("topics", JSON, nullable=False, default=list),
    Column("options", JSON, nullable=False, default=dict),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("interval_minutes", Integer, nullable=False, default=60),
    # health
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("last_attempt", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("next_try", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

topics = Table(
    "topics",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("label_de", String(200), nullable=False),
    Column("label_en", String(200), nullable=False),
    Column("position", Integer, nullable=False, default=0),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(64), ForeignKey("sources.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("url", String(2000)),
    Column("summary_html", Text, nullable=False, default=""),
    Column("language", String(8), nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("doc_type", String(32), nullable=False),
    Column("status", String(16), nullable=False, default="new"),
    Column("relevance", Float, nullable=False, default=0.0),  # the rules' score
    # German reasons for it, strongest first (migration 0011; see pipeline.model.relevance)
    Column("relevance_reasons", JSON, nullable=False, default=list, server_default=text("'[]'")),
    Column("family", String(200)),
    # title(s), summary text and the office's annotation: what full-text search reads
    # (SQLite: the FTS5 table items_fts follows it by triggers; PostgreSQL: a GIN index
    # on to_tsvector('german', search_text)). Both are made in migration 0002.
    Column("search_text", Text),
    # learning from the desk (migration 0012): the blended score the desk orders by while
    # a model is active (NULL: the rules' relevance), and who suggested it (rules | model)
    Column("suggestion", Float),
    Column("suggested_by", String(8), nullable=False, default="rules", server_default="rules"),
    # "Später" (migration 0023): a new item put off leaves the default inbox until then
    Column("deferred_until", UTCDateTime),
    Index("ix_items_published", "published"),
    Index("ix_items_status_published", "status", "published"),
    Index("ix_items_family", "family"),
    Index("ix_items_source_id", "source_id"),
    Index("ix_items_fetched_at", "fetched_at"),
    Index("ix_items_doc_type", "doc_type"),
    Index("ix_items_status_source_id", "status", "source_id"),
    # migration 0027: "Später (n)" reads only the items ever put off; the inbox's counts
    # read the ids of a status from the index alone (PostgreSQL: with deferred_until)
    Index(
        "ix_items_deferred_until",
        "deferred_until",
        postgresql_where=text("deferred_until IS NOT NULL"),
        sqlite_where=text("deferred_until IS NOT NULL"),
    ),
    Index("ix_items_status_id", "status", "id", postgresql_include=["deferred_until"]),
)

item_versions = Table(
    "item_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("identity", String(700), nullable=False),
    Column("source_id", String(64), ForeignKey("sources.id"), nullable=False),
    Column("language", String(8), nullable=False),
    Column("title", Text, nullable=False),
    Column("url", String(2000)),
    Column("summary_html", Text, nullable=False, default=""),
    Column("content_hash", String(64), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    UniqueConstraint("identity", name="uq_item_versions_identity"),
    Index("ix_item_versions_item_id", "item_id"),
    Index("ix_item_versions_url", "url"),
    Index("ix_item_versions_language", "language"),
)

# Which sources carried an item (migration 0009): one row per item and source, refreshed by
# every ingest that sees the entry, also when another source's version already holds it.
# items.source_id stays the first source; filters by source match any sighting.
item_sightings = Table(
    "item_sightings",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", String(64), ForeignKey("sources.id"), primary_key=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Index("ix_item_sightings_source_id", "source_id"),
)

# Which entries joined an item by a shared cross-language key, and why (migration 0016): one
# row per item and incoming entry; `added_version` false is the same document from another
# channel (not stored as a version). `rule` names the rule that found `key`
# (ingest/normalize.py TWIN_RULES); pipeline.model.merge_reason says it in German.
item_merges = Table(
    "item_merges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("identity", String(700), nullable=False),
    Column("source_id", String(64), ForeignKey("sources.id"), nullable=False),
    Column("language", String(8), nullable=False),
    Column("url", String(2000)),
    Column("key", String(200), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("added_version", Boolean, nullable=False),
    Column("merged_at", UTCDateTime, nullable=False),
    UniqueConstraint("item_id", "identity"),
)

item_topics = Table(
    "item_topics",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", String(64), primary_key=True),
    Column("confidence", Float, nullable=False),
    Column("origin", String(16), nullable=False, default="auto"),
    Index("ix_item_topics_topic_id", "topic_id"),
)

item_references = Table(
    "item_references",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("reference", String(200), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Index("ix_item_references_reference", "reference"),
)

item_deadlines = Table(
    "item_deadlines",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("label", String(300), nullable=False, default=""),
    Index("ix_item_deadlines_date", "date"),
)

# A funding call's facets (migration 0025, pipeline/model/eligibility.py): derived at
# ingest; `edited_by` set means staff corrected them and ingest leaves them alone.
# `applicants` is ",kommunen,kmu," (ids between commas) so that LIKE '%,kmu,%' filters.
item_eligibility = Table(
    "item_eligibility",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("programme", String(200), nullable=False, default=""),
    Column("applicants", String(200), nullable=False, default=""),
    Column("action_type", String(200), nullable=False, default=""),
    Column("budget_eur", BigInteger),
    Column("funding_rate", Integer),
    Column("rate_note", String(200), nullable=False, default=""),
    Column("german_applicants", Boolean),
    Column("edited_by", String(100), nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
)

# ---------------------------------------------------------------- the desk (migration 0002)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("last_login", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("email", String(254)),  # optional; where the desk's test sends go
    # Part of every session id (migration 0019): logout and a new password raise it, which
    # ends the sessions signed in before, whatever their cookies say.
    Column("session_version", Integer, nullable=False, default=0, server_default=text("0")),
    UniqueConstraint("name", name="uq_users_name"),
)

# Failed logins (migration 0019), counted per client and per (client, name typed): the key
# is a SHA-256 of those, so neither addresses nor names are stored; a pair key starts with
# "p" and a 32-bit tag of the name, so an admin can lift one name's throttling (see
# pipeline.curate.staff.name_tag). Nothing here depends on whether the name exists, and no
# row blocks another client.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime),
)

item_annotations = Table(
    "annotations",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("headline", Text, nullable=False, default=""),
    Column("comment_md", Text, nullable=False, default=""),
    Column("priority", String(16), nullable=False, default="fyi"),
    Column("audiences", JSON, nullable=False, default=list),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(100), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE")),
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE")),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_audit_log_item_id", "item_id"),
    Index("ix_audit_log_edition_id", "edition_id"),
)

editions = Table(
    "editions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("newsletter_id", String(64), nullable=False),
    Column("title", String(300), nullable=False),
    Column("intro", Text, nullable=False, default=""),
    Column("state", String(16), nullable=False, default="draft"),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_editor", String(100), nullable=False),
    Column("approved_by", String(100)),
    Column("approved_at", UTCDateTime),
    Column("scheduled_at", UTCDateTime),
    Column("sent_at", UTCDateTime),  # the first completed send; a resend keeps it
    # When its delivery ledger was planned (migration 0008): set in the transaction that
    # inserts the rows, so an edition's audience is fixed once, never widened on resume.
    Column("planned_at", UTCDateTime),
    # Why its send stopped for a person to fix (state 'halted', migration 0021), in German.
    Column("halt_reason", Text),
    Column("halted_at", UTCDateTime),
    Index("ix_editions_newsletter_id", "newsletter_id"),
    Index("ix_editions_state", "state"),
)

edition_sections = Table(
    "edition_sections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Index("ix_edition_sections_edition_id", "edition_id"),
)

edition_items = Table(
    "edition_items",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column(
        "section_id",
        Integer,
        ForeignKey("edition_sections.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
)

# ---------------------------------------------------------------- subscribers (migration 0003)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),  # normalised: lower-case domain, NFC
    Column("email_hash", String(64), nullable=False),  # sha256 of the normalised address
    Column("name", String(200), nullable=False, default=""),
    Column("organisation", String(200), nullable=False, default=""),
    Column("org_type", String(32), nullable=False, default="sonstige"),
    Column("language", String(8), nullable=False, default="de"),
    Column("topics", JSON, nullable=False, default=list),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("consent_at", UTCDateTime),
    Column("consent_text", String(64), nullable=False, default=""),
    Column("confirmed_at", UTCDateTime),
    Column("token_version", Integer, nullable=False, default=1),
    # what kind of applicant for funding calls (migration 0025; NULL: from org_type)
    Column("applicant_type", String(20)),
    UniqueConstraint("email_hash", name="uq_subscribers_email_hash"),
    Index("ix_subscribers_status", "status"),
    sqlite_autoincrement=True,  # never reuse an erased subscriber's id (deliveries refer to it)
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("newsletter_id", String(64), primary_key=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("since", UTCDateTime, nullable=False),
    Column("until", UTCDateTime),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("email_hash", String(64), primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # sha256 of (sg_message_id, event, timestamp, email): SendGrid's own event id
    # changes when it retries, this does not.
    Column("dedupe_key", String(64), nullable=False),
    Column("event", String(32), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("message_id", String(200)),
    Column("delivery_ref", String(100)),  # our opaque delivery id from custom_args
    Column("email_hash", String(64), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    UniqueConstraint("dedupe_key", name="uq_webhook_events_dedupe_key"),
    Index("ix_webhook_events_delivery_ref", "delivery_ref"),
    Index("ix_webhook_events_occurred_at", "occurred_at"),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(100), primary_key=True),  # "ip:<hash>" or "addr:<hash>"
    Column("window_start", UTCDateTime, nullable=False),
    Column("count", Integer, nullable=False),
)

# ---------------------------------------------------------------- deliveries (migration 0005)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition_id", Integer, ForeignKey("editions.id"), nullable=False),
    Column("subscriber_id", Integer, nullable=False),  # no FK: the ledger outlives erasure
    Column("segment_key", String(64), nullable=False),
    # queued → claimed → sending → sent | failed | unknown; or skipped
    Column("state", String(16), nullable=False),
    Column("claim_token", String(64)),  # one claimed batch
    Column("claimed_at", UTCDateTime),
    Column("sender_id", Integer),  # the sender (senders.id) holding a claimed/sending row
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", UTCDateTime),
    Column("message_id", String(200)),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_edition_subscriber"),
    # a claim reads its rows in order from it (migration 0028)
    Index("ix_deliveries_claim", "edition_id", "state", "segment_key", "id"),
    Index("ix_deliveries_sent_at", "sent_at"),
)

# ---------------------------------------------------------------- senders (migration 0010)

# One row per process at work on an edition (`eudigest send`, `send-due`): it renews its
# lease while it runs; recovery touches only the rows of senders that are gone.
senders = Table(
    "senders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition_id", Integer, ForeignKey("editions.id"), nullable=False),
    Column("instance", String(200), nullable=False),  # host:pid, for people
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    # boot id, pid namespace and start time of the process: a pid on this host is known
    # dead only when all of them match and the process is gone
    Column("process_key", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    # running → done | stopped | halted | failed | lost (found gone by another sender)
    Column("outcome", String(16), nullable=False),
    Column("detail", Text),
    Column("queued", Integer),  # deliveries still queued when it ended
    Index("ix_senders_edition_id", "edition_id", "id"),
    sqlite_autoincrement=True,
)

# ---------------------------------------------------------------- job runs (migration 0007)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(64), nullable=False),  # the cron.yaml job id
    # The claim key: the scheduled local wall-clock time in the job's zone (so the repeated
    # autumn hour is one key), or "manual:<UTC instant>" for a forced manual run.
    Column("run_key", String(64), nullable=False),
    Column("scheduled_for", UTCDateTime, nullable=False),  # the UTC instant, for display
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    # running → ok | failed | timeout | interrupted; or missed (never started)
    Column("outcome", String(16), nullable=False),
    Column("instance", String(200), nullable=False),  # host:pid
    Column("detail", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_until", UTCDateTime),  # a running row past its lease may be taken over
    UniqueConstraint("job", "run_key", name="uq_job_runs_job_run_key"),
    Index("ix_job_runs_job_scheduled_for", "job", "scheduled_for"),
)

scheduler_heartbeats = Table(
    "scheduler_heartbeats",
    metadata,
    Column("instance", String(200), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
)

# ---------------------------------------------------------------- dossiers (migration 0013)

# One row per EU procedure, keyed by its procedure reference (2025/0260(COD)). The
# merged view of every source that reports on it; `stage` is derived from the events.
dossiers = Table(
    "dossiers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False),
    Column("title_de", Text, nullable=False, default=""),
    Column("title_en", Text, nullable=False, default=""),
    Column("procedure_type", String(8), nullable=False, default="OTHER"),
    Column("stage", String(16), nullable=False, default="proposal"),
    Column("lead_committee", String(200), nullable=False, default=""),
    Column("rapporteur", String(300), nullable=False, default=""),
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # the office offers it to subscribers (migration 0015)
    Column("published", Boolean, nullable=False, default=False, server_default=false()),
    # a title in neither German nor English, and its language; the Legislative Train
    # page where a source names one (migration 0017)
    Column("title_other", Text, nullable=False, default="", server_default=""),
    Column("title_other_language", String(8), nullable=False, default="", server_default=""),
    Column("train_url", String(500), nullable=False, default="", server_default=""),
    UniqueConstraint("reference", name="uq_dossiers_reference"),
    Index("ix_dossiers_stage", "stage"),
)

# Every canonical reference that names the dossier (its own reference included, and
# the equivalents: COM(2025) 123 beside 52025PC0123). Items join through these.
dossier_aliases = Table(
    "dossier_aliases",
    metadata,
    Column("dossier_id", Integer, ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(200), primary_key=True),
    Column("source", String(64), nullable=False, default=""),
    Index("ix_dossier_aliases_alias", "alias"),
)

dossier_events = Table(
    "dossier_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dossier_id", Integer, ForeignKey("dossiers.id", ondelete="CASCADE"), nullable=False),
    Column("source", String(64), nullable=False),
    Column("key", String(300), nullable=False),  # the source's id of the event
    Column("date", Date, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("label_en", Text, nullable=False, default=""),
    Column("document", String(200), nullable=False, default=""),
    Column("forecast", Boolean, nullable=False, default=False),
    UniqueConstraint("dossier_id", "source", "key", name="uq_dossier_events_dossier_id"),
    Index("ix_dossier_events_dossier_id_date", "dossier_id", "date"),
)

# Items threaded to a dossier: `auto` by a reference, `staff` by hand. A detached row
# stays, so automatic threading never adds that item again; both are audited.
dossier_items = Table(
    "dossier_items",
    metadata,
    Column("dossier_id", Integer, ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("origin", String(8), nullable=False),  # auto | staff
    Column("detached", Boolean, nullable=False, default=False),
    Column("at", UTCDateTime, nullable=False),
    Column("by", String(100), nullable=False, default=""),
    Index("ix_dossier_items_item_id", "item_id"),
)

# Staff who follow a dossier (their inbox marks its new events).
dossier_follows = Table(
    "dossier_follows",
    metadata,
    Column("dossier_id", Integer, ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("user_name", String(100), primary_key=True),
    Column("followed_at", UTCDateTime, nullable=False),
    # the newest event id when they last opened the dossier's page (migration 0022)
    Column("seen_event_id", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_dossier_follows_user_name", "user_name"),
)

# The office's note on a dossier ("Einordnung für die Region"), Markdown, one per dossier
# (migration 0014); rendered through text.render_markdown, changes audited.
dossier_notes = Table(
    "dossier_notes",
    metadata,
    Column("dossier_id", Integer, ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("note_md", Text, nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(100), nullable=False, default=""),
)

# ---------------------------------------------------------------- dossier readers (migration 0015)

# Subscribers who follow a published dossier; events up to `since_event_id` were there
# before they began and are not news to them.
subscriber_dossiers = Table(
    "subscriber_dossiers",
    metadata,
    Column(
        "subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("dossier_id", Integer, ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_at", UTCDateTime, nullable=False),
    Column("since_event_id", Integer, nullable=False, default=0),
    Index("ix_subscriber_dossiers_dossier_id", "dossier_id"),
)

# What a digest's block "Neues in Ihren Verfahren" reports: the dossier's events with
# after_event_id < id <= through_event_id, frozen when the edition is planned. Reported
# unless the delivery of that edition to that subscriber ended failed or skipped.
dossier_reports = Table(
    "dossier_reports",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("dossier_id", Integer, ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True),
    Column("after_event_id", Integer, nullable=False),
    Column("through_event_id", Integer, nullable=False),
    Index("ix_dossier_reports_subscriber_id", "subscriber_id", "dossier_id"),
)

# ---------------------------------------------------------------- learned models (migration 0012)

# Every training of a model from the desk's decisions, per output; the newest row of an
# output counts. `body` is the model as JSON (vocabulary, idf, coefficients), never pickle.
learned_models = Table(
    "learned_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("output", String(32), nullable=False),  # relevance | doc_type | topics
    Column("trained_at", UTCDateTime, nullable=False),
    Column("format_version", Integer, nullable=False),
    Column("sklearn_version", String(32), nullable=False),
    Column("eudigest_version", String(32), nullable=False),
    Column("labels", Integer, nullable=False),
    Column("positives", Integer, nullable=False),
    Column("negatives", Integer, nullable=False),
    Column("sources", Integer, nullable=False),
    Column("folds", Integer, nullable=False),
    Column("auc_model", Float),
    Column("auc_rules", Float),
    Column("auc_blended", Float),
    Column("verdict", String(32), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_learned_models_output_id", "output", "id"),
)

# ------------------------------------------------ preflight, four eyes (migration 0020)

# A warning of an edition's preflight that staff saw and let stand: `key` names the
# finding (code and what it is about). The audit trail has the same entry.
preflight_acknowledgements = Table(
    "preflight_acknowledgements",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(600), primary_key=True),
    Column("actor", String(100), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Personal API tokens of staff (approval from the command line with four eyes on).
# Only the SHA-256 of a token is stored; the token itself is shown once.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    Index("ix_api_tokens_user_id", "user_id"),
)

# "Meine Ansichten" (migration 0023): a staff member's named inbox filters, stored as the
# inbox's query string (its known filters only).
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("query", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),
)

# ---------------------------------------------------------------- corrections (migration 0018)

# What each segment of an edition contained, written in the transaction that plans the
# edition's ledger: a delivery's items are those of its segment_key. This is how a
# correction finds exactly the readers who got an item (the key itself is a hash).
delivery_segments = Table(
    "delivery_segments",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_key", String(64), primary_key=True),
    Column("item_ids", JSON, nullable=False, default=list),
)

# Staff correct an item of a sent edition: what changed (old → new per field, or
# withdrawn), why (German), who, when, and how its readers hear of it (mail | next).
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("changes", JSON, nullable=False, default=list),  # [{field, old, new}]
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("reason", Text, nullable=False),
    Column("delivery", String(8), nullable=False),  # mail | next
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Index("ix_corrections_edition_id", "edition_id"),
    Index("ix_corrections_item_id", "item_id"),
)

# One row per correction and reader who got the item: the notice's own ledger (queued →
# claimed → sending → sent | failed | unknown; skipped), or `waiting` for the reader's
# next digest. The claim carries the claiming process and its lease (recovery touches
# only the rows of a process that is gone). No FK to subscribers: the ledger outlives
# an erasure.
correction_notices = Table(
    "correction_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "correction_id", Integer, ForeignKey("corrections.id", ondelete="CASCADE"), nullable=False
    ),
    Column("subscriber_id", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("claim_token", String(64)),
    Column("claimed_at", UTCDateTime),
    Column("sender_host", String(200)),
    Column("sender_pid", Integer),
    Column("sender_key", String(200)),
    Column("lease_until", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", UTCDateTime),
    Column("message_id", String(200)),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("correction_id", "subscriber_id", name="uq_correction_notices_correction_id"),
    Index("ix_correction_notices_state", "state", "correction_id"),
    Index("ix_correction_notices_subscriber_id", "subscriber_id"),
)

# Which digest carries a `next` notice: frozen when that edition is planned (like
# dossier_reports); counts as reported unless that delivery ended failed or skipped.
correction_reports = Table(
    "correction_reports",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True),
    Column("subscriber_id", Integer, primary_key=True),
    Column(
        "correction_id",
        Integer,
        ForeignKey("corrections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_correction_reports_correction_id", "correction_id", "subscriber_id"),
)

# ---------------------------------------------------------------- reader feedback (migration 0024)

# One row per answer that counts: an item's "Hilfreich? Ja · Nein" (question useful) or
# "Mehr dazu bitte" (question more). `reader_hash` is an HMAC (EUDIGEST_SECRET_KEY) of the
# reader and the item, kept only to count one answer per reader and item; housekeeping
# (jobs.purge) sets it to NULL DEDUP_DAYS after the answer, when the link has expired.
# Nothing here names a subscriber; `answered_on` is the day only.
feedback_answers = Table(
    "feedback_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("question", String(8), nullable=False),  # useful | more
    Column("value", Boolean, nullable=False),
    Column("org_type", String(20), nullable=False, default=""),
    Column("reader_hash", String(64)),
    Column("answered_on", UTCDateTime, nullable=False),
    UniqueConstraint("reader_hash", "item_id", "question", name="uq_feedback_answers_reader"),
    Index("ix_feedback_answers_edition_id", "edition_id"),
    Index("ix_feedback_answers_item_id", "item_id"),
)

# "Was fehlt Ihnen?": free text per edition, stored as text (never HTML), read and erased
# by staff. No reader, no hash.
feedback_suggestions = Table(
    "feedback_suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("org_type", String(20), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_feedback_suggestions_edition_id", "edition_id"),
)
