"""pipeline.text: what feeds and staff may send, and what a reader gets to see of it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline import email_templates, text
from pipeline.model import Office

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
REL = 'rel="noopener noreferrer nofollow"'

# Hostile snippets as they reach us in feeds and in what staff type.
XSS = [
    '<script>alert("x")</script>',
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">Klick</a>',
    '<a href=" JaVaScRiPt:alert(1)">Klick</a>',
    '<a href="&#106;avascript:alert(1)">Klick</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">Klick</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<svg onload="alert(1)"><script>alert(2)</script></svg>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<form action="https://evil.example"><input name="p"></form>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></math>",
    '<p title="</p><script>alert(1)</script>">x</p>',
]


ALLOWED_TAGS = {"p", "br", "a", "ul", "ol", "li", "strong", "em", "b", "i", "u", "sub", "sup",
                "h3", "h4", "h5", "h6", "blockquote", "table", "caption", "thead", "tbody",
                "tfoot", "tr", "th", "td"}  # fmt: skip
ALLOWED_ATTRIBUTES = {"href", "title", "rel", "colspan", "rowspan", "scope", "start"}


class _Inert(HTMLParser):
    """Collects what would run or load in a browser: other tags, attributes, link schemes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name not in ALLOWED_ATTRIBUTES:
                self.found.append(f"{tag} {name}=")
            if name == "href" and not (value or "").startswith(("https://", "http://", "mailto:")):
                self.found.append(f"href={value}")


def _is_inert(html_out: str) -> bool:
    parser = _Inert()
    parser.feed(html_out)
    parser.close()
    return not parser.found


class _Balance(HTMLParser):
    """Counts open elements; void elements (br) do not count."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "br":
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (self.open, tag)
        self.open.pop()


def _balanced(html_out: str) -> bool:
    parser = _Balance()
    parser.feed(html_out)
    parser.close()
    return not parser.open


# ---------------------------------------------------------------- sanitize_html


@pytest.mark.parametrize("vector", XSS)
def test_sanitize_html_leaves_nothing_that_runs(vector: str) -> None:
    out = text.sanitize_html(f"<p>Vorher</p>{vector}<p>Nachher</p>")
    assert _is_inert(out), out
    assert out.startswith("<p>Vorher</p>")


def test_sanitize_html_keeps_the_allowed_markup_of_a_press_release() -> None:
    out = text.sanitize_html(
        '<h1>Kohäsion</h1><p>Die <strong>Kommission</strong> hat <a href="https://ec.europa.eu/'
        'commission/presscorner/detail/de/ip_26_1692">IP/26/1692</a> veröffentlicht.</p>'
        '<ul><li>Punkt 1</li></ul><table><tr><td colspan="2" class="x">Zelle</td></tr></table>'
    )
    assert out == (
        "<h3>Kohäsion</h3><p>Die <strong>Kommission</strong> hat <a href="
        f'"https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1692" {REL}>IP/26/1692'
        "</a> veröffentlicht.</p><ul><li>Punkt 1</li></ul><table><tbody><tr>"
        '<td colspan="2">Zelle</td></tr></tbody></table>'
    )


def test_sanitize_html_resolves_relative_links_only_against_a_base() -> None:
    html_in = '<a href="/de/node/17072">Leitlinien</a> <a href="mailto:info@eba.europa.eu">M</a>'
    with_base = text.sanitize_html(html_in, base="https://www.eba.europa.eu/news/x")
    assert f'<a href="https://www.eba.europa.eu/de/node/17072" {REL}>Leitlinien</a>' in with_base
    assert f'<a href="mailto:info@eba.europa.eu" {REL}>M</a>' in with_base
    without = text.sanitize_html(html_in)
    assert f"<a {REL}>Leitlinien</a>" in without  # the text stays, the link goes


def test_sanitize_html_repairs_double_escapes_and_keeps_line_breaks_of_plain_text() -> None:
    assert text.sanitize_html("<p>Stra&amp;szlig;e</p>") == "<p>Stra&szlig;e</p>"  # "Straße"
    assert text.sanitize_html("Brüssel, 27. Juli\n\nDie EU  schickt\x00 Flugzeuge") == (
        "Brüssel, 27. Juli<br>Die EU schickt Flugzeuge"
    )
    assert text.sanitize_html("") == ""


def test_sanitize_html_never_reads_beyond_its_bound() -> None:
    head = "<p>" + "Förderung " * (text.MAX_RAW_HTML_CHARS // 10)  # the bound, and a bit
    tail = "<p>NACH DER GRENZE</p>" + "<b>" * 200_000
    out = text.sanitize_html(head + tail)
    assert "NACH DER GRENZE" not in out
    assert out.startswith("<p>Förderung Förderung") and _balanced(out)


# ---------------------------------------------------------------- bound_html


def test_bound_html_cuts_outside_tags_and_entities_and_closes_what_it_opened() -> None:
    clean = text.sanitize_html(
        "<ul>" + "".join(f"<li><strong>Punkt {n}</strong> &amp; mehr</li>" for n in range(900))
    )
    assert len(clean) > 20_000
    out = text.bound_html(clean, 20_000)
    assert len(out) <= 20_000
    assert _balanced(out) and out.endswith("</ul>") and " …" in out
    assert "&am<" not in out and "&amp" in out


def test_bound_html_leaves_short_html_alone_and_falls_back_to_text() -> None:
    assert text.bound_html("<p>kurz</p>", 100) == "<p>kurz</p>"
    out = text.bound_html("<p>" + "<b>x</b>" * 100 + "</p>", 150)  # no room to close tags
    assert "<" not in out and len(out) <= 75


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="<>/&;ab pli\"'=", max_size=400), st.integers(min_value=30, max_value=300))
@example(html_in=";;;;<<<&&&", limit=30)  # escaping made the fallback longer than the limit
def test_bound_html_is_never_longer_than_its_limit(html_in: str, limit: int) -> None:
    clean = text.sanitize_html(html_in)
    out = text.bound_html(clean, limit)
    assert len(out) <= limit
    assert _is_inert(out)


# ---------------------------------------------------------------- html_to_line


def test_html_to_line_is_what_search_and_the_classifier_read() -> None:
    html_in = (
        "<div>Aufruf</div><div>Horizont&nbsp;Europa</div><script>var secret = 1;</script>"
        '<svg><text x="5">W</text></svg><style>p{}</style><p>Frist: 12. März &amp; 3&lt;4</p>'
    )
    assert text.html_to_line(html_in) == "Aufruf Horizont Europa Frist: 12. März & 3<4"


def test_html_to_line_decodes_once_normalises_and_drops_control_characters() -> None:
    assert text.html_to_line("Stra&amp;szlig;e") == "Stra&szlig;e"  # exactly once
    assert text.html_to_line("Mu\u0308nchen\x07 \u200bRegion") == "München Region"  # NFC
    assert text.html_to_line("$4300 1930ft<sup>2</sup>") == "$4300 1930ft2"
    assert text.html_to_line("") == ""


def test_html_to_line_never_reads_beyond_its_bound() -> None:
    out = text.html_to_line("a " * 200_000 + "<p>ENDE</p>" + "b" * 1_000_000)
    assert "ENDE" not in out and out.startswith("a a a")


# ---------------------------------------------------------------- html_to_paragraphs, wrap


def test_html_to_paragraphs_is_the_text_part_of_a_mail() -> None:
    clean = text.render_markdown(
        "Die **Kommission** fördert [Wasserstoff](https://ec.europa.eu/h2) in Regionen.\n\n"
        "1. Antrag\n2. Bewertung\n\n- https://ec.europa.eu/a\n- <https://ec.europa.eu/b>\n\n"
        "Zeile eins  \nZeile zwei"
    )
    assert text.html_to_paragraphs(clean) == (
        "Die Kommission fördert Wasserstoff (https://ec.europa.eu/h2) in\nRegionen.\n\n"
        "1. Antrag\n2. Bewertung\n- https://ec.europa.eu/a\n- https://ec.europa.eu/b\n\n"
        "Zeile eins\nZeile zwei"
    )


def test_html_to_paragraphs_shows_only_http_links() -> None:
    clean = (
        '<p><a href="javascript:alert(1)">böse</a> und <a href="data:text/html,x">auch</a> und'
        ' <a href="https://ec.europa.eu/">https://ec.europa.eu/</a></p>'
    )
    assert text.html_to_paragraphs(clean) == "böse und auch und https://ec.europa.eu/"


def test_html_to_paragraphs_keeps_tables_and_ordered_starts_readable() -> None:
    clean = text.sanitize_html(
        "<table><tr><th>Programm</th><th>Frist</th></tr><tr><td>LIFE</td><td>3. Mai</td></tr>"
        '</table><ol start="3"><li>drei</li><li>vier</li></ol>'
    )
    assert text.html_to_paragraphs(clean) == (
        "Programm | Frist\n\nLIFE | 3. Mai\n\n3. drei\n4. vier"
    )
    assert text.html_to_paragraphs("") == ""


def test_wrap_never_breaks_a_url_and_indents_under_its_prefix() -> None:
    url = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/how-to-participate"
    out = text.wrap(f"Mehr dazu unter {url} und im Portal der Kommission.", 40, prefix="- ")
    assert out.splitlines() == [
        "- Mehr dazu unter",
        f"  {url}",
        "  und im Portal der Kommission.",
    ]


def test_cut_text_cuts_at_a_word_with_an_ellipsis() -> None:
    assert text.cut_text("kurz", 10) == "kurz"
    assert (
        text.cut_text("Förderaufruf für Kommunen, Landkreise", 30) == "Förderaufruf für Kommunen…"
    )
    assert len(text.cut_text("x" * 500, 120)) == 120


# ---------------------------------------------------------------- Markdown


def test_markdown_is_rendered_and_sanitised() -> None:
    html_out = text.render_markdown(
        "**Frist** für Kommunen <script>alert(1)</script> [x](javascript:alert(2)) "
        "[y](data:text/html,<b>z</b>) [Portal](https://ec.europa.eu/)\n\n# Überschrift"
    )
    assert _is_inert(html_out), html_out
    assert "<strong>Frist</strong> für Kommunen &lt;script&gt;" in html_out  # shown as text
    assert f'<a href="https://ec.europa.eu/" {REL}>Portal</a>' in html_out
    assert "<h3>Überschrift</h3>" in html_out  # h1 of staff Markdown is an h3 at most


def test_markdown_is_empty_for_blank_input_and_bounded_for_huge_input() -> None:
    assert text.render_markdown("  \n ") == ""
    huge = "a" * text.MAX_MARKDOWN_CHARS + " ENDE"
    assert "ENDE" not in text.render_markdown(huge)


# ---------------------------------------------------------------- safe_href


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ec.europa.eu/x?a=1#f", "https://ec.europa.eu/x?a=1#f"),
        ("  HTTP://eba.europa.eu/ ", "HTTP://eba.europa.eu/"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html;base64,PHNjcmlwdD4=", None),
        ("vbscript:msgbox(1)", None),
        ("mailto:info@example.org", None),
        ("/relative/path", None),
        ("//evil.example/x", None),
        ("http://[::1", None),  # not a URL at all
        ("", None),
        (None, None),
    ],
)
def test_safe_href_lets_only_http_links_through(url: str | None, expected: str | None) -> None:
    assert text.safe_href(url) == expected


# ---------------------------------------------------------------- German dates and numbers


def test_de_date_writes_days_the_german_way() -> None:
    assert text.de_date(dt.date(2027, 3, 15)) == "15.03.2027"
    assert text.de_date(dt.date(2027, 3, 15), "EEE, d. MMMM yyyy") == "Mo., 15. März 2027"
    assert text.de_date(dt.date(2026, 12, 6), "EEEE, d. MMMM yyyy") == "Sonntag, 6. Dezember 2026"
    assert text.de_date(None) == "–"


def test_de_date_of_an_instant_is_the_day_in_the_office_zone() -> None:
    late = dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC)
    assert text.de_date(late, tz=BERLIN) == "26.11.2026"
    assert text.de_date(late.replace(tzinfo=None), tz=BERLIN) == "26.11.2026"  # naive is UTC
    with pytest.raises(ValueError, match="tz"):
        text.de_date(late)


def test_de_datetime_in_summer_and_winter_time() -> None:
    assert text.de_datetime(dt.datetime(2026, 7, 1, 7, 30, tzinfo=dt.UTC), BERLIN) == (
        "01.07.2026, 09:30"
    )
    assert text.de_datetime(dt.datetime(2026, 11, 25, 8, 5), BERLIN) == "25.11.2026, 09:05"
    assert text.de_datetime(None, BERLIN) == "–"


def test_de_number_uses_german_separators() -> None:
    assert text.de_number(0.74) == "0,74"
    assert text.de_number(1234.5) == "1.234,50"
    assert text.de_number(12345, digits=0) == "12.345"


def test_language_name_in_german() -> None:
    assert text.language_name("en") == "Englisch"
    assert text.language_name("FR") == "Französisch"
    assert text.language_name("xx") == "xx"
    assert text.language_name("xx", default="") == ""


# ---------------------------------------------------------------- the email environment


def test_one_email_environment_for_the_digest_and_the_subscriber_mails() -> None:
    import pipeline.compose.render as render
    import subscribers.mails as mails

    env = email_templates.environment()
    assert render.environment is mails.environment is email_templates.environment
    assert env.filters["wrap"] is text.wrap
    assert env.autoescape("confirm.html.j2") and not env.autoescape("confirm.text.j2")
    office = Office(name="Europabüro <Region>", newsletters=())
    _, plain, html_out = mails.render(
        "manage", {"office": office, "name": "Anna", "manage_url": "https://x.example/m"}
    )
    assert "„Europabüro <Region>“" in plain
    assert "Europabüro &lt;Region&gt;" in html_out and "<Region>" not in html_out


# ---------------------------------------------------------------- start-up


def test_importing_the_module_loads_none_of_its_libraries() -> None:
    probe = (
        "import json, sys; import pipeline.text, pipeline.email_templates; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = {m.split(".")[0] for m in json.loads(done.stdout)}
    assert not loaded & {"nh3", "markdown_it", "babel", "jinja2"}
