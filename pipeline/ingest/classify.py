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
    site:ecb.europa.eu  the item's link is on that host (or a subdomain; "site:host/path"
                      for a part): the topic as if the source named it as a default
Umlauts and ß match their spellings ae/oe/ue/ss (and accents are ignored), so
"Förder*" finds "Foerderung"; a space or hyphen in a keyword matches either. Where
keywords overlap, the longest phrase wins the place ("soil health" leaves no "health"),
and a phrase also credits the shorter keywords it starts with ("car industry": "car").
A call identifier (HORIZON-CL5-2027-…) counts as its programme's name plus "call for
proposals", so taxonomy keywords decide its topics.
Topics of a newsroom's lists (item types, newsletters) and of non-EU items without public
policy are none; a digest (daily news) is read by its lead story.

Doc type, in this order (see _doc_type): the adapter's hint; what the link names (press
corner id prefixes, ECB paths, EUR-Lex CELEX); a specific kind in the source's own type
field; a non-EU link → OTHER; rules on the title; news by link or type field (press
release, upgraded by a body cue of a call or consultation); the source's
`options.doc_type`; cues in the body (see _BODY_CUES, read in the same scan as the
keywords); else OTHER.

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

from pipeline.ingest.eligibility import from_text
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
    equivalents,
    normalize_reference,
    procedure_reference,
)
from pipeline.model.eligibility import Eligibility

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
LONG_BODY_CHARS = 2000  # body keywords of longer texts weigh sqrt(2000 / length) as much

# ---------------------------------------------------------------- folding

_UMLAUTS = {
    "ä": "ae",
    "ö": "oe",
    "ü": "ue",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "“": '"',
    "”": '"',
    "„": '"',
}
_WS_RE = re.compile(r"\s+")


class _Folded(dict[int, str]):
    """str.translate's table for fold(), filled per character on first sight: the
    umlauts and quotes above, otherwise the character's NFKD decomposition without its
    combining marks (accents). Decomposition works per character and dropping every
    combining mark makes their canonical order irrelevant, so one pass over the text
    gives what decomposing the whole text and filtering it character by character gave."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        ch = _UMLAUTS.get(ch, ch)
        out = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        self[code] = out
        return out


_FOLDED = _Folded()


def fold(text: str) -> str:
    """Lowercase, umlauts as ae/oe/ue, ß as ss, accents dropped, curly quotes straight,
    whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return " ".join(text.split())
    return " ".join(text.translate(_FOLDED).split())


def _key(folded: str) -> str:
    return folded.replace("-", " ")


# ---------------------------------------------------------------- keyword matcher


@dataclass(frozen=True, slots=True)
class _Hit:
    term: str  # the text matched (folded, or as written for acronyms)
    targets: frozenset[str]


def _prefix_tree(exact: Collection[str], stems: Collection[str]) -> str | None:
    """The words as one regex shaped like their prefix tree: at each node its children in
    character order, then `(?!\\w)` if a word ends there (exact) and `\\w*` if a stem does.
    None without words.

    Built from the sorted words, not from a tree of node objects: the ten thousand nodes of
    the taxonomy's keywords were 3.7 MB held at once (beside re.compile's own peak), for a
    pattern of 21 KB. Under a node, the words share its prefix, the one that ends there
    sorts first, and each child's words follow one another in character order.
    """
    ends: dict[str, int] = {}  # word → 1 exact, 2 stem, 3 both
    for word in exact:
        ends[word] = ends.get(word, 0) | 1
    for word in stems:
        ends[word] = ends.get(word, 0) | 2
    words = sorted(ends)
    if not any(words):
        return None

    def node(lo: int, hi: int, depth: int) -> str:
        alts = []
        end = 0
        if len(words[lo]) == depth:
            end, lo = ends[words[lo]], lo + 1
        while lo < hi:
            ch = words[lo][depth]
            stop = lo + 1
            while stop < hi and words[stop][depth] == ch:
                stop += 1
            alts.append(_char(ch) + node(lo, stop, depth + 1))
            lo = stop
        if end & 1:
            alts.append(r"(?!\w)")
        if end & 2:
            alts.append(r"\w*")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    return node(0, len(words), 0)


def _char(ch: str) -> str:
    return "[ -]" if ch == " " else re.escape(ch)


_ACRONYM_RE = re.compile(r"[A-Z0-9][A-Z0-9+&./-]{0,5}")
SITE_PREFIX = "site:"  # a keyword "site:ecb.europa.eu" matches the item's link, not its text
_URL_PARTS_RE = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^/@?#]*@)?([^/:?#]+)(?::\d+)?([^?#]*)", re.I)


class _Matcher:
    """Every keyword of the taxonomy in three prefix-tree regexes."""

    def __init__(self, keywords: Iterable[tuple[str, str]]) -> None:
        exact: dict[str, set[str]] = {}
        stems: dict[str, set[str]] = {}
        suffixes: dict[str, set[str]] = {}
        infixes: dict[str, set[str]] = {}
        acronyms: dict[str, set[str]] = {}
        self.sites: list[tuple[str, str, str]] = []  # (host, path prefix, target)
        for raw, target in keywords:
            kw = raw.strip()
            if kw.lower().startswith(SITE_PREFIX):
                host, _, path = kw[len(SITE_PREFIX) :].strip().lower().partition("/")
                if host:
                    self.sites.append((host, "/" + path if path else "", target))
                continue
            lead, trail = kw.startswith("*"), kw.endswith("*")
            word = kw.strip("*").strip()
            if not word:
                continue
            if not lead and not trail and _ACRONYM_RE.fullmatch(word) and _has_upper(word):
                acronyms.setdefault(word, set()).add(target)
                continue
            folded = _key(fold(word))
            if lead:
                (infixes if trail else suffixes).setdefault(folded, set()).add(target)
            else:
                (stems if trail else exact).setdefault(folded, set()).add(target)
        self._exact = {k: frozenset(v) for k, v in exact.items()}
        self._stems = {k: frozenset(v) for k, v in stems.items()}
        self._suffixes = {k: frozenset(v) for k, v in suffixes.items()}
        self._infixes = {k: frozenset(v) for k, v in infixes.items()}
        self._acronyms = {k: frozenset(v) for k, v in acronyms.items()}
        self._stem_lengths = sorted({len(k) for k in stems}, reverse=True)
        self._infix_lengths = sorted({len(k) for k in infixes}, reverse=True)
        self._anchored = _compile(r"(?<!\w)", _prefix_tree(exact, stems))
        self._unanchored = _compile("", _prefix_tree(suffixes, infixes))
        self._acro = _compile("", _prefix_tree(acronyms, ()))

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

    def site_targets(self, url: str | None) -> set[str]:
        """Targets of the `site:` keywords whose site the link is on (host and its subdomains,
        and the path prefix if the keyword names one)."""
        if not self.sites or not url:
            return set()
        m = _URL_PARTS_RE.match(url)
        if m is None:
            return set()
        host, path = m.group(1).lower().rstrip("."), (m.group(2) or "/").lower()
        return {
            target
            for site, prefix, target in self.sites
            if (host == site or host.endswith("." + site)) and path.startswith(prefix)
        }

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


def _compile(prefix: str, pattern: str | None) -> re.Pattern[str] | None:
    return None if pattern is None else re.compile(prefix + pattern)


# ---------------------------------------------------------------- doc types

# The press corner's own id prefixes: "speech_26_1677" is a speech, "mex_" the daily news.
_PRESSCORNER_RE = re.compile(
    r"/presscorner/(?:detail|api/documents)/[a-z]{2}/([a-z]+)_\d\d_\d"
    r"|/rapid/press-release_([a-z]+)-\d\d-\d",
    re.IGNORECASE,
)
_PRESSCORNER_TYPES: dict[str, DocType] = {
    "speech": DocType.SPEECH,
    "statement": DocType.STATEMENT,
    "read": DocType.STATEMENT,  # a read-out of a call or meeting
    "mex": DocType.OTHER,  # daily news
    "daily": DocType.OTHER,
    "qanda": DocType.OTHER,
    "fs": DocType.OTHER,  # factsheet
    "memo": DocType.OTHER,  # background notes, Q&A before 2019
    "ac": DocType.OTHER,  # announcements, agenda notes
}
# Press releases and news by id or path: what the title does not say otherwise.
_PRESSCORNER_NEWS = frozenset({"ip", "inf", "news"})
# The ECB names the kind in its paths (the feed has titles and links only).
_URL_TYPES: tuple[tuple[re.Pattern[str], DocType], ...] = (
    (re.compile(r"ecb\.europa\.eu/+press/(?:key|inter)/"), DocType.SPEECH),
    (re.compile(r"ecb\.europa\.eu/+press/(?:press_conference|pressconf)/"), DocType.STATEMENT),
    (re.compile(r"/monetary-policy-statement/"), DocType.STATEMENT),
)
_URL_NEWS: tuple[tuple[re.Pattern[str], DocType], ...] = (
    (re.compile(r"ecb\.europa\.eu/+press/(?:pr|govcdec)/"), DocType.PRESS_RELEASE),
    (re.compile(r"ecb\.europa\.eu/+(?:pub|stats)/"), DocType.REPORT),
    (re.compile(r"/press-releases?/|/pressemitteilungen/|/press-room/"), DocType.PRESS_RELEASE),
)
# EU institutions and bodies publish under europa.eu and a few domains of their own; an
# item linking elsewhere is third-party journalism, a government or a blog: OTHER.
_EU_HOST_RE = re.compile(
    r"(?:^|\.)(?:europa\.eu|eib\.org|eif\.org|sanctionsmap\.eu|interregeurope\.eu|interreg\.eu)$"
)
_HOST_RE = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^/@?#]*@)?([^/:?#]+)", re.IGNORECASE)
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
_PROPOSAL_TITLE_ONLY = re.compile(
    r"\b(?:com|kom) ?\(\d{4}\) ?\d+|\bcom/\d{4}/\d+"
    # a press release presenting a proposal: "Commission proposes new rules on …"
    r"|\bcommission propos(?:es|ed)\b[^.]{0,60}\b(?:regulation|directive|rules|law|legislation)\b"
    r"|\bkommission schlaegt\b[^.]{0,80}\b(?:verordnung|richtlinie|regeln|vorschriften)\b"
)
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
    r"|\b(?:adopt\w*|prolong\w*|renew\w*|extends?)\b[^.]{0,60}"
    r"\b(?:sanctions|restrictive measures)\b"
    r"|\b(?:package of sanctions|sanctions package)\b[^.]{0,40}\badopted\b"
    r"|\b(?:sanktionspaket|sanktionen)\b[^.]{0,60}\b(?:verabschiedet|beschlossen|verlaengert)"
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
    r"|\bproposers'? days?\b|\bopen days\b|\bsave the date\b|\bcall for papers\b"
    r"|konferenz|veranstaltung|tagung\b|infotag"
)
_PRESS = re.compile(
    r"press releases?\b|presse(?:mitteilung|meldung|erklaerung)|communique de presse"
)
_SPEECH = re.compile(
    r"\b(?:speech|remarks|keynote(?: speech| address)?|address|lecture) (?:by|of|from|at|to"
    r"|delivered|given)\b"
    r"|^(?:opening|closing|keynote|welcome|welcoming|introductory|inaugural|video) "
    r"(?:speech|remarks|address)\b"
    r"|\binterview (?:with|given|for|to|in)\b|^interview\b"
    r"|\b(?:rede|ansprache) (?:von|des|der|bei|beim|zum|zur|an|auf|vor)\b|^rede\b"
    r"|\b(?:eroeffnungs|begruessungs|fest|grund|schluss)rede\b|\bgrusswort|\binterview (?:mit|im)\b"
)
_STATEMENT = re.compile(
    r"\bstatement (?:by|from|on|following|after|at)\b|\bstatement of (?!objections)"
    r"|^(?:joint |press )?statement\b"
    r"|\bjoint statement\b|\bmonetary policy statement\b|\bintroductory statement\b"
    r"|\bdeclaration (?:by|of) the high representative\b|\bread-?out\b"
    r"|\b(?:gemeinsame )?erklaerung (?:von|des|der|zu|zum|zur|ueber)\b"
    r"|^(?:gemeinsame )?erklaerung\b"
)
# Not news of its own: digests, Q&A, factsheets, newsletters.
_NOT_NEWS = re.compile(
    r"^daily news\b|\bquestions (?:and|&) answers\b|\bq ?& ?a\b|\bfact ?sheet\b"
    r"|\be-?mail alert\b|\bweekly (?:alert|digest|update)\b|\bpress review\b"
    r"|\bnewsletter$|\bmidday (?:briefing|express)\b|\bfragen und antworten\b"
)
# News about a survey or report (launching one, a vote on a Parliament report), not one.
_SURVEY_LAUNCH = re.compile(
    r"\b(?:launch\w*|open\w*|take part|takes part|participate\w*|respond|fill in|invit\w*"
    r"|startet|beteiligen|teilnehmen|adopt\w*|vote\w*|endorse\w*|back\w*|billig\w*"
    r"|stimm\w*)\b[^.]{0,40}\b(?:survey|umfrage|report|bericht)"
)
_REPORT = re.compile(
    r"\b(?:study|studies) (?:on|of|about|into|for|to)\b|^(?:[\w-]+ ){0,2}study\b"
    r"|\b(?:final|annual|interim|progress|activity|evaluation|summary|workshop|event|monitoring"
    r"|implementation|country|synthesis|demography|competitiveness) report\b"
    r"|^report\b|\breport (?:on|from|of)\b"
    r"|\bsurvey (?:results|on|of|among|shows|finds)\b|\bresults of (?:the )?[^.]{0,60}survey\b"
    r"|\bsurvey$|\bsurvey:|\beurobarometer\b|\bstatistic(?:s|al)\b|\beurostat\b"
    r"|\b(?:economic|economy|interim|spring|summer|autumn|winter) forecast\b|\bscoreboard\b"
    r"|\b(?:inflation\w*|unemployment|gdp|bip|wages?|tracker|production|retail|deficit|surplus"
    r"|arbeitslos\w*|loehne|lohn\w*)\b[^.%]{0,40}\b(?:at|to|by|auf|um) -?\d+(?:[.,]\d+)? ?"
    r"(?:%|per ?cent|prozent)"
    r"|\bstudie\b|\b(?:jahres|fortschritts|abschluss|zwischen|evaluierungs|monitoring)bericht"
    r"|^bericht\b|\bbericht (?:ueber|zur|zum|zu|der|des)\b|\bumfrage\b|\bstatistik"
    r"|\berhebung\b|\b(?:konjunktur|wirtschafts|fruehjahrs|herbst)prognose"
)
_TITLE_RULES: tuple[tuple[DocType, re.Pattern[str]], ...] = (
    (DocType.SPEECH, _SPEECH),
    (DocType.STATEMENT, _STATEMENT),
    (DocType.OTHER, _NOT_NEWS),
    (DocType.LEGISLATIVE_PROPOSAL, _PROPOSAL),
    (DocType.LEGISLATIVE_PROPOSAL, _PROPOSAL_TITLE_ONLY),
    (DocType.FUNDING_CALL, _CALL),
    (DocType.CONSULTATION, _CONSULTATION),
    (DocType.REPORT, _REPORT),
    (DocType.EVENT, _EVENT),
    (DocType.ADOPTED_ACT, _ADOPTED),
    (DocType.PRESS_RELEASE, _PRESS),
)
# What a source's own name for the kind of entry (RawItem.source_type, e.g. a newsroom's
# "publications - Reports and studies") means, first match wins. Kinds in _SOURCE_KINDS
# decide before the title; the news kinds after it (the title may show the substance).
_SOURCE_KINDS: tuple[tuple[re.Pattern[str], DocType], ...] = (
    (re.compile(r"^(?:item type|subscription service)|newsletter|newsroom service"), DocType.OTHER),
    (re.compile(r"speech|interview"), DocType.SPEECH),
    (re.compile(r"statement"), DocType.STATEMENT),
    (re.compile(r"report|stud(?:y|ies)|statistic|survey"), DocType.REPORT),
    (re.compile(r"call for (?:tenders|proposals)|funding opportunit|grant"), DocType.FUNDING_CALL),
    (re.compile(r"consultation"), DocType.CONSULTATION),
    (re.compile(r"^events?$|event announcement"), DocType.EVENT),
)
_SOURCE_NEWS_KINDS: tuple[tuple[re.Pattern[str], DocType], ...] = (
    (re.compile(r"press release"), DocType.PRESS_RELEASE),
    (re.compile(r"audiovisual|video|in the press|press review|project|call documents|guide"),
     DocType.OTHER),
)  # fmt: skip
NOT_NEWS_SOURCE_TYPES = ("item type", "subscription service")
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
    """The kind of document, first rule that decides wins:

    1. the adapter's hint (Funding & Tenders topics, consultations, sanctions regimes);
    2. what the link names: press corner ids (speech_, statement_, read_ → speech or
       statement; mex_, daily_, qanda_, fs_, memo_, ac_ → other), ECB paths (/press/key/,
       /press/inter/ → speech; press conferences, monetary-policy-statement → statement),
       EUR-Lex CELEX numbers (proposal or adopted act);
    3. the source's own kind of entry (a newsroom's type field) when it is specific:
       not news (item-type lists, subscription services), speech, statement, report,
       call, consultation, event;
    4. a link outside the EU's domains (journalism, governments, blogs): other;
    5. rules on the title, in the order speech, statement, not news (daily news, Q&A,
       factsheets, alerts, newsletters), proposal, call, consultation, report (studies,
       statistics, survey results), event, adopted act, press release; then a call id;
    6. news by link or field (ip_, ECB /press/pr/, a "Press Release" type field): press
       release, unless a body cue shows a call or consultation it announces;
    7. the source's `options.doc_type` (sources.yaml);
    8. cues in the body (_BODY_CUES; stricter than the title rules), else OTHER.
    """
    if item.doc_type is not None:
        return item.doc_type
    url = item.url or ""
    news: DocType | None = None
    press = _PRESSCORNER_RE.search(url)
    if press:
        prefix = (press.group(1) or press.group(2) or "").lower()
        if prefix in _PRESSCORNER_TYPES:
            return _PRESSCORNER_TYPES[prefix]
        if prefix in _PRESSCORNER_NEWS:
            news = DocType.PRESS_RELEASE
    for pattern, doc_type in _URL_TYPES:
        if pattern.search(url):
            return doc_type
    celex = _EURLEX_CELEX_URL_RE.search(url)
    if celex:
        sector, kind = celex.group(1), celex.group(2).upper()
        if sector == "5" and kind == "PC":
            return DocType.LEGISLATIVE_PROPOSAL
        if sector == "3":
            return DocType.ADOPTED_ACT
    kind_f = fold(item.source_type) if item.source_type else ""
    if kind_f:
        for pattern, doc_type in _SOURCE_KINDS:
            if pattern.search(kind_f):
                return doc_type
    if not is_eu_link(url):
        return DocType.OTHER
    for doc_type, pattern in _TITLE_RULES:
        if pattern.search(title_f):
            if doc_type is DocType.REPORT and _SURVEY_LAUNCH.search(title_f):
                continue
            return doc_type
    if _has_call_identifier(item.title):
        return DocType.FUNDING_CALL
    if news is None:
        news = next((d for p, d in _URL_NEWS if p.search(url)), None)
    if news is None and kind_f:
        news = next((d for p, d in _SOURCE_NEWS_KINDS if p.search(kind_f)), None)
    if news is not None:
        if news is DocType.PRESS_RELEASE:
            for doc_type in (DocType.FUNDING_CALL, DocType.CONSULTATION):
                if _DOC_CUE + doc_type.value in body_targets:
                    return doc_type
        return news
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


_DIGEST_TITLE_RE = re.compile(r"^daily news\b|\bmidday (?:briefing|express)\b|\btagesueberblick\b")
_DIGEST_URL_RE = re.compile(r"/presscorner/detail/[a-z]{2}/(?:mex|daily)_", re.IGNORECASE)
# The dateline a digest's text opens with: "European Commission Daily news Brussels, 27 Jul 2026"
_DATELINE_RE = re.compile(
    r"^.{0,60}?\b(?:daily news|news|tagesnachrichten)\b\s*[\w .-]{0,40}?,"
    r"\s*\d{1,2}\.? \w+\.? \d{4}\s*",
    re.IGNORECASE,
)
LEAD_CHARS = 160


def _digest_lead(title_f: str, url: str | None, summary: str) -> str:
    """The headline of a digest's lead story (daily news), read like a title; else ""."""
    if not summary or not (_DIGEST_TITLE_RE.search(title_f) or _DIGEST_URL_RE.search(url or "")):
        return ""
    text = _DATELINE_RE.sub("", summary, count=1)
    return text[:LEAD_CHARS]


def is_eu_link(url: str | None) -> bool:
    """True for a link on an EU institution's or body's site, or no (usable) link at all."""
    if not url:
        return True
    m = _HOST_RE.match(url)
    if m is None:
        return True
    return bool(_EU_HOST_RE.search(m.group(1).lower().rstrip(".")))


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

    COM(2026) 123, SWD(2026) 45 (also COM/2026/123, KOM), procedures 2025/0123(COD)
    (also EUR-Lex's 2025/0123/COD),
    CELEX 32024R1689 (a Commission document's also as its COM number), Council documents
    ST 12345/25, European Parliament reports A10-0123/2025 (also from a doceo address),
    press numbers IP/26/1692, call identifiers
    HORIZON-CL5-2027-D3-01-05, acts (EU) 2024/1689 or (EU) No 1303/2013, calls for
    tenders SMART 2014/1074 or CNECT/2024/OP/0012.
    """
    found: list[tuple[int, str]] = []
    if any(h in text for h in _COM_HINTS):
        for m in _COM_RE.finditer(text):
            kind = "COM" if m.group(1) == "KOM" else m.group(1)
            found.append((m.start(), f"{kind}({m.group(2)}) {int(m.group(3))}"))
    if _PROCEDURE_HINT.search(text):
        for m in _PROCEDURE_FIND_RE.finditer(text):
            found.extend((m.start(), p) for p in procedures_in(m.group()))
    if _EURLEX_PROCEDURE_HINT.search(text):  # EUR-Lex writes 2024/0258/COD
        for m in _EURLEX_PROCEDURE_RE.finditer(text):
            procedure = procedure_reference(m.group())
            if procedure is not None:
                found.append((m.start(), procedure))
    if _CELEX_HINT.search(text):
        found.extend((m.start(), m.group()) for m in _CELEX_RE.finditer(text))
    if _PRESS_HINT.search(text):
        for m in _PRESS_FIND_RE.finditer(text):
            found.extend((m.start(), p) for p in press_numbers_in(m.group()))
    if any(h in text for h in _ACT_HINTS):
        found.extend((m.start(), _act(m)) for m in _ACT_RE.finditer(text))
    if _COUNCIL_HINT.search(text):
        for m in _COUNCIL_FIND_RE.finditer(text):
            council = normalize_reference(m.group())
            if council is not None:
                found.append((m.start(), council))
    if _EP_REPORT_HINT.search(text):
        for m in _EP_REPORT_FIND_RE.finditer(text):
            report = normalize_reference(m.group())
            if report is not None:
                found.append((m.start(), report))
    if _CALL_IDENTIFIER_HINT.search(text):
        found.extend((m.start(), m.group()) for m in _CALL_IDENTIFIER_RE.finditer(text))
    if any(h in text for h in _TENDER_HINTS):
        found.extend((m.start(), " ".join(m.group().split())) for m in _TENDER_RE.finditer(text))
    refs = [ref for _, ref in sorted(found, key=lambda pr: pr[0])]
    if url:
        press = press_number_from_url(url)
        if press:
            refs.append(press)
        for m in _CELEX_IN_URL_RE.finditer(url):
            refs.append(m.group(1).upper().replace("%28", "(").replace("%29", ")"))
        doceo = _EP_REPORT_IN_URL_RE.search(url)
        if doceo is not None:
            refs.append(normalize_reference(doceo.group(1)) or doceo.group(1))
    # A Commission document's CELEX number (52026PC0123) names its COM number too, the
    # spelling press items use: both become references of the item.
    refs = [alias for ref in refs for alias in _with_com(ref)]
    return list(dict.fromkeys(refs))


def _with_com(ref: str) -> tuple[str, ...]:
    if _CELEX_COM_RE.match(ref) is None:
        return (ref,)
    return equivalents(ref)


_EURLEX_PROCEDURE_HINT = re.compile(r"/(?:COD|CNS|APP|NLE|BUD|DEC|INI|INL|RSP|RPS|DEA|SYN|AVC)\b")
_EURLEX_PROCEDURE_RE = re.compile(r"(?<![\w/])(?:19|20)\d{2}/\d{1,4}/[A-Z]{3}(?![\w/(])")
_CELEX_COM_RE = re.compile(r"^5(?:19|20)\d{2}(?:PC|DC|SC|JC)\d{4}$")
# Council documents: "ST 12345/25", "ST 12345 2025 INIT", "ST-12345-2025-REV 1" (only with
# the ST prefix: a bare "12345/25" could be anything).
_COUNCIL_HINT = re.compile(r"ST[\s-]?\d{3}")  # no \b: a literal start is found fast
_COUNCIL_FIND_RE = re.compile(
    r"(?<![\w/-])ST[\s-]?\d{3,5}[\s/-](?:19|20)?\d{2}(?!\d)"
    r"(?:[\s-]+(?:INIT|REV[\s-]?\d+|ADD[\s-]?\d+|COR[\s-]?\d+)(?![\w]))*"
)
# European Parliament reports: "A10-0123/2025", "A-10-2025-0123" (also in doceo addresses).
_EP_REPORT_HINT = re.compile(r"A-?\d{1,2}-\d")
_EP_REPORT_FIND_RE = re.compile(
    r"(?<![\w/-])A-?\d{1,2}-(?:\d{1,4}/(?:19|20)?\d{2}|(?:19|20)\d{2}-\d{4})(?![\w/-])"
)
_EP_REPORT_IN_URL_RE = re.compile(r"/doceo/document/(A-\d{1,2}-(?:19|20)\d{2}-\d{4})_")


# Calls for tenders: DG CNECT's "SMART 2014/1074", the Commission's "ENER/2024/OP/0012".
_TENDER_RE = re.compile(
    r"(?<![\w/])(?:SMART\s(?:19|20)\d{2}/\d{3,5}"
    r"|[A-Z]{2,10}(?:/[A-Z0-9]{2,10})?/(?:19|20)\d{2}/(?:OP|RP|NP|PN|CN|NEG|AO)/\d{1,5})(?![\w/])"
)
_TENDER_HINTS = ("SMART ", "/OP/", "/RP/", "/NP/", "/PN/", "/CN/", "/NEG/", "/AO/")
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
    r"\b(opens|opening|will open|to open|oeffnet|oeffnung|geoeffnet)\b[^.;]{0,50}$"
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
_ACTION_RE = re.compile(
    r"appl(?:y|ication)|submi|regist|comment|feedback|consultation|proposals|tender|\bcall"
    r"|signal|express|nominat|bewerb|einreich|eingereicht|anmeld|antra|antrae|konsultation"
    r"|stellungnahme|rueckmeld|teilnahme|interessenbekundung"
)
_SENTENCE_END_RE = re.compile(r"(?<=[a-z)])[.!?]\s")
_LABELS = {
    DeadlineKind.CALL_CLOSING: "Einreichungsfrist",
    DeadlineKind.CALL_OPENING: "Öffnung des Aufrufs",
    DeadlineKind.CONSULTATION_END: "Ende der Konsultation",
    DeadlineKind.EVENT: "Veranstaltung",
    DeadlineKind.DEADLINE: "Frist",
    DeadlineKind.EXPIRY: "Ablauf",
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


# Month names written out (no abbreviations: "mar", "jun" are words too) for dates
# without a year; "mai", "juni", "juli" are short but never anything else in a date.
_FULL_MONTHS = "|".join(
    sorted(
        (m for m in _MONTHS if len(m) > 4 or m in ("mai", "may", "juni", "june", "juli", "july")),
        key=len,
        reverse=True,
    )
)
# A date without a year ("8 July", "15. März", "July 8", "15.03."), not followed by one:
# found from its day number (digits are rare in text, month names are not).
_DAY_RE = re.compile(r"(?<![\d.,/:])\d{1,2}(?![\d,:])")
_MONTH_AFTER_RE = re.compile(
    rf"(?:\.|st|nd|rd|th)?\s*(?:of\s+)?({_FULL_MONTHS})(?![a-z])(?!\.?,?\s*\d{{4}})"
)
_MONTH_BEFORE_RE = re.compile(rf"(?<![a-z])({_FULL_MONTHS})\s+$")
_AFTER_US_DAY_RE = re.compile(r"(?:st|nd|rd|th)?(?!\d|\.\d|:)(?!,?\s*\d{4})")
_NUMERIC_MONTH_RE = re.compile(r"\.(\d{1,2})\.(?![\d])")
# The year of a range's end names the year of its start: "8 July to 22 September 2026".
_RANGE_END_RE = re.compile(
    rf"\s*(?:-|–|to|until|till|and|bis(?: zum)?|und)\s*(?:the\s+)?(?:\d{{1,2}}\.?\s*(?:of\s+)?"
    rf"(?:{_MONTH_ALT})\.?|(?:{_MONTH_ALT})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}\.\d{{1,2}}\.)"
    r",?\s+(?P<year>\d{4})"
)
# The end of a range: "open from 8 July to …", "vom 1. bis …", "between 3 and …".
_RANGE_TAIL_RE = re.compile(
    r"\b(?:from|vom|von|between|zwischen)\s+(?:the\s+|dem\s+)?[\w. ,]{1,30}?"
    r"\s*(?:-|–|to|until|till|and|bis(?: zum)?|und)\s*(?:the\s+|zum\s+)?$"
)
# What an open period is for: submitting, applying, commenting, registering.
_OPEN_PERIOD_RE = re.compile(
    r"\b(?:open|opened|runs|running|accept\w*|submi\w*|appl\w*|regist\w*|feedback|comment\w*"
    r"|consultation|call|offen|geoeffnet|laeuft|einreich\w*|bewerb\w*|anmeld\w*|konsultation"
    r"|stellungnahme\w*|antra\w*)\b"
)


def _yearless_dates(folded: str, published: dt.date) -> Iterator[tuple[int, int, dt.date, dt.date]]:
    """Dates without a year: the year of the range end that follows, else the first on or
    after the publication date (a deadline is never in the past of its item)."""
    for d in _DAY_RE.finditer(folded):
        day, start, stop = int(d.group()), d.start(), d.end()
        month = 0
        after = _MONTH_AFTER_RE.match(folded, stop)
        if after is not None:
            month, stop = _MONTHS[after.group(1)], after.end()
        else:
            before = _MONTH_BEFORE_RE.search(folded, max(0, start - 12), start)
            if before is not None and _AFTER_US_DAY_RE.match(folded, stop):
                month, start = _MONTHS[before.group(1)], before.start()
            else:
                numeric = _NUMERIC_MONTH_RE.match(folded, stop)
                if numeric is not None:
                    month, stop = int(numeric.group(1)), numeric.end()
        if not month:
            continue
        try:
            end = _RANGE_END_RE.match(folded, stop)
            if end is not None and MIN_YEAR <= int(end.group("year")) <= MAX_YEAR:
                date = dt.date(int(end.group("year")), month, day)
            else:
                date = dt.date(published.year, month, day)
                if date < published:
                    date = dt.date(published.year + 1, month, day)
        except ValueError:
            continue
        yield start, stop, date, date


def extract_deadlines(
    folded: str, doc_type: DocType, published: dt.date | None = None
) -> list[Deadline]:
    """Dates next to a deadline, opening or event word, in a folded text (see fold()).

    "deadline: 15 March 2027", "until …", "closes on 15/03/2027", "by …", "Frist: 15. März
    2027", "bis zum 15.03.2027", "Einsendeschluss …" give a deadline whose kind follows
    the words around it (consultation, call) or else the doc type; "opens on …" a call
    opening; "conference on 12 May 2027", "Veranstaltung am 12. Mai 2027" an event. The
    end of an open period ("open from 8 July to 22 September 2026", "vom 1. bis 15. März")
    is a deadline, the end of an event's dates is not. With the publication date, dates
    without a year count too ("bis zum 15. März", "until 22 September"): the year of the
    range they start, else the first such day on or after publication.
    Only years 2000-2100 and real calendar dates count.
    """
    found: list[Deadline] = []
    dates = [(*d, False) for d in _dates(folded)]
    if published is not None:
        dates = sorted([*dates, *((*d, True) for d in _yearless_dates(folded, published))])
    for start, end, first, date, yearless in dates:
        window = folded[max(0, start - 100) : start]
        window = _SENTENCE_END_RE.split(window)[-1]
        kind: DeadlineKind | None = None
        opening = _OPENING_RE.search(window)
        after = window[opening.end(1) :] if opening else ""  # "opens on 8 July and closes on"
        if opening and not (_STRONG_RE.search(after) or _WEAK_RE.search(after)):
            kind = DeadlineKind.CALL_OPENING
        elif _STRONG_RE.search(window) or _WEAK_RE.search(window):
            context = window + " " + folded[end : end + 60]
            # "by 15 March" without a year is a deadline only where someone acts by it
            if yearless and not _STRONG_RE.search(window) and not _ACTION_RE.search(context):
                continue
            kind = _deadline_kind(context, doc_type)
        elif _RANGE_TAIL_RE.search(window):
            before = window[: _RANGE_TAIL_RE.search(window).start()]  # type: ignore[union-attr]
            if _EVENT_RE.search(before):
                kind = DeadlineKind.EVENT
            elif _OPEN_PERIOD_RE.search(before):
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
    In a body longer than 2,000 characters the body weight is 0.4 × sqrt(2000 / length).
    A default topic of the source (or of a `site:` keyword) starts from a prior of 0.5
    and combines with the text like independent evidence: 1 − (1 − 0.5)(1 − text).
    Sorted by confidence, then taxonomy order; confidences rounded to 3 places.

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
        texts = [(title_f, title_nfkc, True), (body_f, body_nfkc, False)]
        lead = _digest_lead(title_f, item.url, item.summary_text)
        if lead:  # a digest is about its lead story (docs/labelling.md)
            texts.insert(1, (fold(lead), unicodedata.normalize("NFKC", lead), True))
        for text_f, text, in_title in texts:
            for hit in self._matcher.hits(text_f, text):
                evidence.add(hit, in_title=in_title)
            identifiers = _call_identifiers(text)
            if identifiers:
                programmes = _programme_text(identifiers)
                for hit in self._matcher.hits(fold(programmes), programmes):
                    evidence.add(hit, in_title=in_title)

        topics = self._topics(item, source, evidence, title_f, body_f)
        doc_type = _doc_type(
            item, source, title_f, body_f, f"{item.title}\n{body}", evidence.body.keys()
        )
        text = f"{item.title}\n{body}"
        references = _merge(item.references, extract_references(text, item.url))
        deadlines = _merge_deadlines(
            item.deadlines, extract_deadlines(f"{title_f} . {body_f}", doc_type, _day(item))
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
            eligibility=_eligibility(item, doc_type),
        )

    def _topics(
        self, item: NormalizedItem, source: Source, evidence: _Evidence, title_f: str, body_f: str
    ) -> tuple[TopicAssignment, ...]:
        if item.source_type.startswith(NOT_NEWS_SOURCE_TYPES):
            return ()  # a newsroom's list of item types or of newsletters: not news
        defaults = set(source.topics) | self._matcher.site_targets(item.url)
        candidates = evidence.targets() | defaults
        if (
            candidates
            and not is_eu_link(item.url)
            and not _names_policy(title_f + " " + body_f[:4000])
        ):
            return ()  # not an EU source, and no public policy in it (docs/labelling.md)
        # A long text names many things in passing: its body counts by density.
        length = len(body_f)
        scale = 1.0 if length <= LONG_BODY_CHARS else (LONG_BODY_CHARS / length) ** 0.5
        scores: dict[str, float] = {}
        for topic_id in candidates:
            if topic_id not in self._order:
                continue
            conf = evidence.confidence(topic_id, BODY_WEIGHT * scale)
            if topic_id in defaults:
                conf = 1.0 - (1.0 - SOURCE_TOPIC_PRIOR) * (1.0 - conf)
            if conf >= TOPIC_THRESHOLD:
                scores[topic_id] = round(conf, 3)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self._order[kv[0]]))
        return tuple(TopicAssignment(t, c, TopicOrigin.AUTO) for t, c in ranked)


# A non-EU item gets topics only when it deals with public policy: government, law,
# courts, regulators, public money (docs/labelling.md, "Non-EU items"). Folded text.
_POLICY_RE = re.compile(
    r"\b(?:eu|europaeische[nr]? (?:union|kommission)|eu-\w+|bundesregierung|regierung\w*"
    r"|verordnung\w*|richtlinie\w*|urteil\w*"
    r"|bundestag|bundesrat|reguliere?\w*"
    r"|foerder\w*|subvention\w*|staatlich\w*|bund|bundes\w+|kommission|koalition\w*"
    r"|wto|welthandel\w*|government|ministry|parliament|congress|senate|court"
    r"|ruling|law|laws|legislation|regulation|regulators?|directive|policy|policies|subsid\w*"
    r"|public funding|authorit(?:y|ies)|state aid|tariffs?|sanctions?|copyright office)\b"
)
# Words that contain one of these (or end in "aufsicht"): `\b\w*minister\w*\b` matches
# exactly where "minister" occurs, so these are found as they are, without the word scan
# and backtracking a leading \w* costs at every word of a long text.
_POLICY_PART_RE = re.compile(r"minister|gesetz|gericht|parlament|behoerde|politik|aufsicht\b")


def _names_policy(folded: str) -> bool:
    return _POLICY_PART_RE.search(folded) is not None or _POLICY_RE.search(folded) is not None


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


def _day(item: NormalizedItem) -> dt.date:
    """The publication day in the item's own zone (Brussels for EU feeds)."""
    return item.published.date()


def _merge(first: Iterable[str], second: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for ref in (*first, *second):
        ref = ref.strip()
        if ref:
            seen.setdefault(ref, None)
    return tuple(seen)


def _eligibility(item: NormalizedItem, doc_type: DocType) -> Eligibility | None:
    """A funding call's facets: the adapter's (Funding & Tenders), else what its text says."""
    if doc_type is not DocType.FUNDING_CALL:
        return None
    return item.eligibility or from_text(f"{item.title}.\n{item.summary_text}")


def _merge_deadlines(first: Iterable[Deadline], second: Iterable[Deadline]) -> tuple[Deadline, ...]:
    seen: dict[tuple[dt.date, DeadlineKind], Deadline] = {}
    for d in (*first, *second):
        seen.setdefault((d.date, d.kind), d)
    return tuple(seen.values())
