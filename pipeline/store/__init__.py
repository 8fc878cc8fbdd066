"""The store: the only package that speaks SQL.

`Store(url)` opens a SQLite file (WAL) or a PostgreSQL database; its parts
(`store.sources`, `store.items`, `store.topics`) have one method per use case,
each one transaction, each returning `pipeline.model` values. Driver errors
become `StoreError` (with `__cause__`), never leak as SQLAlchemy types.
"""

from __future__ import annotations

import functools
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pipeline.errors import ConfigError, StoreError
from pipeline.store.base import wrap_errors

if TYPE_CHECKING:
    from pipeline.store.approvals import ApprovalsStore
    from pipeline.store.backup import BackupReport
    from pipeline.store.corrections import CorrectionsStore
    from pipeline.store.deliveries import DeliveriesStore
    from pipeline.store.dossiers import DossiersStore
    from pipeline.store.editions import EditionsStore
    from pipeline.store.eligibility import EligibilityStore
    from pipeline.store.feedback import FeedbackStore
    from pipeline.store.items import ItemsStore
    from pipeline.store.learning import LearningStore
    from pipeline.store.runs import RunsStore
    from pipeline.store.senders import SendersStore
    from pipeline.store.sources import SourcesStore
    from pipeline.store.stats import StatsStore
    from pipeline.store.subscribers import SubscribersStore
    from pipeline.store.tokens import TokensStore
    from pipeline.store.topics import TopicsStore
    from pipeline.store.users import UsersStore
    from pipeline.store.views import ViewsStore

MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["Store"]


class Store:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = _engine(url, echo=echo)

    # Each part is made (and its module imported) on first use: a command that lists
    # sources never loads the SQL of subscribers or deliveries.

    @cached_property
    def sources(self) -> SourcesStore:
        from pipeline.store.sources import SourcesStore

        return SourcesStore(self.engine)

    @cached_property
    def items(self) -> ItemsStore:
        from pipeline.store.items import ItemsStore

        return ItemsStore(self.engine)

    @cached_property
    def learning(self) -> LearningStore:
        """Labels from the desk's decisions, learned models, suggestions (issue 12)."""
        from pipeline.store.learning import LearningStore

        return LearningStore(self.engine)

    @cached_property
    def eligibility(self) -> EligibilityStore:
        """Funding calls' facets: who may apply, budget, rate (issue 17)."""
        from pipeline.store.eligibility import EligibilityStore

        return EligibilityStore(self.engine)

    @cached_property
    def topics(self) -> TopicsStore:
        from pipeline.store.topics import TopicsStore

        return TopicsStore(self.engine)

    @cached_property
    def users(self) -> UsersStore:
        from pipeline.store.users import UsersStore

        return UsersStore(self.engine)

    @cached_property
    def editions(self) -> EditionsStore:
        from pipeline.store.editions import EditionsStore

        return EditionsStore(self.engine)

    @cached_property
    def subscribers(self) -> SubscribersStore:
        from pipeline.store.subscribers import SubscribersStore

        return SubscribersStore(self.engine)

    @cached_property
    def deliveries(self) -> DeliveriesStore:
        from pipeline.store.deliveries import DeliveriesStore

        return DeliveriesStore(self.engine)

    @cached_property
    def corrections(self) -> CorrectionsStore:
        """Corrections of sent items and their readers' notices (a ledger of its own)."""
        from pipeline.store.corrections import CorrectionsStore

        return CorrectionsStore(self.engine)

    @cached_property
    def senders(self) -> SendersStore:
        """Who is sending an edition (leases)."""
        from pipeline.store.senders import SendersStore

        return SendersStore(self.engine)

    @cached_property
    def stats(self) -> StatsStore:
        """Aggregates for status and /metrics."""
        from pipeline.store.stats import StatsStore

        return StatsStore(self.engine)

    @cached_property
    def runs(self) -> RunsStore:
        from pipeline.store.runs import RunsStore

        return RunsStore(self.engine)

    @cached_property
    def dossiers(self) -> DossiersStore:
        """Procedures (Verfahrensakten), their events, threaded items and follows."""
        from pipeline.store.dossiers import DossiersStore

        return DossiersStore(self.engine)

    @cached_property
    def approvals(self) -> ApprovalsStore:
        """Acknowledged preflight warnings and four-eyes requests (issue 14)."""
        from pipeline.store.approvals import ApprovalsStore

        return ApprovalsStore(self.engine)

    @cached_property
    def tokens(self) -> TokensStore:
        """Personal API tokens of staff (hashes only)."""
        from pipeline.store.tokens import TokensStore

        return TokensStore(self.engine)

    @cached_property
    def views(self) -> ViewsStore:
        """Saved inbox views of staff ("Meine Ansichten")."""
        from pipeline.store.views import ViewsStore

        return ViewsStore(self.engine)

    @cached_property
    def feedback(self) -> FeedbackStore:
        """Reader feedback: answers without readers, suggestions (issue 17)."""
        from pipeline.store.feedback import FeedbackStore

        return FeedbackStore(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self) -> str:
        """Create or upgrade the schema to the newest migration; return its revision."""
        from alembic import command

        with wrap_errors("upgrading the schema"), self.engine.begin() as conn:
            cfg = self._alembic_config(conn)
            command.upgrade(cfg, "head")
        return self.revision() or ""

    def downgrade(self, revision: str = "base") -> None:
        from alembic import command

        with wrap_errors("downgrading the schema"), self.engine.begin() as conn:
            command.downgrade(self._alembic_config(conn), revision)

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with wrap_errors("reading the schema revision"), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str:
        """The newest migration this code ships (what `upgrade` brings the schema to)."""
        return _head_revision(str(MIGRATIONS))

    def is_current(self) -> bool:
        """True when the schema is at the newest migration (`eudigest init` applies it)."""
        return self.revision() == self.head_revision()

    def is_initialised(self) -> bool:
        with wrap_errors("inspecting the schema"), self.engine.connect() as conn:
            return inspect(conn).has_table("items")

    def backup(self, target: Path) -> BackupReport:
        """Online copy of a SQLite store to `target`; PostgreSQL answers with pg_dump advice."""
        from pipeline.store.backup import backup_sqlite

        return backup_sqlite(self.engine, target)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _alembic_config(self, conn: Any) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        return cfg


def load_drivers() -> None:
    """Import both databases' drivers now, not at the first connection: the scheduler's
    start-up server does, for every run forked from it (ADR 0011)."""
    import sqlalchemy.dialects.postgresql.psycopg
    import sqlalchemy.dialects.sqlite.pysqlite  # noqa: F401


def _engine(url: str, *, echo: bool) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"EUDIGEST_DATABASE_URL: cannot parse {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the web app read while a fetch writes; foreign keys are off by default.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    try:
        return create_engine(url, echo=echo, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot open database {parsed.render_as_string()}: {exc}") from exc


@functools.cache
def _head_revision(script_location: str) -> str:
    """Read once per process: the shipped migrations do not change while it runs (the
    status page asked for every request, reading every migration file each time)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    return str(ScriptDirectory.from_config(cfg).get_current_head())
