"""The corpus ingested once per session, copied into each test's own folder."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.bootstrap import Services, build
from tests.learning.corpus_desk import ingest_corpus, settings_for

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    return ingest_corpus(tmp_path_factory.mktemp("corpus"), corpus_dir)


@pytest.fixture
def folder(tmp_path: Path, corpus_db: Path) -> Path:
    (tmp_path / "var").mkdir()
    shutil.copyfile(corpus_db, tmp_path / "var" / "eudigest.db")
    shutil.copyfile(corpus_db.parent.parent / "sources.yaml", tmp_path / "sources.yaml")
    return tmp_path


@pytest.fixture
def services(folder: Path) -> Iterator[Services]:
    services = build(settings_for(folder))
    services.clock = lambda: NOW
    yield services
    services.close()
