"""Cross-language keys from links (normalize.TWIN_RULES): the German and English versions
of one document get the same key and name the rule that found it; links that only look
alike get none. Pure: URLs in, keys out; the real links come from the corpus feeds."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.ingest.normalize import TWIN_RULES, Twin, canonical_url, normalize, twin_of
from pipeline.model import RawItem, Source, SourceKind, merge_reason

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
WRITTEN = Path(__file__).resolve().parents[1] / "data" / "written"


def key(url: str, text: str = "") -> Twin | None:
    return twin_of(canonical_url(url), text)


# (rule, English link, German link, key): each pair as the publisher spells its links.
PAIRS = [
    (
        "presscorner_number",
        "https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692",
        "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1692",
        "IP/26/1692",
    ),
    (
        "presscorner_number",
        "https://europa.eu/rapid/press-release_IP-19-1234_en.htm",
        "https://europa.eu/rapid/press-release_IP-19-1234_de.htm",
        "IP/19/1234",
    ),
    (
        "ep_news_reference",
        "https://www.europarl.europa.eu/news/en/press-room/20260713IPR46512/cohesion-policy-meps",
        "https://www.europarl.europa.eu/news/de/press-room/20260713IPR46512/kohasionspolitik",
        "EP:20260713IPR46512",
    ),
    (
        "ep_news_reference",
        "https://www.europarl.europa.eu/news/en/headlines/economy/20260110STO01234/slug",
        "https://www.europarl.europa.eu/news/de/headlines/economy/20260110STO01234/slug-de",
        "EP:20260110STO01234",
    ),
    (
        "council_press_release",
        "https://www.consilium.europa.eu/en/press/press-releases/2026/07/15/cohesion-policy-deal/",
        "https://www.consilium.europa.eu/de/press/press-releases/2026/07/15/cohesion-policy-deal/",
        "Rat:2026/07/15/cohesion-policy-deal",
    ),
    (
        "ec_newsroom_item",
        "https://ec.europa.eu/newsroom/cnect/items/812345/en",
        "https://ec.europa.eu/newsroom/cnect/items/812345?lang=de",
        "Newsroom:cnect/812345",
    ),
    (
        "ec_newsroom_item",
        "http://ec.europa.eu/information_society/newsroom/cf/dae/itemdetail.cfm?item_id=17561",
        "http://ec.europa.eu/information_society/newsroom/cf/dae/itemdetail.cfm?item_id=17561&lang=de",
        "Newsroom:dae/17561",
    ),
    (
        "eurlex_celex",
        "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R1234",
        "https://eur-lex.europa.eu/legal-content/DE/TXT/HTML/?uri=CELEX%3A32024R1234&qid=17",
        "CELEX:32024R1234",
    ),
    (
        "eurlex_celex",
        "https://eur-lex.europa.eu/./legal-content/AUTO/?uri=CELEX:32026R1377R(01)",
        "https://eur-lex.europa.eu/LexUriServ/LexUriServ.do?uri=CELEX:32026R1377R(01):DE:HTML",
        "CELEX:32026R1377R(01)",
    ),
    (
        "ecb_document",
        "https://www.ecb.europa.eu//press/pr/date/2026/html/ecb.pr260724_4~f082ce289d.en.html",
        "https://www.ecb.europa.eu/press/pr/date/2026/html/ecb.pr260724_4~f082ce289d.de.html",
        "EZB:pr260724_4~f082ce289d",
    ),
]


@pytest.mark.parametrize(("rule", "en", "de", "expected"), PAIRS)
def test_both_language_versions_get_one_key_and_its_rule(
    rule: str, en: str, de: str, expected: str
) -> None:
    assert key(en) == key(de) == Twin(expected, rule)


@pytest.mark.parametrize(
    "url",
    [
        # the press corner's list, search and another host
        "https://ec.europa.eu/commission/presscorner/home/en",
        "https://example.org/commission/presscorner/detail/en/ip_26_1692",
        # EP: a page without a reference, a malformed reference, the agenda
        "https://www.europarl.europa.eu/news/de/press-room/x",
        "https://www.europarl.europa.eu/news/en/press-room/2026071IPR46512/slug",
        "https://www.europarl.europa.eu/news/en/agenda/briefing/2026-07-13/2/x",
        "https://www.europarl.europa.eu/plenary/en/texts-adopted.html",
        # Council: the list, an impossible date, a statement's PDF, another host
        "https://www.consilium.europa.eu/en/press/press-releases/",
        "https://www.consilium.europa.eu/en/press/press-releases/2026/13/45/slug/",
        "https://www.consilium.europa.eu/en/press/press-releases/2026/07/15/slug/pdf/",
        "https://consilium.example.org/en/press/press-releases/2026/07/15/slug/",
        # newsroom: a document (not an item), an item without a number
        "http://ec.europa.eu/information_society/newsroom/cf/dae/document.cfm?doc_id=6321",
        "https://ec.europa.eu/newsroom/cnect/items/",
        "https://ec.europa.eu/digital-agenda/news-redirect/17561",
        # EUR-Lex: an OJ reference, a search, a CELEX number cut short or in another parameter
        "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=OJ:L_202601234",
        "https://eur-lex.europa.eu/search.html?uri=CELEX:32024R1234",
        "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R12",
        "https://eur-lex.europa.eu/legal-content/EN/TXT/?qid=CELEX:32024R1234",
        # ECB: the home page, a document without its hash, a hash with capitals
        "https://www.ecb.europa.eu/",
        "https://www.ecb.europa.eu/press/pr/date/2026/html/ecb.pr260724.en.html",
        "https://www.ecb.europa.eu/press/pr/date/2026/html/ecb.pr260724~F082CE289D.en.html",
        # not a URL
        "ip_26_1692",
    ],
)
def test_links_that_only_look_alike_give_no_key(url: str) -> None:
    assert key(url) is None


def test_keys_of_the_text_name_their_rule_and_a_link_key_wins() -> None:
    assert key("https://germany.representation.ec.europa.eu/x", "Quelle: IP/26/1692") == Twin(
        "IP/26/1692", "press_number_text"
    )
    assert key("https://x.eu/a", "Verfahren 2025/0123(COD)") == Twin(
        "2025/0123(COD)", "procedure_text"
    )
    celex = "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32024R1234"
    assert key(celex, "zu IP/26/1692") == Twin("CELEX:32024R1234", "eurlex_celex")
    assert key("https://x.eu/a", "IP/26/1 und IP/26/2") is None


def test_a_key_too_long_for_the_store_is_no_key() -> None:
    slug = "a" * 200
    assert (
        key(f"https://www.consilium.europa.eu/en/press/press-releases/2026/07/15/{slug}/") is None
    )


def test_real_links_of_the_corpus_get_keys_and_no_two_entries_of_a_feed_share_one() -> None:
    # The press corner and the ECB publish their links in the pattern the rules read.
    for name, rule, count in (
        ("feeds/ec-presscorner-en.xml", "presscorner_number", 20),
        ("feeds/ecb-press-en.xml", "ecb_document", 15),
    ):
        body = (CORPUS / name).read_text(encoding="utf-8")
        links = re.findall(r"<item>.*?<link>([^<]+)</link>", body, re.DOTALL)
        twins = [key(link) for link in links]
        assert len(links) == count
        assert all(t is not None and t.rule == rule for t in twins), (name, twins)
        assert len({t.key for t in twins if t}) == count, name


def test_written_fixtures_of_both_languages_pair_up() -> None:
    def keys(name: str) -> set[str]:
        body = (WRITTEN / name).read_text(encoding="utf-8")
        links = re.findall(r"<item>.*?<link>([^<]+)</link>", body, re.DOTALL)
        return {t.key for t in map(key, links) if t is not None}

    assert keys("ep-press-releases-en.xml") == keys("ep-press-releases-de.xml")
    assert len(keys("ep-press-releases-en.xml")) == 3
    assert len(keys("eurlex-oj-l-de.xml")) == 4


def test_every_rule_has_a_german_reason_naming_its_key() -> None:
    names = {r.name for r in TWIN_RULES} | {"press_number_text", "procedure_text"}
    for _, _, _, expected in PAIRS:
        ref = expected.split(":", 1)[-1]
        rule = next(r for r, _, _, k in PAIRS if k == expected)
        reason = merge_reason(rule, expected)
        assert ref in reason and ":" not in reason.replace(ref, ""), reason
    for name in names:
        assert merge_reason(name, "X").startswith("gleich")
    assert merge_reason("presscorner_number", "IP/26/1692") == (
        "gleiche Pressemitteilungsnummer IP/26/1692 im Link"
    )


def test_normalize_keeps_the_rule_with_the_key() -> None:
    source = Source(
        id="ep-press-de", name="EP", institution="Europäisches Parlament",
        url="https://www.europarl.europa.eu/rss/doc/press-releases/de.xml", language="de",
        kind=SourceKind.FEED,
    )  # fmt: skip
    now = dt.datetime(2026, 7, 20, 8, 0, tzinfo=dt.UTC)
    url = "https://www.europarl.europa.eu/news/de/press-room/20260713IPR46512/x?utm_source=rss"
    item = normalize(
        RawItem(source_id=source.id, title="Kohäsion", url=url),
        source,
        tz=ZoneInfo("Europe/Brussels"),
        now=now,
    )
    assert (item.family, item.family_rule) == ("EP:20260713IPR46512", "ep_news_reference")
    plain = normalize(
        RawItem(source_id=source.id, title="Ohne Schlüssel", url="https://x.eu/a"),
        source,
        tz=ZoneInfo("Europe/Brussels"),
        now=now,
    )
    assert (plain.family, plain.family_rule) == (None, "")
