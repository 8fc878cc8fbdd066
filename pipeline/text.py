"""Untrusted text and HTML, and German for people: one copy of each, one meaning per name.

    sanitize_html(html, base=)       feed HTML or rendered Markdown → the allow-list (nh3)
    bound_html(clean_html, limit)    sanitised HTML cut to `limit` characters, tags closed
    html_to_line(html)               any HTML → one line of plain text: what search, the
                                     classifier and titles read (feed summaries, titles)
    html_to_paragraphs(clean_html)   sanitised HTML → wrapped paragraphs, lists as "- ",
                                     links as "text (url)": the text part of a mail
    wrap(text, width, prefix)        one paragraph wrapped; URLs and long words unbroken
    cut_text(text, limit)            plain text cut at a word near `limit`, with "…"
    render_markdown(md)              staff Markdown → sanitised HTML (raw HTML stays text)
    safe_href(url)                   an http(s) URL, or None (never javascript:, data:)
    de_date, de_datetime, de_number  German dates and numbers (Babel), "–" for none
    language_name(code)              'en' → 'Englisch'

Everything a person or a feed sends us is untrusted: whatever reaches an href, an
HTML part or a template goes through these functions, and nowhere else.

A kernel leaf: it imports only the standard library when it is imported; nh3,
markdown-it-py and Babel are imported inside the functions that need them, so a
command that does not use them never loads them (tests/unit/test_startup_imports.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
import textwrap
import unicodedata
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import nh3
    from babel import Locale
    from markdown_it import MarkdownIt

__all__ = [
    "DATE",
    "DATETIME",
    "MAX_MARKDOWN_CHARS",
    "MAX_RAW_HTML_CHARS",
    "NONE_SHOWN",
    "TEXT_WIDTH",
    "bound_html",
    "cut_text",
    "de_date",
    "de_datetime",
    "de_number",
    "html_to_line",
    "html_to_paragraphs",
    "language_name",
    "remove_control_chars",
    "render_markdown",
    "safe_href",
    "sanitize_html",
    "wrap",
]

MAX_RAW_HTML_CHARS = 400_000  # raw input is cut here before nh3 ever sees it
MAX_MARKDOWN_CHARS = 20_000  # staff Markdown beyond this is not rendered
TEXT_WIDTH = 72  # the plain-text part of a mail
LOCALE = "de_DE"
DATE = "dd.MM.yyyy"  # 25.11.2026
DATETIME = "dd.MM.yyyy, HH:mm"  # 25.11.2026, 09:30
NONE_SHOWN = "–"  # what a missing date reads as

# ---------------------------------------------------------------- sanitising HTML

_ALLOWED_TAGS = {
    "p", "br", "a", "ul", "ol", "li", "strong", "em", "b", "i", "u", "sub", "sup",
    "h3", "h4", "h5", "h6", "blockquote",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
}  # fmt: skip
# Tags removed together with everything inside them.
_DROP_WITH_CONTENT = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet",
    "template", "noscript", "noembed", "noframes", "svg", "math", "title", "head",
    "textarea", "select", "xmp",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
_LINK_REL = "noopener noreferrer nofollow"
_URL_SCHEMES = {"http", "https", "mailto"}

_TAG_RE = re.compile(r"<[a-zA-Z/!?]")
# Block elements nh3 strips: keep a gap so that words of two blocks do not glue together.
_STRIPPED_BLOCKS = (
    "div|section|article|header|footer|main|aside|nav|figure|figcaption|dl|dt|dd"
    "|pre|hr|address|center|details|summary|h1|h2"
)
_KEPT_BLOCKS = "p|li|tr|td|th|br|ul|ol|table|caption|blockquote|h3|h4|h5|h6"
_STRIPPED_BLOCK_RE = re.compile(rf"(</?(?:{_STRIPPED_BLOCKS})\b[^>]*>)", re.IGNORECASE)
_ANY_BLOCK_RE = re.compile(rf"(</?(?:{_STRIPPED_BLOCKS}|{_KEPT_BLOCKS})\b[^>]*>)", re.IGNORECASE)
# Whitespace next to a block tag of sanitised (so collapsed) HTML carries no meaning.
# Two patterns that start with a literal: a leading \s* would make sre try every position.
_SPACE_BEFORE_BLOCK_RE = re.compile(rf" (?=</?(?:{_KEPT_BLOCKS})[\s>])")
_SPACE_AFTER_BLOCK_RE = re.compile(rf"(</?(?:{_KEPT_BLOCKS})(?:\s[^>]*)?>) ")
_HREF_RE = re.compile("href", re.IGNORECASE)
_H12_RE = re.compile(r"<(/?)h[12]\b", re.IGNORECASE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u2060\ufeff]")
# "&amp;szlig;" in (sanitised) HTML shows "&szlig;": a feed escaped twice.
_DOUBLE_ESCAPE_RE = re.compile(
    r"&amp;((?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});)"
)


@functools.cache
def _sanitizer() -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ALLOWED_ATTRIBUTES,
        link_rel=_LINK_REL,
        url_schemes=_URL_SCHEMES,
        url_relative="deny",
    )


@functools.cache
def _text_only() -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(tags=set(), clean_content_tags=_DROP_WITH_CONTENT, attributes={})


def _cleaner_with_base(base: str) -> nh3.Cleaner:
    import nh3

    def resolve(url: str) -> str | None:
        absolute = urljoin(base, url)
        return absolute if absolute.lower().startswith(("http://", "https://")) else None

    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ALLOWED_ATTRIBUTES,
        link_rel=_LINK_REL,
        url_schemes=_URL_SCHEMES,
        url_relative=resolve,
    )


def remove_control_chars(text: str) -> str:
    """`text` without control characters, zero-width spaces and byte-order marks."""
    return _CONTROL_RE.sub("", text)


def sanitize_html(html_in: str, *, base: str | None = None) -> str:
    """Untrusted HTML reduced to the allow-list; relative links resolve against `base`.

    Scripts, styles, frames, SVG and forms go with their content; only http(s) and
    mailto links stay, each with rel="noopener noreferrer nofollow". Without `base`,
    relative links lose their href (the text stays). Headings h1/h2 become h3;
    stripped block elements leave a space. Entities that a feed escaped twice
    ("&amp;amp;") are repaired. Plain text keeps its line breaks as <br>. Input
    beyond MAX_RAW_HTML_CHARS is never read.
    """
    if not html_in:
        return ""
    text = unicodedata.normalize("NFC", _CONTROL_RE.sub("", html_in[:MAX_RAW_HTML_CHARS]))
    if not _TAG_RE.search(text):
        # Plain text: keep its line breaks visible.
        lines = (_collapse(line) for line in text.splitlines())
        text = "<br>".join(line for line in lines if line)
    else:
        text = _H12_RE.sub(r"<\1h3", text)
        text = _STRIPPED_BLOCK_RE.sub(r" \1 ", text)
    if base is None or not _HREF_RE.search(text):
        cleaner = _sanitizer()
    else:
        cleaner = _cleaner_with_base(base)
    clean = cleaner.clean(text)
    clean = _repair_double_escapes(clean)
    clean = _collapse(clean)
    clean = _SPACE_BEFORE_BLOCK_RE.sub("", clean)
    return _SPACE_AFTER_BLOCK_RE.sub(r"\1", clean)


def _repair_double_escapes(clean_html: str) -> str:
    for _ in range(3):
        repaired = _DOUBLE_ESCAPE_RE.sub(r"&\1", clean_html)
        if repaired == clean_html:
            break
        clean_html = repaired
    return clean_html


def bound_html(clean_html: str, limit: int) -> str:
    """Sanitised HTML of at most `limit` characters: cut outside a tag or an entity, near
    a word, with " …", and its open tags closed again; if that cannot fit, the escaped
    plain text of at most half the limit, shortened until it fits escaped."""
    if len(clean_html) <= limit:
        return clean_html
    reserve = 200
    while reserve < limit:
        cut = clean_html[: limit - reserve]
        lt, gt = cut.rfind("<"), cut.rfind(">")
        if lt > gt:  # inside a tag
            cut = cut[:lt]
        amp = cut.rfind("&")
        if amp > cut.rfind(";") and len(cut) - amp < 12:  # inside an entity
            cut = cut[:amp]
        space = cut.rfind(" ")
        if space > len(cut) - 100:
            cut = cut[:space]
        result = _sanitizer().clean(cut.rstrip() + " …")
        if len(result) <= limit:
            return result
        reserve *= 2
    # Escaping lengthens text ("<" is "&lt;"): shorten until the escaped text fits.
    plain, keep = html_to_line(clean_html), limit // 2
    while keep > 0:
        escaped = html.escape(cut_text(plain, keep), quote=False)
        if len(escaped) <= limit:
            return escaped
        keep -= len(escaped) - limit
    return ""


# ---------------------------------------------------------------- HTML to text


def html_to_line(html_in: str) -> str:
    """Any HTML (or plain text) as one line of plain text: what search, the classifier and
    titles read.

    Scripts, styles and the other tags sanitize_html drops go with their content;
    block elements leave a space; entities are decoded exactly once; NFC; control
    characters removed; whitespace collapsed. Input beyond MAX_RAW_HTML_CHARS is never read.
    """
    if not html_in:
        return ""
    text = unicodedata.normalize("NFC", _CONTROL_RE.sub("", html_in[:MAX_RAW_HTML_CHARS]))
    if _TAG_RE.search(text):
        text = _ANY_BLOCK_RE.sub(r" \1 ", text)
    text = html.unescape(_text_only().clean(text))
    return _collapse(text)


class _TextWriter(HTMLParser):
    """Sanitised HTML (the allow-list of sanitize_html) as paragraphs of plain text."""

    BLOCKS = frozenset({"p", "li", "ul", "ol", "blockquote", "table", "tr", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []  # (prefix, text)
        self.parts: list[str] = []
        self.prefix = ""
        self.lists: list[list[int]] = []  # per open list: [counter] (0: bullets)
        self.href: str | None = None
        self.link_start = 0

    def flush(self) -> None:
        text = "".join(self.parts)
        lines = [" ".join(line.split()) for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self.blocks.append((self.prefix, text))
        self.parts = []
        self.prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.flush()
        if tag == "ul":
            self.lists.append([0])
        elif tag == "ol":
            start = dict(attrs).get("start") or "1"
            self.lists.append([int(start) if start.isdigit() else 1])
        elif tag == "li":
            if self.lists and self.lists[-1][0]:
                self.prefix = f"{self.lists[-1][0]}. "
                self.lists[-1][0] += 1
            else:
                self.prefix = "- "
        elif tag == "br":
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" | " if self.parts else "")
        elif tag == "a":
            self.href = safe_href(dict(attrs).get("href"))
            self.link_start = len(self.parts)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.href:
            label = "".join(self.parts[self.link_start :]).strip()
            if label != self.href:
                self.parts.append(f" ({self.href})")
            self.href = None
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in self.BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_paragraphs(clean_html: str, width: int = TEXT_WIDTH) -> str:
    """Sanitised HTML as the text part of a mail: paragraphs wrapped at `width`, list items
    as "- " or "1. ", links as "text (url)" (only http(s) links; the label alone if it is
    the URL), table cells joined by " | ".

    Expects the output of sanitize_html or render_markdown: it drops no script content.
    """
    if not clean_html:
        return ""
    writer = _TextWriter()
    writer.feed(clean_html)
    writer.close()
    writer.flush()
    out = ""
    previous = ""
    for prefix, text in writer.blocks:
        if out:
            out += "\n" if prefix and previous else "\n\n"  # list items stay together
        out += wrap(text, width, prefix)
        previous = prefix
    return out


def wrap(text: str, width: int, prefix: str = "", indent: str = "") -> str:
    """Wrap one paragraph (its own line breaks kept); URLs and long words are never broken.

    `prefix` starts the first line ("- "), and the lines after it are indented as far;
    `indent` goes before every line. The email templates' `wrap` filter.
    """
    lines = text.split("\n")
    out = []
    for n, line in enumerate(lines):
        first = (prefix if n == 0 else " " * len(prefix)) + indent
        out.append(
            textwrap.fill(
                line,
                width=width,
                initial_indent=first,
                subsequent_indent=" " * len(prefix) + indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(out)


def _collapse(text: str) -> str:
    """Whitespace runs (any Unicode space, NBSP included) as one space; str.split is fast."""
    return " ".join(text.split())


def cut_text(text: str, limit: int) -> str:
    """Plain text of at most `limit` characters: cut at a word within the last 100
    characters if there is one, trailing punctuation dropped, "…" added."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit - 100:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–") + "…"


# ---------------------------------------------------------------- Markdown


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # CommonMark without raw HTML: a <script> typed into a comment stays text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> str:
    """Staff Markdown → HTML, then through the same allow-list as feed content.

    Raw HTML in the Markdown stays visible text; links other than http(s) and mailto
    lose their href; only the first MAX_MARKDOWN_CHARS characters are rendered.
    """
    if not text.strip():
        return ""
    return sanitize_html(_markdown().render(text[:MAX_MARKDOWN_CHARS]))


# ---------------------------------------------------------------- links


def safe_href(url: str | None) -> str | None:
    """Only http(s) links reach an href; anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


# ---------------------------------------------------------------- German dates and numbers


def de_date(
    value: dt.date | dt.datetime | None, pattern: str = DATE, *, tz: ZoneInfo | None = None
) -> str:
    """A day in German: "25.11.2026", or with a Babel pattern ("EEE, d. MMMM yyyy" →
    "Mo., 15. März 2027"); NONE_SHOWN for None.

    A datetime is first moved into `tz` (the office's zone; naive counts as UTC), and
    needs one: the day of an instant depends on where it is read.
    """
    if value is None:
        return NONE_SHOWN
    if isinstance(value, dt.datetime):
        if tz is None:
            raise ValueError("de_date: a datetime needs tz (the zone whose day it is)")
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(tz).date()
    return _format_date(value, pattern)


@functools.lru_cache(maxsize=4096)
def _format_date(value: dt.date, pattern: str) -> str:
    """Memoised: a digest formats the same few days many times."""
    from babel.dates import format_date

    return str(format_date(value, pattern, locale=LOCALE))


def de_datetime(value: dt.datetime | None, tz: ZoneInfo, pattern: str = DATETIME) -> str:
    """An instant in German in the office's zone: "25.11.2026, 09:30"; naive counts as
    UTC; NONE_SHOWN for None."""
    if value is None:
        return NONE_SHOWN
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    from babel.dates import format_datetime

    return str(format_datetime(value, pattern, tzinfo=tz, locale=LOCALE))


def de_number(value: float | int, digits: int = 2) -> str:
    """0.74 → '0,74'; 12345 (digits=0) → '12.345'."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, pattern, locale=LOCALE))


def de_count(n: int, one: str, other: str) -> str:
    """A count with the noun in the right number: (1, "Zeile", "Zeilen") → "1 Zeile",
    (1234, …) → "1.234 Zeilen". The form is chosen by the CLDR plural rule for German."""
    form = one if _german().plural_form(abs(n)) == "one" else other
    return f"{de_number(n, 0)} {form}"


@functools.cache
def _german() -> Locale:
    from babel import Locale

    return Locale.parse("de")


def language_name(code: str, default: str | None = None) -> str:
    """The German name of a language: 'en' → 'Englisch'; an unknown code gives `default`,
    or the code itself when there is none."""
    name = _german().languages.get(code.lower())
    if name is None:
        return code if default is None else default
    return str(name)
