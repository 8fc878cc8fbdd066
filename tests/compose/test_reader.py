"""The digest for its reader (issue 17): the funding calls a reader may apply for come
first, the others are folded; "EU-Begriffe in dieser Ausgabe" explains the terms used."""

from __future__ import annotations

import datetime as dt
import re

from pipeline.compose import resolve_segments
from pipeline.model import Deadline, DeadlineKind, DocType, Item, OrgType, Priority
from pipeline.model.eligibility import Applicant, Eligibility
from pipeline.model.glossary import Glossary, GlossaryEntry
from tests.compose.data import OWN, make_item, render, subscriber


def funding_call(item_id: int, title: str, eligibility: Eligibility | None) -> Item:
    return make_item(
        item_id,
        title,
        source_id="ftop",
        topics=("funding",),
        doc_type=DocType.FUNDING_CALL,
        deadlines=(Deadline(dt.date(2027, 3, 18), DeadlineKind.CALL_CLOSING),),
        eligibility=eligibility,
    )


RESEARCH = funding_call(
    201,
    "Horizont Europa: Quantentechnologien für die Industrie",
    Eligibility(
        programme="Horizont Europa",
        applicants=(Applicant.HOCHSCHULEN, Applicant.UNTERNEHMEN, Applicant.KMU),
        budget_eur=42_000_000,
        funding_rate=100,
        german_applicants=True,
    ),
)
TOWNS = funding_call(
    202,
    "LIFE: Klimaanpassung in Städten und Gemeinden",
    Eligibility(
        programme="LIFE",
        applicants=(Applicant.KOMMUNEN, Applicant.OEFFENTLICHE, Applicant.VEREINE),
        budget_eur=24_000_000,
        funding_rate=60,
        german_applicants=True,
    ),
)
UNKNOWN = funding_call(203, "Aufruf: Kulturerbe digital", None)
SECTIONS = [("Förderung & Ausschreibungen", [RESEARCH, UNKNOWN, TOWNS]), ("Aus dem Büro", [OWN])]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_digest_for_a_kommune_lists_its_eligible_calls_first() -> None:
    kommune = subscriber(1, OrgType.KOMMUNE, ())
    segment = resolve_segments(SECTIONS, [kommune], "weekly")[0]
    assert segment.applicant is Applicant.KOMMUNEN
    digest = render(segment.sections, applicant=segment.applicant)
    text = flat(digest.text)
    towns, unknown = text.index("Klimaanpassung in Städten"), text.index("Kulturerbe digital")
    assert towns < unknown < text.index("Weitere Förderaufrufe")
    assert (
        "Für Sie antragsberechtigt Budget 24 Mio. € · Förderquote 60 % · Frist 18. März 2027"
        in (text)
    )
    # the call they may not apply for: one line in the short list, no full entry
    folded = text[text.index("Weitere Förderaufrufe") :]
    assert "Horizont Europa: Quantentechnologien für die Industrie – Horizont Europa ·" in folded
    assert text.count("Quantentechnologien") == 1
    # a call without eligibility data is shown in full, marked "siehe Aufruf", never guessed
    assert "Antragsberechtigung: siehe Aufruf" in text
    html = digest.html
    assert html.index("Für Sie antragsberechtigt") < html.rindex("Kulturerbe digital")
    assert re.search(r"<ul[^>]*>\s*<li[^>]*><a [^>]*>Horizont Europa: Quantentechnologien", html)
    assert "4 Meldungen" in text  # the folded call counts


def test_readers_who_may_apply_for_the_same_calls_share_a_segment() -> None:
    readers = [
        subscriber(1, OrgType.KOMMUNE, ()),
        subscriber(2, OrgType.LANDKREIS, ()),
        subscriber(3, OrgType.HOCHSCHULE, ()),
        subscriber(4, OrgType.SONSTIGE, ()),  # no kind of applicant: calls in their order
    ]
    segments = resolve_segments(SECTIONS, readers, "weekly")
    by_reader = {s.id: seg for seg in segments for s in seg.subscribers}
    assert by_reader[1] is by_reader[2] and by_reader[1] is not by_reader[3]
    assert by_reader[3].applicant is Applicant.HOCHSCHULEN
    assert by_reader[4].applicant is None and len(by_reader[4].key) == 2  # the key as before
    text = flat(render(by_reader[3].sections, applicant=by_reader[3].applicant).text)
    assert text.index("Quantentechnologien") < text.index("Kulturerbe digital")
    assert "Weitere Förderaufrufe" in text and "LIFE: Klimaanpassung in Städten" in text
    plain = flat(render(by_reader[4].sections).text)
    assert "Für Sie antragsberechtigt" not in plain and "Weitere Förderaufrufe" not in plain
    order = [plain.index(t) for t in ("Quantentechnologien", "Kulturerbe", "Klimaanpassung")]
    assert order == sorted(order)


GLOSSARY = Glossary(
    (
        GlossaryEntry("Trilog", "Verhandlungen von Parlament, Rat und Kommission."),
        GlossaryEntry("LIFE", "EU-Programm für Umwelt- und Klimaschutz."),
        GlossaryEntry("Förderquote", "Anteil der Kosten, den die EU trägt."),
        GlossaryEntry("Komitologie", "Ausschüsse der Mitgliedstaaten prüfen."),
    )
)


def test_the_glossary_block_explains_each_term_used_once() -> None:
    trilog = make_item(
        301,
        "Einigung im Trilog",
        headline="Einigung im Trilog über Verpackungen",
        comment="Nach dem dritten Trilog steht der Text; der Trilog war zäh.",
        priority=Priority.ACTION,
    )
    digest = render([("Politik", [trilog]), ("Förderung", [TOWNS])], glossary=GLOSSARY)
    text = digest.text
    block = text[text.index("EU-BEGRIFFE IN DIESER AUSGABE") :]
    assert [line for line in block.splitlines() if line in ("Trilog", "LIFE", "Förderquote")] == [
        "Trilog",
        "LIFE",
        "Förderquote",
    ]  # each once, in the glossary's order; Komitologie is not used
    assert "Komitologie" not in text
    html = digest.html
    assert html.count("EU-Begriffe in dieser Ausgabe") == 1
    dl = html[html.index("EU-Begriffe in dieser Ausgabe") :]
    assert re.findall(r"<dfn>([^<]+)</dfn>", dl) == ["Trilog", "LIFE", "Förderquote"]
    assert "Verhandlungen von Parlament, Rat und Kommission." in dl


def test_no_glossary_block_without_terms() -> None:
    digest = render([("Aus dem Büro", [OWN])], glossary=GLOSSARY)
    assert "EU-Begriffe" not in digest.html and "EU-BEGRIFFE" not in digest.text
