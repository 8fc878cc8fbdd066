"""Classify: topics, document type, references, deadlines and regional relevance.

Pure and deterministic. All patterns are compiled once in `Classifier.__init__`;
classifying an item costs a fixed handful of regex scans, whatever the size of
the taxonomy (every keyword of every topic and of the region lives in one
prefix-tree regex; a hit is mapped back to its topics with a dict lookup).

Keywords (taxonomy.yaml), matched in German and English whatever the item's language:
    Förderprogramm    a word or phrase, case-insensitive, on word boundaries
    Förder*           a prefix stem: Förderprogramm, Fördermittel, Förder-Aufruf
    *förderung        a suffix: Regionalförderung, Forschungsförderung, Förderung
    *wasserstoff*     anywhere inside a word: Wasserstoffprojekte, Grünwasserstoff
    KI, ETS, ESF+     ALL-CAPS (≤ 6 chars, no *): an acronym, matched case-sensitively
Umlauts and ß match their spellings ae/oe/ue/ss (and accents are ignored), so
"Förder*" finds "Foerderung"; a space or hyphen in a keyword matches either. Where
keywords overlap, the longest phrase wins the place ("soil health" leaves no "health"),
and a phrase also credits the shorter keywords it starts with ("car industry": "car").
A call identifier (HORIZON-CL5-2027-…) counts as its programme's name plus "call for
proposals", so taxonomy keywords decide its topics.

Doc type, in this order: the adapter's hint; press corner (ip_, statement_, mex_, memo_)
and EUR-Lex URLs; rules on the title; the source's `options.doc_type`; cues in the
body (see _BODY_CUES, read in the same scan as the keywords); else OTHER.

References, deadlines: see extract_references() and extract_deadlines(). Topic
confidence: see the Classifier docstring. Relevance (a graded score and its German
reasons): pipeline/ingest/relevance.py, fed with the facts classified here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from pipeline.ingest.normalize import press_number_from_url, press_numbers_in, procedures_in
from pipeline.model import (
    Classification,
    Deadline,
    DeadlineKind,
    DocType,
    NormalizedItem,
    RelevanceFacts,
    Source,
    Taxonomy,
    TopicAssignment,
    TopicOrigin,
)

__all__ = [
    "SOURCE_TOPIC_PRIOR",
    "TOPIC_THRESHOLD",
    "Classifier",
    "extract_deadlines",
    "extract_references",
    "fold",
]

REGION = "\x00region"  # the target name of region keywords inside the matcher
TOPIC_THRESHOLD = 0.35  # below this a topic is not assigned
SOURCE_TOPIC_PRIOR = 0.5  # confidence of a source's default topic without text evidence
TITLE_WEIGHT = 1.0  # per distinct keyword found in the title
BODY_WEIGHT = 0.4  # per distinct keyword found only in summary / extra text / categories
REPEAT_WEIGHT = 0.1  # per further occurrence in the body, at most MAX_REPEATS
MAX_REPEATS = 5

# ---------------------------------------------------------------- folding

_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "’": "'", "‘": "'", "‚": "'", "“": '"', "”": '"', "„": '"'}
)
_WS_RE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lowercase, umlauts as ae/oe/ue, ß as ss, accents dropped, curly quotes straight,
    whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_UMLAUTS)
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    return " ".join(text.split())


def _key(folded: str) -> str:
    return folded.replace("-", " ")


# ---------------------------------------------------------------- keyword matcher


@dataclass(frozen=True, slots=True)
class _Hit:
    term: str  # the text matched (folded, or as written for acronyms)
    targets: frozenset[str]


class _Trie:
    def __init__(self) -> None:
        self.root: dict[str, _Trie] = {}
        self.exact = False
        self.stem = False

    def add(self, word: str, *, stem: bool) -> None:
        node = self
        for ch in word:
            node = node.root.setdefault(ch, _Trie())
        if stem:
            node.stem = True
        else:
            node.exact = True

    def pattern(self) -> str:
        alts = [_char(ch) + self.root[ch].pattern() for ch in sorted(self.root)]
        if self.exact:
            alts.append(r"(?!\w)")
        if self.stem:
            alts.append(r"\w*")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"


def _char(ch: str) -> str:
    return "[ -]" if ch == " " else re.escape(ch)


_ACRONYM_RE = re.compile(r"[A-Z0-9][A-Z0-9+&./-]{0,5}")


class _Matcher:
    """Every keyword of the taxonomy in three prefix-tree regexes."""

    def __init__(self, keywords: Iterable[tuple[str, str]]) -> None:
        exact: dict[str, set[str]] = {}
        stems: dict[str, set[str]] = {}
        suffixes: dict[str, set[str]] = {}
        infixes: dict[str, set[str]] = {}
        acronyms: dict[str, set[str]] = {}
        anchored, unanchored, acro = _Trie(), _Trie(), _Trie()
        for raw, target in keywords:
            kw = raw.strip()
            lead, trail = kw.startswith("*"), kw.endswith("*")
            word = kw.strip("*").strip()
            if not word:
                continue
            if not lead and not trail and _ACRONYM_RE.fullmatch(word) and _has_upper(word):
                acronyms.setdefault(word, set()).add(target)
                acro.add(word, stem=False)
                continue
            folded = _key(fold(word))
            if lead:
                (infixes if trail else suffixes).setdefault(folded, set()).add(target)
                unanchored.add(folded, stem=trail)
            else:
                (stems if trail else exact).setdefault(folded, set()).add(target)
                anchored.add(folded, stem=trail)
        self._exact = {k: frozenset(v) for k, v in exact.items()}
        self._stems = {k: frozenset(v) for k, v in stems.items()}
        self._suffixes = {k: frozenset(v) for k, v in suffixes.items()}
        self._infixes = {k: frozenset(v) for k, v in infixes.items()}
        self._acronyms = {k: frozenset(v) for k, v in acronyms.items()}
        self._stem_lengths = sorted({len(k) for k in stems}, reverse=True)
        self._infix_lengths = sorted({len(k) for k in infixes}, reverse=True)
        self._anchored = _compile(r"(?<!\w)", anchored)
        self._unanchored = _compile("", unanchored)
        self._acro = _compile("", acro)

    def hits(self, folded: str, nfkc: str) -> Iterator[_Hit]:
        """Every keyword hit in a text given folded (for words) and NFKC (for acronyms)."""
        if self._anchored is not None:
            for m in self._anchored.finditer(folded):
                term = _key(m.group())
                targets = self._lookup(term, self._exact, self._stems, self._stem_lengths)
                if targets:
                    yield _Hit(term, targets)
        if self._unanchored is not None:
            for m in self._unanchored.finditer(folded):
                term = _key(m.group())
                targets = self._lookup(term, self._suffixes, self._infixes, self._infix_lengths)
                if targets:
                    yield _Hit(term, targets)
        if self._acro is not None:
            for m in self._acro.finditer(nfkc):
                # A leading (?<!\w) would cost a slow scan: check the boundary here.
                if m.start() and (nfkc[m.start() - 1].isalnum() or nfkc[m.start() - 1] == "_"):
                    continue
                yield _Hit(m.group(), self._acronyms[m.group()])

    @staticmethod
    def _lookup(
        term: str,
        exact: dict[str, frozenset[str]],
        stems: dict[str, frozenset[str]],
        lengths: Sequence[int],
    ) -> frozenset[str]:
        """Targets of every keyword the term starts with: a phrase ("car industry") also
        credits its shorter keywords ending on a word boundary ("car")."""
        targets = exact.get(term, frozenset())
        if " " in term:
            for i, ch in enumerate(term):
                if ch == " ":
                    found = exact.get(term[:i])
                    if found:
                        targets = targets | found
        for n in lengths:
            if n <= len(term):
                found = stems.get(term[:n])
                if found:
                    targets = targets | found
        return targets


def _has_upper(word: str) -> bool:
    return any(c.isupper() for c in word)


def _compile(prefix: str, trie: _Trie) -> re.Pattern[str] | None:
    if not trie.root:
        return None
    return re.compile(prefix + trie.pattern())


# ---------------------------------------------------------------- doc types

_PRESSCORNER_PR_RE = re.compile(
    r"/presscorner/detail/[a-z]{2}/(?:ip|statement|mex|memo)_\d", re.IGNORECASE
)
_EURLEX_CELEX_URL_RE = re.compile(r"celex(?::|%3a)([0-9ce])\d{4}([a-z]{1,2})\d{4}", re.IGNORECASE)
_DOC_TYPE_VALUES = frozenset(d.value for d in DocType)

# Patterns run on folded text (lowercase, ä → ae, ß → ss). Where German builds compounds
# they match inside words ("Förderaufruf", "Informationsveranstaltung").
_PROPOSAL = re.compile(
    r"proposals? for an? (?:new )?(?:council |commission )?(?:regulation|directive|decision)\b"
    r"|vorschlag (?:fuer|zu) (?:eine[nrm]?|einem|den|die|das) (?:\w+ )?"
    r"(?:verordnung|richtlinie|beschluss)"
    r"|(?:verordnungs|richtlinien|legislativ|gesetzgebungs)vorschlag"
    r"|legislative proposals?\b"
)
_PROPOSAL_TITLE_ONLY = re.compile(r"\b(?:com|kom) ?\(\d{4}\) ?\d+|\bcom/\d{4}/\d+")
_ADOPTED = re.compile(
    r"(?:regulation|directive|decision)s? \((?:eu|ec|eu, euratom)\) (?:no\.? )?\d{1,4}/\d{2,4}"
    r"|(?:verordnung|richtlinie|beschluss) \((?:eu|eg|eu, euratom)\)"
    r"|(?:implementing|delegated) (?:regulation|decision|directive|act)s?\b"
    r"|(?:durchfuehrungs|delegierte )(?:verordnung|beschluss|rechtsakt)"
    r"|\b(?:oj|abl\.?) (?:l|c) ?\d+"
    r"|official journal\b"
    r"|amtsblatt"
    r"|\badopt(?:s|ed|ion of)\b[^.]{0,80}\b(?:regulation|directive|law|rules|act)\b"
    r"|\b(?:verabschiedet|beschliesst|billigt|nimmt)\b[^.]{0,60}(?:verordnung|richtlinie|gesetz)"
    r"|(?:verordnung|richtlinie|gesetz)\w*\b[^.]{0,60}\b(?:verabschiedet|angenommen|gebilligt)"
)
_CALL = re.compile(
    r"calls? for (?:project )?(?:proposals|applications|projects|expressions? of interest)\b"
    r"|funding (?:call|opportunit)"
    r"|open call\b"
    r"|\bcall (?:is )?(?:now )?open\b"
    r"|aufrufe? zur einreichung\b"
    r"|(?:foerder|projekt)aufruf"
    r"|foerderausschreibung"
)
_CALL_IDENTIFIER_HINT = re.compile(r"-20\d\d")
_CALL_SEGMENT = r"[A-Z0-9]+(?:(?<=[A-Z][A-Z])[a-z][A-Za-z0-9]*)?"
_CALL_IDENTIFIER_RE = re.compile(
    r"(?<![\w-])(?:HORIZON|LIFE|DIGITAL|CEF|ERASMUS|I3|EU4H|CERV|CREA|EMFAF|SMP|AMIF|ISF|BMVI"
    r"|EDF|RFCS|UCPM|SOCPL|ESF|JUST|EUAF|PERICLES|EUBA|EURATOM|INNOVFUND|ERC|EIC|MSCA|NDICI"
    r"|IPA3?|EUSPA|INTERREG|EIT|COSME)"
    # A segment is upper case and digits ("CL5", "D3"), optionally with a lower-case tail
    # after two capitals ("IAFlag"); so "-Projekte" in "LIFE-2026-SAP-ENV-Projekte" is not
    # one, and no text can make the pattern backtrack exponentially.
    rf"(?:-{_CALL_SEGMENT}){{0,8}}"
    r"-20\d\d"
    rf"(?:-(?:two-stage|single-stage|{_CALL_SEGMENT})){{0,10}}"
    r"(?![\w])"
)
_CONSULTATION = re.compile(
    r"consultations?\b"
    r"|konsultation"
    r"|have your say\b"
    r"|calls? for evidence\b"
    r"|aufforderung zur stellungnahme"
    r"|\binvites? (?:comments|feedback|views|stakeholders)\b"
    r"|feedback (?:period|opportunity)\b"
)
_EVENT = re.compile(
    r"\bconferences?\b"
    r"|webinar"
    r"|\binfo(?:rmation)? ?(?:days?|sessions?)\b"
    r"|workshop"
    r"|seminar"
    r"|brokerage events?\b"
    r"|matchmaking"
    r"|week of (?:the )?regions\b"
    r"|konferenz|veranstaltung|tagung\b|infotag"
)
_PRESS = re.compile(
    r"press releases?\b|presse(?:mitteilung|meldung|erklaerung)|communique de presse"
)
_TITLE_RULES: tuple[tuple[DocType, re.Pattern[str]], ...] = (
    (DocType.LEGISLATIVE_PROPOSAL, _PROPOSAL),
    (DocType.LEGISLATIVE_PROPOSAL, _PROPOSAL_TITLE_ONLY),
    (DocType.FUNDING_CALL, _CALL),
    (DocType.CONSULTATION, _CONSULTATION),
    (DocType.EVENT, _EVENT),
    (DocType.ADOPTED_ACT, _ADOPTED),
    (DocType.PRESS_RELEASE, _PRESS),
)
# Body cues are keywords (same syntax as taxonomy.yaml) matched by the one keyword scan
# of the body: a long summary is read once, not once per rule. The first doc type in
# this order that has a cue wins.
_BODY_CUES: dict[DocType, tuple[str, ...]] = {
    DocType.LEGISLATIVE_PROPOSAL: (
        "proposal for a regulation", "proposal for a directive", "proposal for a decision",
        "proposal for a council regulation", "proposal for a council directive",
        "proposal for a council decision", "proposals for regulations",
        "Vorschlag für eine Verordnung", "Vorschlag für eine Richtlinie",
        "Vorschlag für einen Beschluss", "Vorschlag für eine Durchführungsverordnung",
        "*verordnungsvorschlag*", "*richtlinienvorschlag*", "*legislativvorschlag*",
        "*gesetzgebungsvorschlag*", "legislative proposal*",
    ),
    DocType.FUNDING_CALL: (
        "call for proposals", "calls for proposals", "call for project proposals",
        "calls for project proposals", "call for applications",
        "calls for applications", "call for projects", "call for expression* of interest",
        "calls for expression* of interest", "funding call*", "funding opportunit*",
        "open call", "open calls", "Aufruf zur Einreichung", "Aufrufe zur Einreichung",
        "*förderaufruf*", "*projektaufruf*", "*förderausschreibung*",
    ),
    DocType.CONSULTATION: (
        "consultation", "consultations", "*konsultation*", "have your say",
        "call for evidence", "calls for evidence", "Aufforderung zur Stellungnahme",
        "invites comments", "invite comments", "invites feedback", "invites views",
        "invites stakeholders", "feedback period", "feedback opportunity",
    ),
    DocType.ADOPTED_ACT: (
        "published in the Official Journal", "im Amtsblatt", "entered into force",
        "in Kraft getreten",
    ),
    DocType.EVENT: (
        "*webinar*", "info day*", "infoday*", "information day*", "info session*",
        "information session*", "*infotag*", "*informationsveranstaltung*",
        "will take place", "takes place", "findet am", "register now", "register here",
        "register online", "registration is open", "registration is now open",
        "jetzt anmelden",
    ),
    DocType.PRESS_RELEASE: (
        "press release*", "*pressemitteilung*", "*pressemeldung*", "*presseerklärung*",
        "communiqué de presse",
    ),
}  # fmt: skip
_DOC_CUE = "\x00doc:"


# A call identifier stands for its programme: its words go through the keyword matcher, so
# "HORIZON-CL5-2027-…" counts like "Horizon Europe call for proposals" (taxonomy topics).
_PROGRAMMES = {
    "HORIZON": "Horizon Europe", "LIFE": "LIFE programme", "DIGITAL": "Digital Europe Programme",
    "CEF": "Connecting Europe Facility", "ERASMUS": "Erasmus+", "I3": "ERDF", "EU4H": "EU4Health",
    "CREA": "Creative Europe", "EMFAF": "fisheries and aquaculture",
    "SMP": "Single Market Programme", "RFCS": "steel", "SOCPL": "social dialogue", "ESF": "ESF+",
    "EURATOM": "nuclear", "INNOVFUND": "Innovation Fund", "ERC": "ERC", "EIC": "EIC",
    "MSCA": "MSCA", "INTERREG": "Interreg", "EIT": "EIT", "COSME": "SMEs",
}  # fmt: skip


def _call_identifiers(text: str) -> list[str]:
    if not _CALL_IDENTIFIER_HINT.search(text):
        return []
    return [m.group() for m in _CALL_IDENTIFIER_RE.finditer(text)]


def _programme_text(identifiers: Iterable[str]) -> str:
    names = {_PROGRAMMES.get(i.split("-", 1)[0], "") for i in identifiers}
    return " | ".join(f"{name} call for proposals" for name in sorted(names))


def _has_call_identifier(text: str) -> bool:
    return bool(_CALL_IDENTIFIER_HINT.search(text) and _CALL_IDENTIFIER_RE.search(text))


def _doc_type(
    item: NormalizedItem,
    source: Source,
    title_f: str,
    body_f: str,
    body: str,
    body_targets: Collection[str],
) -> DocType:
    """Adapter hint > press corner / EUR-Lex URL > title > source default > body > OTHER.

    The title rules run in the order proposal, call, consultation, event, adopted act,
    press release; the body cues (_BODY_CUES) are fewer and stricter (a press release
    that mentions a conference is not an event), and a body that opens with "Press
    release" wins.
    A source may name its default in sources.yaml as `options: {doc_type: press_release}`.
    """
    if item.doc_type is not None:
        return item.doc_type
    url = item.url or ""
    if _PRESSCORNER_PR_RE.search(url):
        return DocType.PRESS_RELEASE
    celex = _EURLEX_CELEX_URL_RE.search(url)
    if celex:
        sector, kind = celex.group(1), celex.group(2).upper()
        if sector == "5" and kind == "PC":
            return DocType.LEGISLATIVE_PROPOSAL
        if sector == "3":
            return DocType.ADOPTED_ACT
    for doc_type, pattern in _TITLE_RULES:
        if pattern.search(title_f):
            return doc_type
    if _has_call_identifier(item.title):
        return DocType.FUNDING_CALL
    default = source.options.get("doc_type") if source.options else None
    if isinstance(default, str) and default in _DOC_TYPE_VALUES:
        return DocType(default)
    if _PRESS.search(body_f, 0, 100):
        return DocType.PRESS_RELEASE
    for doc_type in _BODY_CUES:
        if _DOC_CUE + doc_type.value in body_targets:
            return doc_type
    if _has_call_identifier(body):
        return DocType.FUNDING_CALL
    return DocType.OTHER


# ---------------------------------------------------------------- references

# Each kind has a cheap literal hint; the full pattern only runs where the hint is found.
_COM_RE = re.compile(
    r"(?<![\w/])(COM|KOM|SWD|SEC|JOIN)\s*[(/]\s*((?:19|20)\d{2})\s*[)/]\s*(\d{1,5})(?!\d)"
)
_COM_HINTS = ("COM", "KOM", "SWD", "SEC", "JOIN")
_PROCEDURE_HINT = re.compile(r"\(\s*[A-Za-z]{3}\s*\)")
_CELEX_RE = re.compile(r"(?<!\w)[1-9CE](?:19|20)\d{2}[A-Z]{1,2}\d{4}(?:R?\(\d{2}\))?(?![\w(])")
_CELEX_HINT = re.compile(r"\d{4}[A-Z]{1,2}\d{4}")
_PRESS_HINT = re.compile(r"/\d\d/\d")
_ACT_RE = re.compile(
    r"\((EU|EC|EG|EWG|EEC|EU,\s*Euratom|EU/Euratom)\)\s*(?:(No\.?|Nr\.?)\s*)?"
    r"(\d{1,4})/(\d{2,4})(?![\d/])"
)
_ACT_HINTS = ("(EU", "(EC", "(EG", "(EWG", "(EEC")
_CELEX_IN_URL_RE = re.compile(
    r"CELEX(?::|%3A)([0-9CE]\d{4}[A-Z]{1,2}\d{4}(?:R?(?:\(|%28)\d{2}(?:\)|%29))?)", re.IGNORECASE
)
_AUTHORITY = {"EG": "EC", "EWG": "EEC", "EU/Euratom": "EU, Euratom"}


def _act(m: re.Match[str]) -> str:
    auth = _WS_RE.sub(" ", m.group(1)).replace(",Euratom", ", Euratom")
    auth = _AUTHORITY.get(auth, auth)
    a, b = m.group(3), m.group(4)
    if len(a) == 4 and a.startswith(("19", "20")) and not m.group(2):
        return f"({auth}) {a}/{int(b)}"  # since 2015: (EU) 2024/1689
    return f"({auth}) No {int(a)}/{b}"  # before: (EU) No 1303/2013


def extract_references(text: str, url: str | None = None) -> list[str]:
    """References named in a text and a URL, deduplicated, in order of appearance.

    COM(2026) 123, SWD(2026) 45 (also COM/2026/123, KOM), procedures 2025/0123(COD),
    CELEX 32024R1689, press numbers IP/26/1692, call identifiers
    HORIZON-CL5-2027-D3-01-05, acts (EU) 2024/1689 or (EU) No 1303/2013.
    """
    found: list[tuple[int, str]] = []
    if any(h in text for h in _COM_HINTS):
        for m in _COM_RE.finditer(text):
            kind = "COM" if m.group(1) == "KOM" else m.group(1)
            found.append((m.start(), f"{kind}({m.group(2)}) {int(m.group(3))}"))
    if _PROCEDURE_HINT.search(text):
        for m in _PROCEDURE_FIND_RE.finditer(text):
            found.extend((m.start(), p) for p in procedures_in(m.group()))
    if _CELEX_HINT.search(text):
        found.extend((m.start(), m.group()) for m in _CELEX_RE.finditer(text))
    if _PRESS_HINT.search(text):
        for m in _PRESS_FIND_RE.finditer(text):
            found.extend((m.start(), p) for p in press_numbers_in(m.group()))
    if any(h in text for h in _ACT_HINTS):
        found.extend((m.start(), _act(m)) for m in _ACT_RE.finditer(text))
    if _CALL_IDENTIFIER_HINT.search(text):
        found.extend((m.start(), m.group()) for m in _CALL_IDENTIFIER_RE.finditer(text))
    refs = [ref for _, ref in sorted(found, key=lambda pr: pr[0])]
    if url:
        press = press_number_from_url(url)
        if press:
            refs.append(press)
        for m in _CELEX_IN_URL_RE.finditer(url):
            refs.append(m.group(1).upper().replace("%28", "(").replace("%29", ")"))
    return list(dict.fromkeys(refs))


_PROCEDURE_FIND_RE = re.compile(r"(?<![\w/])(?:19|20)\d{2}\s*/\s*\d{1,4}\s*\(\s*[A-Za-z]{3}\s*\)")
_PRESS_FIND_RE = re.compile(
    r"(?<![\w/])(?:IP|STATEMENT|MEX|MEMO|SPEECH|QANDA|FS|AC|INF|DAILY)/\d{2}/\d{1,6}(?![\w/])"
)


# ---------------------------------------------------------------- deadlines

_MONTHS = {
    "januar": 1, "jaenner": 1, "january": 1, "jan": 1,
    "februar": 2, "february": 2, "feb": 2,
    "maerz": 3, "march": 3, "maer": 3, "mrz": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}  # fmt: skip
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Every date has a four-digit year: find those first (cheap), then look just before them.
_YEAR_RE = re.compile(r"(?:20|21)\d\d(?!\d)")
_DATE_BEFORE_YEAR_RE = re.compile(
    # 12-13 May 2027, 15. maerz 2027, 15th of march 2027
    rf"(?<![\w.])(?:(?P<d0>\d{{1,2}})\.?\s*(?:-|–|bis|to|and|und)\s*)?"
    rf"(?P<d1>\d{{1,2}})(?:\.|st|nd|rd|th)?\s*(?:of\s+)?(?P<m1>{_MONTH_ALT})(?![a-z])\.?,?\s+"
    rf"(?P<y1>\d{{4}})\Z"
    # march 15, 2027
    rf"|(?<![a-z])(?P<m2>{_MONTH_ALT})(?![a-z])\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
    rf"(?P<y2>\d{{4}})\Z"
    # 15.03.2027, 15/03/2027 (day first, as in the EU)
    r"|(?<![\d./])(?P<d3>\d{1,2})(?P<sep>[./])(?P<m3>\d{1,2})(?P=sep)(?P<y3>\d{4})\Z"
)
_ISO_DATE_RE = re.compile(r"(?P<y4>\d{4})-(?P<m4>\d{2})-(?P<d4>\d{2})(?!\d)")
_OPENING_RE = re.compile(
    r"\b(?:opens|opening|will open|to open|oeffnet|oeffnung|geoeffnet)\b[^.;]{0,50}$"
)
_STRONG_RE = re.compile(
    r"\b(?:deadlines?|closing date|closes|closing|close|submission|submissions|registration"
    r"|\w*frist(?:ende)?"
    r"|(?:einsende|anmelde|bewerbungs|annahme|einreichungs|antrags|abgabe)schluss"
    r"|stichtag|einreichung|bewerbung|anmeldung)\b[^.;]{0,30}$"
)
_WEAK_RE = re.compile(
    r"\b(?:until|till|by|before|no later than|not later than|up to|open until|bis|bis zum"
    r"|bis spaetestens(?: zum| am)?|spaetestens(?: zum| am| bis)?|vor dem)\s*(?:the\s+|den\s+)?$"
)
_EVENT_RE = re.compile(
    r"\b(?:conferences?|webinars?|info(?:rmation)? ?(?:days?|sessions?)|workshops?|seminars?"
    r"|summit|forum|events?|hearing|meeting|session|week|takes? place|will be held|held"
    r"|\w*(?:konferenz|veranstaltung|tagung|webinar|workshop|seminar|infotag|sitzung|woche)"
    r"|gipfel|findet|treffen)\b[^.;]{0,60}$"
)
_EVENT_GAP_RE = re.compile(r"(?:\bon|\bam|\bat|:|,|\bvom|\bfrom|\bdate[ds]?)\s*(?:the\s+|den\s+)?$")
_CONSULT_CTX_RE = re.compile(
    r"consultation|konsultation|have your say|feedback|comment|stellungnahme|call for evidence"
    r"|rueckmeld"
)
_CALL_CTX_RE = re.compile(
    r"\bcalls?\b|proposals|aufruf|application|bewerbung|antrag|antraege|einreich|submission"
    r"|funding|foerder|submit|einsendeschluss"
)
_REGISTER_CTX_RE = re.compile(r"regist|anmeld")
_SENTENCE_END_RE = re.compile(r"(?<=[a-z)])[.!?]\s")
_LABELS = {
    DeadlineKind.CALL_CLOSING: "Einreichungsfrist",
    DeadlineKind.CALL_OPENING: "Öffnung des Aufrufs",
    DeadlineKind.CONSULTATION_END: "Ende der Konsultation",
    DeadlineKind.EVENT: "Veranstaltung",
    DeadlineKind.DEADLINE: "Frist",
}
MIN_YEAR, MAX_YEAR = 2000, 2100


def _dates(folded: str) -> Iterator[tuple[int, int, dt.date, dt.date]]:
    """(start, end, first day, date) of each plausible date; the first day differs
    from the date for ranges like "12-13 May 2027"."""
    for y in _YEAR_RE.finditer(folded):
        if y.start() and folded[y.start() - 1].isdigit():
            continue
        m = _ISO_DATE_RE.match(folded, y.start()) or _DATE_BEFORE_YEAR_RE.search(
            folded, max(0, y.start() - 40), y.end()
        )
        if m is None:
            continue
        g = m.groupdict().get
        try:
            if g("y4"):
                year, month, day, start = _int(g("y4")), _int(g("m4")), _int(g("d4")), 0
            elif g("y1"):
                year, month, day = _int(g("y1")), _MONTHS[g("m1") or ""], _int(g("d1"))
                start = _int(g("d0"))
            elif g("y2"):
                year, month, day, start = _int(g("y2")), _MONTHS[g("m2") or ""], _int(g("d2")), 0
            else:
                year, month, day, start = _int(g("y3")), _int(g("m3")), _int(g("d3")), 0
            if not MIN_YEAR <= year <= MAX_YEAR:
                continue
            date = dt.date(year, month, day)
            first = dt.date(year, month, start) if 0 < start < day else date
        except ValueError:
            continue
        yield m.start(), m.end(), first, date


def _int(value: str | None) -> int:
    return int(value) if value else 0


def extract_deadlines(folded: str, doc_type: DocType) -> list[Deadline]:
    """Dates next to a deadline, opening or event word, in a folded text (see fold()).

    "deadline: 15 March 2027", "until …", "closes on 15/03/2027", "by …", "Frist: 15. März
    2027", "bis zum 15.03.2027", "Einsendeschluss …" give a deadline whose kind follows
    the words around it (consultation, call) or else the doc type; "opens on …" a call
    opening; "conference on 12 May 2027", "Veranstaltung am 12. Mai 2027" an event.
    Only years 2000-2100 and real calendar dates count.
    """
    found: list[Deadline] = []
    for start, end, first, date in _dates(folded):
        window = folded[max(0, start - 100) : start]
        window = _SENTENCE_END_RE.split(window)[-1]
        kind: DeadlineKind | None = None
        if _OPENING_RE.search(window):
            kind = DeadlineKind.CALL_OPENING
        elif _STRONG_RE.search(window) or _WEAK_RE.search(window):
            kind = _deadline_kind(window + " " + folded[end : end + 60], doc_type)
        elif _EVENT_RE.search(window) and _EVENT_GAP_RE.search(window):
            kind, date = DeadlineKind.EVENT, first
        if kind is not None:
            label = _LABELS[kind]
            if kind is DeadlineKind.DEADLINE and _REGISTER_CTX_RE.search(window):
                label = "Anmeldeschluss"
            found.append(Deadline(date, kind, label))
    return found


def _deadline_kind(context: str, doc_type: DocType) -> DeadlineKind:
    if _CONSULT_CTX_RE.search(context):
        return DeadlineKind.CONSULTATION_END
    if _REGISTER_CTX_RE.search(context) and doc_type is not DocType.FUNDING_CALL:
        return DeadlineKind.DEADLINE
    if _CALL_CTX_RE.search(context) or doc_type is DocType.FUNDING_CALL:
        return DeadlineKind.CALL_CLOSING
    if doc_type is DocType.CONSULTATION:
        return DeadlineKind.CONSULTATION_END
    return DeadlineKind.DEADLINE


# ---------------------------------------------------------------- classifier


def _confidence(title_terms: int, body_terms: int, repeats: int, body_weight: float) -> float:
    points = TITLE_WEIGHT * title_terms + body_weight * body_terms
    points += REPEAT_WEIGHT * min(MAX_REPEATS, repeats)
    return points / (points + 1.0)


class Classifier:
    """Topics, doc type, references, deadlines and relevance of normalized items.

    Topic confidence (per topic, over its German and English keywords):
        points = 1.0 × distinct keywords in the title
               + 0.4 × distinct keywords only in summary, extra text or categories
               + 0.1 × further body occurrences (at most 5)
        text   = points / (points + 1)      one title hit 0.5, one body hit 0.29, two 0.44
    A topic is assigned when its confidence ≥ 0.35, so one body hit alone never tags.
    A default topic of the source starts from a prior of 0.5 and combines with the text
    like independent evidence: 1 − (1 − 0.5)(1 − text). Sorted by confidence, then
    taxonomy order; confidences rounded to 3 places.

    Relevance and its reasons: RelevanceScorer (pipeline/ingest/relevance.py) over the
    item's text, link, source, doc type, topics and deadlines found here.
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._order = {t.id: i for i, t in enumerate(taxonomy.topics)}
        keywords: list[tuple[str, str]] = []
        for topic in taxonomy.topics:
            keywords.extend((kw, topic.id) for kw in (*topic.keywords_de, *topic.keywords_en))
        # Region keywords take their place in the text (a longer phrase wins), so that
        # "Automobilindustrie" is the region's industry, not the topic word "Industrie";
        # relevance.py scores them.
        region = (*taxonomy.region_keywords, *taxonomy.land_keywords, *taxonomy.sector_keywords)
        keywords.extend((kw, REGION) for kw in (*region, *taxonomy.company_keywords))
        for doc_type, cues in _BODY_CUES.items():
            keywords.extend((cue, _DOC_CUE + doc_type.value) for cue in cues)
        self._matcher = _Matcher(keywords)
        from pipeline.ingest.relevance import RelevanceScorer  # it reuses fold() of this module

        self._relevance = RelevanceScorer(taxonomy)

    def classify(self, item: NormalizedItem, source: Source) -> Classification:
        title_nfkc = unicodedata.normalize("NFKC", item.title)
        body = " | ".join(
            part for part in (item.summary_text, item.extra_text, *item.categories) if part
        )
        body_nfkc = unicodedata.normalize("NFKC", body)
        title_f, body_f = fold(title_nfkc), fold(body_nfkc)

        evidence = _Evidence()
        for text_f, text, in_title in ((title_f, title_nfkc, True), (body_f, body_nfkc, False)):
            for hit in self._matcher.hits(text_f, text):
                evidence.add(hit, in_title=in_title)
            identifiers = _call_identifiers(text)
            if identifiers:
                programmes = _programme_text(identifiers)
                for hit in self._matcher.hits(fold(programmes), programmes):
                    evidence.add(hit, in_title=in_title)

        topics = self._topics(source, evidence)
        doc_type = _doc_type(
            item, source, title_f, body_f, f"{item.title}\n{body}", evidence.body.keys()
        )
        text = f"{item.title}\n{body}"
        references = _merge(item.references, extract_references(text, item.url))
        deadlines = _merge_deadlines(
            item.deadlines, extract_deadlines(f"{title_f} . {body_f}", doc_type)
        )
        relevance = self._relevance.score(
            RelevanceFacts(
                title=item.title,
                text=body,
                url=item.url,
                language=item.language,
                published=item.published.date(),
                doc_type=doc_type.value,
                topics=tuple((t.topic_id, t.confidence) for t in topics),
                deadlines=deadlines,
                source_id=source.id,
                institution=source.institution,
                source_url=source.url,
            ),
            folded=(title_f, body_f),
        )
        return Classification(
            topics=topics,
            doc_type=doc_type,
            references=references,
            deadlines=deadlines,
            relevance=relevance.score,
            relevance_reasons=relevance.reasons,
        )

    def _topics(self, source: Source, evidence: _Evidence) -> tuple[TopicAssignment, ...]:
        scores: dict[str, float] = {}
        for topic_id in evidence.targets() | set(source.topics):
            if topic_id not in self._order:
                continue
            conf = evidence.confidence(topic_id, BODY_WEIGHT)
            if topic_id in source.topics:
                conf = 1.0 - (1.0 - SOURCE_TOPIC_PRIOR) * (1.0 - conf)
            if conf >= TOPIC_THRESHOLD:
                scores[topic_id] = round(conf, 3)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self._order[kv[0]]))
        return tuple(TopicAssignment(t, c, TopicOrigin.AUTO) for t, c in ranked)


class _Evidence:
    """Keyword hits per target (topic id or doc-type cue), split into title and body."""

    def __init__(self) -> None:
        self.title: dict[str, set[str]] = {}
        self.body: dict[str, set[str]] = {}
        self.body_hits: Counter[str] = Counter()

    def add(self, hit: _Hit, *, in_title: bool) -> None:
        terms = self.title if in_title else self.body
        for target in hit.targets:
            terms.setdefault(target, set()).add(hit.term)
            if not in_title:
                self.body_hits[target] += 1

    def targets(self) -> set[str]:
        return set(self.title) | set(self.body)

    def confidence(self, target: str, body_weight: float) -> float:
        in_title = self.title.get(target, set())
        in_body = self.body.get(target, set())
        repeats = self.body_hits[target] - len(in_body)
        return _confidence(len(in_title), len(in_body - in_title), repeats, body_weight)


def _merge(first: Iterable[str], second: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for ref in (*first, *second):
        ref = ref.strip()
        if ref:
            seen.setdefault(ref, None)
    return tuple(seen)


def _merge_deadlines(first: Iterable[Deadline], second: Iterable[Deadline]) -> tuple[Deadline, ...]:
    seen: dict[tuple[dt.date, DeadlineKind], Deadline] = {}
    for d in (*first, *second):
        seen.setdefault((d.date, d.kind), d)
    return tuple(seen.values())
