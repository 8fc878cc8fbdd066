"""The preflight on a real store: earlier editions, readers, acknowledgements (audited),
links checked over loopback HTTP (concurrently, with timeouts, each once, never a
private address unless the test allows its own server), and `eudigest edition check`."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import curate
from pipeline.bootstrap import Services
from pipeline.cli.main import main
from pipeline.compose import preflight
from pipeline.config import fetch_allow_list
from pipeline.curate import links
from pipeline.errors import InvalidInput
from pipeline.ingest.fetch import Fetcher
from pipeline.model import (
    EditionState,
    LinkStatus,
    NewSubscriber,
    Priority,
    Profile,
    Role,
    StaffUser,
)
from subscribers.addresses import hash_of
from tests.support.feedserver import FeedServer
from tests.web.conftest import NOW, Clock, add_item, make_services, make_settings, seed_items

ANNA = StaffUser(1, "anna", Role.EDITOR)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    services = make_services(make_settings(tmp_path), Clock())
    yield services
    services.close()


def loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_loopback  # the test's own server, nothing else


def reader(services: Services, email: str, topics: tuple[str, ...]) -> None:
    services.store.subscribers.add(
        NewSubscriber(
            email=email,
            email_hash=hash_of(email),
            profile=Profile(name="", topics=topics, newsletters=("weekly",)),
            consent_text="v1",
            consent_at=NOW,
        ),
        now=NOW,
    )


def draft(services: Services, sections: list[tuple[str, list[int]]], intro: str = "") -> int:
    return services.store.editions.create(
        "weekly", title="KW 48", intro=intro, sections=sections, actor="anna", now=NOW
    ).id


def run(services: Services, edition_id: int, **kw: Any) -> Any:
    return preflight.run(
        services.store,
        services.office(),
        services.settings,
        edition_id,
        now=services.clock(),
        tz=services.settings.tz,
        **kw,
    )


def test_reach_earlier_editions_and_acknowledgements(services: Services) -> None:
    ids = seed_items(services.store).ids
    sent = draft(services, [("Energie", [ids["hydrogen"]])])
    store = services.store
    for state in (EditionState.APPROVED, EditionState.SCHEDULED, EditionState.SENDING):
        store.editions.transition(
            sent, from_states=list(EditionState), to_state=state, actor="x", now=NOW
        )
    store.editions.finish_sending(sent, actor="x", now=NOW)
    reader(services, "a@example.eu", ("energy_climate",))
    reader(services, "b@example.eu", ("cohesion",))
    reader(services, "c@example.eu", ("digital",))  # none of the items is for them
    edition_id = draft(services, [("Energie", [ids["hydrogen"]]), ("Kohäsion", [ids["cohesion"]])])

    found = run(services, edition_id)
    by_code = {f.code.value: f for f in found.warnings}
    assert by_code["reach"].message == "3 Leser, 2 Varianten; 1 bekommt nichts."
    assert "ging schon mit der Ausgabe „KW 48“" in by_code["sent_before"].message
    assert by_code["sent_before"].subject == str(ids["hydrogen"])

    curate.acknowledge(store, found, by_code["sent_before"].key, actor=ANNA, now=NOW)
    again = run(services, edition_id)
    assert "sent_before" not in {f.code.value for f in again.warnings}
    ((seen, ack),) = again.acknowledged
    assert (seen.code.value, ack.actor) == ("sent_before", "anna")
    audit = store.editions.audit(edition_id)[0]
    assert (audit.action, audit.actor) == ("edition.acknowledge", "anna")
    assert audit.detail.startswith("Hinweis bestätigt: „Kommission fördert Wasserstoff")
    with pytest.raises(InvalidInput, match="schon bestätigt"):
        curate.acknowledge(store, again, seen.key, actor=ANNA, now=NOW)


def test_blocking_findings_cannot_be_acknowledged(services: Services) -> None:
    ids = seed_items(services.store).ids
    edition_id = draft(services, [("Energie", [ids["hydrogen"]]), ("Leer", [])])
    found = run(services, edition_id)
    (empty,) = found.blocking
    with pytest.raises(InvalidInput, match="nur beheben"):
        curate.acknowledge(services.store, found, empty.key, actor=ANNA, now=NOW)
    assert services.store.approvals.acknowledgements(edition_id) == []


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        srv.put("/ok.html", b"<html><body>da</body></html>")
        yield srv


def fetcher(server: FeedServer | None = None, timeout_s: float = 10.0) -> Fetcher:
    """The project's fetcher; it may reach the test's own server only (and its guard
    refuses every other special address on every hop)."""
    return Fetcher(
        user_agent="eudigest-test",
        timeout_s=timeout_s,
        max_bytes=100_000,
        max_redirects=3,
        concurrency=8,
        per_host=8,
        allow=fetch_allow_list(server.fetch_allow) if server is not None else (),
    )


def test_links_are_checked_concurrently_once_and_never_internal_by_default(
    services: Services, server: FeedServer
) -> None:
    ok, missing = server.url("/ok.html"), server.url("/_fault/status/404")
    # three links that answer only when all three are asked at once: concurrency
    together = [server.url(f"/_fault/together?n=3&k={k}") for k in range(3)]
    comment = f"Siehe {missing} und {together[1]} sowie {together[2]}."
    item = add_item(services.store, 9, title="Eigene Meldung", url=ok)
    curate.accept(services.store, [item], actor=ANNA, now=NOW)
    services.store.items.annotate(
        item, headline="", comment_md=comment, priority=Priority.FYI, audiences=[],
        expected_version=0, now=NOW, actor="anna",
    )  # fmt: skip
    edition_id = draft(services, [("Energie", [item])], intro=f"Einleitung: {together[0]}")

    cache: dict[str, LinkStatus] = {}
    found = run(services, edition_id, check_links=True, fetcher=fetcher(server), allowed=loopback,
                cache=cache)  # fmt: skip
    failed = [f for f in found.warnings if f.code.value == "link_failed"]
    assert [(f.subject, f.message) for f in failed] == [
        (missing, f"Der Link {missing} funktioniert nicht (HTTP 404).")
    ]
    assert cache[ok].ok and all(cache[u].ok for u in together)
    hits = server.hits["/ok.html"]
    assert hits == 1
    run(
        services,
        edition_id,
        check_links=True,
        fetcher=fetcher(server),
        allowed=loopback,
        cache=cache,
    )
    assert server.hits["/ok.html"] == hits  # cached for the run

    # the default rule: loopback (like every private address) is never fetched
    refused = run(services, edition_id, check_links=True, fetcher=fetcher(server))
    internal = [f for f in refused.warnings if f.code.value == "link_failed"]
    assert len(internal) == 5 and all("interne Adresse" in f.message for f in internal)
    assert server.hits["/ok.html"] == hits


def test_a_link_that_never_answers_times_out(server: FeedServer) -> None:
    url = server.url("/_fault/held?gate=never")
    try:
        found = links.check_links([url], fetcher(server, timeout_s=0.2), allowed=loopback)
    finally:
        server.release("never")
    assert not found[url].ok and found[url].detail.startswith("nicht erreichbar")


def test_private_addresses_after_resolution_are_refused() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return {"intranet.example": ["10.1.2.3"], "v6.example": ["::ffff:127.0.0.1"]}[host]

    found = links.check_links(
        ["https://intranet.example/a", "http://v6.example/", "ftp://x.example/"],
        fetcher(),
        resolver=resolver,
    )
    assert [s.detail for s in found.values()] == [
        "zeigt auf eine interne Adresse; nicht geprüft",
        "zeigt auf eine interne Adresse; nicht geprüft",
        "ungültige Adresse",
    ]
    assert links.public_address(ipaddress.ip_address("147.67.34.30"))
    for private in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fc00::1", "0.0.0.0"):
        assert not links.public_address(ipaddress.ip_address(private)), private


def test_edition_check_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    settings = make_settings(tmp_path)
    services = make_services(settings, Clock())
    ids = seed_items(services.store).ids
    blocked = draft(services, [("Energie", [ids["hydrogen"]]), ("Termine", [])])
    ready = draft(services, [("Energie", [ids["hydrogen"]])])
    services.close()
    monkeypatch.chdir(tmp_path)
    for name in ("EUDIGEST_BASE_URL", "EUDIGEST_MAIL_BACKEND", "SENDGRID_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EUDIGEST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("EUDIGEST_OFFICE", str(settings.office_path))
    monkeypatch.setenv("EUDIGEST_SECRET_KEY", settings.secret_key or "")

    capsys.readouterr()
    # without EUDIGEST_BASE_URL the send would halt, with the outbox too: it blocks
    assert main(["edition", "check", str(ready), "--no-links"]) == 1
    out = capsys.readouterr().out
    assert "1 blocking" in out and "✗ [base_url_missing] EUDIGEST_BASE_URL" in out
    monkeypatch.setenv("EUDIGEST_BASE_URL", "https://eudigest.example.de")

    assert main(["edition", "check", str(blocked), "--json", "--no-links"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in data["blocking"]] == ["section_empty"]
    assert data["blocking"][0]["message"].startswith("Der Abschnitt „Termine“ ist leer")
    assert {f["code"] for f in data["warnings"]} == {"reach"}
    assert main(["edition", "check", str(ready), "--no-links"]) == 0
    out = capsys.readouterr().out
    assert "0 blocking" in out
    # approval is refused while anything blocks, with the findings
    assert main(["edition", "approve", str(blocked)]) == 2
    err = capsys.readouterr().err
    assert "✗ [section_empty] Der Abschnitt „Termine“ ist leer" in err
