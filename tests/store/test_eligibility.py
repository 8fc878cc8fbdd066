"""Funding calls' facets in the store (issue 17, migration 0025), SQLite and PostgreSQL:
the Funding & Tenders corpus page ingested stage by stage, staff corrections kept, the
inbox filtered by them, `items --json`, and the subscriber's kind of applicant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.catalog import load_taxonomy
from pipeline.cli.output import item_json
from pipeline.config import PROJECT_ROOT
from pipeline.ingest.classify import Classifier
from pipeline.ingest.dedupe import Incoming, decide
from pipeline.ingest.normalize import normalize
from pipeline.ingest.parse import parse
from pipeline.model import (
    FetchResult,
    FetchStatus,
    NewSubscriber,
    OrgType,
    Profile,
    Source,
    SourceKind,
)
from pipeline.model.eligibility import Applicant, Eligibility
from pipeline.store import Store
from pipeline.store.eligibility import write_derived
from pipeline.store.items import InboxQuery

NOW = dt.datetime(2026, 8, 1, 8, 0, tzinfo=dt.UTC)
TZ = ZoneInfo("Europe/Brussels")
SOURCE = Source(
    id="ftop", name="Funding & Tenders", institution="Europäische Kommission",
    url="https://api.tech.ec.europa.eu/search-api/prod/rest/search", language="en",
    kind=SourceKind.API, adapter="ft_search",
)  # fmt: skip


def ingest_ft_page(store: Store, corpus_dir: Path) -> dict[str, int]:
    """The corpus page through parse → normalize → classify → dedupe → store; id by topic."""
    body = (corpus_dir / "api" / "ft-search-horizon-page.json").read_bytes()
    result = FetchResult(
        source_id=SOURCE.id, status=FetchStatus.OK, url=SOURCE.url, body=body,
        content_type="application/json",
    )  # fmt: skip
    classifier = Classifier(load_taxonomy(PROJECT_ROOT / "taxonomy.yaml"))
    normalized = [normalize(raw, SOURCE, tz=TZ, now=NOW) for raw in parse(SOURCE, result)]
    incoming = [Incoming(n, classifier.classify(n, SOURCE)) for n in normalized]
    store.sources.register([SOURCE], now=NOW)
    known = store.items.lookup(
        {n.identity for n in normalized},
        {n.url for n in normalized if n.url},
        {n.family for n in normalized if n.family},
    )
    store.items.apply(decide(incoming, known, institution=SOURCE.institution), now=NOW)
    found = store.items.search(InboxQuery(per_page=100))
    return {i.references[0]: i.id for i in found.items}


def test_ingested_calls_carry_their_facets_and_staff_corrections_stay(
    store: Store, corpus_dir: Path
) -> None:
    ids = ingest_ft_page(store, corpus_dir)
    assert len(ids) == 8  # the last two results are one topic
    cofund = store.items.get(ids["HORIZON-CL6-2026-04-GOVERNANCE-01"])
    assert cofund.eligibility is not None
    assert cofund.eligibility.applicants == (Applicant.OEFFENTLICHE,)
    assert cofund.eligibility.budget_eur == 60_000_000
    assert item_json(cofund, TZ, NOW.date())["eligibility"] == {
        "programme": "Horizont Europa",
        "applicants": ["oeffentliche"],
        "action_type": "Kofinanzierungsmaßnahme (Programme Co-fund)",
        "budget_eur": 60_000_000,
        "funding_rate": 30,
        "german_applicants": True,
    }

    # staff correct a call; a later fetch derives the facets again but keeps theirs
    mine = Eligibility(
        programme="Horizont Europa", applicants=(Applicant.KOMMUNEN, Applicant.OEFFENTLICHE),
        funding_rate=30, german_applicants=True,
    )  # fmt: skip
    store.eligibility.correct(cofund.id, mine, by="anna", now=NOW)
    with store.engine.begin() as conn:
        write_derived(conn, cofund.id, cofund.eligibility, NOW)
    kept = store.eligibility.get(cofund.id)
    assert kept is not None and kept.applicants == mine.applicants and kept.edited_by == "anna"
    assert [e.action for e in store.items.audit(cofund.id)] == ["eligibility"]

    # the inbox's filters
    def found(**filters: str) -> set[int]:
        page = store.items.search(InboxQuery(per_page=100, **filters))  # type: ignore[arg-type]
        return {i.id for i in page.items}

    assert found(applicant="kommunen") == set(ids.values())  # every Horizon topic, and theirs
    assert found(applicant="vereine") == set(ids.values()) - {cofund.id}
    assert found(programme="Horizont Europa") == set(ids.values())
    assert found(programme="LIFE") == set()
    assert store.eligibility.programmes() == ["Horizont Europa"]

    # cleared by staff: "siehe Aufruf" (null in --json)
    store.eligibility.correct(cofund.id, None, by="anna", now=NOW)
    assert item_json(store.items.get(cofund.id), TZ, NOW.date())["eligibility"] is None


def test_the_subscribers_kind_of_applicant_is_stored(store: Store) -> None:
    new = NewSubscriber(
        email="kaemmerei@stadt-esslingen.de",
        email_hash="h" * 64,
        profile=Profile(org_type=OrgType.SONSTIGE, applicant=Applicant.VEREINE),
        consent_at=NOW,
        consent_text="v1",
    )
    added = store.subscribers.add(new, now=NOW)
    assert added.applicant is Applicant.VEREINE
    assert store.subscribers.get(added.id).applicant is Applicant.VEREINE
