"""Funding calls' facets derived from what sources say (issue 17): the real Funding &
Tenders search page of the corpus, and call texts of other sources."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.compose.reader import call_lines, euro
from pipeline.ingest.eligibility import from_ft_metadata, from_text, topic_budget
from pipeline.ingest.parse import parse
from pipeline.model import (
    Deadline,
    DeadlineKind,
    DocType,
    FetchResult,
    FetchStatus,
    Item,
    ItemStatus,
    RawItem,
    Source,
    SourceKind,
)
from pipeline.model.eligibility import UNKNOWN_LINE, Applicant, Eligibility, parse_applicants

ALL = tuple(Applicant)


@pytest.fixture(scope="module")
def ft_calls(corpus_dir: Path) -> dict[str, RawItem]:
    path = corpus_dir / "api" / "ft-search-horizon-page.json"
    src = Source(
        id="ftop", name="F&T", institution="Europäische Kommission",
        url="https://api.tech.ec.europa.eu/search-api/prod/rest/search", language="en",
        kind=SourceKind.API, adapter="ft_search",
    )  # fmt: skip
    result = FetchResult(
        source_id=src.id, status=FetchStatus.OK, url=src.url, body=path.read_bytes(),
        content_type="application/json",
    )  # fmt: skip
    return {i.guid or "": i for i in parse(src, result)}


def test_facets_from_the_funding_and_tenders_corpus_page(ft_calls: dict[str, RawItem]) -> None:
    ria = ft_calls["HORIZON-CL3-2026-02-CS-ECCC-01"].eligibility
    assert ria == Eligibility(
        programme="Horizont Europa",
        applicants=ALL,  # any legal entity (Regulation (EU) 2021/695)
        action_type="Forschungs- und Innovationsmaßnahme (RIA)",
        budget_eur=20_000_000,  # its own line of budgetOverview
        funding_rate=100,
        german_applicants=True,
    )
    ia = ft_calls["HORIZON-CL5-2027-03-D5-05"].eligibility
    assert ia is not None and (ia.funding_rate, ia.rate_note) == (
        70,
        "100 % für gemeinnützige Einrichtungen",
    )
    cofund = ft_calls["HORIZON-CL6-2026-04-GOVERNANCE-01"].eligibility
    assert cofund is not None
    assert (cofund.applicants, cofund.budget_eur, cofund.funding_rate) == (
        (Applicant.OEFFENTLICHE,),
        60_000_000,  # 23 Mio. (2026) + 37 Mio. (2027)
        30,
    )
    assert cofund.open_to(Applicant.KOMMUNEN) is False
    joint = ft_calls["HORIZON-JU-CBE-2026-IAFlag-02"].eligibility
    assert joint is not None and joint.funding_rate is None  # a JU sets its own rates
    assert joint.budget_eur is None  # the call's shared budget is not the topic's
    soil = ft_calls["HORIZON-MISS-2027-05-SOIL-01-two-stage"].eligibility
    assert soil is not None and soil.budget_eur is None  # its line was cut off: not guessed
    assert soil.action_type == "Forschungs- und Innovationsmaßnahme (RIA)"


def test_budget_of_a_cut_overview_reads_whole_entries_only() -> None:
    cut = (
        '{"budgetYearsColumns":["2027"],"budgetTopicActionMap":{"1":[{"action":"X-01 - RIA",'
        '"expectedGrants":2,"budgetYearMap":{"2027":"24000000"}}],"2":[{"action":"X-02 - RIA",'
        '"budgetYearMap":{"2027":"'
    )
    assert topic_budget("X-01", cut) == 24_000_000
    assert topic_budget("X-02", cut) is None
    assert topic_budget("X-03", "") is None


def test_a_record_without_known_programme_says_nothing() -> None:
    assert from_ft_metadata({"identifier": ["XYZ-2026-01"]}) is None


def test_facets_from_a_call_text() -> None:
    text = (
        "Interreg Alpine Space: vierter Aufruf. Antragsberechtigt sind Kommunen, Landkreise und"
        " KMU aus den EU-Mitgliedstaaten. Das Budget beträgt 5,5 Mio. Euro; die Förderquote"
        " liegt bei 80 %. Unternehmen berichten über ihre Erfahrungen."
    )
    found = from_text(text)
    assert found is not None
    assert found.programme == "Interreg"
    # "Unternehmen" stands in a sentence that says nothing about who may apply
    assert found.applicants == (Applicant.KOMMUNEN, Applicant.KMU)
    assert (found.budget_eur, found.funding_rate, found.german_applicants) == (5_500_000, 80, True)
    english = from_text(
        "Eligible applicants: public authorities and non-profit organisations. A total of"
        " EUR 2 000 000 is available."
    )
    assert english is not None
    assert english.applicants == (Applicant.KOMMUNEN, Applicant.VEREINE, Applicant.OEFFENTLICHE)
    assert english.budget_eur == 2_000_000


def test_a_text_without_facts_has_no_eligibility() -> None:
    assert from_text("The Commission publishes a report on companies and universities.") is None


def test_applicant_ids_are_checked() -> None:
    assert parse_applicants(",kmu,kommunen,") == (Applicant.KOMMUNEN, Applicant.KMU)
    with pytest.raises(ValueError, match="unknown applicant 'gemeinde'"):
        parse_applicants(["gemeinde"])


def call(eligibility: Eligibility | None, *deadlines: Deadline) -> Item:
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    return Item(
        id=1, source_id="ftop", title="Call", url=None, summary_html="", language="en",
        published=at, fetched_at=at, updated_at=at, doc_type=DocType.FUNDING_CALL,
        status=ItemStatus.ACCEPTED, relevance=0.5, deadlines=deadlines, eligibility=eligibility,
    )  # fmt: skip


def test_the_one_line_in_german_number_and_date_format() -> None:
    e = Eligibility(
        programme="Horizont Europa", applicants=(Applicant.HOCHSCHULEN,), budget_eur=1_500_000,
        funding_rate=70, german_applicants=True,
    )  # fmt: skip
    facts, who = call_lines(
        call(
            e,
            Deadline(dt.date(2026, 10, 1), DeadlineKind.CALL_OPENING),  # past: left out
            Deadline(dt.date(2027, 4, 8), DeadlineKind.CALL_CLOSING, "Stage 1 deadline"),
            Deadline(dt.date(2027, 9, 14), DeadlineKind.CALL_CLOSING, "Stage 2 deadline"),
        ),
        dt.date(2026, 11, 25),
    )
    assert facts == (
        "Budget 1,5 Mio. € · Förderquote 70 % · Frist 1. Stufe 8. April 2027"
        " · Frist 2. Stufe 14. September 2027"
    )
    assert who == "Horizont Europa · Antragsberechtigt: Hochschulen und Forschung"
    assert euro(750_000) == "750.000 €" and euro(133_000_000) == "133 Mio. €"


def test_a_call_without_eligibility_data_says_see_the_call() -> None:
    facts, who = call_lines(call(None), dt.date(2026, 11, 25))
    assert (facts, who) == ("", UNKNOWN_LINE) == ("", "Antragsberechtigung: siehe Aufruf")
