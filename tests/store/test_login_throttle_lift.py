"""Lifting the login throttling of one staff name (the users page's "Sperre aufheben"),
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pipeline.curate import staff as accounts
from pipeline.store import Store
from pipeline.store.schema import audit_log, login_throttle

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)


def fail(store: Store, client: str, name: str, times: int) -> None:
    client_key, pair_key = accounts.throttle_keys(client, name)
    for _ in range(times):
        store.users.count_login_failure(
            client_key, now=NOW, window=accounts.THROTTLE_WINDOW, block_for=accounts.client_block
        )
        store.users.count_login_failure(
            pair_key, now=NOW, window=accounts.THROTTLE_WINDOW, block_for=accounts.pair_block
        )


def test_pair_keys_carry_the_name_tag_and_fit_the_column() -> None:
    client_key, pair_key = accounts.throttle_keys("203.0.113.9", "anna")
    assert len(client_key) == len(pair_key) == 64
    assert pair_key.startswith(accounts.name_tag("anna")) and not client_key.startswith("p")
    assert accounts.name_tag("anna") != accounts.name_tag("bernd")
    assert "anna" not in pair_key


def test_a_throttled_name_is_shown_and_lifted_for_every_client(store: Store) -> None:
    fail(store, "203.0.113.9", "anna", accounts.PAIR_LIMIT)
    fail(store, "198.51.100.7", "anna", accounts.PAIR_LIMIT + 1)
    fail(store, "203.0.113.9", "bernd", accounts.PAIR_LIMIT)
    fail(store, "192.0.2.1", "carl", 1)  # counted, not blocked
    blocked = accounts.throttled_until(store, ["anna", "bernd", "carl", "dora"], now=NOW)
    assert set(blocked) == {"anna", "bernd"}
    assert blocked["anna"] > blocked["bernd"] > NOW  # the longer block of anna's two

    assert accounts.lift_throttle(store, "admin", "Anna ", now=NOW) == 2
    assert set(accounts.throttled_until(store, ["anna", "bernd"], now=NOW)) == {"bernd"}
    _, pair = accounts.throttle_keys("198.51.100.7", "anna")
    client, _ = accounts.throttle_keys("198.51.100.7", "anna")
    assert store.users.login_blocked_until([pair], now=NOW) is None
    with store.engine.connect() as conn:
        keys = set(conn.execute(select(login_throttle.c.key)).scalars())
        audit = conn.execute(
            select(audit_log.c.actor, audit_log.c.detail, audit_log.c.at).where(
                audit_log.c.action == "user.unthrottled"
            )
        ).all()
    assert client in keys  # the client's own count stays: lifting is per name
    assert [(a, d) for a, d, _ in audit] == [("admin", "Anna ")]


def test_lifting_a_name_that_is_not_throttled_is_harmless(store: Store) -> None:
    assert accounts.throttled_until(store, [], now=NOW) == {}
    assert accounts.lift_throttle(store, "admin", "dora", now=NOW) == 0
