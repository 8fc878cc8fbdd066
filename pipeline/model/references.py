"""References to EU documents and procedures: one spelling each, and which ones mean the same.

Pure and stdlib only. Every function takes text as people and publishers write it and
returns the canonical spelling, the one `ingest.classify.extract_references` stores:

    procedure   2025/260(COD) · 2025/0260 (cod) · 2025-0260 COD       → 2025/0260(COD)
    com         COM/2025/123 · COM(2025)123 final · KOM(2025) 0123    → COM(2025) 123
                (also SWD, SEC, JOIN)
    celex       32024R1689 · celex:32024r1689 · 32024R1689R(01)       → 32024R1689 / …R(01)
    council     ST 12345/25 INIT · 12345/2025 · ST-12345-2025-INIT    → ST 12345/25
    ep_report   A10-0070/2026 · A-10-2026-0070 · A10-0070/26          → A10-0070/2026

`equivalents(ref)` gives the other canonical spellings of the same document: a
Commission proposal's CELEX 52025PC0123 ↔ COM(2025) 123, a corrigendum
32024R1689R(01) → its act 32024R1689. Dossiers are matched to items through these.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import unquote, urlsplit

__all__ = [
    "ReferenceKind",
    "celex",
    "celex_in_url",
    "com_reference",
    "council_reference",
    "ep_report",
    "equivalents",
    "eurlex_url",
    "german_link",
    "normalize_reference",
    "procedure_reference",
    "reference_kind",
]


class ReferenceKind(StrEnum):
    PROCEDURE = "procedure"  # interinstitutional procedure, the key of a dossier
    COM = "com"  # COM/SWD/SEC/JOIN document of the Commission
    CELEX = "celex"  # EUR-Lex document number
    COUNCIL = "council"  # Council document (ST number)
    EP_REPORT = "ep_report"  # European Parliament report (A10-…)
    OTHER = "other"


_PROCEDURE_TYPES = (
    "COD|CNS|APP|NLE|BUD|DEC|INI|INL|RSP|RPS|DEA|IMM|REG|SYN|AVC|COS|ACI|DCE|ITS|RSO|INS|CON"
)
_PROCEDURE_RE = re.compile(
    rf"^\s*((?:19|20)\d{{2}})\s*[/-]\s*(\d{{1,4}})\s*[(\s/]?\s*({_PROCEDURE_TYPES})\s*\)?\s*$",
    re.IGNORECASE,
)
_COM_RE = re.compile(
    r"^\s*(COM|KOM|SWD|SEC|JOIN)\s*[(/\s]\s*((?:19|20)\d{2})\s*[)/\s]\s*(\d{1,5})"
    r"(?:\s*(?:final|endg(?:ültig|\.)?|def\.?)(?:\s*/\s*\d+)?)?\s*$",
    re.IGNORECASE,
)
_CELEX_RE = re.compile(
    r"^\s*(?:celex\s*[:=]?\s*)?([0-9CE])((?:19|20)\d{2})([A-Z]{1,2})(\d{4})"
    r"(?:(R)?\(\s*(\d{1,2})\s*\))?\s*$",
    re.IGNORECASE,
)
_COUNCIL_RE = re.compile(
    r"^\s*(?:ST|doc\.?|Dok\.?)?[\s-]*(\d{3,5})\s*[/\s-]\s*((?:19|20)?\d{2})"
    r"(?:[\s-]+(?:INIT|REV\s*\d+|ADD\s*\d+|COR\s*\d+))*\s*$",
    re.IGNORECASE,
)
_COUNCIL_PREFIX = re.compile(r"^\s*(?:ST|doc\.?|Dok\.?)[\s-]", re.IGNORECASE)
_EP_REPORT_RE = re.compile(
    r"^\s*A\s*-?\s*(\d{1,2})\s*[-/]\s*"
    r"(?:((?:19|20)\d{2})\s*-\s*(\d{1,4})|(\d{1,4})\s*/\s*((?:19|20)?\d{2}))\s*$",
    re.IGNORECASE,
)

# CELEX sector 5 (preparatory acts) document types that are Commission documents.
_CELEX_COM_TYPES = {"PC": "COM", "DC": "COM", "SC": "SWD", "JC": "JOIN"}
_COM_CELEX_TYPES = {"COM": ("PC", "DC"), "SWD": ("SC",), "JOIN": ("JC",)}


def procedure_reference(text: str) -> str | None:
    """'2025/260(COD)', '2025/0260 (cod)', '2025-0260 COD', EUR-Lex's '2025/0260/COD'
    → '2025/0260(COD)'; else None."""
    m = _PROCEDURE_RE.match(text)
    if m is None:
        return None
    year, number, kind = m.groups()
    if int(number) == 0:
        return None
    return f"{year}/{int(number):04d}({kind.upper()})"


def com_reference(text: str) -> str | None:
    """'COM/2025/123', 'COM(2025)123 final', 'KOM(2025) 0123 endgültig' → 'COM(2025) 123'."""
    m = _COM_RE.match(text)
    if m is None:
        return None
    kind, year, number = m.groups()
    kind = kind.upper()
    kind = "COM" if kind == "KOM" else kind
    if int(number) == 0:
        return None
    return f"{kind}({year}) {int(number)}"


def celex(text: str) -> str | None:
    """'celex:32024r1689' → '32024R1689'; a corrigendum keeps its suffix: '32024R1689R(01)'."""
    m = _CELEX_RE.match(text)
    if m is None:
        return None
    sector, year, doc_type, number, _, corr_no = m.groups()
    base = f"{sector.upper()}{year}{doc_type.upper()}{number}"
    if corr_no is None:
        return base
    return f"{base}R({int(corr_no):02d})"


def council_reference(text: str) -> str | None:
    """'ST 12345/25 INIT', 'ST-12345-2025-INIT', '12345/2025' → 'ST 12345/25'.

    A bare 'NNNN/YY' is taken as a Council number only with the 'ST' prefix or a
    four-digit year, because '1689/24' alone could be anything."""
    m = _COUNCIL_RE.match(text)
    if m is None:
        return None
    number, year = m.groups()
    if len(year) == 2 and not _COUNCIL_PREFIX.match(text):
        return None
    return f"ST {int(number)}/{year[-2:]}"


def ep_report(text: str) -> str | None:
    """'A10-0070/2026', 'A-10-2026-0070', 'A10-70/26' → 'A10-0070/2026'."""
    m = _EP_REPORT_RE.match(text)
    if m is None:
        return None
    term, year_a, number_a, number_b, year_b = m.groups()
    year = year_a or year_b
    number = number_a or number_b
    if len(year) == 2:
        year = f"20{year}"
    return f"A{int(term)}-{int(number):04d}/{year}"


_NORMALIZERS = (
    (ReferenceKind.PROCEDURE, procedure_reference),
    (ReferenceKind.COM, com_reference),
    (ReferenceKind.CELEX, celex),
    (ReferenceKind.EP_REPORT, ep_report),
    (ReferenceKind.COUNCIL, council_reference),
)


def normalize_reference(text: str) -> str | None:
    """The canonical spelling of one reference of a known kind, or None."""
    if not text or len(text) > 200:
        return None
    for _, fn in _NORMALIZERS:
        found = fn(text)
        if found is not None:
            return found
    return None


def reference_kind(text: str) -> ReferenceKind:
    if text and len(text) <= 200:
        for kind, fn in _NORMALIZERS:
            if fn(text) is not None:
                return kind
    return ReferenceKind.OTHER


def equivalents(text: str) -> tuple[str, ...]:
    """The canonical spelling of `text` and the other spellings of the same document.

    52025PC0123 → (52025PC0123, COM(2025) 123); COM(2025) 123 → (COM(2025) 123,
    52025PC0123, 52025DC0123); 32024R1689R(01) → (32024R1689R(01), 32024R1689).
    Text of no known kind gives (text.strip(),) so unknown references still match
    themselves."""
    canonical = normalize_reference(text)
    if canonical is None:
        stripped = text.strip()
        return (stripped,) if stripped else ()
    found = [canonical]
    m = _CELEX_RE.match(canonical)
    if m is not None:
        sector, year, doc_type, number, _, corr_no = m.groups()
        base = f"{sector}{year}{doc_type}{number}"
        if corr_no is not None:
            found.append(base)
        com_kind = _CELEX_COM_TYPES.get(doc_type) if sector == "5" else None
        if com_kind is not None:
            found.append(f"{com_kind}({year}) {int(number)}")
        return tuple(dict.fromkeys(found))
    m = _COM_RE.match(canonical)
    if m is not None:
        kind, year, number = m.groups()
        for doc_type in _COM_CELEX_TYPES.get(kind, ()):
            found.append(f"5{year}{doc_type}{int(number):04d}")
    return tuple(dict.fromkeys(found))


_CELEX_IN_URL_RE = re.compile(
    r"CELEX(?::|%3A)([0-9CE]\d{4}[A-Z]{1,2}\d{4}(?:R?(?:\(|%28)\d{2}(?:\)|%29))?)", re.IGNORECASE
)


def celex_in_url(url: str | None) -> str | None:
    """The CELEX number of the EUR-Lex document a link leads to (`…?uri=CELEX:32026R1398`,
    also `/./legal-content/AUTO/` of EUR-Lex's RSS), canonical; None for other links."""
    if not url:
        return None
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return None
    if host != _EURLEX_HOST:
        return None
    m = _CELEX_IN_URL_RE.search(unquote(url))
    return celex(m.group(1)) if m is not None else None


def eurlex_url(celex_number: str, language: str = "DE") -> str:
    """The EUR-Lex page of a document in one language (German by default)."""
    return (
        f"https://eur-lex.europa.eu/legal-content/{language.upper()}/TXT/?uri=CELEX:{celex_number}"
    )


# ---------------------------------------------------------------- German versions

_EURLEX_HOST = "eur-lex.europa.eu"
_PRESSCORNER_DE = "https://ec.europa.eu/commission/presscorner/detail/de/{kind}_{year}_{number}"
_LEGAL_CONTENT_RE = re.compile(r"^/legal-content/(?:[A-Za-z]{2}|AUTO)/", re.IGNORECASE)
_EURLEX_PROCEDURE_RE = re.compile(r"^/procedure/[A-Za-z]{2}/(.+)$")
_SMARTAPI_LANG_RE = re.compile(r"([?&!]lg=)[A-Za-z]{2}(?=&|$)")
_ELI_LANG_RE = re.compile(r"^(/eli/.+/oj)/[a-z]{3}/?$")
_URI_CELEX_RE = re.compile(r"(?:^|[?&])uri=CELEX:([0-9CE]\d{4}[A-Z]{1,2}\d{4})", re.IGNORECASE)
_NUMDOC_RE = re.compile(r"numdoc=([0-9CE]\d{4}[A-Z]{1,2}\d{4})", re.IGNORECASE)
_PRESSCORNER_RE = re.compile(
    r"/presscorner/(?:detail|api/documents)/[a-z]{2}/([a-z]+)_(\d{2})_(\d{1,6})\b"
    r"|/rapid/press-release_([a-z]+)-(\d{2})-(\d{1,6})_",
    re.IGNORECASE,
)
# Kinds of press corner documents the Commission publishes in German as a rule: press
# releases. Speeches, Q&As, factsheets, the midday express and daily news usually exist
# in English (and French) only, so their readers keep the "English page" note.
_PRESS_KINDS_IN_GERMAN = frozenset({"ip"})
# CELEX sector 5 documents usually published in English only: staff working documents.
_CELEX_ENGLISH_ONLY = re.compile(r"^5\d{4}SC", re.IGNORECASE)


# European Parliament pages published in every official language, by their first path
# segment: /news/en/…, /committees/en/…, /meps/en/… (the language follows the segment).
_EP_MULTILINGUAL = frozenset(
    {
        "news",
        "committees",
        "meps",
        "plenary",
        "topics",
        "delegations",
        "about-parliament",
        "at-your-service",
        "portal",
        "elections",
    }
)
_EP_SECTION_LANG_RE = re.compile(r"^/([a-z-]+)/([a-z]{2})(/.*)?$")
# Plenary and committee documents (reports A10-…, texts adopted, minutes, agendas):
# /doceo/document/A-10-2026-0070_EN.html (.pdf, .docx) exist in every official language.
_DOCEO_RE = re.compile(r"^(/doceo/document/[A-Za-z0-9-]+)_[A-Z]{2}(\.[a-z]{3,4})$", re.IGNORECASE)
_COUNCIL_LANG_RE = re.compile(r"^/([a-z]{2})(/.*)?$")


def german_link(url: str | None) -> str | None:
    """The address of the German version of the EU document `url` leads to, or None.

    EUR-Lex (legal-content, also `/./legal-content/AUTO/` of its RSS, the old smartapi,
    ELI with a language, procedure pages) → the same document in German; Commission
    press corner press releases (detail, documents API, old RAPID addresses) →
    `…/presscorner/detail/de/ip_26_1900`; the European Parliament's multilingual pages
    (`/news/en/…` → `/news/de/…`; plenary documents `…/doceo/document/A-10-2025-0123_EN.html`
    → `…_DE.html`) and the Council's pages (`consilium.europa.eu/en/…` → `/de/…`).

    None for anything else and where no German version exists as a rule (staff working
    documents, speeches, Q&As; the Legislative Observatory OEIL, whose pages exist in
    English and French only; the Legislative Train, English only): there, the reader
    keeps the note that the link leads to an English page."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if host == _EURLEX_HOST:
        return _eurlex_german(parts.path, unquote(parts.query))
    if host == "ec.europa.eu":
        m = _PRESSCORNER_RE.search(parts.path)
        if m is None:
            return None
        kind, year, number = m.group(1, 2, 3) if m.group(1) else m.group(4, 5, 6)
        if kind.lower() not in _PRESS_KINDS_IN_GERMAN:
            return None
        return _PRESSCORNER_DE.format(kind=kind.lower(), year=year, number=int(number))
    if host in ("www.europarl.europa.eu", "europarl.europa.eu"):
        return _europarl_german(parts.path, parts.query, parts.fragment)
    if host in ("www.consilium.europa.eu", "consilium.europa.eu"):
        m = _COUNCIL_LANG_RE.match(parts.path)
        if m is None:
            return None
        return _rebuild("www.consilium.europa.eu", f"/de{m.group(2) or '/'}", parts.query, "")
    return None


def _rebuild(host: str, path: str, query: str, fragment: str) -> str:
    return (
        f"https://{host}{path}"
        + (f"?{query}" if query else "")
        + (f"#{fragment}" if fragment else "")
    )


def _europarl_german(path: str, query: str, fragment: str) -> str | None:
    m = _DOCEO_RE.match(path)
    if m is not None:
        return _rebuild("www.europarl.europa.eu", f"{m.group(1)}_DE{m.group(2).lower()}", "", "")
    m = _EP_SECTION_LANG_RE.match(path)
    if m is None or m.group(1) not in _EP_MULTILINGUAL:
        return None  # the Legislative Train, OEIL, RSS files …: no German page
    return _rebuild(
        "www.europarl.europa.eu", f"/{m.group(1)}/de{m.group(3) or ''}", query, fragment
    )


def _eurlex_german(path: str, query: str) -> str | None:
    path = re.sub(r"/(?:\./)+", "/", path)  # EUR-Lex's RSS links /./legal-content/…
    m = _EURLEX_PROCEDURE_RE.match(path)
    if m is not None:
        return f"https://{_EURLEX_HOST}/procedure/DE/{m.group(1)}"
    found = _URI_CELEX_RE.search(query) or _NUMDOC_RE.search(query)
    if found is not None and _CELEX_ENGLISH_ONLY.match(found.group(1)):
        return None
    if _LEGAL_CONTENT_RE.match(path):
        if found is not None:
            suffix = query[found.end(1) :].split("&", 1)[0]  # a consolidated version's date
            return eurlex_url(found.group(1).upper() + suffix)
        new_path = _LEGAL_CONTENT_RE.sub("/legal-content/DE/", path, count=1)
        return f"https://{_EURLEX_HOST}{new_path}" + (f"?{query}" if query else "")
    if "smartapi" in path and _SMARTAPI_LANG_RE.search(query):
        if found is not None:
            return eurlex_url(found.group(1).upper())
        return f"https://{_EURLEX_HOST}{path}?" + _SMARTAPI_LANG_RE.sub(r"\1DE", query)
    m = _ELI_LANG_RE.match(path)
    if m is not None:
        return f"https://{_EURLEX_HOST}{m.group(1)}/deu"
    return None
