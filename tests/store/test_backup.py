"""`eudigest backup`: an online copy of the SQLite store, consistent while another connection
writes; PostgreSQL gets pointed to pg_dump."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import ConfigError
from pipeline.store import Store

PREFILL = 20_000  # ~20 MB, so the copy takes a while next to the writer


def _db_path(store: Store) -> Path:
    return Path(store.engine.url.database or "")


def _counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


class Writer(threading.Thread):
    """Another connection that writes one row to each of two tables per transaction."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.written = 0
        self.stop = threading.Event()
        self.progress = threading.Condition()
        self.error: BaseException | None = None

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            while not self.stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO t_a (payload) VALUES (?)", ("x" * 500,))
                conn.execute("INSERT INTO t_b (payload) VALUES (?)", ("y" * 500,))
                conn.execute("COMMIT")
                with self.progress:
                    self.written += 1
                    self.progress.notify_all()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            conn.close()

    def wait_for(self, n: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: self.written >= n or self.error, timeout=60)
        assert self.error is None, self.error


def _prefill(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for table in ("t_a", "t_b"):
            conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            conn.executemany(f"INSERT INTO {table} (payload) VALUES (?)", [("p" * 500,)] * PREFILL)
    conn.close()


def test_backup_while_another_connection_writes_is_consistent(
    sqlite_store: Store, tmp_path: Path
) -> None:
    source = _db_path(sqlite_store)
    _prefill(source)
    writer = Writer(source)
    writer.start()
    try:
        writer.wait_for(20)
        before = writer.written
        report = sqlite_store.backup(tmp_path / "backups" / "copy.db")
        after_backup = writer.written
        writer.wait_for(after_backup + 20)  # the writer went on after the copy
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None
    copy = _counts(report.path)
    assert copy == report.tables
    # one snapshot: both tables hold the same transactions, none half-applied
    assert copy["t_a"] == copy["t_b"]
    assert PREFILL + before <= copy["t_a"] <= PREFILL + after_backup
    assert _counts(source)["t_a"] > copy["t_a"]  # the source moved on meanwhile
    # the copy is a working store at the current schema
    with Store(f"sqlite:///{report.path}") as restored:
        assert restored.is_current()
    conn = sqlite3.connect(report.path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert not list(report.path.parent.glob(".*partial"))
    # with the writer stopped, a second copy has exactly the source's rows
    second = sqlite_store.backup(tmp_path / "backups" / "copy2.db")
    assert second.tables == _counts(source)


def test_backup_command(
    sqlite_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EUDIGEST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EUDIGEST_DATABASE_URL", sqlite_store.url)
    target = tmp_path / "nightly.db"
    assert main(["backup", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"backup written to {target}" in out
    assert _counts(target) == _counts(_db_path(sqlite_store))
    assert main(["backup", str(target)]) == 2  # never overwrites
    assert "exists; choose a new file name" in capsys.readouterr().err
    assert main(["backup"]) == 0  # default: DATA_DIR/backups/eudigest-<time>.db
    out = capsys.readouterr().out
    made = list((tmp_path / "var" / "backups").glob("eudigest-*.db"))
    assert len(made) == 1 and str(made[0]) in out


def test_backup_on_postgresql_points_to_pg_dump(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    if store.dialect == "postgresql":
        with pytest.raises(ConfigError, match="pg_dump"):
            store.backup(target)
        assert not target.exists()
    else:
        assert store.backup(target).tables["alembic_version"] == 1


def test_backup_command_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EUDIGEST_DATA_DIR", str(tmp_path / "var"))
    # no connection is made: the URL alone says PostgreSQL
    monkeypatch.setenv("EUDIGEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/eudigest")
    assert main(["backup", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err
    assert "PostgreSQL" in err and "pg_dump" in err
