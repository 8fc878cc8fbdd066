"""normalize: titles, HTML sanitising, canonical URLs, times, identity, families."""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest.normalize import (
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    canonical_url,
    family_key,
    normalize,
)
from pipeline.model import (
    Deadline,
    DeadlineKind,
    DocType,
    NormalizedItem,
    RawItem,
    Source,
    SourceKind,
)
from pipeline.text import html_to_line, sanitize_html

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SOURCE = Source(
    id="ec-press-en",
    name="European Commission – Press corner",
    institution="European Commission",
    url="https://ec.europa.eu/commission/presscorner/api/rss?language=en",
    language="en",
    kind=SourceKind.FEED,
)
PRESS_URL = "https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692"


def norm(raw: RawItem, *, now: dt.datetime = NOW, source: Source = SOURCE) -> NormalizedItem:
    return normalize(raw, source, tz=BRUSSELS, now=now)


def raw(**kw: object) -> RawItem:
    fields: dict[str, object] = {"source_id": SOURCE.id, "title": "Titel"}
    fields.update(kw)
    return RawItem(**fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------- titles


@pytest.mark.parametrize(
    ("given_title", "expected"),
    [
        ("Straße", "Straße"),
        ("Stra&szlig;e", "Straße"),
        (
            "Förderaufruf für Wasserstoff&#8209;Projekte",
            "Förderaufruf für Wasserstoff\u2011Projekte",
        ),
        (
            "Gr&uuml;ner Wasserstoff f&#252;r Baden-W&#xFC;rttemberg",
            "Grüner Wasserstoff für Baden-Württemberg",
        ),
        # double-escaped by the feed: never leave "&amp;" visible
        ("R&amp;amp;D in the EU", "R&D in the EU"),
        ("Research &amp; Innovation", "Research & Innovation"),
        ("Stra&amp;szlig;e", "Straße"),
        ("AT&amp;amp;amp;T", "AT&T"),
        # text that only looks like an entity stays as it is
        ("R&D and P&L", "R&D and P&L"),
        ("Einsatz &notwendig", "Einsatz &notwendig"),
        ("a < b > c", "a < b > c"),
        # HTML in a title (Atom type="html", CDATA) becomes its text
        ("CO<sub>2</sub>-Flottengrenzwerte für <b>Pkw</b>", "CO2-Flottengrenzwerte für Pkw"),
        ("  Daily News\n 27 / 07 /\t2026  ", "Daily News 27 / 07 / 2026"),
        ("Zero\u200bwidth\u00a0space", "Zerowidth space"),
        # decomposed umlauts (u + combining diaeresis) become NFC
        ("Mu\u0308nchen", "München"),
    ],
)
def test_title_is_plain_text_decoded_once(given_title: str, expected: str) -> None:
    assert norm(raw(title=given_title)).title == expected


def test_title_is_cut_cleanly_at_a_word() -> None:
    long_title = " ".join(["Kohäsionspolitik"] * 60)
    title = norm(raw(title=long_title)).title
    assert len(title) <= MAX_TITLE_CHARS
    assert title.endswith("Kohäsionspolitik…")


def test_empty_title_falls_back_to_summary_then_url() -> None:
    assert norm(raw(title="  ", summary_html="<p>Erster Satz des Textes.</p>")).title == (
        "Erster Satz des Textes."
    )
    assert norm(raw(title="", url=PRESS_URL)).title == PRESS_URL
    assert norm(raw(title="")).title == "(ohne Titel)"


# ---------------------------------------------------------------- sanitising

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt src=//evil.example/x.js></ScRiPt>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script<script>>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    '<p onclick="alert(1)" style="color:red">text</p>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<object data=x></object><embed src=x>",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<div style="x:expression(alert(1))">x</div>',
    '<a href="https://ok.example" onmouseover="alert(1)">ok</a>',
    "<template><script>alert(1)</script></template>",
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_sanitize_removes_script_in_every_disguise(vector: str) -> None:
    out = sanitize_html(f"<p>Vorher</p>{vector}<p>Nachher</p>").lower()
    for bad in ("<script", "javascript:", "vbscript:", "data:", "onerror", "onclick", "onload",
                "onmouseover", "<iframe", "<object", "<embed", "<svg", "<style", "<form",
                "<base", "<meta", "<img", "style=", "expression("):  # fmt: skip
        assert bad not in out, (vector, out)
    assert "vorher" in out and "nachher" in out


@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcipstrSCRIPT&#;:()x1\n")), max_size=80))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_sanitize_never_emits_a_script_tag(noise: str) -> None:
    out = sanitize_html(noise + "<script>alert(1)</script>" + noise).lower()
    assert "<script" not in out
    assert "javascript:" not in out or "<a" not in out


def test_sanitize_keeps_harmless_markup_and_marks_links() -> None:
    html_in = (
        "<h2>Überschrift</h2><p>Der <strong>Aufruf</strong> ist <em>offen</em>.</p>"
        "<ul><li>Punkt eins</li>"
        '<li><a href="https://ec.europa.eu/info" title="EU">Link</a></li></ul>'
        "<blockquote>Zitat</blockquote><table><tr><th>Frist</th><td>15.03.2027</td></tr></table>"
    )
    out = sanitize_html(html_in)
    assert "<h3>Überschrift</h3>" in out  # h1/h2 become h3: the digest owns the big headings
    assert "<strong>Aufruf</strong>" in out and "<em>offen</em>" in out
    assert "<li>Punkt eins</li>" in out
    assert (
        '<a href="https://ec.europa.eu/info" title="EU" rel="noopener noreferrer nofollow">Link</a>'
        in out
    )
    assert "<blockquote>Zitat</blockquote>" in out
    assert "<th>Frist</th><td>15.03.2027</td>" in out


def test_sanitize_resolves_relative_links_only_with_a_base() -> None:
    html_in = '<a href="/node/17072">EBA</a>'
    assert 'href="https://www.eba.europa.eu/node/17072"' in sanitize_html(
        html_in, base="https://www.eba.europa.eu/news/x"
    )
    assert "href" not in sanitize_html(html_in)


def test_sanitize_keeps_words_of_stripped_blocks_apart() -> None:
    assert html_to_line(sanitize_html("<div>Brüssel</div><div>Stuttgart</div>")) == (
        "Brüssel Stuttgart"
    )


def test_plain_text_summary_keeps_its_line_breaks() -> None:
    out = sanitize_html("Brussels, 27 Jul 2026 The EU sends planes\nThe EU has deployed ...")
    assert out == "Brussels, 27 Jul 2026 The EU sends planes<br>The EU has deployed ..."


def test_summary_is_bounded_and_still_well_formed() -> None:
    item = norm(raw(summary_html="<p>" + "Wort <b>fett &amp; klar</b> " * 3000 + "</p>"))
    assert len(item.summary_html) <= MAX_SUMMARY_CHARS
    assert item.summary_html.endswith("…</p>")
    assert item.summary_html.count("<b>") == item.summary_html.count("</b>")
    assert "&amp; klar" in item.summary_html  # never cut inside an entity


def test_summary_text_is_nfc() -> None:
    item = norm(raw(summary_html="<p>Mu\u0308nchen und Stuttgart</p>"))
    assert item.summary_text == "München und Stuttgart"
    assert "München" in item.summary_html


def test_html_to_line() -> None:
    assert html_to_line("<p>a</p><p>b &amp; c&nbsp;d</p><script>alert(1)</script>") == "a b & c d"
    assert html_to_line("Stra&szlig;e &lt;b&gt;") == "Straße <b>"  # decoded exactly once
    assert html_to_line("<li>eins</li><li>zwei</li>") == "eins zwei"
    assert html_to_line("") == ""


# ---------------------------------------------------------------- canonical URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://EC.Europa.EU:443/commission/presscorner/detail/en/ip_26_1692#top",
            "https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692",
        ),
        ("http://example.eu:80/a", "http://example.eu/a"),  # http stays http
        ("https://example.eu:8443/a", "https://example.eu:8443/a"),
        ("https://example.eu", "https://example.eu/"),
        (
            "https://x.eu/a?utm_source=rss&lang=de&utm_medium=feed&id=7&fbclid=AbC",
            "https://x.eu/a?lang=de&id=7",
        ),
        (
            "https://x.eu/a?gclid=1&mc_cid=2&mc_eid=3&_hsenc=4&_hsmi=5&mkt_tok=6&xtor=RSS-1",
            "https://x.eu/a",
        ),
        (
            "https://x.eu/a?at_medium=x&WT.mc_id=y&wt_zmc=z&piwik_campaign=a&pk_kwd=b&s_kwcid=c",
            "https://x.eu/a",
        ),
        (
            "https://x.eu/a?ocid=1&CMP=2&ref_src=3&igshid=4&yclid=5&msclkid=6&b=1",
            "https://x.eu/a?b=1",
        ),
        ("https://x.eu/a?z=1&a=2&m=3", "https://x.eu/a?z=1&a=2&m=3"),  # order kept
        ("https://x.eu/a?", "https://x.eu/a"),
        ("https://x.eu/a?b=1&", "https://x.eu/a?b=1"),
        ("https://x.eu/a?&&b=1&&", "https://x.eu/a?b=1"),
        ("https://x.eu/a?ref=newsletter", "https://x.eu/a?ref=newsletter"),  # not a tracker
        (
            "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3a32024R1689",
            "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3A32024R1689",
        ),
        ("https://x.eu/Förderung?q=ä", "https://x.eu/F%C3%B6rderung?q=%C3%A4"),
        ("https://x.eu/a b", "https://x.eu/a%20b"),
        ("  https://x.eu/a\n", "https://x.eu/a"),
        ("https://x.eu/#/topic-details/HORIZON-CL5", "https://x.eu/#/topic-details/HORIZON-CL5"),
        ("https://x.eu/page#section-2", "https://x.eu/page"),
        ("https://EXAMPLE.eu./x", "https://example.eu/x"),
        ("javascript:alert(1)", "javascript:alert(1)"),  # not http: left alone
        ("mailto:presse@region-stuttgart.de", "mailto:presse@region-stuttgart.de"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_resolves_relative_against_base() -> None:
    base = "https://www.eba.europa.eu/publications-and-media/press-releases"
    assert canonical_url("/node/17072?utm_source=x", base) == "https://www.eba.europa.eu/node/17072"
    assert canonical_url("details", base + "/") == (
        "https://www.eba.europa.eu/publications-and-media/press-releases/details"
    )


def test_language_versions_stay_different_urls() -> None:
    de = canonical_url("https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1692")
    en = canonical_url("https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692")
    assert de != en
    assert family_key(de, "") == family_key(en, "") == "IP/26/1692"


_hosts = st.sampled_from(["ec.europa.eu", "EC.EUROPA.EU", "www.europarl.europa.eu", "x.eu:8080"])
_segments = st.lists(st.text(alphabet="abcÄö-_.~ %/", min_size=0, max_size=8), max_size=4)
_params = st.lists(
    st.tuples(
        st.sampled_from(["utm_source", "lang", "id", "fbclid", "Q", "at_x", "page", "a b"]),
        st.text(alphabet="abc123=ä&%+", max_size=6),
    ),
    max_size=5,
)


@given(
    st.sampled_from(["http", "https", "HTTPS"]),
    _hosts,
    _segments,
    _params,
    st.sampled_from(["", "#frag", "#/route", "#!x"]),
)
@settings(deadline=None)
def test_canonical_url_is_idempotent(
    scheme: str, host: str, segments: list[str], params: list[tuple[str, str]], frag: str
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = f"{scheme}://{host}/{'/'.join(segments)}{'?' + query if query else ''}{frag}"
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert once.startswith(scheme.lower() + "://")
    assert "utm_source" not in once and "fbclid" not in once


@given(st.text(max_size=60))
@settings(deadline=None)
def test_canonical_url_is_idempotent_on_any_text(text: str) -> None:
    once = canonical_url(text)
    assert canonical_url(once) == once


# ---------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("naive", "utc_offset_hours"),
    [
        (dt.datetime(2026, 1, 15, 10, 0), 1),  # winter: CET
        (dt.datetime(2026, 7, 15, 10, 0), 2),  # summer: CEST
        (dt.datetime(2026, 3, 29, 3, 30), 2),  # just after the switch to summer time
        (dt.datetime(2026, 10, 25, 3, 30), 1),  # just after the switch back
    ],
)
def test_naive_published_is_brussels_time(naive: dt.datetime, utc_offset_hours: int) -> None:
    published = norm(raw(published=naive)).published
    assert published.tzinfo is not None
    assert published.utcoffset() == dt.timedelta(hours=utc_offset_hours)
    assert published.replace(tzinfo=None) == naive


def test_aware_published_is_kept() -> None:
    aware = dt.datetime(2026, 7, 27, 9, 20, 41, tzinfo=dt.UTC)
    assert norm(raw(published=aware)).published == aware
    new_york = dt.datetime(2026, 7, 27, 5, 0, tzinfo=ZoneInfo("America/New_York"))
    assert norm(raw(published=new_york)).published == new_york


def test_missing_published_is_now_and_hashes_stay_stable() -> None:
    first = norm(raw(url=PRESS_URL), now=NOW)
    later = norm(raw(url=PRESS_URL), now=NOW + dt.timedelta(hours=5))
    assert first.published == NOW
    assert later.published == NOW + dt.timedelta(hours=5)
    assert first.content_hash == later.content_hash  # fetch time is not content


def test_a_date_far_in_the_future_becomes_an_event_deadline() -> None:
    event_day = dt.datetime(2027, 5, 12, 9, 0)  # naive: Brussels
    item = norm(raw(published=event_day))
    assert item.published == NOW
    assert [(d.date, d.kind) for d in item.deadlines] == [
        (dt.date(2027, 5, 12), DeadlineKind.EVENT)
    ]
    again = norm(raw(published=event_day), now=NOW + dt.timedelta(days=1))
    assert again.content_hash == item.content_hash


def test_a_future_date_the_source_already_names_adds_no_event() -> None:
    opening = Deadline(dt.date(2026, 12, 15), DeadlineKind.CALL_OPENING, "Öffnung")
    item = norm(raw(published=dt.datetime(2026, 12, 15), deadlines=(opening,)))
    assert item.deadlines == (opening,)


def test_a_date_slightly_in_the_future_is_clamped_without_a_deadline() -> None:
    item = norm(raw(published=NOW + dt.timedelta(hours=20)))
    assert item.published == NOW
    assert item.deadlines == ()


def test_updated_is_aware_and_never_in_the_future() -> None:
    item = norm(raw(updated=dt.datetime(2026, 7, 15, 10, 0)))
    assert item.updated == dt.datetime(2026, 7, 15, 10, 0, tzinfo=BRUSSELS)
    assert norm(raw(updated=NOW + dt.timedelta(days=9))).updated == NOW
    assert norm(raw()).updated is None


# ---------------------------------------------------------------- identity


def test_identity_prefers_a_non_url_guid_scoped_by_source() -> None:
    item = norm(raw(guid="17072 at https://www.eba.europa.eu", url=PRESS_URL))
    assert item.identity == "guid:ec-press-en:17072 at https://www.eba.europa.eu"
    other = dataclasses.replace(SOURCE, id="eba-news")
    assert norm(raw(guid="17072 at https://www.eba.europa.eu"), source=other).identity == (
        "guid:eba-news:17072 at https://www.eba.europa.eu"
    )


def test_identity_of_a_url_guid_is_its_canonical_url() -> None:
    guid = "HTTPS://EC.EUROPA.EU:443/commission/presscorner/detail/en/ip_26_1692?utm_source=rss"
    item = norm(raw(guid=guid, url="https://ec.europa.eu/other"))
    assert item.identity == f"url:{PRESS_URL}"  # the guid wins over the link
    assert item.url == "https://ec.europa.eu/other"


def test_identity_falls_back_to_link_then_content_hash() -> None:
    assert norm(raw(url=PRESS_URL + "?utm_medium=rss#x")).identity == f"url:{PRESS_URL}"
    hashed = norm(raw(title="Ohne Link", summary_html="<p>Text</p>"))
    assert hashed.identity.startswith("hash:ec-press-en:")
    assert len(hashed.identity.rsplit(":", 1)[1]) == 64
    assert hashed.url is None


@pytest.mark.parametrize("link", ["javascript:alert(1)", "http://", "https:///x", "http://[::1"])
def test_a_link_that_is_no_web_address_is_dropped(link: str) -> None:
    item = norm(raw(url=link))
    assert item.url is None
    assert item.identity.startswith("hash:")


def test_identity_ignores_whitespace_noise_and_tracking() -> None:
    clean = norm(raw(title="Wasserstoff", summary_html="<p>Ein Text</p>", guid="abc-1"))
    noisy = norm(raw(title="  Wasserstoff \n", summary_html="<p> Ein   Text </p>", guid=" abc-1\n"))
    assert noisy.identity == clean.identity
    assert noisy.content_hash == clean.content_hash
    hashed_a = norm(raw(title="Wasserstoff", summary_html="<p>Ein Text</p>"))
    hashed_b = norm(raw(title="Wasserstoff\t", summary_html="Ein\n Text"))
    assert hashed_a.identity == hashed_b.identity


def test_content_hash_sees_changes_at_the_source() -> None:
    base = dict(
        url=PRESS_URL, title="A", summary_html="<p>B</p>", published=dt.datetime(2026, 7, 27, 9)
    )
    h0 = norm(raw(**base)).content_hash
    assert norm(raw(**{**base, "title": "A2"})).content_hash != h0
    assert norm(raw(**{**base, "summary_html": "<p>B2</p>"})).content_hash != h0
    assert norm(raw(**{**base, "published": dt.datetime(2026, 7, 28, 9)})).content_hash != h0
    assert norm(raw(**{**base, "url": PRESS_URL + "?utm_source=x"})).content_hash == h0
    assert norm(raw(**{**base, "summary_html": "<p>B</p>\n"})).content_hash == h0


_noise = st.sampled_from(["", " ", "\n", "\t ", "\u00a0"])


@given(
    title=st.text(min_size=1, max_size=40),
    summary=st.text(max_size=80),
    guid=st.one_of(st.none(), st.text(max_size=20)),
    path=st.text(alphabet="abcxyz-/", max_size=12),
    published=st.one_of(st.none(), st.datetimes(dt.datetime(2001, 1, 1), dt.datetime(2030, 1, 1))),
    pad=_noise,
    tracker=st.sampled_from(["", "?utm_source=rss", "?fbclid=x&utm_campaign=y"]),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_normalize_is_deterministic_and_noise_proof(
    title: str,
    summary: str,
    guid: str | None,
    path: str,
    published: dt.datetime | None,
    pad: str,
    tracker: str,
) -> None:
    url = f"https://ec.europa.eu/{path}"
    item = raw(title=title, summary_html=summary, guid=guid, url=url, published=published)
    first, second = norm(item), norm(item)
    assert first == second
    noisy = raw(
        title=pad + title + pad,
        summary_html=pad + summary + pad,
        guid=None if guid is None else pad + guid + pad,
        url=pad + url + tracker + pad,
        published=published,
    )
    assert norm(noisy).identity == first.identity
    assert norm(noisy).content_hash == first.content_hash
    assert first.published.tzinfo is not None and first.published <= NOW


# ---------------------------------------------------------------- language, families


@pytest.mark.parametrize(
    ("given_lang", "expected"),
    [(None, "en"), ("de", "de"), ("DE-de", "de"), ("de_CH", "de"), ("deu", "de"), ("x", "en")],
)
def test_language_is_a_lowercase_two_letter_code(given_lang: str | None, expected: str) -> None:
    assert norm(raw(language=given_lang)).language == expected


@pytest.mark.parametrize(
    ("url", "text", "expected"),
    [
        ("https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692", "", "IP/26/1692"),
        ("https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1692", "", "IP/26/1692"),
        (
            "https://ec.europa.eu/commission/presscorner/detail/de/statement_26_123",
            "",
            "STATEMENT/26/123",
        ),
        ("https://ec.europa.eu/commission/presscorner/detail/en/mex_26_1693", "", "MEX/26/1693"),
        ("https://ec.europa.eu/commission/presscorner/detail/fr/IP_26_1692", "", "IP/26/1692"),
        ("https://europa.eu/rapid/press-release_IP-19-1234_en.htm", "", "IP/19/1234"),
        ("https://germany.representation.ec.europa.eu/news/x", "Quelle: IP/26/1692", "IP/26/1692"),
        (None, "Verfahren 2025/0123(COD): Trilog beginnt", "2025/0123(COD)"),
        (None, "procedure 2025/123 (cod)", "2025/0123(COD)"),
        (None, "2024/0035(COD) and again 2024/0035(COD)", "2024/0035(COD)"),
        (None, "2025/0123(COD) und 2024/0001(COD)", None),  # ambiguous
        (None, "IP/26/1 and IP/26/2", None),
        ("https://www.europarl.europa.eu/news/de/press-room/x", "Nichts", None),
    ],
)
def test_family_key(url: str | None, text: str, expected: str | None) -> None:
    assert family_key(url, text) == expected


def test_normalize_passes_hints_through() -> None:
    item = norm(
        raw(
            doc_type=DocType.FUNDING_CALL,
            references=(" HORIZON-CL5-2027-03-D5-05 ", "HORIZON-CL5-2027-03-D5-05"),
            categories=("POLICY_AREA=COMPETY,STATAID", " ", "Energie &amp; Klima"),
            extra_text="  Cluster 5 \n Klima ",
        )
    )
    assert item.doc_type is DocType.FUNDING_CALL
    assert item.references == ("HORIZON-CL5-2027-03-D5-05",)
    assert item.categories == ("POLICY_AREA=COMPETY,STATAID", "Energie & Klima")
    assert item.extra_text == "Cluster 5 Klima"


# ---------------------------------------------------------------- the real press corner feed


def _presscorner_items() -> list[RawItem]:
    path = CORPUS / "feeds" / "ec-presscorner-en.xml"
    if not path.is_file():
        pytest.fail(f"the shared corpus is missing at {path}")
    items = []
    for el in ET.parse(path).getroot().iter("item"):
        items.append(
            RawItem(
                source_id=SOURCE.id,
                title=el.findtext("title") or "",
                url=el.findtext("link"),
                guid=el.findtext("guid"),
                summary_html=el.findtext("description") or "",
                published=parsedate_to_datetime(el.findtext("pubDate") or ""),
                categories=tuple(c.text or "" for c in el.iter("category")),
            )
        )
    return items


def test_presscorner_feed_normalizes() -> None:
    items = [
        norm(r, now=dt.datetime(2026, 7, 28, 2, 32, tzinfo=dt.UTC)) for r in _presscorner_items()
    ]
    assert len(items) == 20
    assert len({i.identity for i in items}) == 20
    belgium = next(i for i in items if i.family == "IP/26/1692")
    assert belgium.title == (
        "Commission greenlights Belgium's fifth payment request for €225 million under "
        "NextGenerationEU"
    )
    assert belgium.identity == f"url:{PRESS_URL}"
    assert belgium.url == PRESS_URL
    assert belgium.published == dt.datetime(2026, 7, 27, 9, 20, 41, tzinfo=dt.UTC)
    assert belgium.summary_text.startswith(
        "European Commission Press release Brussels, 27 Jul 2026"
    )
    speech = next(i for i in items if i.family == "SPEECH/26/1677")
    assert speech.title == "Speech by Commissioner Kubilius at “EU Defense Night”"
    daily = next(i for i in items if i.family == "MEX/26/1693")
    assert "<br>" in daily.summary_html  # the description's line break is kept
    assert all(i.language == "en" for i in items)
    assert {i.family for i in items} >= {"IP/26/1688", "QANDA/26/1686", "FS/24/6565"}
