"""parse(): every corpus feed and written fixture becomes RawItems; bad bodies give ParseError.

Expected counts come from the files themselves (a regex over <item>/<entry> tags) and the
corpus MANIFEST, never from feedparser.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from pipeline.errors import ParseError
from pipeline.ingest.adapters._text import find_date, parse_datetime
from pipeline.ingest.parse import parse
from pipeline.model import FetchResult, FetchStatus, RawItem, Source, SourceKind
from pipeline.text import html_to_line

UTC = dt.UTC


def tz(hours: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


def feed_source(**options: object) -> Source:
    return Source(
        id="test-feed",
        name="Test",
        institution="Test",
        url="https://example.org/feed.xml",
        language="de",
        kind=SourceKind.FEED,
        options=dict(options),
    )


def run(
    body: bytes,
    *,
    content_type: str | None = None,
    url: str = "https://example.org/feed.xml",
    source: Source | None = None,
) -> list[RawItem]:
    result = FetchResult(
        source_id="test-feed",
        status=FetchStatus.OK,
        url=url,
        body=body,
        content_type=content_type,
    )
    return parse(source or feed_source(), result)


def feed(corpus_dir: Path, name: str) -> bytes:
    return (corpus_dir / "feeds" / name).read_bytes()


# A start tag that is not self-closing: <item>, <item rdf:about="…">, <entry>; not <item />.
ENTRY_TAG = re.compile(rb"<(?:item|entry)(?:\s[^>]*)?(?<!/)>")
ANY_ITEM_TAG = re.compile(rb"<(?:item|entry)[\s>/]")
CORPUS_FEEDS = sorted(
    p.name for p in (Path(__file__).resolve().parents[3] / "shared/corpus/feeds").glob("*.xml")
)


def manifest_counts(corpus_dir: Path) -> dict[str, int]:
    """File name → the leading number of the MANIFEST's "Entries" column."""
    counts = {}
    for line in (corpus_dir / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 6 and cells[1].startswith("feeds/"):
            match = re.match(r"\d+", cells[5])
            if match:
                counts[cells[1].removeprefix("feeds/")] = int(match.group())
    return counts


# ---------------------------------------------------------------- every corpus file


def test_the_corpus_has_the_feeds_the_manifest_lists(corpus_dir: Path) -> None:
    counts = manifest_counts(corpus_dir)
    total = re.search(r"Total: \d+ files \((\d+) XML", (corpus_dir / "MANIFEST.md").read_text())
    assert total is not None and len(CORPUS_FEEDS) == int(total.group(1))
    assert set(counts) == set(CORPUS_FEEDS)
    for name, expected in counts.items():
        # the MANIFEST counts every <item>/<entry> element, nested empty ones included
        assert len(ANY_ITEM_TAG.findall(feed(corpus_dir, name))) == expected, name


@pytest.mark.parametrize("name", CORPUS_FEEDS)
def test_every_entry_of_every_corpus_feed_becomes_an_item(corpus_dir: Path, name: str) -> None:
    body = feed(corpus_dir, name)
    items = run(body)
    assert len(items) == len(ENTRY_TAG.findall(body))
    for item in items:
        assert item.source_id == "test-feed"
        assert item.title and item.title == item.title.strip()
        assert "<" not in item.title or "<" in html_to_line(item.title)
        assert item.url is None or item.url.startswith(("http://", "https://"))
        assert "\ufffd" not in item.title  # no replacement characters: the charset was right


def test_illegally_nested_items_lose_nothing(corpus_dir: Path) -> None:
    """pcmag: 10 real items, each holding an empty <item />. The MANIFEST's 20 elements are
    10 items with content plus 10 empty ones; feedparser yields all 20 as separate entries
    (it does not fold them), and the empty ones are dropped."""
    body = feed(corpus_dir, "quirk-illegally-nested-items-pcmag.xml")
    assert len(re.findall(rb"<item\s*/>", body)) == 10
    expected_titles = [t.decode() for t in re.findall(rb"<item><title>(.*?)</title>", body)]
    items = run(body)
    assert [i.title for i in items] == [t.replace("&amp;", "&") for t in expected_titles]
    assert len(items) == 10
    first = items[0]
    assert first.title == "My Professional Armchair Analysis of CES"
    assert first.published == dt.datetime(2018, 1, 17, 15, 50, tzinfo=tz(-5))  # EST
    assert first.language == "en"


# ---------------------------------------------------------------- German and other charsets


def test_iso_8859_1_german_feed_has_right_umlauts(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-de-iso8859-1-golem.xml"))
    titles = [i.title for i in items]
    assert "Machine Learning: Von KI erstelltes Porträt für 432.500 US.Dollar versteigert" in titles
    assert "Wochenrückblick: Wilder Westen, buntes Handy, nutzloses Siegel" in titles
    assert not any("Ã" in t for t in titles)
    first = items[0]
    assert first.url == (
        "https://www.golem.de/news/red-dead-redemption-2-hinweise-auf-pc-umsetzung-"
        "in-app-von-rockstar-games-1810-137358-rss.html"
    )
    assert first.guid == "https://www.golem.de/1810/137358-rss.html"
    assert first.published == dt.datetime(2018, 10, 28, 13, 48, tzinfo=tz(1))
    assert first.language == "de"
    assert "wünschen" in first.summary_html


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/xml",  # RFC 3023 would make this US-ASCII
        "application/rss+xml; charset=utf-8",  # wrong: the body is Latin-1
        "text/html; charset=iso-8859-1",
    ],
)
def test_latin1_feed_survives_any_content_type(corpus_dir: Path, content_type: str | None) -> None:
    items = run(feed(corpus_dir, "quirk-de-iso8859-1-golem.xml"), content_type=content_type)
    assert len(items) == 40
    assert "Projekt Jedi: Microsoft will weiter mit US-Militär zusammenarbeiten" in [
        i.title for i in items
    ]


@pytest.mark.parametrize(
    "content_type", ["text/xml; charset=ISO-8859-1", "application/rss+xml; charset=windows-1252"]
)
def test_utf8_feed_served_with_a_latin1_charset_is_read_as_utf8(
    corpus_dir: Path, content_type: str
) -> None:
    items = run(feed(corpus_dir, "de-blick-schweiz.xml"), content_type=content_type)
    assert items[0].title == (
        "40-Meter-Hang hinuntergestürzt: Seniorinnen nach Selbstunfall in Unteriberg SZ verletzt"
    )
    assert not any("Ã" in i.title for i in items)
    assert items[0].language == "de"  # de-ch → de


def test_zeit_rss091_without_dates(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-de-iso8859-1-zeit-2007.xml"))
    titles = [i.title for i in items]
    assert "Bnd-Affäre: Ein bisschen Transparenz" in titles
    assert 'Nationalelf: "Ich weiß es nicht"' in titles
    assert all(i.published is None and i.updated is None for i in items)
    assert items[0].url == "http://www.zeit.de/2006/22/tv-finalversion_xml"
    assert items[0].language == "de"


def test_rss090_rdf_heise(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-de-rss09-rdf-heise-nodates.xml"))
    assert items[0].title == "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"
    assert "Mega-Deal: IBM übernimmt Red Hat" in [i.title for i in items]
    assert all(i.published is None for i in items)


def test_newline_before_xml_declaration(corpus_dir: Path) -> None:
    body = feed(corpus_dir, "quirk-xml-decl-not-at-start.xml")
    assert body[:1] == b"\n"
    (item,) = run(body)
    assert item.title == "Ostafrika stellt sich auf die nächste Heuschreckenplage ein"
    assert item.published == dt.datetime(2020, 3, 10, 16, 5, tzinfo=tz(1))
    assert item.guid == "c88fbba9-c228-4724-bf41-8c193b72491c"
    assert item.language == "de"


def test_undeclared_latin1_with_portuguese_dates(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-undeclared-latin1-uol.xml"), content_type="text/xml")
    assert items[0].title == (
        "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )
    # "Seg, 24 Set 2018 19:42:40 -0300": Portuguese day and month names
    assert items[0].published == dt.datetime(2018, 9, 24, 19, 42, 40, tzinfo=tz(-3))
    assert items[0].language is None  # <language></language> is empty


def test_gb2312_feed(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-gb2312-kc0011.xml"))
    assert items[0].title == "建国35周年纪念，华表，和平鸽"
    assert items[0].published == dt.datetime(2020, 1, 10, 14, 33)  # no zone: naive
    assert items[0].language == "zh"


def test_windows1251_feed(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-windows1251-oren.xml"))
    assert items[0].title == "В Бузулуке главные стройплощадки – детсад и Ледовый дворец"
    assert items[0].url == "http://www.oren.ru/news/2743422/"
    assert items[0].published == dt.datetime(2014, 1, 22, 20, 31, 31, tzinfo=tz(6))


# ---------------------------------------------------------------- titles, links, content


def test_html_in_rdf_titles_becomes_plain_text(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-rdf-rss10-html-in-title-craigslist.xml"))
    assert items[0].title == (
        "Bright, Spacious Beautiful Victorian (oakland north / temescal) $4300 3bd 1930ft2"
    )
    assert items[0].published == dt.datetime(2017, 6, 21, 10, 33, 10, tzinfo=tz(-7))
    assert items[0].language == "en"


def test_atom_html_titles_decode_entities(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-atom-html-titles-onefoottsunami.xml"))
    titles = [i.title for i in items]
    assert "Link: That\u2019s Not What Dolphins Do" in titles
    assert "Link: \u201cI Love the Thing That I Most Wish Had Not Happened\u201d" in titles
    assert items[0].guid == "http://onefoottsunami.com/?p=14863"
    assert items[0].published == dt.datetime(2015, 9, 8, 14, 21, 41, tzinfo=UTC)
    assert items[0].updated == dt.datetime(2015, 9, 7, 18, 14, 11, tzinfo=UTC)
    assert items[0].summary_html.startswith("<p>At West Point")


def test_atom_relative_links_resolve_against_the_fetched_url(corpus_dir: Path) -> None:
    items = run(
        feed(corpus_dir, "quirk-atom-xhtml-content-intertwingly.xml"),
        url="http://intertwingly.net/blog/index.atom",
    )
    first = items[0]
    assert first.title == "Inhibiting Suspend"
    assert first.url == "http://intertwingly.net/blog/2012/07/16/Inhibiting-Suspend"
    # only <updated> in this feed: it stands in for the publication date
    assert first.updated == dt.datetime(2012, 7, 16, 8, 48, 1, tzinfo=tz(-7))
    assert first.published == first.updated
    assert "<svg" in first.summary_html  # xhtml content kept as HTML


def test_presscorner_entry_in_full(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "ec-presscorner-en.xml"))
    item = items[1]
    assert item.title == (
        "Commission greenlights Belgium's fifth payment request for €225 million "
        "under NextGenerationEU"
    )
    assert item.url == "https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692"
    assert item.guid == item.url
    assert item.published == dt.datetime(2026, 7, 27, 9, 20, 41, tzinfo=UTC)  # GMT
    assert item.categories == ("POLICY_AREA=RECOVERY",)
    assert item.language == "en"
    assert item.summary_html.startswith("European Commission Press release Brussels, 27 Jul 2026")


def test_ecb_offset_dates_stay_in_their_zone(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "ecb-press-en.xml"))
    assert items[0].published == dt.datetime(2026, 7, 30, 10, 0, tzinfo=tz(2))
    assert items[0].published.utcoffset() == dt.timedelta(hours=2)


def test_huge_podcast_with_pst(corpus_dir: Path) -> None:
    items = run(feed(corpus_dir, "quirk-huge-podcast-giantbomb.xml"))
    assert len(items) == 730
    assert items[0].title == "Giant Bombcast 603: Call of Tuesday"
    assert items[0].published == dt.datetime(2019, 10, 1, 14, 30, tzinfo=tz(-8))


def test_entry_with_only_a_description_gets_a_title_from_it() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
      <title>t</title><link>https://example.org/</link>
      <item><description>Die Kommission hat heute einen Vorschlag f\xc3\xbcr eine neue
        Verordnung \xc3\xbcber den Binnenmarkt f\xc3\xbcr Wasserstoff und dessen Netze
        vorgelegt, der Regionen betrifft.</description></item>
      <item><title></title><link></link></item>
    </channel></rss>"""
    (item,) = run(body)
    assert item.url is None
    assert item.title.startswith("Die Kommission hat heute einen Vorschlag für eine neue")
    assert item.title.endswith("…")
    assert len(item.title) <= 81


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 27 Jul 2026 09:37:55 GMT", dt.datetime(2026, 7, 27, 9, 37, 55, tzinfo=UTC)),
        ("Thu, 30 Jul 2026 10:00:00 +0200", dt.datetime(2026, 7, 30, 10, tzinfo=tz(2))),
        ("Wed, 17 Jan 2018 15:50:00 EST", dt.datetime(2018, 1, 17, 15, 50, tzinfo=tz(-5))),
        ("Tue, 01 Oct 2019 14:30:00 PST", dt.datetime(2019, 10, 1, 14, 30, tzinfo=tz(-8))),
        ("Mo, 13 Jul 2026 10:00:00 CEST", dt.datetime(2026, 7, 13, 10, tzinfo=tz(2))),
        ("Mon, 13 Jul 2026 10:00:00", dt.datetime(2026, 7, 13, 10)),  # no zone: naive
        ("Mon, 13 Jul 2026 10:00:00 XYZ", dt.datetime(2026, 7, 13, 10)),  # unknown: naive
        ("13 Jul 2026", dt.datetime(2026, 7, 13)),
        ("2015-09-08T14:21:41Z", dt.datetime(2015, 9, 8, 14, 21, 41, tzinfo=UTC)),
        ("2012-07-16T08:48:01-07:00", dt.datetime(2012, 7, 16, 8, 48, 1, tzinfo=tz(-7))),
        ("2027-04-08T00:00:00.000+0000", dt.datetime(2027, 4, 8, tzinfo=UTC)),
        ("2026-07-14T10:00:00", dt.datetime(2026, 7, 14, 10)),
        ("2020/1/10 14:33:00", dt.datetime(2020, 1, 10, 14, 33)),
        ("12.03.2026", dt.datetime(2026, 3, 12)),
        ("Seg, 24 Set 2018 19:42:40 -0300", dt.datetime(2018, 9, 24, 19, 42, 40, tzinfo=tz(-3))),
        ("12. März 2026 14:30", dt.datetime(2026, 3, 12, 14, 30)),
        ("not a date", None),
        ("", None),
    ],
)
def test_parse_datetime_keeps_zones_and_naive_times(text: str, expected: dt.datetime) -> None:
    value = parse_datetime(text)
    assert value == expected
    if expected is not None:
        assert (value.tzinfo is None) == (expected.tzinfo is None)
        assert value.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12. März 2026", dt.datetime(2026, 3, 12)),
        ("Veröffentlicht am 3. Juli 2026", dt.datetime(2026, 7, 3)),
        ("12 March 2026", dt.datetime(2026, 3, 12)),
        ("Published March 12, 2026", dt.datetime(2026, 3, 12)),
        ("12/03/2026", dt.datetime(2026, 3, 12)),
        ("Stand: 12.03.2026, 14:30 Uhr", dt.datetime(2026, 3, 12, 14, 30)),
        ("1 février 2026", dt.datetime(2026, 2, 1)),
        ("2026-03-12", dt.datetime(2026, 3, 12)),
        ("no date here", None),
    ],
)
def test_find_date_in_page_text(text: str, expected: dt.datetime | None) -> None:
    assert find_date(text) == expected


def test_feed_dates_without_zone_stay_naive() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
      <item><title>A</title><link>https://e.org/a</link>
        <pubDate>Mon, 13 Jul 2026 10:00:00</pubDate></item>
      <item><title>B</title><link>https://e.org/b</link></item>
    </channel></rss>"""
    a, b = run(body)
    assert a.published == dt.datetime(2026, 7, 13, 10, 0)
    assert a.published.tzinfo is None
    assert b.published is None


# ---------------------------------------------------------------- bad bodies


@pytest.mark.parametrize("body", [b"", b"  \r\n\t "])
def test_empty_body(body: bytes) -> None:
    with pytest.raises(ParseError, match="empty body") as err:
        run(body)
    assert err.value.source_id == "test-feed"


def test_html_page_served_as_feed() -> None:
    page = (
        b"<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>"
        b"<body><p>Checking your browser</p></body></html>"
    )
    with pytest.raises(ParseError) as err:
        run(page, content_type="text/html; charset=UTF-8")
    assert str(err.value) == "got an HTML page, not a feed (Content-Type text/html)"


def test_html_page_without_doctype() -> None:
    with pytest.raises(ParseError, match="got an HTML page, not a feed"):
        run(b"\n  <html lang='en'><body>Access denied</body></html>", content_type="text/html")


def test_feed_cut_off_before_its_first_entry(corpus_dir: Path) -> None:
    body = feed(corpus_dir, "ecb-press-en.xml")
    with pytest.raises(ParseError, match="cut off before its first entry"):
        run(body[:300])


def test_feed_cut_off_mid_way_keeps_the_complete_entries(corpus_dir: Path) -> None:
    body = feed(corpus_dir, "ecb-press-en.xml")
    full = run(body)
    cut = body[:3000]
    complete = len(re.findall(rb"</item>", cut))
    items = run(cut)
    assert len(items) == complete  # the entry cut in half is dropped
    assert [i.title for i in items] == [i.title for i in full[:complete]]


def test_binary_garbage() -> None:
    garbage = bytes(range(256)) * 8 + os.urandom(512)
    with pytest.raises(ParseError, match="malformed XML"):
        run(garbage, content_type="application/octet-stream")


def test_json_served_as_feed() -> None:
    with pytest.raises(ParseError, match=r"got JSON, not a feed \(Content-Type application/json\)"):
        run(b'{"items": []}', content_type="application/json")


def test_xml_that_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match="XML but not an RSS or Atom feed"):
        run(b'<?xml version="1.0"?><sitemap><url>https://e.org/</url></sitemap>')


def test_valid_feed_without_entries_is_not_an_error() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Leer</title>
      <link>https://example.org/</link><description/></channel></rss>"""
    assert run(body) == []


def test_bad_title_pattern_option() -> None:
    with pytest.raises(ParseError, match="title_strip_pattern"):
        run(b"<rss/>", source=feed_source(title_strip_pattern="([unclosed"))


def test_api_source_without_adapter() -> None:
    source = Source(
        id="x", name="x", institution="x", url="https://e.org/", language="en", kind=SourceKind.API
    )
    result = FetchResult(source_id="x", status=FetchStatus.OK, url="https://e.org/", body=b"{}")
    with pytest.raises(ParseError, match="needs an adapter"):
        parse(source, result)


# ---------------------------------------------------------------- written fixtures


def written(written_dir: Path, name: str, **options: object) -> list[RawItem]:
    return run(
        (written_dir / name).read_bytes(),
        content_type="application/rss+xml; charset=utf-8",
        source=feed_source(**options),
    )


def test_presscorner_de_matches_the_english_corpus_items(
    corpus_dir: Path, written_dir: Path
) -> None:
    german = written(written_dir, "ec-presscorner-de.xml")
    english = {i.url.rsplit("/", 1)[-1]: i for i in run(feed(corpus_dir, "ec-presscorner-en.xml"))}
    assert len(german) == 4
    for item in german:
        number = item.url.rsplit("/", 1)[-1]
        assert item.url == f"https://ec.europa.eu/commission/presscorner/detail/de/{number}"
        assert number in english
        assert item.published == english[number].published
        assert item.categories == english[number].categories
        assert item.language == "de"
    assert german[0].title == (
        "Kommission billigt fünften Zahlungsantrag Belgiens über 225 Mio. € "
        "im Rahmen von NextGenerationEU"
    )
    assert "Europäische Kommission Pressemitteilung Brüssel" in german[0].summary_html


def test_ep_press_releases_in_two_languages(written_dir: Path) -> None:
    de = written(
        written_dir, "ep-press-releases-de.xml", title_strip_pattern="^Pressemitteilung - "
    )
    en = written(written_dir, "ep-press-releases-en.xml", title_strip_pattern="^Press release - ")
    assert len(de) == len(en) == 3
    assert de[0].title == (
        "Kohäsionspolitik: Abgeordnete für schnellere Hilfe für Regionen im industriellen Wandel"
    )
    assert (
        en[0].title
        == "Cohesion policy: MEPs back faster support for regions hit by industrial change"
    )
    assert en[2].title.endswith("for SMEs & start-ups")
    for d, e in zip(de, en, strict=True):
        assert (
            re.search(r"\d{8}IPR\d{5}", d.url).group() == re.search(r"\d{8}IPR\d{5}", e.url).group()
        )
        assert d.guid.removesuffix("_DE") == e.guid.removesuffix("_EN")
        assert d.published == e.published
        assert d.language == "de" and e.language == "en"  # <language>DE</language>
        procedure = re.search(r"\d{4}/\d{4}\(COD\)", e.summary_html)
        assert procedure and procedure.group() in d.summary_html
    assert de[0].categories == ("Pressemitteilung",)


def test_eurlex_celex_prefix_becomes_a_reference(written_dir: Path) -> None:
    items = written(written_dir, "eurlex-oj-l-de.xml", title_reference_pattern=r"^CELEX:(\S+?):\s+")
    assert [i.references for i in items] == [
        ("32026R1412",),
        ("32026L1398",),
        ("32026D1405",),
        ("32026R1377R(01)",),
    ]
    assert items[0].title.startswith("Durchführungsverordnung (EU) 2026/1412 der Kommission")
    assert items[2].title.startswith("Beschluss (GASP) 2026/1405 des Rates")
    assert items[0].published == dt.datetime(2026, 7, 13, tzinfo=tz(2))
    assert items[0].url == "https://eur-lex.europa.eu/./legal-content/AUTO/?uri=CELEX:32026R1412"


def test_eurlex_without_options_keeps_the_raw_title(written_dir: Path) -> None:
    items = written(written_dir, "eurlex-oj-l-de.xml")
    assert items[0].title.startswith("CELEX:32026R1412: Durchführungsverordnung")
    assert items[0].references == ()


def test_representation_feed_resolves_links_against_xml_base(written_dir: Path) -> None:
    items = written(written_dir, "ec-representation-germany-de.xml")
    assert items[0].url == (
        "https://germany.representation.ec.europa.eu/nachrichten-und-veranstaltungen/"
        "pressemitteilungen/vier-neue-halbleiteranlagen-kommission-genehmigt-beihilfe-"
        "deutschlands-2026-07-14_de"
    )
    assert items[0].guid == "48213 at https://germany.representation.ec.europa.eu"
    assert items[2].title.startswith("Förderaufruf: 1,2 Milliarden Euro")
    assert items[0].summary_html.startswith("<p>Die Europäische Kommission")


def test_inforegio_item_without_title_or_link(written_dir: Path) -> None:
    items = written(written_dir, "inforegio-news-en.xml")
    assert len(items) == 3
    assert items[0].url == (
        "https://ec.europa.eu/regional_policy/whats-new/newsroom/"
        "16-07-2026-cohesion-policy-eur13-billion-for-42-innovative-projects_en"
    )
    last = items[2]
    assert last.url is None
    assert last.title.startswith("Interreg Europe opens its fifth call for project proposals")
    assert last.guid == "30385 at https://ec.europa.eu/regional_policy"


@pytest.mark.parametrize(
    ("name", "count", "first_title", "published"),
    [
        (
            "council-press-releases-en.xml",
            3,
            "Cohesion policy: Council and Parliament strike deal on mid-term flexibility "
            "for regions",
            dt.datetime(2026, 7, 15, 18, 40, tzinfo=tz(2)),
        ),
        (
            "cordis-news-en.xml",
            3,
            "Horizon Europe: €2.1 billion for clean transport and energy in the 2027 "
            "work programme",
            dt.datetime(2026, 7, 16, 10, tzinfo=UTC),
        ),
        (
            "eib-press-en.xml",
            3,
            "Germany: EIB lends €400 million to Stuttgart region for S-Bahn modernisation",
            dt.datetime(2026, 7, 16, 11, tzinfo=tz(2)),
        ),
    ],
)
def test_other_written_feeds(
    written_dir: Path, name: str, count: int, first_title: str, published: dt.datetime
) -> None:
    items = written(written_dir, name)
    assert len(items) == count == len(ENTRY_TAG.findall((written_dir / name).read_bytes()))
    assert items[0].title == first_title
    assert items[0].published == published
    assert items[0].language == "en"
    assert all(i.url and i.url.startswith("https://") for i in items)
