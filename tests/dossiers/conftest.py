"""The subscribers' fixtures (a real SQLite store from the template, the web app, the
outbox), for the tests of readers following dossiers (test_readers.py)."""

from tests.subscribers.conftest import (
    app,
    clock,
    office,
    outbox,
    services,
    taxonomy,
    template_db,
    visitor,
)

__all__ = ["app", "clock", "office", "outbox", "services", "taxonomy", "template_db", "visitor"]
