"""Online backup of the SQLite store with sqlite3's backup API (safe while the app writes).

The copy is made in one step (`pages=-1`): it reads one consistent snapshot (in WAL
mode writers go on meanwhile) instead of restarting whenever a writer changes a
page. It goes to a temporary file beside the target, is checked with
`PRAGMA quick_check`, and only then renamed into place: a backup that exists is whole.
PostgreSQL is backed up with pg_dump; asking for it here gives that advice.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from pipeline.errors import ConfigError, StoreError

PG_DUMP_HINT = (
    "the database is PostgreSQL: back it up with pg_dump, e.g. "
    'pg_dump --format=custom --file=eudigest-$(date +%F).dump "$DATABASE" '
    "(restore with pg_restore; see docs/deploy.md)"
)


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    bytes: int
    tables: dict[str, int]  # rows per table in the copy


def backup_sqlite(engine: Engine, target: Path) -> BackupReport:
    """Copy the live SQLite database to `target` (which must not exist yet)."""
    if engine.dialect.name != "sqlite":
        raise ConfigError(
            PG_DUMP_HINT
            if engine.dialect.name == "postgresql"
            else (f"backup: only SQLite can be copied by eudigest, not {engine.dialect.name}")
        )
    database = engine.url.database
    if not database or database == ":memory:":
        raise ConfigError("backup: the SQLite database is in memory; there is no file to copy")
    if target.exists():
        raise ConfigError(f"backup: {target} exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        source = sqlite3.connect(database, timeout=30)
        try:
            dest = sqlite3.connect(partial)
            try:
                source.backup(dest)  # one step: one consistent snapshot
                check = dest.execute("PRAGMA quick_check").fetchone()
                if check is None or check[0] != "ok":
                    raise StoreError(f"backup: the copy failed its check: {check}")
                tables = _row_counts(dest)
            finally:
                dest.close()
        finally:
            source.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise StoreError(f"backup of {database} failed: {exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    return BackupReport(path=target, bytes=target.stat().st_size, tables=tables)


def _row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    # names come from the copy's own catalogue, quoted as identifiers
    return {
        n: int(
            conn.execute(f'SELECT count(*) FROM "{n.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
        )
        for n in names
    }
