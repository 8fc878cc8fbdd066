"""classify (issue 12): one test per rule for document types, topics, deadlines and
references, with short real snippets of ../shared/corpus (titles, links, a phrase of a
summary) and, for the newsroom's own fields, the real feed file parsed by parse().

The rules and the labels they follow: docs/labelling.md; the figures: bench/quality_bench.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pipeline.ingest.classify import Classifier, extract_deadlines, extract_references, fold
from pipeline.ingest.normalize import normalize
from pipeline.ingest.parse import parse
from pipeline.model import (
    DOC_TYPE_LABELS,
    Classification,
    DeadlineKind,
    DocType,
    FetchResult,
    FetchStatus,
    RawItem,
    Source,
    SourceKind,
)
from tests.unit.test_classify import BRUSSELS, TAXONOMY, source

CLASSIFIER = Classifier(TAXONOMY)
NOW = dt.datetime(2026, 8, 1, 8, 0, tzinfo=dt.UTC)
PRESS = "https://ec.europa.eu/commission/presscorner/detail/en/"
ECB = "https://www.ecb.europa.eu//press/"


def classify(
    title: str, summary: str = "", *, url: str | None = None, **raw: Any
) -> Classification:
    src = source("corpus", "en")
    item = RawItem(source_id=src.id, title=title, url=url, summary_html=summary, **raw)
    return CLASSIFIER.classify(normalize(item, src, tz=BRUSSELS, now=NOW), src)


def topics(c: Classification) -> set[str]:
    return {t.topic_id for t in c.topics}


def act_by(c: Classification) -> list[tuple[str, DeadlineKind]]:
    """Deadlines a reader must act by (not events, openings or expiry)."""
    acting = {DeadlineKind.CALL_CLOSING, DeadlineKind.CONSULTATION_END, DeadlineKind.DEADLINE}
    return [(d.date.isoformat(), d.kind) for d in c.deadlines if d.kind in acting]


# ---------------------------------------------------------------- document types


def test_new_doc_types_have_german_labels() -> None:
    assert DOC_TYPE_LABELS[DocType.SPEECH] == "Rede"
    assert DOC_TYPE_LABELS[DocType.STATEMENT] == "Erklärung"
    assert DOC_TYPE_LABELS[DocType.REPORT] == "Bericht & Statistik"
    assert set(DOC_TYPE_LABELS) == set(DocType)


@pytest.mark.parametrize(
    ("title", "link", "expected"),
    [
        ("Daily News 27 / 07 / 2026", "mex_26_1693", DocType.OTHER),
        ("Speech by Commissioner Kubilius at “EU Defense Night”", "speech_26_1677", DocType.SPEECH),
        ("Questions and answers on the 21st package of sanctions", "qanda_26_1686", DocType.OTHER),
        ("Solidarity with Ukraine", "fs_24_6565", DocType.OTHER),
        ("Statement on the situation", "statement_26_1700", DocType.STATEMENT),
        (
            "Commission greenlights Belgium's fifth payment request for €225 million",
            "ip_26_1692",
            DocType.PRESS_RELEASE,
        ),
    ],
)
def test_press_corner_id_prefixes(title: str, link: str, expected: DocType) -> None:
    assert classify(title, url=PRESS + link).doc_type is expected


def test_a_press_release_takes_the_type_of_its_substance() -> None:
    consultation = classify(
        "Commission invites comments on draft new rescue and restructuring State aid guidelines",
        url=PRESS + "ip_26_1678",
    )
    assert consultation.doc_type is DocType.CONSULTATION
    sanctions = classify(
        "EU adopts 21st package of sanctions against Russia", url=PRESS + "ip_26_1680"
    )
    assert sanctions.doc_type is DocType.ADOPTED_ACT


@pytest.mark.parametrize(
    ("title", "path", "expected"),
    [
        ("Philip R. Lane: Outlook for the euro area economy", "key/date/2026/html/ecb.sp260724~d484b483b9.en.pdf", DocType.SPEECH),  # noqa: E501
        ("Piero Cipollone: Interview with Jornal de Negocios", "inter/date/2026/html/ecb.in260713~d928475792.en.html", DocType.SPEECH),  # noqa: E501
        ("Christine Lagarde, Boris Vujčić: Monetary policy statement (with Q&A)", "press_conference/monetary-policy-statement/2026/html/ecb.is260723~b6fadd48f4.en.html", DocType.STATEMENT),  # noqa: E501
        ("Monetary policy decisions", "pr/date/2026/html/ecb.mp260723~29f24d99bc.en.html", DocType.PRESS_RELEASE),  # noqa: E501
        ("Decisions taken by the Governing Council of the ECB", "govcdec/otherdec/2026/html/ecb.gc260724~eebbc30622.en.html", DocType.PRESS_RELEASE),  # noqa: E501
        ("ECB Consumer Expectations Survey results – June 2026", "pr/date/2026/html/ecb.pr260724_1~fa277eb6fe.en.html", DocType.REPORT),  # noqa: E501
        ("July 2026 euro area bank lending survey", "pr/date/2026/html/ecb.pr260721~44ee50f75c.en.html", DocType.REPORT),  # noqa: E501
        ("ECB wage tracker at 2.7% in Q1 2027, indicating stable negotiated wage pressures", "pr/date/2026/html/ecb.pr260729~4ad7508d8a.en.html", DocType.REPORT),  # noqa: E501
        # launching a survey is news, not survey results
        ("ECB reveals shortlisted designs for new banknotes and launches public survey", "pr/date/2026/html/ecb.pr260723~c2d43f9170.en.html", DocType.PRESS_RELEASE),  # noqa: E501
    ],
)  # fmt: skip
def test_ecb_links_and_titles(title: str, path: str, expected: DocType) -> None:
    assert classify(title, url=ECB + path).doc_type is expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Feasibility Study on using automated technologies to support policy-making", DocType.REPORT),  # noqa: E501
        ("Report from Workshop on Green Data Centres : Policy measures, metrics and methodologies", DocType.REPORT),  # noqa: E501
        ("ICT Proposers' Day 2014: Open Disruptive Innovation", DocType.EVENT),
        ("Call for papers - 13th Annual Research Workshop - Boundaries of Banking Regulation", DocType.EVENT),  # noqa: E501
        ("Remarks by Executive Vice-President Mînzatu on the European Pillar of Social Rights", DocType.SPEECH),  # noqa: E501
        ("Closing speech by Commissioner Šuica at the Launch of the 3rd Demography Report", DocType.SPEECH),  # noqa: E501
        ("EBA E-mail alert 31 July, 2026", DocType.OTHER),
        ("Rede von Kommissionspräsidentin von der Leyen vor dem Europäischen Parlament", DocType.SPEECH),  # noqa: E501
        ("Gemeinsame Erklärung zur Lage in der Ukraine", DocType.STATEMENT),
        ("Studie zur Wettbewerbsfähigkeit der Zulieferindustrie", DocType.REPORT),
    ],
)  # fmt: skip
def test_title_rules(title: str, expected: DocType) -> None:
    assert (
        classify(title, url="https://ec.europa.eu/digital-agenda/news-redirect/1").doc_type
        is expected
    )


@pytest.mark.parametrize(
    "title",
    [
        "Commission proposes to cut emissions by 90% by 2040",  # a target, not statistics
        "MEPs back report on the future of cohesion policy",  # a vote on a report
        "Commission sends Statement of Objections to Google",  # an antitrust step
    ],
)
def test_news_about_figures_and_reports_stays_news(title: str) -> None:
    c = classify(title, url=PRESS + "ip_26_1800")
    assert c.doc_type is DocType.PRESS_RELEASE


def test_a_press_release_presenting_a_proposal_is_a_proposal() -> None:
    for title in (
        "Commission proposes new rules to simplify public procurement",
        "Kommission schlägt einfachere Regeln für die öffentliche Vergabe vor",
    ):
        assert classify(title, url=PRESS + "ip_26_1801").doc_type is DocType.LEGISLATIVE_PROPOSAL
    # money from a fund is no legislation
    egf = "Commission proposes more than €410,000 from the European Globalisation Adjustment Fund"
    assert classify(egf, url=PRESS + "ip_26_1684").doc_type is DocType.PRESS_RELEASE


def test_an_item_outside_the_eus_sites_is_other() -> None:
    heise = classify(
        "Scrum Day 2016: Bewerbungen für Vorträge und Workshops",
        url="http://www.heise.de/developer/meldung/Scrum-Day-2016-Bewerbungen-fuer-Vortraege-und-Workshops-3088627.html",
    )
    assert heise.doc_type is DocType.OTHER  # not an event: third-party journalism
    # an EU body's own site is no third party: its items keep their topics and types
    eib = classify(
        "EIB press release: €500 million for offshore wind", url="https://www.eib.org/en/press/x"
    )
    assert eib.doc_type is DocType.PRESS_RELEASE
    assert {"funding", "energy_climate"} <= topics(eib)


# ---------------------------------------------------------------- the newsroom's own fields


def _newsroom(corpus_dir: Path, name: str) -> dict[str, Classification]:
    src = Source(
        id="cnect", name="DG CNECT", institution="Europäische Kommission",
        url="https://example.europa.eu/rss", language="en", kind=SourceKind.FEED,
    )  # fmt: skip
    body = (corpus_dir / "feeds" / name).read_bytes()
    result = FetchResult(
        source_id=src.id, status=FetchStatus.OK, url=src.url, body=body,
        content_type="application/xml",
    )  # fmt: skip
    out = {}
    for raw in parse(src, result):
        item = normalize(raw, src, tz=BRUSSELS, now=NOW)
        out[item.title] = CLASSIFIER.classify(item, src)
    return out


@pytest.fixture(scope="module")
def cnect_items(corpus_dir: Path) -> dict[str, Classification]:
    return _newsroom(corpus_dir, "ec-newsroom-cnect-dae-items-en.xml")


def test_newsroom_type_field_with_attributes_is_read(corpus_dir: Path) -> None:
    body = (corpus_dir / "feeds" / "ec-newsroom-cnect-dae-items-en.xml").read_bytes()
    src = Source(id="c", name="c", institution="c", url="https://x.europa.eu/", language="en",
                 kind=SourceKind.FEED)  # fmt: skip
    raws = parse(src, FetchResult(source_id="c", status=FetchStatus.OK, url=src.url, body=body))
    kinds = {r.title: r.source_type for r in raws}
    # <infsonewsroom:NewsType id="372" parentId="254">publications - Reports and studies<…
    assert kinds["Feasibility Study on using automated technologies to support policy-making"] == (
        "publications - Reports and studies"
    )
    assert kinds["Greener airports thanks to EU-funded tech"] == "Press Release"


def test_newsroom_fields_give_type_deadline_and_press_id(
    cnect_items: dict[str, Classification],
) -> None:
    tender = cnect_items["SMART 2014/1074 - Language resource coordination"]
    assert tender.doc_type is DocType.FUNDING_CALL  # "funding opportunity - Call for tenders"
    assert act_by(tender) == [("2014-09-08", DeadlineKind.CALL_CLOSING)]  # BasictoDate
    assert "SMART 2014/1074" in tender.references
    fti = cnect_items[
        "Commission announces €100 million Fast Track to Innovation and five innovation prizes"
    ]
    assert "IP/14/849" in fti.references  # BasicRapidIP
    assert fti.doc_type is DocType.FUNDING_CALL  # a press release announcing new funding
    # "Interested organisations can signal their interest until 15 September 2014" (FullContent)
    nis = cnect_items["Network and Information Security Platform (NIS-P) - Looking for New Members"]
    assert act_by(nis) == [("2014-09-15", DeadlineKind.DEADLINE)]
    # an event's last day is not a deadline
    assert act_by(cnect_items["Growing the Silver Economy in Europe"]) == []


def test_newsroom_services_and_item_types_are_not_news(corpus_dir: Path) -> None:
    for name in ("ec-newsroom-cnect-dae-services-en.xml", "ec-newsroom-cnect-dae-itemtypes-en.xml"):
        for title, c in _newsroom(corpus_dir, name).items():
            assert c.doc_type is DocType.OTHER, title
            assert c.topics == (), title


# ---------------------------------------------------------------- topics


def test_ecb_items_are_institutional_by_their_site() -> None:
    c = classify("Isabel Schnabel: How to foster growth and resilience in Europe",
                 url=ECB + "key/date/2026/html/ecb.sp260713~e78632b27a.en.pdf")  # fmt: skip
    assert topics(c) == {"institutional"}
    survey = classify("Survey on the Access to Finance of Enterprises: lending conditions tightened",  # noqa: E501
                      url=ECB + "pr/date/2026/html/ecb.pr260720~cafc3874a7.en.html")  # fmt: skip
    assert topics(survey) == {"industry", "institutional"}


def test_monetary_policy_and_statistics_are_institutional() -> None:
    assert "institutional" in topics(classify("Euro area annual inflation down to 2.0%"))
    assert "institutional" in topics(classify("Eurostat: Arbeitslosenquote im Euroraum stabil"))


def test_competition_and_financial_services_are_industry() -> None:
    dma = classify("Commission fines Google €890 million for breaches of the Digital Markets Act")
    assert topics(dma) == {"digital", "industry"}
    eba = classify(
        "Call for papers - 13th Annual Research Workshop - Boundaries of Banking Regulation"
    )
    assert "industry" in topics(eba)


def test_sanctions_external_relations_and_enlargement_are_trade() -> None:
    assert "trade" in topics(
        classify("Afghanistan: Restrictive measures imposed with respect to the Taliban")
    )
    assert "trade" in topics(classify("Solidarity with Ukraine"))
    assert topics(
        classify("Council opens accession negotiations with Montenegro on enlargement")
    ) == {"trade"}


def test_who_speaks_is_no_topic() -> None:
    speech = classify(
        "Speech by Commissioner Kubilius at “EU Defense Night”", url=PRESS + "speech_26_1677"
    )
    assert "institutional" not in topics(speech)
    assert "industry" in topics(speech)  # defence industry


@pytest.mark.parametrize(
    ("title", "link", "wrong"),
    [
        ("Microsoft veröffentlicht Cordova-Erweiterung für Visual Studio Code", "http://www.heise.de/developer/meldung/1.html", "institutional"),  # noqa: E501
        ("Dunkelheit in Surselva GR: Stromausfall plagt Bewohner seit fünf Stunden", "https://www.blick.ch/schweiz/1.html", "energy_climate"),  # noqa: E501
        ("Elon Musk: Teslas Model 3 für 35.000 US-Dollar derzeit unmöglich", "https://www.golem.de/news/1.html", "trade"),  # noqa: E501
        ("5G: Seehofer fordert Änderung der Vergaberegeln", "https://www.heise.de/newsticker/meldung/1.html", "municipalities"),  # noqa: E501
    ],
)  # fmt: skip
def test_ordinary_words_are_no_topic(title: str, link: str, wrong: str) -> None:
    assert wrong not in topics(classify(title, url=link))


def test_non_eu_items_get_topics_only_for_public_policy() -> None:
    product = classify("Uniti One: Elektroauto für 15.000 Euro wird in Großbritannien gebaut",
                       url="https://www.golem.de/news/1.html")  # fmt: skip
    assert product.topics == ()
    policy = classify("Projekt Broadband: Bahn will 3,5 Milliarden Euro vom Bund für Glasfasernetz",
                      url="https://www.golem.de/news/2.html")  # fmt: skip
    assert "digital" in topics(policy)


def test_a_digest_is_about_its_lead_story() -> None:
    c = classify(
        "Daily News 27 / 07 / 2026",
        "European Commission Daily news Brussels, 27 Jul 2026 The EU sends planes and "
        "firefighters as wildfires ravage France and Spain",
        url=PRESS + "mex_26_1693",
    )
    assert topics(c) == {"environment"}


def test_site_keywords_give_the_topic_of_a_link() -> None:
    src = dataclasses.replace(source("x", "en"))
    raw = RawItem(source_id="x", title="Results", url="https://www.eba.europa.eu/node/19908")
    c = CLASSIFIER.classify(normalize(raw, src, tz=BRUSSELS, now=NOW), src)
    assert topics(c) == {"industry"}  # site:eba.europa.eu
    other = classify("Results", url="https://www.ebay.com/eba.europa.eu")
    assert "industry" not in topics(other)


# ---------------------------------------------------------------- deadlines

PUBLISHED = dt.date(2026, 6, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The consultation is open from 8 July to 22 September.", [("2026-09-22", DeadlineKind.CONSULTATION_END)]),  # noqa: E501
        ("Die Konsultation läuft vom 8. Juli bis zum 22. September 2026.", [("2026-09-22", DeadlineKind.CONSULTATION_END)]),  # noqa: E501
        ("Anträge können bis zum 15. März eingereicht werden.", [("2027-03-15", DeadlineKind.CALL_CLOSING)]),  # noqa: E501
        ("Frist: 30. Juni", [("2026-06-30", DeadlineKind.DEADLINE)]),
        ("Einsendeschluss ist der 30. April.", [("2027-04-30", DeadlineKind.CALL_CLOSING)]),
        ("Registration is open until June 30.", [("2026-06-30", DeadlineKind.DEADLINE)]),
        ("The call opens on 8 July and closes on 22 September 2026.", [("2026-09-22", DeadlineKind.CALL_CLOSING)]),  # noqa: E501
        # event dates and call openings are never a deadline
        ("The conference takes place from 8 to 10 July 2026 in Brussels.", []),
        ("Der Workshop findet am 12. Mai statt.", []),
        ("The call will open on 15 January 2027.", []),
        # without a year, a bare "by" needs someone acting by it
        ("The Commission will present its proposal by 15 March.", []),
    ],
)  # fmt: skip
def test_deadline_forms(text: str, expected: list[tuple[str, DeadlineKind]]) -> None:
    found = extract_deadlines(fold(text), DocType.OTHER, PUBLISHED)
    acting = {DeadlineKind.CALL_CLOSING, DeadlineKind.CONSULTATION_END, DeadlineKind.DEADLINE}
    assert [(d.date.isoformat(), d.kind) for d in found if d.kind in acting] == expected


def test_a_date_without_a_year_is_never_before_publication() -> None:
    found = extract_deadlines(fold("Applications are accepted until 3 July."), DocType.OTHER,
                              dt.date(2026, 7, 10))  # fmt: skip
    assert [d.date for d in found] == [dt.date(2027, 7, 3)]
    assert extract_deadlines(fold("until 3 July"), DocType.OTHER) == []  # no date to infer from


def test_sanctions_expiry_is_not_a_deadline(corpus_dir: Path) -> None:
    src = Source(id="s", name="s", institution="Rat der EU", url="https://www.sanctionsmap.eu/api",
                 language="en", kind=SourceKind.API, adapter="sanctionsmap")  # fmt: skip
    body = (corpus_dir / "api" / "eu-sanctionsmap-regimes.json").read_bytes()
    result = FetchResult(source_id="s", status=FetchStatus.OK, url=src.url, body=body)
    for raw in parse(src, result):
        c = CLASSIFIER.classify(normalize(raw, src, tz=BRUSSELS, now=NOW), src)
        assert act_by(c) == [], raw.title
        assert "trade" in topics(c), raw.title
    chemical = next(r for r in parse(src, result) if "chemical weapons" in r.title)
    assert [(d.date, d.kind) for d in chemical.deadlines] == [
        (dt.date(2026, 10, 16), DeadlineKind.EXPIRY)
    ]


# ---------------------------------------------------------------- references


def test_tender_references() -> None:
    assert extract_references("SMART 2014/1073 - Digital Service Infrastructure") == [
        "SMART 2014/1073"
    ]
    assert extract_references("Invitation to tender CNECT/LUX/2020/OP/0085") == [
        "CNECT/LUX/2020/OP/0085"
    ]
