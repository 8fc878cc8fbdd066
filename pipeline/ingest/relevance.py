"""Regional relevance: a graded, explained score from the facts of one item.

Pure and deterministic: `RelevanceScorer(taxonomy).score(facts)` reads a RelevanceFacts
(title, text, link, source, publication day, doc type, topics, deadlines) and returns a
Relevance (score 0..1, never exactly 0, and German reasons, strongest first). It reads no
clock: a deadline counts when it lies after the item's own publication day, and the
stored reason names the date ("Frist am 22.09.2026"); `reasons_as_of` turns that into
"Frist in 3 Wochen" when staff read it.

The score is a sum of points, each with its reason (README, "Triage"):

    origin      EU source (a europa.eu link or an EU institution)    0.10
                German public body (bund.de, …)                       0.06
                anything else (newspapers, blogs, podcasts)            0.01, and every other
                point below counts a third; region, Land, country, sector, company and
                audiences count only when the item also names the EU
    doc type    funding call, consultation 0.30 · proposal, adopted act 0.18 ·
                press release, event 0.08 · statement 0.05 · other 0.03 · speech, report 0.02
    topics      0.12 × the highest weight × confidence of its topics (weights in
                taxonomy.yaml; the office's focus, e.g. funding 1.6, weighs most)
    region      a place of the region: 0.30 in the title, 0.20 in the text
    Land        0.22 in the title, 0.14 in the text
    country     0.12 in the title, 0.06 in the text; not inside a list of countries
    sector      the region's industries: 0.06 in the title, 0.03 in the text
    company     0.05, only in a company context ("Bosch-Gruppe", "Trumpf GmbH") or next
                to other evidence of the region
    deadline    an application, consultation or other deadline after publication: 0.10
    audiences   SMEs, municipalities and regions, universities and research: 0.03 each, ≤ 0.06
    penalties   another member state's case in the title (no Germany): −0.10;
                personnel: −0.06; a fine or breach case against one firm: −0.06;
                a newsletter's entry: −0.15; a title of ≤ 3 words and no text (a list's
                label, not news): −0.06 and half the doc type's points
    score       the sum, kept within 0.001..1, rounded to 4 places

Only the first 4,000 characters of the text are read: the lead says what an item is
about, and a keyword deep inside a long page is usually unrelated to it. All keyword
groups are found in one scan (a prefix-tree regex); the scorer adds about 0.05 ms per item
to classification.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from pipeline.ingest.classify import fold
from pipeline.model import Relevance, RelevanceFacts, Taxonomy
from pipeline.model.relevance import ACTION_DEADLINE_KINDS, deadline_reason

__all__ = ["DOC_TYPE_POINTS", "TEXT_LIMIT", "RelevanceScorer"]

TEXT_LIMIT = 4000
ORIGIN_EU, ORIGIN_PUBLIC, ORIGIN_OTHER = 0.10, 0.06, 0.01
ORIGIN_REASONS = {"eu": "EU-Quelle", "public": "deutsche Behörde", "other": "keine EU-Quelle"}
OTHER_ORIGIN_FACTOR = 1 / 3
DOC_TYPE_POINTS: dict[str, tuple[float, str]] = {
    "funding_call": (0.30, "offene Ausschreibung"),
    "consultation": (0.30, "offene Konsultation"),
    "legislative_proposal": (0.18, "Gesetzgebungsvorschlag"),
    "adopted_act": (0.18, "verabschiedeter Rechtsakt"),
    "press_release": (0.08, ""),
    "event": (0.08, "Veranstaltung"),
    "statement": (0.05, ""),
    "other": (0.03, ""),
    "speech": (0.02, ""),
    "report": (0.02, ""),
}
TOPIC_POINTS = 0.12
TOPIC_REASON_MIN = 0.5  # weight × confidence from which a topic is named as a reason
REGION_POINTS = (0.30, 0.20)  # (title, text)
LAND_POINTS = (0.22, 0.14)
COUNTRY_POINTS = (0.12, 0.06)
SECTOR_POINTS = (0.06, 0.03)
COMPANY_POINTS = 0.05
DEADLINE_POINTS = 0.10
AUDIENCE_POINTS, AUDIENCE_MAX = 0.03, 0.06
OTHER_STATE_PENALTY = 0.10
PERSONNEL_PENALTY = 0.06
STUB_PENALTY = 0.06
STUB_WORDS = 3
STUB_DOC_TYPE_FACTOR = 0.5
ENFORCEMENT_PENALTY = 0.06
NEWSLETTER_PENALTY = 0.15
MIN_SCORE = 0.001

# Hosts and institutions of the EU (item links decide first: a source's own URL may be
# a proxy or a mirror).
_EU_HOSTS = ("europa.eu", "sanctionsmap.eu", "eib.org", "eif.org", "interreg.eu", "keep.eu",
             "eurlex.eu")  # fmt: skip
_PUBLIC_HOSTS = ("bund.de", "bundesregierung.de", "bundestag.de", "bundesrat.de",
                 "baden-wuerttemberg.de", "region-stuttgart.de")  # fmt: skip
_EU_INSTITUTION_RE = re.compile(
    r"europ(?:ä|ae|e)isch|european|\bEU\b|\bRat der\b|council of the|\bEZB\b|\bECB\b|\bEIB\b",
    re.IGNORECASE,
)
# A cheap first look for the EU in texts of other sources (a superset of _EU_CONTEXT).
_EU_HINT_RE = re.compile(r"\b(?:eu\b|europ|bruessel|brussels)")
# Keywords (the syntax of taxonomy.yaml) read in the one scan of _Scan.
_EU_CONTEXT = (
    "EU", "Europäische Union", "Europäischen Union", "European Union", "Europäische Kommission",
    "Europäischen Kommission", "European Commission", "Brüssel", "Brussels",
    "Europaparlament", "Europäisches Parlament", "European Parliament",
)  # fmt: skip
_MEMBER_STATES = {
    "austria": "oesterreich", "belgium": "belgien", "bulgaria": "bulgarien",
    "croatia": "kroatien", "cyprus": "zypern", "czechia": "tschechien",
    "denmark": "daenemark", "estonia": "estland", "finland": "finnland",
    "france": "frankreich", "greece": "griechenland", "hungary": "ungarn",
    "ireland": "irland", "italy": "italien", "latvia": "lettland", "lithuania": "litauen",
    "luxembourg": "luxemburg", "malta": "malta", "netherlands": "niederlande",
    "poland": "polen", "portugal": "portugal", "romania": "rumaenien",
    "slovakia": "slowakei", "slovenia": "slowenien", "spain": "spanien",
    "sweden": "schweden",
}  # fmt: skip
_ADJECTIVES = (
    "austrian|belgian|bulgarian|croatian|cypriot|czech|danish|estonian|finnish|french|greek"
    "|hungarian|irish|italian|latvian|lithuanian|luxembourgish|maltese|dutch|polish"
    "|portuguese|romanian|slovak|slovenian|spanish|swedish"
)
_OTHER_STATE_RE = re.compile(
    r"\b(?:" + "|".join([*_MEMBER_STATES, *_MEMBER_STATES.values()]) + r")(?:'s)?\b"
    r"|\b(?:" + _ADJECTIVES + r")\b"
)
_COUNTRY_LIST_RE = re.compile(
    r"\b(?:" + "|".join([*_MEMBER_STATES, *_MEMBER_STATES.values()]) + r")\b"
)
_PERSONNEL_RE = re.compile(
    r"\b(?:appoints?|appointed|appointment of|nominat\w+|ernenn\w*|ernannt|new head of"
    r"|neue[nr]? (?:leiter|direktor|praesident)\w*|steps down|tritt zurueck)\b"
)
_ENFORCEMENT_RE = re.compile(
    r"\b(?:fines?|fined|in breach of|infringement proceedings? against|non-compliance of"
    r"|bussgeld|geldbusse|verhaengt)\b"
)
_NEWSLETTER_RE = re.compile(r"\b(?:newsletter|newsflash|e-mail alert)\b")
_AUDIENCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("für KMU", ("SME", "SMEs", "small and medium-sized", "KMU", "mittelständ*", "start-up*",
                 "startup*")),
    ("für Kommunen und Regionen", (
        "municipalit*", "local authorit*", "local and regional authorit*",
        "regional authorit*", "cities and regions", "Kommune*", "kommunal*", "Gemeinden",
        "Städte", "Landkreis*", "public buyers", "public authorities", "Regionen")),
    ("für Hochschulen und Forschung", (
        "universit*", "research organisation*", "research institute*", "research centre*",
        "Hochschul*", "Forschungseinrichtung*", "academia")),
)  # fmt: skip
_COMPANY_CONTEXT = r"(?:[- ](?:GmbH|AG|SE|KG|Gruppe|Group|Konzern|Werk\w*|plant|factory)\b|'s\b)"


class _Scan:
    """Every keyword group (region, land, country, sector, eu, audiences) in one prefix-tree
    regex, so a text is read once whatever the number of keywords; a hit is mapped back to
    its groups by a dict lookup. Suffixes and infixes ("*automobil*") are a second, small
    regex found by their letters alone."""

    def __init__(self, groups: dict[str, Iterable[str]]) -> None:
        self._exact: dict[str, set[str]] = {}
        self._stems: dict[str, set[str]] = {}
        inside: dict[str, set[str]] = {}
        tree: dict[str, Any] = {}
        for name, keywords in groups.items():
            for kw in (k.strip() for k in keywords):
                lead, trail = kw.startswith("*"), kw.endswith("*")
                word = " ".join(fold(kw.strip("*")).replace("-", " ").split())
                if not word:
                    continue
                if lead:
                    inside.setdefault(word, set()).add(name)
                    continue
                (self._stems if trail else self._exact).setdefault(word, set()).add(name)
                node = tree
                for ch in word:
                    node = node.setdefault(ch, {})
                node[_STEM if trail else _END] = {}
        self._lengths = sorted({len(k) for k in self._stems}, reverse=True)
        self._words = re.compile(r"\b" + _tree_pattern(tree)) if tree else None
        self._inside = {k.replace(" ", "[ -]"): v for k, v in inside.items()}
        alts = sorted(self._inside, key=len, reverse=True)
        self._infixes = re.compile("|".join(f"({a})" for a in alts)) if alts else None
        self._infix_groups = [inside[a.replace("[ -]", " ")] for a in alts]

    def hits(self, folded: str) -> dict[str, list[int]]:
        """Group name → start offsets of its hits."""
        found: dict[str, list[int]] = {}
        if self._words is not None:
            for m in self._words.finditer(folded):
                term = m.group().replace("-", " ")
                names = set(self._exact.get(term, ()))
                for n in self._lengths:
                    if n <= len(term):
                        names |= self._stems.get(term[:n], set())
                for name in names:
                    found.setdefault(name, []).append(m.start())
        if self._infixes is not None:
            for m in self._infixes.finditer(folded):
                for name in self._infix_groups[(m.lastindex or 1) - 1]:
                    found.setdefault(name, []).append(m.start())
        return found


_END, _STEM = "\x00end", "\x00stem"


def _tree_pattern(node: dict[str, Any]) -> str:
    alts = [
        ("[ -]" if ch == " " else re.escape(ch)) + _tree_pattern(child)
        for ch, child in sorted(node.items())
        if ch not in (_END, _STEM)
    ]
    if _END in node:
        alts.append(r"(?!\w)")
    if _STEM in node:
        alts.append(r"\w*")
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


class RelevanceScorer:
    """Scores RelevanceFacts for the region of a taxonomy. Compile once, call often."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._weights = {t.id: t.weight for t in taxonomy.topics}
        self._labels = {t.id: t.label_de for t in taxonomy.topics}
        self._region_name = taxonomy.region_name or "die Region"
        self._land_name = taxonomy.land_name
        self._country_name = taxonomy.country_name
        self._scan = _Scan(
            {
                "region": taxonomy.region_keywords,
                "land": taxonomy.land_keywords,
                "country": taxonomy.country_keywords,
                "sector": taxonomy.sector_keywords,
                "eu": _EU_CONTEXT,
                **{f"aud{i}": keywords for i, (_, keywords) in enumerate(_AUDIENCES)},
            }
        )
        names = [c.strip() for c in taxonomy.company_keywords if c.strip()]
        alt = "|".join(re.escape(unicodedata.normalize("NFKC", n)) for n in names)
        # As written (capitalised), on word boundaries; context decides whether it counts.
        self._company = re.compile(rf"\b(?:{alt})(?!\w)") if names else None
        self._company_ctx = re.compile(rf"\b(?:{alt}){_COMPANY_CONTEXT}") if names else None

    def score(self, facts: RelevanceFacts, *, folded: tuple[str, str] | None = None) -> Relevance:
        """The score and reasons of one item. `folded` is the title and text already
        folded (classify has them; the text may be longer than TEXT_LIMIT)."""
        title_raw = unicodedata.normalize("NFKC", facts.title)
        text_raw = unicodedata.normalize("NFKC", facts.text[:TEXT_LIMIT])
        if folded is None:
            title, text = fold(title_raw), fold(text_raw)
        else:
            title, text = folded[0], folded[1][:TEXT_LIMIT]
        points: list[tuple[float, str]] = []  # (points, reason or "")

        origin = _origin(facts)
        base = {"eu": ORIGIN_EU, "public": ORIGIN_PUBLIC}.get(origin, ORIGIN_OTHER)
        factor = 1.0 if origin != "other" else OTHER_ORIGIN_FACTOR
        points.append((base, ""))  # named last, below: it explains little on its own

        doc_points, doc_reason = DOC_TYPE_POINTS.get(facts.doc_type, DOC_TYPE_POINTS["other"])
        stub = not text.strip() and len(title.split()) <= STUB_WORDS
        if stub:  # "Call for Proposals" alone: a list's label, not a call
            doc_points *= STUB_DOC_TYPE_FACTOR
        if doc_reason.startswith("offen") and not self._open(facts):
            doc_reason = doc_reason.replace("offene ", "")
        points.append((factor * doc_points, doc_reason))

        best, best_topic = 0.0, ""
        for topic_id, confidence in facts.topics:
            value = self._weights.get(topic_id, 1.0) * confidence
            if value > best:
                best, best_topic = value, topic_id
        if best_topic:
            reason = f"Thema {self._labels[best_topic]}" if best >= TOPIC_REASON_MIN else ""
            points.append((factor * TOPIC_POINTS * best, reason))

        # Where the region is named: a non-EU item gets no credit from a keyword alone, so
        # unless it names the EU, its text is not read for the region (nor for audiences).
        doc = f"{title}\n{text}"
        read = origin != "other" or _EU_HINT_RE.search(doc) is not None
        hits = self._scan.hits(doc) if read else {}
        cut = len(title)

        def where(group: str) -> str:
            starts = hits.get(group, ())
            return "title" if any(i < cut for i in starts) else "text" if starts else ""

        regional = origin != "other" or "eu" in hits
        place, land, sector = where("region"), where("land"), where("sector")
        hits["country"] = _outside_lists(hits.get("country", []), doc)
        country = where("country")
        if regional:
            if place:
                points.append((_pick(REGION_POINTS, place), f"erwähnt {self._region_name}"))
            if land:
                points.append((_pick(LAND_POINTS, land), f"erwähnt {self._land_name}"))
            if country and not place and not land:
                points.append((_pick(COUNTRY_POINTS, country), f"betrifft {self._country_name}"))
            if sector:
                points.append((factor * _pick(SECTOR_POINTS, sector), "Branche der Region"))
            if self._company_named(f"{title_raw}\n{text_raw}", bool(place or land or sector)):
                points.append((factor * COMPANY_POINTS, "Unternehmen der Region"))

        day = self._deadline(facts)
        if day is not None:
            points.append((factor * DEADLINE_POINTS, deadline_reason(day)))

        audience = 0.0
        for i, (reason, _) in enumerate(_AUDIENCES):
            if audience < AUDIENCE_MAX and f"aud{i}" in hits:
                audience += AUDIENCE_POINTS
                points.append((factor * AUDIENCE_POINTS, reason))

        if _OTHER_STATE_RE.search(title) and not (country or place or land):
            points.append((-OTHER_STATE_PENALTY, "betrifft einen anderen Mitgliedstaat"))
        if _PERSONNEL_RE.search(title):
            points.append((-PERSONNEL_PENALTY, "Personalie"))
        if _ENFORCEMENT_RE.search(title):
            points.append((-ENFORCEMENT_PENALTY, "Verfahren gegen ein einzelnes Unternehmen"))
        if _NEWSLETTER_RE.search(title):
            points.append((-NEWSLETTER_PENALTY, "Newsletter-Angebot, keine Meldung"))
        if stub:
            points.append((-STUB_PENALTY, "nur ein kurzer Titel"))

        total = sum(p for p, _ in points)
        score = round(min(1.0, max(MIN_SCORE, total)), 4)
        ranked = sorted((pr for pr in points if pr[1]), key=lambda pr: -abs(pr[0]))
        reasons = [reason for _, reason in ranked]
        reasons.append(ORIGIN_REASONS[origin])  # always one: every scored item has a reason
        return Relevance(score, tuple(dict.fromkeys(r for r in reasons if r)))

    def _open(self, facts: RelevanceFacts) -> bool:
        """A call or consultation is open unless all its deadlines lie before publication."""
        days = [d.date for d in facts.deadlines if d.kind in ACTION_DEADLINE_KINDS]
        return not days or facts.published is None or max(days) >= facts.published

    def _deadline(self, facts: RelevanceFacts) -> dt.date | None:
        days = sorted(d.date for d in facts.deadlines if d.kind in ACTION_DEADLINE_KINDS)
        if facts.published is not None:
            days = [d for d in days if d >= facts.published]
        return days[0] if days else None

    def _company_named(self, text: str, other_evidence: bool) -> bool:
        """A firm of the region as a company ("Trumpf GmbH") or beside other evidence."""
        if self._company is None or self._company_ctx is None or not self._company.search(text):
            return False
        return other_evidence or bool(self._company_ctx.search(text))


def _origin(facts: RelevanceFacts) -> str:
    """eu, public (German public bodies) or other, from the item's link first."""
    for url in (facts.url, facts.source_url):
        host = _host(url) if url else ""
        if host in ("127.0.0.1", "localhost", ""):
            continue
        return _host_origin(host)
    if _EU_INSTITUTION_RE.search(facts.institution):
        return "eu"
    return "other"


def _host(url: str) -> str:
    m = _HOST_RE.match(url)
    return m.group(1).lower() if m else ""


_HOST_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]+)")


@functools.lru_cache(maxsize=1024)
def _host_origin(host: str) -> str:
    if any(host == h or host.endswith("." + h) for h in _EU_HOSTS):
        return "eu"
    if any(host == h or host.endswith("." + h) for h in _PUBLIC_HOSTS):
        return "public"
    return "other"


def _pick(values: tuple[float, float], where: str) -> float:
    return values[0] if where == "title" else values[1]


def _outside_lists(starts: list[int], folded: str) -> list[int]:
    """Mentions that are not one name in a list of countries ("Austria, Germany, Italy")."""
    return [
        i for i in starts if len(_COUNTRY_LIST_RE.findall(folded[max(0, i - 80) : i + 100])) < 2
    ]
