"""DigestRenderer: a segment's digest put together from blocks rendered once per edition.

The reference is render_whole(): the whole document through Jinja2 and css-inline at once
(what render_digest did before blocks were kept). For many segments, with awkward text in
headlines and comments, render() must give exactly its bytes: subject, text and HTML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import css_inline
import pytest
from bs4 import BeautifulSoup
from markupsafe import escape

from pipeline.compose import render as render_module
from pipeline.compose.render import DigestRenderer, SectionInput, digest_deadlines
from pipeline.model import Branding, Deadline, DeadlineKind, Item, Priority
from pipeline.model.eligibility import Applicant
from tests.compose.data import (
    CHIPS,
    COHESION,
    DNA,
    EDITION,
    GLOSSARY,
    HORIZON,
    INTERREG,
    NEWSLETTER,
    OFFICE,
    OWN,
    SINGLE_MARKET,
    SOURCES,
    TODAY,
    TOPIC_LABELS,
    TZ,
    WEB_URL,
    feedback_url,
    make_item,
    render,
    segments,
)

GOLDEN = Path(__file__).parent / "golden"

# Text that HTML treats specially, in every place an item shows it.
AWKWARD = make_item(
    201,
    'Zölle & Quoten: <b>"Made in EU"</b> – it\'s 100\xa0% & mehr\x00',
    topics=("industry",),
    comment="**Fett** & <i>kursiv</i>, 5 < 7 > 3; [Link](https://example.org/?a=1&b=2)",
    priority=Priority.ACTION,
    deadlines=(Deadline(dt.date(2026, 12, 1), DeadlineKind.EVENT),),
    url="https://example.org/zoelle?x=1&y=<2>",
)
SAME_DAY = make_item(  # a Frist on the same day as OWN's: sorted by headline
    202,
    "Aufruf: Städtepartnerschaften 2027 (Europa für Bürgerinnen & Bürger)",
    topics=("funding",),
    deadlines=(
        Deadline(dt.date(2026, 12, 3), DeadlineKind.CALL_CLOSING),
        Deadline(dt.date(2026, 12, 3), DeadlineKind.CALL_CLOSING),  # twice: shown once
    ),
    versions=(),
)
ITEMS: list[Item] = [INTERREG, CHIPS, DNA, COHESION, SINGLE_MARKET, HORIZON, OWN, AWKWARD, SAME_DAY]
TITLES = ["Im Fokus", "Förderung & <Ausschreibungen>", "Politik", "Aus dem Büro"]


def make_renderer(**changes: Any) -> DigestRenderer:
    args: dict[str, Any] = {
        "office": OFFICE,
        "branding": OFFICE.branding,
        "topic_labels": TOPIC_LABELS,
        "tz": TZ,
        "today": TODAY,
        "sources": SOURCES,
        **changes,
    }
    return DigestRenderer(EDITION, NEWSLETTER, **args)


def random_segments(seed: int, count: int) -> Iterator[tuple[list[SectionInput], str]]:
    rng = random.Random(seed)
    made = 0
    while made < count:
        sections: list[SectionInput] = [
            (title, rng.sample(ITEMS, rng.randint(0, 4))) for title in TITLES
        ]
        if any(items for _, items in sections):
            made += 1
            yield sections, rng.choice(["de", "de", "en"])


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"web_url": WEB_URL},
        {"feedback_url": feedback_url},
        {"glossary": GLOSSARY},  # "EU-Begriffe in dieser Ausgabe" as one more block
        {
            "branding": Branding(
                primary_color="#7a1f3d",
                logo_url="https://example.org/logo.png?a=1&b=2",
                logo_alt="Logo & Name",
            )
        },
    ],
    ids=["plain", "web-link", "feedback", "glossary", "logo"],
)
def test_segments_match_the_whole_document_rendering(changes: dict[str, Any]) -> None:
    fast, reference = make_renderer(**changes), make_renderer(**changes)
    for sections, language in random_segments(seed=7, count=60):
        whole = reference.render_whole(sections, language=language)
        assert fast.render(sections, language=language) == whole, (sections, language)
    # the calls a reader may apply for first, the others folded (issue 17): blocks of their own
    for sections, language in random_segments(seed=11, count=15):
        for who in (Applicant.KOMMUNEN, Applicant.HOCHSCHULEN):
            whole = reference.render_whole(sections, language=language, applicant=who)
            assert fast.render(sections, language=language, applicant=who) == whole, who


def test_known_blocks_need_no_css_inlining(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

    class Counting:
        def inline(self, html: str) -> str:
            calls.append(len(html))
            return inliner.inline(html)

    monkeypatch.setattr(render_module, "_inliner", lambda: Counting())
    renderer = make_renderer()
    cases = list(random_segments(seed=3, count=30))
    first = [renderer.render(s, language=lang) for s, lang in cases]
    assert 0 < len(calls) < len(cases)  # the skeleton once, then new blocks in batches
    calls.clear()
    again = [renderer.render(s, language=lang) for s, lang in cases]
    assert calls == [] and again == first


def test_lost_markers_fall_back_to_rendering_the_whole_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

    class Dropping:  # as if css-inline stopped keeping (our) comments
        def inline(self, html: str) -> str:
            return re.sub(r"<!--eudigest-[0-9a-f]+-cut-->", "", inliner.inline(html))

    monkeypatch.setattr(render_module, "_inliner", lambda: Dropping())
    renderer = make_renderer(glossary=GLOSSARY)
    for _ in range(2):
        kommune = segments()["kommune"]
        digest = renderer.render(kommune.sections, language="de", applicant=kommune.applicant)
        assert digest.html == (GOLDEN / "kommune.html").read_text(encoding="utf-8")
        assert digest.text == (GOLDEN / "kommune.txt").read_text(encoding="utf-8")


def test_the_preheader_reads_as_css_inline_writes_text() -> None:
    inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
    for value in ["a & b", "<b>x</b>", "\"'", "\xa0", "a\r\nb\rc", "nul\x00x", "&amp;", "\x0c😀"]:
        doc = f"<html><head><style>p {{ margin: 0; }}</style></head><body><div>[{escape(value)}"
        out = inliner.inline(doc + "]</div></body></html>")
        written = out[out.index("<div>[") + 6 : out.index("]</div>")]
        assert render_module._html_text(value) == written, value


def test_an_item_changed_under_the_same_id_is_rendered_anew() -> None:
    renderer = make_renderer()
    before = renderer.render([("Im Fokus", [HORIZON])], language="de")
    assert HORIZON.annotation is not None
    corrected = dataclasses.replace(HORIZON.annotation, headline="Horizont Europa: korrigiert")
    changed = dataclasses.replace(HORIZON, annotation=corrected)
    after = renderer.render([("Im Fokus", [changed])], language="de")
    assert "Das Arbeitsprogramm 2027 ist da" in before.text
    assert "Horizont Europa: korrigiert" in after.text and "2027 ist da" not in after.text


def test_fristen_of_the_segment_are_in_date_order_once() -> None:
    sections: Sequence[SectionInput] = [("Im Fokus", [SAME_DAY, OWN, DNA, SAME_DAY])]
    found = digest_deadlines([SAME_DAY, OWN, DNA, SAME_DAY], "de", TODAY)
    assert [(d.date.isoformat(), d.what) for d in found] == [
        ("2026-12-03", "Einreichungsschluss"),
        ("2026-12-03", "Termin"),
        ("2026-12-18", "Konsultation bis"),
    ]
    text = make_renderer().render(sections, language="de").text
    fristen = text.split("FRISTEN IN DEN NÄCHSTEN 6 WOCHEN")[1].split("=====")[0]
    assert fristen.count("Städtepartnerschaften") == 1
    assert fristen.index("Städtepartnerschaften") < fristen.index("Stuttgarter Tag")


# ---------------------------------------------------------------- "Im Browser lesen"


def test_browser_link_at_the_top_of_html_and_text() -> None:
    digest = render(segments()["kommune"].sections, web_url=WEB_URL)
    soup = BeautifulSoup(digest.html, "html.parser")
    link = soup.find("a", string="Im Browser lesen")
    assert link is not None and link.get("href") == WEB_URL
    h1 = soup.find("h1")
    assert h1 is not None and link in h1.find_all_previous("a")  # above the title
    assert digest.text.startswith(f"Im Browser lesen: {WEB_URL}\n\nEU-Wochenbrief")


def test_no_browser_link_without_a_base_url_or_with_a_bad_one() -> None:
    for web_url in (None, "", "javascript:alert(1)"):
        digest = render(segments()["kommune"].sections, web_url=web_url)
        assert "Im Browser lesen" not in digest.html and "Im Browser lesen" not in digest.text
        assert "javascript" not in digest.html
