"""Text and date helpers shared by the feed parser and the adapters.

Pure functions; HTML becomes text through pipeline.text.html_to_line. Dates come
back as `datetime`: aware when the text named a zone or offset, naive when it did
not (normalize later applies the source's local zone, Europe/Brussels by default).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata

from pipeline.text import html_to_line

# ---------------------------------------------------------------- text


def collapse(text: str) -> str:
    """Collapse runs of whitespace (including NBSP) to one space and strip.

    str.split() splits on exactly what `\\s` matches (str.isspace), NBSP included, and is
    several times faster than the regex (checked for every code point)."""
    return " ".join(text.split())


_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{1,31});")


def plain_title(text: str, *, is_html: bool) -> str:
    """A title as plain text. HTML titles lose their tags; stray entities are decoded."""
    if is_html:
        return html_to_line(text)
    if _ENTITY.search(text):  # double-escaped feeds: "&amp;amp;" reaches us as "&amp;"
        text = html.unescape(text)
    return collapse(text)


def first_words(text: str, limit: int = 80) -> str:
    """The start of `text`, cut at a word boundary near `limit` characters, with an ellipsis."""
    text = collapse(text)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-–")
    return (cut or text[:limit]) + "…"


def norm_language(value: object) -> str | None:
    """'de-DE', 'de_ch', 'DE' → 'de'; anything that is not a language tag → None."""
    if not isinstance(value, str):
        return None
    head = _LANGUAGE_SEP.split(value.strip(), maxsplit=1)[0].lower()
    return head if _LANGUAGE_HEAD.fullmatch(head) else None


_LANGUAGE_SEP = re.compile(r"[-_]")
_LANGUAGE_HEAD = re.compile(r"[a-z]{2,3}")


# ---------------------------------------------------------------- months

_MONTH_WORDS: dict[str, int] = {}


def _add_months(*names_by_month: tuple[str, ...]) -> None:
    for number, names in enumerate(names_by_month, start=1):
        for name in names:
            _MONTH_WORDS[_fold(name)] = number


def _fold(word: str) -> str:
    """Lower-case and strip accents: 'März' → 'marz', 'février' → 'fevrier'."""
    decomposed = unicodedata.normalize("NFKD", word.lower().rstrip("."))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# English, German, French, Dutch, Italian, Spanish, Portuguese: full names and the
# abbreviations feeds use. No two languages disagree on any of these spellings.
_add_months(
    (
        "jan",
        "january",
        "januar",
        "jänner",
        "janvier",
        "januari",
        "gen",
        "gennaio",
        "ene",
        "enero",
        "janeiro",
    ),
    (
        "feb",
        "february",
        "februar",
        "fév",
        "fevr",
        "février",
        "februari",
        "febbraio",
        "febrero",
        "fev",
        "fevereiro",
    ),
    ("mar", "march", "mär", "mrz", "märz", "maerz", "mars", "maart", "marzo", "março"),
    ("apr", "april", "avr", "avril", "aprile", "abr", "abril"),
    ("may", "mai", "mei", "mag", "maggio", "mayo", "maio"),
    ("jun", "june", "juni", "juin", "giu", "giugno", "junio", "junho"),
    ("jul", "july", "juli", "juil", "juillet", "lug", "luglio", "julio", "julho"),
    ("aug", "august", "aoû", "aout", "août", "augustus", "ago", "agosto"),
    ("sep", "sept", "september", "septembre", "set", "settembre", "septiembre", "setembro"),
    ("oct", "october", "okt", "oktober", "octobre", "ott", "ottobre", "octubre", "out", "outubro"),
    ("nov", "november", "novembre", "noviembre", "novembro"),
    (
        "dec",
        "december",
        "dez",
        "dezember",
        "déc",
        "décembre",
        "dic",
        "dicembre",
        "diciembre",
        "dezembro",
    ),
)


def month_number(word: str) -> int | None:
    return _MONTH_WORDS.get(_fold(word))


# ---------------------------------------------------------------- zones

_UTC = dt.UTC
# Zone abbreviations seen in feeds. Fixed offsets: "CEST" means +02:00 whatever the date.
_ZONES: dict[str, int] = {
    "ut": 0, "utc": 0, "gmt": 0, "z": 0, "wet": 0, "bst": 60, "west": 60,
    "cet": 60, "mez": 60, "met": 60, "cest": 120, "mesz": 120, "mest": 120,
    "eet": 120, "eest": 180,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300,
    "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
}  # fmt: skip

_OFFSET = re.compile(r"^(?:gmt|utc)?([+-])(\d{1,2}):?(\d{2})?$", re.IGNORECASE)


def parse_zone(text: str) -> dt.tzinfo | bool | None:
    """'+0200' / '+02:00' / 'GMT' / 'CEST' → tzinfo; '' → None; unknown → False."""
    token = text.strip().strip("()")
    if not token:
        return None
    name = token.lower()
    if name in _ZONES:
        minutes = _ZONES[name]
        return _UTC if minutes == 0 else dt.timezone(dt.timedelta(minutes=minutes))
    match = _OFFSET.match(token)
    if match:
        sign, hours, mins = match.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(mins or 0))
        if delta >= dt.timedelta(hours=15):
            return False
        if not delta:
            return _UTC
        return dt.timezone(delta if sign == "+" else -delta)
    return False


# ---------------------------------------------------------------- whole-string dates


def _naive(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A wall-clock time without zone: normalize later gives it the source's zone."""
    return dt.datetime(year, month, day, hour, minute, second)  # noqa: DTZ001


_RFC822 = re.compile(
    r"""^(?:[^\W\d_]+\.?,?\s+)?                 # day name: Mon, / Seg, / Mo.
        (\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4}|\d{2})\b  # 12 Mar 2026 / 12. März 2026
        (?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?  # time
        \s*(.*)$""",
    re.VERBOSE,
)
_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_NUMERIC = re.compile(
    r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"  # 2020/1/10 14:33:00
    r"|^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"  # 12.03.2026
)


def parse_datetime(text: str) -> dt.datetime | None:
    """Parse a whole date string as feeds write it; None if it is not one we know.

    RFC 822 (with month names in several languages and zone names such as
    GMT, EST, CEST), ISO 8601 / W3C-DTF, '2020/1/10 14:33:00' and '12.03.2026'.
    Aware when a zone or offset is given, naive when none is.
    """
    raw = collapse(text)
    if not raw:
        return None
    return _parse_iso(raw) or _parse_rfc822(raw) or _parse_numeric(raw)


def _parse_iso(raw: str) -> dt.datetime | None:
    match = _ISO.match(raw)
    if not match:
        return None
    day, time_part, zone = match.groups()
    try:
        value = dt.datetime.fromisoformat(f"{day}T{time_part or '00:00'}")
    except ValueError:
        return None
    if zone:
        tz = parse_zone(zone)
        if not isinstance(tz, dt.tzinfo):
            return None
        value = value.replace(tzinfo=tz)
    return value


def _parse_rfc822(raw: str) -> dt.datetime | None:
    match = _RFC822.match(raw)
    if not match:
        return None
    day, month_word, year, hour, minute, second, rest = match.groups()
    month = month_number(month_word)
    if month is None:
        return None
    full_year = int(year)
    if len(year) == 2:
        full_year += 1900 if full_year >= 90 else 2000
    zone_text = rest.strip()
    if zone_text and hour is None:
        return None  # text after a bare date that is not a time: not a date we know
    tz = parse_zone(zone_text)
    if tz is False:
        tz = None  # an unknown zone name: treat as local time rather than guess
    try:
        value = _naive(
            full_year, month, int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    return value.replace(tzinfo=tz) if isinstance(tz, dt.tzinfo) else value


def _parse_numeric(raw: str) -> dt.datetime | None:
    match = _NUMERIC.match(raw)
    if not match:
        return None
    g = match.groups()
    if g[0] is not None:
        year, month, day, hour, minute, second = g[0], g[1], g[2], g[3], g[4], g[5]
    else:
        day, month, year, hour, minute, second = g[6], g[7], g[8], g[9], g[10], g[11]
    try:
        return _naive(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
    except ValueError:
        return None


# ---------------------------------------------------------------- dates inside free text

_FREE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?")),
    ("dmy_word", re.compile(r"\b(\d{1,2})\.?\s+([^\W\d_]{3,})\.?,?\s+(\d{4})\b")),
    ("mdy_word", re.compile(r"\b([^\W\d_]{3,})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")),
    ("dmy_num", re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")),
)
_TIME_AFTER = re.compile(r"^\s*(?:,|um|at|-|–)?\s*(\d{1,2})[:.](\d{2})\b(?:\s*(?:uhr|h))?", re.I)


def find_date(text: str) -> dt.datetime | None:
    """The first date written in `text`, day-first for numbers: a naive datetime.

    '12. März 2026', '12 March 2026', 'March 12, 2026', '12/03/2026', '12.03.2026',
    '2026-03-12'. A time right after the date ('12.03.2026, 14:30') is kept.
    """
    whole = parse_datetime(text)
    if whole is not None:
        return whole
    best: tuple[int, dt.datetime] | None = None
    for kind, pattern in _FREE_PATTERNS:
        for match in pattern.finditer(text):
            value = _free_match(kind, match)
            if value is None:
                continue
            tail = _TIME_AFTER.match(text[match.end() :])
            if tail and kind != "iso":
                hour, minute = int(tail.group(1)), int(tail.group(2))
                if hour < 24 and minute < 60:
                    value = value.replace(hour=hour, minute=minute)
            if best is None or match.start() < best[0]:
                best = (match.start(), value)
            break
    return best[1] if best else None


def _free_match(kind: str, match: re.Match[str]) -> dt.datetime | None:
    g = match.groups()
    try:
        if kind == "iso":
            return _naive(int(g[0]), int(g[1]), int(g[2]), int(g[3] or 0), int(g[4] or 0))
        if kind == "dmy_word":
            month = month_number(g[1])
            return _naive(int(g[2]), month, int(g[0])) if month else None
        if kind == "mdy_word":
            month = month_number(g[0])
            return _naive(int(g[2]), month, int(g[1])) if month else None
        return _naive(int(g[2]), int(g[1]), int(g[0]))
    except ValueError:
        return None
