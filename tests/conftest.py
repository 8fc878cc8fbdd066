"""Shared fixtures: the corpus, stores on SQLite and PostgreSQL, a frozen clock."""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from pipeline.store import Store

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
WRITTEN = ROOT / "tests" / "data" / "written"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The PostgreSQL server of CI (and of this project's machines); unreachable outside
# CI means the PostgreSQL half of the store tests is skipped, in CI it is an error.
BASE_PG_URL = os.environ.get(
    "EUDIGEST_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# pytest-xdist runs the suite in worker processes (gw0, gw1, ...; the variable is set
# before this file is imported). Each worker gets a database of its own beside the
# base one (`test` -> `test_gw0`), made on first use and kept for the next run:
# database-wide state (advisory locks of the scheduler's claims) stays per worker.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_url(base: str, worker: str) -> str:
    if not worker or base == "none":
        return base
    url = sa.make_url(base)
    return url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)


PG_URL = _worker_url(BASE_PG_URL, WORKER)
_pg_ready = False


# Hypothesis: no per-example deadline and no "too slow" health check. Both measure the
# machine (a busy 2-core machine takes seconds for what takes milliseconds on an idle
# one), not the code; a hang is caught by pytest's timeout.
settings.register_profile("eudigest", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "eudigest"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "MANIFEST.md").is_file():
        pytest.fail(f"the shared corpus is missing at {CORPUS}: check out shared/ beside the repo")
    return CORPUS


@pytest.fixture(scope="session")
def written_dir() -> Path:
    return WRITTEN


@pytest.fixture
def frozen_now() -> dt.datetime:
    return dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


def ensure_pg_database() -> None:
    """Make this worker's database (see WORKER) unless it is there; once per process.

    Raises OperationalError when the server cannot be reached."""
    global _pg_ready
    if _pg_ready or PG_URL == BASE_PG_URL:
        _pg_ready = True
        return
    name = sa.make_url(PG_URL).database
    base = sa.create_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with base.connect() as conn:
            # one CREATE DATABASE at a time on the server (workers start together)
            conn.execute(sa.text("SELECT pg_advisory_lock(8418101)"))
            try:
                found = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
                if found is None:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(8418101)"))
    finally:
        base.dispose()
    _pg_ready = True


def _pg_store() -> Iterator[Store]:
    """A fresh schema of its own on the PostgreSQL server, dropped afterwards."""
    if PG_URL == "none":
        pytest.skip("EUDIGEST_TEST_DATABASE_URL=none: PostgreSQL store tests switched off")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    try:
        ensure_pg_database()
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.orig}")
    sep = "&" if "?" in PG_URL else "?"
    store = Store(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        store.upgrade()
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


_sqlite_template: Path | None = None


def fresh_sqlite_store(path: Path) -> Store:
    """A store on a new SQLite file at `path`, at the newest migration.

    The migrations run once per process into a template file (closed, so its WAL is
    checkpointed into it); each store starts from a copy, and its `upgrade()` finds the
    schema at head. Running every migration per test cost about 0.3–1 s each."""
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="eudigest-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = Store(f"sqlite:///{folder / 'template.db'}")
        template.upgrade()
        template.close()
        _sqlite_template = folder / "template.db"
    shutil.copyfile(_sqlite_template, path)
    s = Store(f"sqlite:///{path}")
    s.upgrade()
    return s


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The real store, on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        s = fresh_sqlite_store(tmp_path / "eudigest.db")
        yield s
        s.close()
    else:
        yield from _pg_store()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = fresh_sqlite_store(tmp_path / "eudigest.db")
    yield s
    s.close()
