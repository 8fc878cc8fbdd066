"""Relevance: one test per rule, on snippets of real items of ../shared/corpus.

The scorer is a pure function of an item's facts (RelevanceFacts): no clock, no store.
Snippets are quoted from the corpus files named beside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.catalog import load_office, load_taxonomy
from pipeline.errors import ConfigError
from pipeline.ingest.relevance import TEXT_LIMIT, RelevanceScorer
from pipeline.model import Deadline, DeadlineKind, RelevanceFacts, Taxonomy, Topic, reasons_as_of

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = load_taxonomy(ROOT / "taxonomy.yaml")
SCORER = RelevanceScorer(TAXONOMY)

# api/ft-search-horizon-page.json: HORIZON-CL5-2027-03-D5-05
POWERTRAIN_CALL = RelevanceFacts(
    title="Higher Voltage, Megawatt Charging System compatible, modular powertrain for Heavy "
    "Duty Vehicles (HDV) (2ZERO Partnership)",
    text="Expected Outcome: Project results are expected to contribute to all of the following "
    "expected outcomes: Demonstrated integration potential and modularity of next level "
    "advanced high-voltage systems to benefit cost of Commercial Vehicles (CV) in particular "
    "for the Heavy-Duty Vehicles (HDV) segment.",
    url="https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
    "topic-details/HORIZON-CL5-2027-03-D5-05",
    published=dt.date(2026, 8, 1),
    doc_type="funding_call",
    topics=(("mobility", 0.697), ("research", 0.474), ("funding", 0.444)),
    deadlines=(
        Deadline(dt.date(2026, 12, 15), DeadlineKind.CALL_OPENING),
        Deadline(dt.date(2027, 4, 14), DeadlineKind.CALL_CLOSING),
    ),
)
# feeds/ec-presscorner-en.xml: IP/26/1684
EGF_FINLAND = RelevanceFacts(
    title="Commission proposes more than €410,000 from the European Globalisation Adjustment "
    "Fund to support dismissed car industry workers in Finland",
    text="The European Commission has proposed to mobilise €410,310 from the European "
    "Globalisation Adjustment Fund for Displaced Workers (EGF) to support 235 workers "
    "dismissed by Valmet Automotive in Finland.",
    url="https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1684",
    published=dt.date(2026, 7, 24),
    doc_type="press_release",
    topics=(("employment", 0.714), ("mobility", 0.5)),
)
# feeds/quirk-huge-podcast-giantbomb.xml
PODCAST = RelevanceFacts(
    title="Giant Bombcast 02/10/2015",
    text="… the clumsy climbing of Grow Home, Jeff's adventures on the Chinese Internet, the "
    "updating of automotive firmware, and how to obtain membership at the Super Elite Zelda "
    "country club.",
    url="https://www.giantbomb.com/shows/giant-bombcast-02-10-2015/2970-10862/",
    published=dt.date(2015, 2, 10),
)
# feeds/quirk-de-iso8859-1-zeit-2007.xml
ZEIT_TRUMPF = RelevanceFacts(
    title="Fusionspoker",
    text="Deutsche Börse hat noch einen Trumpf. Von A. Endres",
    url="http://www.zeit.de/online/2006/22/boersenfusion-kein-bieterwettstreit",
    language="de",
)
# feeds/ec-presscorner-en.xml: IP/26/1673
LUXEMBOURG_AID = RelevanceFacts(
    title="Commission approves €54 million Luxembourgish State aid for road and rail transport "
    "firms facing increased fuel prices",
    text="The European Commission has approved a €54 million Luxembourgish State aid scheme to "
    "support road transport and rail freight companies facing increased fuel prices due to "
    "the Middle East crisis.",
    url="https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1673",
    published=dt.date(2026, 7, 24),
    doc_type="press_release",
    topics=(("mobility", 0.706), ("municipalities", 0.5)),
)
# feeds/ecb-press-en-2026-07-14.xml: a speech, title only
SCHNABEL = RelevanceFacts(
    title="Isabel Schnabel: How to foster growth and resilience in Europe",
    url="https://www.ecb.europa.eu//press/key/date/2026/html/ecb.sp260713~e78632b27a.en.pdf",
    published=dt.date(2026, 7, 13),
    doc_type="speech",
)


def score(facts: RelevanceFacts) -> float:
    return SCORER.score(facts).score


def reasons(facts: RelevanceFacts) -> tuple[str, ...]:
    return SCORER.score(facts).reasons


# ---------------------------------------------------------------- document type


def test_an_open_call_ranks_above_an_act_a_press_release_and_a_speech() -> None:
    same = replace(SCHNABEL, title="EU support for the growth of firms", topics=(), deadlines=())
    ranked = [
        score(replace(same, doc_type=d))
        for d in ("funding_call", "adopted_act", "press_release", "speech")
    ]
    assert ranked == sorted(ranked, reverse=True) and len(set(ranked)) == 4
    assert score(replace(same, doc_type="consultation")) == ranked[0]
    assert score(replace(same, doc_type="legislative_proposal")) == ranked[1]
    assert score(replace(same, doc_type="report")) <= ranked[3]


def test_a_call_explains_itself_first() -> None:
    why = reasons(POWERTRAIN_CALL)
    assert why[0] == "offene Ausschreibung"
    assert "Thema Mobilität & Verkehr" in why
    assert "Frist am 14.04.2027" in why  # the closing date, not the opening
    assert "Branche der Region" in why  # powertrain: the region's industry
    assert why[-1] == "EU-Quelle"


# ---------------------------------------------------------------- deadlines


def test_a_deadline_counts_from_the_items_publication_not_from_today() -> None:
    later = replace(POWERTRAIN_CALL, published=dt.date(2027, 5, 2))  # after the closing
    assert "Frist am 14.04.2027" not in reasons(later)
    assert "Ausschreibung" in reasons(later) and "offene Ausschreibung" not in reasons(later)
    assert score(later) < score(POWERTRAIN_CALL)
    # The same facts give the same answer whatever the wall clock says.
    assert SCORER.score(POWERTRAIN_CALL) == SCORER.score(POWERTRAIN_CALL)


@pytest.mark.parametrize(
    ("today", "wording"),
    [
        (dt.date(2027, 4, 14), "Frist heute"),
        (dt.date(2027, 4, 13), "Frist morgen"),
        (dt.date(2027, 4, 4), "Frist in 10 Tagen"),
        (dt.date(2027, 3, 24), "Frist in 3 Wochen"),
        (dt.date(2026, 12, 14), "Frist in 4 Monaten"),
        (dt.date(2027, 4, 15), "Frist abgelaufen"),
    ],
)
def test_the_deadline_reason_is_worded_on_the_day_it_is_read(today: dt.date, wording: str) -> None:
    stored = SCORER.score(POWERTRAIN_CALL).reasons
    shown = reasons_as_of(stored, POWERTRAIN_CALL.deadlines, today)
    assert wording in shown
    others = [r for r in stored if not r.startswith("Frist")]
    if wording == "Frist abgelaufen":  # a closed call is no longer called open
        assert "offene Ausschreibung" in others and "offene Ausschreibung" not in shown
        others = [r.removeprefix("offene ") for r in others]
    assert [r for r in shown if r != wording] == others


# ---------------------------------------------------------------- topics and their weights


def test_the_offices_topic_weights_decide_between_topics() -> None:
    topics = (Topic("funding", "Förderprogramme", "Funding", ("Förder*",), weight=2.0),
              Topic("health", "Gesundheit", "Health", ("Gesundheit",), weight=0.5))  # fmt: skip
    scorer = RelevanceScorer(Taxonomy(topics, ("Stuttgart",)))
    base = RelevanceFacts(title="EU", url="https://ec.europa.eu/x", doc_type="press_release")
    funding = scorer.score(replace(base, topics=(("funding", 0.6),)))
    health = scorer.score(replace(base, topics=(("health", 0.9),)))
    assert funding.score > health.score
    assert "Thema Förderprogramme" in funding.reasons
    assert not any(r.startswith("Thema") for r in health.reasons)  # too weak to name


def test_a_topic_without_a_weight_counts_normally(tmp_path: Path) -> None:
    text = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8").replace("    weight: 0.6\n", "")
    (tmp_path / "taxonomy.yaml").write_text(text, encoding="utf-8")
    weights = {t.id: t.weight for t in load_taxonomy(tmp_path / "taxonomy.yaml").topics}
    assert weights["health"] == 1.0 and weights["funding"] == 1.6


@pytest.mark.parametrize("bad", ["-1", "4", "viel"])
def test_a_bad_weight_is_named_with_its_line(tmp_path: Path, bad: str) -> None:
    text = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")
    text = text.replace("    weight: 1.6\n", f"    weight: {bad}\n", 1)
    (tmp_path / "taxonomy.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"taxonomy\.yaml:\d+: topics\[0\] \(funding\)\.weight"):
        load_taxonomy(tmp_path / "taxonomy.yaml")


def test_the_inbox_threshold_is_read_and_checked(tmp_path: Path) -> None:
    assert load_office(ROOT / "office.yaml").inbox_threshold == 0.2
    text = (ROOT / "office.yaml").read_text(encoding="utf-8")
    (tmp_path / "office.yaml").write_text(
        text.replace("inbox_threshold: 0.2", "inbox_threshold: 2"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"office\.yaml:\d+: desk\.inbox_threshold"):
        load_office(tmp_path / "office.yaml")


# ---------------------------------------------------------------- region, Land, country


def test_the_region_in_the_title_weighs_more_than_in_the_text() -> None:
    base = replace(EGF_FINLAND, title="Commission approves regional aid map", text="", topics=())
    in_title = replace(base, title="Commission approves regional aid for Ludwigsburg")
    in_text = replace(base, text="The scheme covers Ludwigsburg and Esslingen.")
    assert score(in_title) > score(in_text) > score(base)
    assert "erwähnt Region Stuttgart" in reasons(in_title)


def test_the_land_and_the_country_are_named() -> None:
    base = replace(EGF_FINLAND, title="Commission approves State aid scheme", text="")
    land = replace(base, text="The scheme supports firms in Baden-Württemberg.")
    germany = replace(base, title="Commission approves German State aid scheme")
    assert "erwähnt Baden-Württemberg" in reasons(land)
    assert "betrifft Deutschland" in reasons(germany)
    assert score(land) > score(base) and score(germany) > score(base)


def test_germany_in_a_list_of_countries_is_not_about_germany() -> None:
    listed = replace(
        EGF_FINLAND,
        title="Commission approves the partnership agreements",
        text="Agreements with Austria, Belgium, Germany, France and Italy were approved today.",
    )
    assert "betrifft Deutschland" not in reasons(listed)


def test_another_member_states_case_ranks_low() -> None:
    assert "betrifft einen anderen Mitgliedstaat" in reasons(LUXEMBOURG_AID)
    german = replace(
        LUXEMBOURG_AID,
        title=LUXEMBOURG_AID.title.replace("Luxembourgish", "German"),
        text=LUXEMBOURG_AID.text.replace("Luxembourgish", "German"),
    )
    assert score(german) > score(LUXEMBOURG_AID)


def test_automotive_anywhere_never_outranks_a_funding_call() -> None:
    # A car-industry case in Finland and a podcast about "automotive firmware".
    assert score(EGF_FINLAND) < score(POWERTRAIN_CALL)
    assert score(PODCAST) < score(EGF_FINLAND)
    assert "Branche der Region" not in reasons(PODCAST)


def test_trumpf_the_word_is_not_trumpf_the_company() -> None:
    as_eu = replace(ZEIT_TRUMPF, url="https://ec.europa.eu/commission/presscorner/x")
    assert "Unternehmen der Region" not in reasons(as_eu)  # "einen Trumpf": a trump card
    company = replace(as_eu, text="Die Trumpf GmbH + Co. KG erhält eine EU-Förderung.")
    assert "Unternehmen der Region" in reasons(company)
    with_region = replace(as_eu, text="Trumpf baut sein Werk in Ditzingen aus.")
    assert {"Unternehmen der Region", "erwähnt Region Stuttgart"} <= set(reasons(with_region))


def test_a_non_eu_source_gets_no_regional_credit_from_a_keyword_alone() -> None:
    local = replace(ZEIT_TRUMPF, title="Neues Werk in Stuttgart", text="Bosch-Gruppe baut aus.")
    assert not {"erwähnt Region Stuttgart", "Unternehmen der Region"} & set(reasons(local))
    assert "keine EU-Quelle" in reasons(local)
    eu_rule = replace(local, text="Die EU-Kommission genehmigt die Beihilfe für das Werk.")
    assert "erwähnt Region Stuttgart" in reasons(eu_rule)  # a report on an EU decision
    assert score(local) < score(SCHNABEL)  # a newspaper item stays below an EU speech


# ---------------------------------------------------------------- source, audiences, penalties


def test_the_source_decides_the_prior() -> None:
    eu = replace(PODCAST, url="https://ec.europa.eu/commission/presscorner/detail/en/x")
    assert score(eu) > score(PODCAST)
    by_institution = replace(PODCAST, url=None, institution="Europäische Kommission")
    assert "EU-Quelle" in reasons(by_institution)


def test_the_audiences_are_named() -> None:
    sme = replace(EGF_FINLAND, text="The call is open to SMEs and to local authorities.")
    why = reasons(sme)
    assert "für KMU" in why and "für Kommunen und Regionen" in why


def test_personnel_enforcement_and_newsletter_entries_rank_low() -> None:
    # feeds/ec-presscorner-en.xml, feeds/ec-newsroom-cnect-dae-services-en.xml
    base = replace(EGF_FINLAND, text="", topics=())
    appointment = replace(
        base,
        title="European Commission appoints Aliénor Margerit as Head of Representation in Paris",
    )
    fine = replace(
        base, title="Commission fines Google €890 million for breaches of the Digital Markets Act"
    )
    newsletter = replace(base, title="ICT for Ageing Well Newsletter", doc_type="funding_call")
    assert "Personalie" in reasons(appointment)
    assert "Verfahren gegen ein einzelnes Unternehmen" in reasons(fine)
    assert "Newsletter-Angebot, keine Meldung" in reasons(newsletter)
    plain = replace(base, title="Commission presents the new industrial strategy")
    assert max(score(appointment), score(fine)) < score(plain)
    assert score(newsletter) < score(POWERTRAIN_CALL)


# ---------------------------------------------------------------- bad input


def test_every_item_gets_a_graded_score_even_with_only_a_title() -> None:
    only_title = SCHNABEL
    assert 0 < score(only_title) < 1
    assert 0 < score(RelevanceFacts(title="")) < score(only_title)
    assert 0 < score(PODCAST) < 1


@pytest.mark.parametrize(
    ("title", "language"),
    [
        ("La Commission lance un appel à propositions pour les PME en Allemagne", "fr"),
        ("La Commissione avvia un invito a presentare proposte in Germania", "it"),
    ],
)
def test_french_and_italian_items_are_scored(title: str, language: str) -> None:
    facts = replace(POWERTRAIN_CALL, title=title, text="", language=language)
    result = SCORER.score(facts)
    assert 0 < result.score <= 1 and result.reasons[0] == "offene Ausschreibung"


def test_a_1_mb_summary_is_read_only_in_its_lead() -> None:
    filler = "The project partners met again. " * (1_000_000 // 32)
    huge = replace(EGF_FINLAND, text=EGF_FINLAND.text + " " + filler + " Stuttgart Bosch-Gruppe")
    assert len(huge.text) > 1_000_000
    assert score(huge) == score(replace(huge, text=huge.text[:TEXT_LIMIT]))
    assert "erwähnt Region Stuttgart" not in reasons(huge)  # deep inside unrelated text


# ---------------------------------------------------------------- through classify


def test_classify_gives_the_scorers_result_for_a_real_press_release() -> None:
    """feeds/ec-presscorner-en.xml, IP/26/1678: an open consultation on State aid rules."""
    from pipeline.ingest.classify import Classifier
    from pipeline.ingest.normalize import normalize
    from pipeline.model import RawItem, Source, SourceKind

    source = Source(
        "ec-presscorner-en", "Press corner", "Europäische Kommission",
        "https://ec.europa.eu/commission/presscorner/api/rss", "en", SourceKind.FEED,
    )  # fmt: skip
    raw = RawItem(
        source_id=source.id,
        title="Commission invites comments on draft new rescue and restructuring State aid "
        "guidelines",
        url="https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1678",
        summary_html="<p>The European Commission has launched a public consultation on the "
        "draft of new Guidelines on State aid for rescuing and restructuring non-financial "
        "undertakings in difficulty. The Commission invites Member States and all other "
        "interested parties to comment on the draft by 4 September 2026.</p>",
        published=dt.datetime(2026, 7, 24, 0, 0, tzinfo=dt.UTC),
    )
    item = normalize(raw, source, tz=dt.UTC, now=dt.datetime(2026, 7, 24, 8, 0, tzinfo=dt.UTC))
    c = Classifier(TAXONOMY).classify(item, source)
    alone = SCORER.score(
        RelevanceFacts(
            title=item.title,
            text=item.summary_text,
            url=item.url,
            published=item.published.date(),
            doc_type=c.doc_type.value,
            topics=tuple((t.topic_id, t.confidence) for t in c.topics),
            deadlines=c.deadlines,
            institution=source.institution,
            source_url=source.url,
        )
    )
    assert (c.relevance, c.relevance_reasons) == (alone.score, alone.reasons)
    assert "Frist am 04.09.2026" in c.relevance_reasons and "EU-Quelle" in c.relevance_reasons
