"""Derive a funding call's Eligibility from what its source says.

    from_ft_metadata(meta)   Funding & Tenders (SEDIA) metadata: identifier, type of
                             action, budgetOverview; programme rules below
    from_text(text)          any other call: programme names, who may apply (only in a
                             sentence that speaks of eligibility), budget, funding rate

Nothing is guessed: a fact the source does not give, and that no programme rule fixes,
stays empty, and a call with no facts at all has no Eligibility ("Antragsberechtigung:
siehe Aufruf" in the digest).

Programme rules (the SEDIA search answer carries no applicant types, eligible countries
or funding rates; these follow from the programme's legal basis and apply to every
topic of the programme):

- Horizon Europe (Regulation (EU) 2021/695): any legal entity may take part, legal
  entities established in a Member State are eligible for funding (art. 22, 23), so
  German applicants are; funding rates by type of action (art. 34): Research and
  Innovation Actions and Coordination and Support Actions 100 %, Innovation Actions
  70 % (100 % for non-profit legal entities), Programme Co-fund Actions 30 % (up to
  50 %, or 70 % in justified cases). Programme co-fund actions are for programme owners
  and managers (public bodies and funding agencies), so only public institutions apply.
  Joint Undertakings (HORIZON-JU-*) follow the same rules of participation; their
  funding rates may differ and are left open.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pipeline.model.eligibility import Applicant, Eligibility

ALL_APPLICANTS = tuple(Applicant)

# identifier prefix → German programme name (longest prefix first)
PROGRAMMES: tuple[tuple[str, str], ...] = (
    ("HORIZON-", "Horizont Europa"),
    ("LIFE-", "LIFE"),
    ("DIGITAL-", "Digitales Europa"),
    ("CEF-", "Fazilität „Connecting Europe“"),
    ("ERASMUS-", "Erasmus+"),
    ("CREA-", "Kreatives Europa"),
    ("CERV-", "Bürgerinnen und Bürger, Gleichstellung, Rechte und Werte (CERV)"),
    ("EU4H-", "EU4Health"),
    ("SMP-", "Binnenmarktprogramm"),
    ("I3-", "Interregionale Innovationsinvestitionen (I3)"),
    ("INNOVFUND-", "Innovationsfonds"),
    ("EUAF-", "EU-Programm zur Betrugsbekämpfung"),
    ("AMIF-", "Asyl-, Migrations- und Integrationsfonds (AMIF)"),
    ("ISF-", "Fonds für die innere Sicherheit (ISF)"),
    ("RFCS-", "Forschungsfonds für Kohle und Stahl"),
    ("EMFAF-", "Europäischer Meeres-, Fischerei- und Aquakulturfonds (EMFAF)"),
)

# SEDIA type-of-action code → (German label, funding rate %, rate note, applicants)
_ALL = ALL_APPLICANTS
HORIZON_ACTIONS: dict[str, tuple[str, int | None, str, tuple[Applicant, ...]]] = {
    "RIA": ("Forschungs- und Innovationsmaßnahme (RIA)", 100, "", _ALL),
    "IA": ("Innovationsmaßnahme (IA)", 70, "100 % für gemeinnützige Einrichtungen", _ALL),
    "CSA": ("Koordinierungs- und Unterstützungsmaßnahme (CSA)", 100, "", _ALL),
    "COFUND": (
        "Kofinanzierungsmaßnahme (Programme Co-fund)",
        30,
        "bis 50 %, in begründeten Fällen 70 %",
        (Applicant.OEFFENTLICHE,),
    ),
}
# Programmes whose calls are open to applicants from every Member State
EU_WIDE = {name for _, name in PROGRAMMES}

_ACTION_CODE = re.compile(r"\bHORIZON-(JU-)?(RIA|IA|CSA|COFUND)\b")
_ACTION_WORDS = {
    "research and innovation actions": "RIA",
    "innovation actions": "IA",
    "coordination and support actions": "CSA",
    "programme cofund actions": "COFUND",
}


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def programme_of(identifier: str) -> str:
    upper = identifier.strip().upper()
    for prefix, name in PROGRAMMES:
        if upper.startswith(prefix):
            return name
    return ""


def from_ft_metadata(meta: Mapping[str, Any]) -> Eligibility | None:
    """Facets of one SEDIA search result's `metadata` (every value a list of strings)."""
    identifier = next(iter(_strings(meta.get("identifier"))), "").strip()
    programme = programme_of(identifier)
    code, joint = _action_code(meta)
    action_type, rate, note = "", None, ""
    applicants: tuple[Applicant, ...] = ()
    german: bool | None = True if programme in EU_WIDE else None
    if programme == "Horizont Europa" and code:
        action_type, rate, note, applicants = HORIZON_ACTIONS[code]
        if joint:
            action_type += " eines Gemeinsamen Unternehmens"
            rate, note = None, ""  # a Joint Undertaking sets its own rates
    elif code or meta.get("typesOfAction"):
        action_type = " ".join(next(iter(_strings(meta.get("typesOfAction"))), "").split())
    found = Eligibility(
        programme=programme,
        applicants=applicants,
        action_type=action_type,
        budget_eur=topic_budget(identifier, next(iter(_strings(meta.get("budgetOverview"))), "")),
        funding_rate=rate,
        rate_note=note,
        german_applicants=german,
    )
    return None if found.empty else found


def _action_code(meta: Mapping[str, Any]) -> tuple[str, bool]:
    """('RIA', False) from the `actions` JSON or the typesOfAction text."""
    for text in _strings(meta.get("actions")):
        m = _ACTION_CODE.search(text)
        if m:
            return m.group(2), bool(m.group(1))
    for text in _strings(meta.get("typesOfAction")):
        plain = " ".join(text.split()).lower()
        joint = " ju " in f" {plain} "
        for words, code in _ACTION_WORDS.items():
            if plain.endswith(words) and plain.startswith("horizon"):
                return code, joint
    return "", False


_BUDGET_ENTRY = re.compile(
    r'\{"action":"(?P<action>[^"]*)"[^{}]*?"budgetYearMap":\{(?P<years>[^{}]*)\}'
)
_YEAR_AMOUNT = re.compile(r'"\d{4}":"?(\d+)"?')


def topic_budget(identifier: str, overview: str) -> int | None:
    """The topic's budget in EUR from `budgetOverview` (JSON text, often cut short by the
    API): the sum over its years, when the topic has a budget line of its own. A line that
    several topics share (a Joint Undertaking's call budget) is not the topic's budget."""
    if not identifier or not overview:
        return None
    try:
        data = json.loads(overview)
    except json.JSONDecodeError:
        data = None
    groups: list[list[tuple[str, int]]] = []
    if isinstance(data, dict) and isinstance(data.get("budgetTopicActionMap"), dict):
        for entries in data["budgetTopicActionMap"].values():
            if isinstance(entries, list):
                groups.append(
                    [
                        (str(e.get("action", "")), _years(e.get("budgetYearMap")))
                        for e in entries
                        if isinstance(e, dict)
                    ]
                )
    else:  # cut short: read the whole entries that are there
        for group in re.split(r'"\d+":\[', overview)[1:]:
            groups.append(
                [
                    (m.group("action"), sum(int(a) for a in _YEAR_AMOUNT.findall(m["years"])))
                    for m in _BUDGET_ENTRY.finditer(group)
                ]
            )
    for entries in groups:
        for action, amount in entries:
            if action.split(" - ")[0].strip() == identifier:
                return amount if len(entries) == 1 and amount > 0 else None
    return None


def _years(value: object) -> int:
    if not isinstance(value, dict):
        return 0
    total = 0
    for amount in value.values():
        try:
            total += int(str(amount))
        except ValueError:
            continue
    return total


# ---------------------------------------------------------------- from text

_NAMED_PROGRAMMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), name)
    for p, name in (
        (r"\bhori[sz]on(?:t)? europ[ae]\b", "Horizont Europa"),
        (r"\blife[- ]programm?e?\b|\bprogramme for the environment and climate action\b", "LIFE"),
        (r"\binterreg\b", "Interreg"),
        (r"\berasmus\+", "Erasmus+"),
        (r"\bdigital(?:es)? europe?a?\b", "Digitales Europa"),
        (r"\bconnecting europe facility\b|\bCEF\b", "Fazilität „Connecting Europe“"),
        (r"\binnovation(?:s)?fonds\b|\binnovation fund\b", "Innovationsfonds"),
        (r"\bcreative europe\b|\bkreatives europa\b", "Kreatives Europa"),
        (r"\bEU4Health\b", "EU4Health"),
        (r"\bEFRE\b|\bERDF\b|european regional development fund", "EFRE"),
        (r"\bESF\+", "ESF+"),
    )
)

# a sentence speaks of who may apply
_ELIGIBILITY_CUE = re.compile(
    r"antragsberechtigt|antragsteller|können (?:sich )?(?:bewerben|anträge|beantragen)"
    r"|zielgruppe|richtet sich an|teilnahmeberechtigt|förderfähig sind"
    r"|eligib|may apply|can apply|open to|applicants?\b|are invited to submit",
    re.IGNORECASE,
)
_APPLICANT_WORDS: tuple[tuple[re.Pattern[str], tuple[Applicant, ...]], ...] = tuple(
    (re.compile(p, re.IGNORECASE), who)
    for p, who in (
        (
            r"\b(?:kommunen|gemeinden|städte|landkreise|kreise|gebietskörperschaften"
            r"|local (?:and regional )?authorities|municipalities|cities|regional authorities)\b",
            (Applicant.KOMMUNEN,),
        ),
        (r"\b(?:KMU|SMEs?|small and medium[- ]sized enterprises)\b", (Applicant.KMU,)),
        (
            r"\b(?:unternehmen|companies|businesses|enterprises|private sector)\b",
            (Applicant.UNTERNEHMEN, Applicant.KMU),
        ),
        (
            r"\b(?:hochschulen|universitäten|forschungseinrichtungen|universities"
            r"|research (?:organisations|organizations|institutions|centres))\b",
            (Applicant.HOCHSCHULEN,),
        ),
        (
            r"\b(?:vereine|verbände|stiftungen|NGOs?|non-profit organi[sz]ations"
            r"|civil society organi[sz]ations|associations|foundations)\b",
            (Applicant.VEREINE,),
        ),
        (
            r"\b(?:öffentliche (?:einrichtungen|stellen)|behörden|public (?:bodies|authorities"
            r"|entities|institutions))\b",
            (Applicant.OEFFENTLICHE, Applicant.KOMMUNEN),
        ),
        (r"\b(?:any legal entity|all legal entities|alle juristischen personen)\b", ALL_APPLICANTS),
    )
)
_MEMBER_STATES = re.compile(
    r"\b(?:EU[- ]Mitgliedstaaten|Mitgliedstaaten der EU|EU Member States|Member States"
    r"|Deutschland|Germany)\b",
    re.IGNORECASE,
)
_AMOUNT = (
    r"(\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d+)?)\s*(Mio\.?|Millionen|million|Mrd\.?|Milliarden|billion)?"
)
_BUDGET = re.compile(
    r"(?:budget|mittel|fördermittel|volumen|total of|in total|insgesamt|available)\D{0,40}?"
    r"(?:EUR|€|Euro)\s*"
    + _AMOUNT
    + r"|(?:budget|mittel|volumen|insgesamt)\D{0,40}?"
    + _AMOUNT
    + r"\s*(?:EUR|€|Euro)\b",
    re.IGNORECASE,
)
_RATE = re.compile(
    r"(?:förderquote|fördersatz|funding rate|co-financing rate|kofinanzierungssatz"
    r"|cover(?:s|ing)? up to|bis zu)\D{0,30}?(\d{1,3})\s*(?:%|prozent|per ?cent)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def from_text(text: str) -> Eligibility | None:
    """Facets a call's own text states (German or English); None when it states none."""
    programme = next((name for rx, name in _NAMED_PROGRAMMES if rx.search(text)), "")
    applicants: list[Applicant] = []
    german: bool | None = None
    for sentence in _SENTENCE.split(text):
        if not _ELIGIBILITY_CUE.search(sentence):
            continue
        for rx, who in _APPLICANT_WORDS:
            if rx.search(sentence):
                applicants += [a for a in who if a not in applicants]
        if _MEMBER_STATES.search(sentence):
            german = True
    if german is None and applicants and programme in EU_WIDE:
        german = True
    rate = None
    m = _RATE.search(text)
    if m and 0 < int(m.group(1)) <= 100:
        rate = int(m.group(1))
    found = Eligibility(
        programme=programme,
        applicants=tuple(sorted(applicants, key=list(Applicant).index)),
        budget_eur=_budget(text),
        funding_rate=rate,
        german_applicants=german,
    )
    return None if found.empty else found


def _budget(text: str) -> int | None:
    m = _BUDGET.search(text)
    if not m:
        return None
    number, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    digits = number.replace(" ", "")
    if unit:
        value = float(digits.replace(".", "").replace(",", ".") if "," in digits else digits)
        scale = 1_000_000_000 if unit.lower().startswith(("mrd", "milliard", "billion")) else 1e6
        return round(value * scale)
    return int(re.sub(r"[.,]", "", digits.split(",")[0] if "," in digits[-3:] else digits))
