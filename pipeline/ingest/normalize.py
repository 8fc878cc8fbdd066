"""Normalize: turn a RawItem into a NormalizedItem.

    title        → plain text, NFC, entities decoded (double-escapes repaired), ≤ 500 chars
    summary_html → pipeline.text.sanitize_html (allow-list; links get rel="noopener noreferrer
                   nofollow", relative ones resolved on the item URL), bound_html ≤ 20,000 chars
    url          → canonical_url() (tracking parameters dropped, http/https only)
    language     → raw or source language, primary subtag, lowercase
    published    → aware (naive means `tz`), missing means `now`, never in the future
    identity     → guid:{source}:{guid} | url:{canonical} | hash:{source}:{sha256}
    content_hash → sha256 over what the source published (title, text, url, its date)
    family       → twin_of(): a cross-language key from the link (TWIN_RULES, one per
                   publisher URL pattern: "IP/26/1692", "EP:20260713IPR46512", "CELEX:…")
                   or the text ("IP/26/1692", "2025/0123(COD)"), or None; family_rule names
                   the rule (the "why" of a merge)

Future dates: EU feeds sometimes put an event's date into pubDate. A published
time more than FUTURE_EVENT_AFTER ahead of `now` is kept as a Deadline of kind
EVENT and published becomes `now`; anything less far ahead (time zones,
embargoes) is clamped to `now` silently. content_hash uses the date as the
source gave it, so clamping never looks like a change at the source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pipeline.model import Deadline, DeadlineKind, NormalizedItem, RawItem, Source
from pipeline.text import (
    MAX_RAW_HTML_CHARS,
    bound_html,
    cut_text,
    html_to_line,
    remove_control_chars,
    sanitize_html,
)

__all__ = [
    "MAX_SUMMARY_CHARS",
    "MAX_TITLE_CHARS",
    "TWIN_RULES",
    "Twin",
    "canonical_url",
    "family_key",
    "normalize",
    "twin_of",
]

MAX_TITLE_CHARS = 500
MAX_SUMMARY_CHARS = 20_000  # of sanitised HTML
MAX_EXTRA_TEXT_CHARS = 20_000
MAX_IDENTITY_CHARS = 1_000  # longer identities are replaced by a hash of themselves
MAX_CATEGORIES = 50
MAX_CATEGORY_CHARS = 200
MAX_REFERENCES = 200
FUTURE_EVENT_AFTER = dt.timedelta(days=2)
UNTITLED = "(ohne Titel)"

# ---------------------------------------------------------------- text

_ENTITY_RE = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_WS_RE = re.compile(r"\s+")


def _decode_entities(text: str) -> str:
    """Decode `&name;` entities, repeatedly (at most 3 rounds) for double-escaped feeds."""
    for _ in range(3):
        if "&" not in text:
            break
        decoded = _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)
        if decoded == text:
            break
        text = decoded
    return text


def clean_text(text: str) -> str:
    """NFC, control characters removed, whitespace collapsed."""
    text = unicodedata.normalize("NFC", remove_control_chars(text))
    return " ".join(text.split())


def clean_title(title: str) -> str:
    """A feed title as plain text: tags stripped, entities decoded, whitespace collapsed."""
    title = title[:MAX_RAW_HTML_CHARS]
    if re.search(r"<[a-zA-Z/][^>]*>", title):
        title = html_to_line(title)
    return cut_text(clean_text(_decode_entities(title)), MAX_TITLE_CHARS)


# ---------------------------------------------------------------- URLs

_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "gclsrc", "mc_cid", "mc_eid",
        "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking", "mkt_tok",
        "xtor", "s_kwcid", "ocid", "cmp", "ref_src", "ref_url", "igshid", "yclid",
        "msclkid", "_ga", "_gl", "twclid", "ttclid", "li_fat_id", "srsltid", "sc_cid",
        "trk", "trkcampaign", "oly_anon_id", "oly_enc_id", "rb_clickid", "vero_id",
        "wickedid", "_openstat", "ns_campaign", "ns_mchannel", "ns_source", "ns_linkname",
        "ns_fee", "spm", "scid", "cvid", "mbid",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "at_", "wt_", "wt.", "piwik_", "pk_", "mtm_", "matomo_", "hsa_")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_PCT_RE = re.compile(r"%[0-9a-fA-F]{2}")
# Characters left as they are when quoting a path or query (RFC 3986 reserved + unreserved + %).
_SAFE_PATH = "/%:@!$&'()*+,;=~-._"
_SAFE_QUERY = _SAFE_PATH + "?"


def _is_tracking(name: str) -> bool:
    key = unquote(name).strip().lower()
    return key in _TRACKING_EXACT or key.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str, base: str | None = None) -> str:
    """A URL in one spelling: lowercase scheme and host, no default port, no fragment,
    no tracking parameters, other parameters in their order, relative resolved on `base`.

    http stays http. Fragments that are single-page-app routes ("#/…", "#!…") are kept,
    since they name the page. A string that is not a parseable URL comes back stripped.
    Idempotent: canonical_url(canonical_url(u)) == canonical_url(u).
    """
    url = remove_control_chars(url).strip()
    url = re.sub(r"[\t\r\n]", "", url)
    if base:
        try:
            url = urljoin(base.strip(), url)
        except ValueError:
            return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        return url
    netloc = _canonical_netloc(parts.netloc, scheme)
    if netloc is None:
        return url
    path = _upper_escapes(quote(parts.path, safe=_SAFE_PATH)) or "/"
    query = _canonical_query(parts.query)
    fragment = parts.fragment if parts.fragment.startswith(("/", "!")) else ""
    if fragment:
        fragment = _upper_escapes(quote(fragment, safe=_SAFE_QUERY + "#"))
    return urlunsplit((scheme, netloc, path, query, fragment))


def _canonical_netloc(netloc: str, scheme: str) -> str | None:
    userinfo, _, hostport = netloc.rpartition("@")
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        if end < 0:
            return None
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        port = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            return None
    else:
        host, _, port = hostport.partition(":")
    host = host.lower().rstrip(".")
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if port and not port.isdigit():
        return None
    if port:
        port = str(int(port))
    hostport = host if port in ("", _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{userinfo}@{hostport}" if userinfo else hostport


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name = pair.split("=", 1)[0]
        if _is_tracking(name):
            continue
        kept.append(_upper_escapes(quote(pair, safe=_SAFE_QUERY)))
    return "&".join(kept)


def _upper_escapes(text: str) -> str:
    return _PCT_RE.sub(lambda m: m.group(0).upper(), text)


def _http_url(value: str | None, base: str | None = None) -> str | None:
    """The canonical URL if `value` is an absolute (or resolvable) http(s) URL, else None."""
    if not value or not value.strip():
        return None
    canon = canonical_url(value, base)
    if not canon.startswith(("http://", "https://")) or _WS_RE.search(canon):
        return None
    try:
        return canon if urlsplit(canon).hostname else None
    except ValueError:  # left unparsed by canonical_url, e.g. "http://[::1"
        return None


# ---------------------------------------------------------------- families

_PRESS_TYPES = "ip|statement|mex|memo|speech|qanda|fs|ac|inf|daily|read|news"
_PRESSCORNER_URL_RE = re.compile(
    rf"/presscorner/(?:detail|api/documents)/[a-z]{{2}}/({_PRESS_TYPES})_(\d{{2}})_(\d{{1,6}})\b"
    rf"|/rapid/press-release_({_PRESS_TYPES})-(\d{{2}})-(\d{{1,6}})_",
    re.IGNORECASE,
)
_PRESS_NUMBER_RE = re.compile(
    r"(?<![\w/])(IP|STATEMENT|MEX|MEMO|SPEECH|QANDA|FS|AC|INF|DAILY)/(\d{2})/(\d{1,6})(?![\w/])"
)
PROCEDURE_TYPES = (
    "COD|CNS|APP|NLE|INI|INL|BUD|DEC|RSP|ACI|AVC|SYN|DEA|RPS|IMM|REG|INS|COS|DCE|BUI|RSO"
)
_PROCEDURE_RE = re.compile(
    rf"(?<![\w/])((?:19|20)\d{{2}})\s*/\s*(\d{{1,4}})\s*\(\s*({PROCEDURE_TYPES})\s*\)",
    re.IGNORECASE,
)


def press_number_from_url(url: str | None) -> str | None:
    """ "IP/26/1692" from a press corner (or old RAPID) URL in any language."""
    if not url:
        return None
    m = _PRESSCORNER_URL_RE.search(url)
    if not m:
        return None
    kind, year, number = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(4, 5, 6)
    return f"{kind.upper()}/{year}/{int(number)}"


# Cheap literal-led hints: the full patterns (led by look-behinds) only run where needed.
_PRESS_HINT = re.compile(r"/\d\d/\d")
_PROCEDURE_HINT = re.compile(r"\(\s*[A-Za-z]{3}\s*\)")


def press_numbers_in(text: str) -> list[str]:
    """Press numbers ("IP/26/1692") named in a text, in order."""
    if not _PRESS_HINT.search(text):
        return []
    return [f"{k}/{y}/{int(n)}" for k, y, n in _PRESS_NUMBER_RE.findall(text)]


def procedures_in(text: str) -> list[str]:
    """Interinstitutional procedures ("2025/0123(COD)") named in a text, in order."""
    if not _PROCEDURE_HINT.search(text):
        return []
    return [f"{y}/{int(n):04d}({t.upper()})" for y, n, t in _PROCEDURE_RE.findall(text)]


# Cross-language keys from links: one rule per publisher URL pattern whose match names the
# same document in every language. Rules are looked up by host (one dict lookup per entry:
# links of other hosts cost nothing more); the first rule that matches gives the key. A link
# that almost fits gives no key: a wrong merge is worse than none. The rule's name is the
# "why" of a merge (pipeline.model.merge_reason turns it into German for staff).
# New keys are "<prefix>:<reference>", so keys of two rules can never be equal.

_MAX_KEY_CHARS = 200  # items.family


@dataclass(frozen=True, slots=True)
class Twin:
    """A cross-language key and the name of the rule that found it."""

    key: str
    rule: str


@dataclass(frozen=True, slots=True)
class TwinRule:
    name: str
    hosts: tuple[str, ...]
    pattern: re.Pattern[str]  # searched in the path and query of the canonical URL
    key: Callable[[re.Match[str]], str]


def _press_key(m: re.Match[str]) -> str:
    kind, year, number = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(4, 5, 6)
    return f"{kind.upper()}/{year}/{int(number)}"


_CELEX = r"[0-9CE]\d{4}[A-Z]{1,2}\d{4}(?:\(\d{2}\))?(?:R\(\d{2}\))?(?:-\d{8})?"

TWIN_RULES: tuple[TwinRule, ...] = (
    # https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1692 (and the old RAPID links)
    TwinRule("presscorner_number", ("ec.europa.eu", "europa.eu"), _PRESSCORNER_URL_RE, _press_key),
    # https://www.europarl.europa.eu/news/de/press-room/20260713IPR46512/slug-in-german
    TwinRule(
        "ep_news_reference",
        ("www.europarl.europa.eu", "europarl.europa.eu"),
        re.compile(
            r"^/news/[a-z]{2}/(?:[a-z0-9-]+/){1,3}(\d{8}[A-Z]{3}\d{5})(?:/[^/?]*)?/?(?:\?|$)"
        ),
        lambda m: f"EP:{m.group(1)}",
    ),
    # https://www.consilium.europa.eu/de/press/press-releases/2026/07/15/english-slug/
    TwinRule(
        "council_press_release",
        ("www.consilium.europa.eu", "consilium.europa.eu"),
        re.compile(
            r"^/[a-z]{2}/press/press-releases/((?:19|20)\d\d/[01]\d/[0-3]\d/[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)/?(?:\?|$)"
        ),
        lambda m: f"Rat:{m.group(1)}",
    ),
    # https://ec.europa.eu/newsroom/cnect/items/812345/de, …/items/812345?lang=de, and the
    # older …/information_society/newsroom/cf/dae/itemdetail.cfm?item_id=17561&lang=de
    TwinRule(
        "ec_newsroom_item",
        ("ec.europa.eu",),
        re.compile(
            r"^/newsroom/([a-z0-9_]+)/items/(\d{1,9})(?:/[a-z]{2})?/?(?:\?|$)"
            r"|^/information_society/newsroom/cf/([a-z0-9_]+)/itemdetail\.cfm\?(?:[^#]*&)?item_id=(\d{1,9})(?:&|$)"
        ),
        lambda m: f"Newsroom:{m.group(1) or m.group(3)}/{m.group(2) or m.group(4)}",
    ),
    # https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32024R1234 (any language path,
    # AUTO, ALL, the old LexUriServ.do)
    TwinRule(
        "eurlex_celex",
        ("eur-lex.europa.eu",),
        re.compile(
            rf"^/(?:\./)?(?:legal-content/(?:[A-Z]{{2}}|AUTO)/(?:[A-Z]{{2,4}}/){{0,2}}|LexUriServ/LexUriServ\.do)"
            rf"\?(?:[^#]*&)?uri=CELEX(?::|%3A)({_CELEX})(?::[A-Z]{{2}}:[A-Z]{{3,4}})?(?:&|$)"
        ),
        lambda m: f"CELEX:{m.group(1)}",
    ),
    # https://www.ecb.europa.eu/press/pr/date/2026/html/ecb.pr260730~3b3bfbb565.de.html
    TwinRule(
        "ecb_document",
        ("www.ecb.europa.eu", "ecb.europa.eu"),
        re.compile(
            r"^/+press/[a-z0-9/_-]*?/html/ecb\.([a-z]{2,8}\d{6}(?:_\d{1,2})?~[0-9a-f]{6,16})"
            r"\.[a-z]{2}\.(?:html|pdf)$"
        ),
        lambda m: f"EZB:{m.group(1)}",
    ),
)
_RULES_BY_HOST: dict[str, tuple[TwinRule, ...]] = {}
for _rule in TWIN_RULES:
    for _host in _rule.hosts:
        _RULES_BY_HOST[_host] = (*_RULES_BY_HOST.get(_host, ()), _rule)


def twin_from_url(url: str | None) -> Twin | None:
    """The cross-language key a canonical http(s) URL carries, by its host's rules."""
    if not url:
        return None
    start = url.find("://")
    if start < 0:
        return None
    end = url.find("/", start + 3)
    if end < 0:
        return None
    rules = _RULES_BY_HOST.get(url[start + 3 : end])
    if rules is None:
        return None
    rest = url[end:]
    for rule in rules:
        m = rule.pattern.search(rest)
        if m is not None:
            key = rule.key(m)
            return Twin(key, rule.name) if len(key) <= _MAX_KEY_CHARS else None
    return None


def twin_of(url: str | None, text: str) -> Twin | None:
    """The cross-language key of an item and the rule that found it, or None.

    1. the key its link carries (TWIN_RULES: the press corner number, the EP's press
       reference, the Council's release path, the newsroom item, the CELEX number, the
       ECB document; en and de versions agree),
    2. else a press number in the text, if the text names exactly one,
    3. else an interinstitutional procedure ("2025/0123(COD)"), if the text names exactly one.
    Texts naming several are ambiguous and give no key (a wrong merge is worse than none).
    """
    twin = twin_from_url(url)
    if twin is not None:
        return twin
    for found, rule in ((press_numbers_in(text), "press_number_text"),
                        (procedures_in(text), "procedure_text")):  # fmt: skip
        if found and len(set(found)) == 1:
            return Twin(found[0], rule)
    return None


def family_key(url: str | None, text: str) -> str | None:
    """The cross-language key of an item (see twin_of), or None."""
    twin = twin_of(url, text)
    return twin.key if twin is not None else None


# ---------------------------------------------------------------- normalize


def normalize(raw: RawItem, source: Source, *, tz: ZoneInfo, now: dt.datetime) -> NormalizedItem:
    """Clean one RawItem; deterministic for equal inputs (see the module docstring)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=tz)
    url = _http_url(raw.url)
    summary_html = bound_html(sanitize_html(raw.summary_html, base=url), MAX_SUMMARY_CHARS)
    summary_text = html_to_line(summary_html)
    title = clean_title(raw.title) or _fallback_title(summary_text, url)
    source_published = _aware(raw.published, tz)
    deadlines = list(raw.deadlines)
    published = source_published or now
    if published > now:
        if published - now > FUTURE_EVENT_AFTER:
            event = Deadline(published.astimezone(tz).date(), DeadlineKind.EVENT, "Termin")
            # Not when the source already names that date (a call's opening date).
            if all(d.date != event.date for d in deadlines):
                deadlines.append(event)
        published = now
    updated = _aware(raw.updated, tz)
    if updated is not None and updated > now:
        updated = now
    extra_text = clean_text(raw.extra_text[:MAX_RAW_HTML_CHARS])[:MAX_EXTRA_TEXT_CHARS]
    twin = twin_of(url, f"{title}\n{summary_text}")
    return NormalizedItem(
        source_id=source.id,
        identity=_identity(raw, source, url, title, summary_text),
        title=title,
        url=url,
        summary_html=summary_html,
        summary_text=summary_text,
        language=_language(raw.language, source.language),
        published=published,
        updated=updated,
        content_hash=_content_hash(title, summary_text, url, source_published),
        family=twin.key if twin is not None else None,
        family_rule=twin.rule if twin is not None else "",
        categories=_categories(raw.categories),
        deadlines=tuple(deadlines),
        references=_unique(clean_text(r) for r in raw.references)[:MAX_REFERENCES],
        doc_type=raw.doc_type,
        extra_text=extra_text,
        eligibility=raw.eligibility,
        source_type=clean_text(raw.source_type)[:MAX_CATEGORY_CHARS],
    )


def _fallback_title(summary_text: str, url: str | None) -> str:
    if summary_text:
        return cut_text(summary_text, 120)
    return url[:MAX_TITLE_CHARS] if url else UNTITLED


def _aware(value: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=tz)
    return value


_LANG_ALIASES = {"deu": "de", "ger": "de", "eng": "en", "fra": "fr", "fre": "fr"}


def _language(raw_language: str | None, source_language: str) -> str:
    for candidate in (raw_language, source_language):
        if not candidate:
            continue
        primary = re.split(r"[-_\s]", candidate.strip().lower(), maxsplit=1)[0]
        primary = _LANG_ALIASES.get(primary, primary)
        if len(primary) == 2 and primary.isascii() and primary.isalpha():
            return primary
    return "en"


def _identity(raw: RawItem, source: Source, url: str | None, title: str, summary_text: str) -> str:
    guid = clean_text(raw.guid or "")
    if guid:
        guid_url = _http_url(guid) if guid.lower().startswith(("http://", "https://")) else None
        identity = f"url:{guid_url}" if guid_url else f"guid:{source.id}:{guid}"
    elif url:
        identity = f"url:{url}"
    else:
        digest = _sha256(f"{title}\n{summary_text}")
        identity = f"hash:{source.id}:{digest}"
    if len(identity) > MAX_IDENTITY_CHARS:
        prefix = identity.split(":", 1)[0]
        identity = f"{prefix}:{source.id}:sha256:{_sha256(identity)}"
    return identity


def _content_hash(
    title: str, summary_text: str, url: str | None, published: dt.datetime | None
) -> str:
    when = published.astimezone(dt.UTC).isoformat() if published else ""
    return _sha256("\x1f".join((title, summary_text, url or "", when)))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _categories(categories: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = (clean_text(_decode_entities(c))[:MAX_CATEGORY_CHARS] for c in categories)
    return _unique(c for c in cleaned if c)[:MAX_CATEGORIES]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v not in seen:
            seen[v] = None
    return tuple(seen)
