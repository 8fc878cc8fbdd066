"""Dossiers (Verfahrensakten): one EU procedure from proposal to Official Journal.

    DossierRecord   what one source says about one procedure (an adapter's answer)
    Dossier         what the store knows: the records of all sources merged, with its
                    aliases, its timeline of DossierEvents and the items threaded to it
    Stage           where the file stands, with German labels (STAGE_LABELS)
    ProcedureType   COD, NLE, CNS … with German labels

The stage is the furthest one its events reached (`stage_of`); the next step is the
earliest forecast still ahead, else what usually follows the stage (`next_step`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from pipeline.model.references import (
    ReferenceKind,
    celex,
    equivalents,
    eurlex_url,
    normalize_reference,
    reference_kind,
)


class Stage(StrEnum):
    PROPOSAL = "proposal"
    COMMITTEE = "committee"
    PLENARY = "plenary"  # 1st reading in Parliament
    TRILOGUE = "trilogue"
    COUNCIL = "council"
    ADOPTED = "adopted"
    PUBLISHED = "published"  # in the Official Journal
    WITHDRAWN = "withdrawn"


STAGE_LABELS = {
    Stage.PROPOSAL: "Vorschlag der Kommission",
    Stage.COMMITTEE: "im Ausschuss",
    Stage.PLENARY: "1. Lesung Parlament",
    Stage.TRILOGUE: "Trilog",
    Stage.COUNCIL: "Rat",
    Stage.ADOPTED: "angenommen",
    Stage.PUBLISHED: "im Amtsblatt",
    Stage.WITHDRAWN: "zurückgezogen",
}

_STAGE_ORDER = list(Stage)

# What usually comes next, when no forecast says more.
_NEXT_BY_STAGE = {
    Stage.PROPOSAL: "Überweisung an den Ausschuss des Parlaments",
    Stage.COMMITTEE: "Abstimmung im Ausschuss",
    Stage.PLENARY: "Abstimmung im Plenum / Beginn der Trilog-Verhandlungen",
    Stage.TRILOGUE: "Vorläufige Einigung im Trilog",
    Stage.COUNCIL: "Annahme durch den Rat",
    Stage.ADOPTED: "Veröffentlichung im Amtsblatt",
}


class ProcedureType(StrEnum):
    COD = "COD"
    CNS = "CNS"
    APP = "APP"
    NLE = "NLE"
    BUD = "BUD"
    DEC = "DEC"
    INI = "INI"
    INL = "INL"
    RSP = "RSP"
    RPS = "RPS"
    DEA = "DEA"
    IMM = "IMM"
    REG = "REG"
    OTHER = "OTHER"

    @classmethod
    def of(cls, code: str) -> ProcedureType:
        try:
            return cls(code.strip().upper())
        except ValueError:
            return cls.OTHER


PROCEDURE_TYPE_LABELS = {
    ProcedureType.COD: "Ordentliches Gesetzgebungsverfahren",
    ProcedureType.CNS: "Anhörungsverfahren",
    ProcedureType.APP: "Zustimmungsverfahren",
    ProcedureType.NLE: "Nichtlegislatives Verfahren",
    ProcedureType.BUD: "Haushaltsverfahren",
    ProcedureType.DEC: "Entlastungsverfahren",
    ProcedureType.INI: "Initiativbericht",
    ProcedureType.INL: "Legislativer Initiativbericht",
    ProcedureType.RSP: "Entschließung zu aktuellen Themen",
    ProcedureType.RPS: "Durchführungsmaßnahme (Regelungsverfahren mit Kontrolle)",
    ProcedureType.DEA: "Delegierter Rechtsakt",
    ProcedureType.IMM: "Immunität von Abgeordneten",
    ProcedureType.REG: "Geschäftsordnung",
    ProcedureType.OTHER: "Sonstiges Verfahren",
}


class EventKind(StrEnum):
    """What happened; the EP's activity types, and the steps OEIL names in words."""

    PROPOSAL = "PROPOSAL"
    REFERRAL = "REFERRAL"
    COMMITTEE_TABLING_REPORT = "COMMITTEE_TABLING_REPORT"
    COMMITTEE_TABLING_AMENDMENT = "COMMITTEE_TABLING_AMENDMENT"
    COMMITTEE_ADOPTING_OPINION = "COMMITTEE_ADOPTING_OPINION"
    COMMITTEE_ADOPTING_REPORT = "COMMITTEE_ADOPTING_REPORT"
    NEGOTIATIONS_OPENED = "NEGOTIATIONS_OPENED"
    TABLING_PLENARY = "TABLING_PLENARY"
    PLENARY_DEBATE = "PLENARY_DEBATE"
    PLENARY_VOTE = "PLENARY_VOTE"
    PLENARY_VOTE_RESULTS = "PLENARY_VOTE_RESULTS"
    PLENARY_AMEND = "PLENARY_AMEND"
    PLENARY_REFER_COMMITTEE_INTERINSTITUTIONAL_NEGOTIATIONS = (
        "PLENARY_REFER_COMMITTEE_INTERINSTITUTIONAL_NEGOTIATIONS"
    )
    INTERINSTITUTIONAL_NEGOTIATION = "INTERINSTITUTIONAL_NEGOTIATION"
    COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT = "COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT"
    PLENARY_ADOPT_POSITION = "PLENARY_ADOPT_POSITION"
    COUNCIL_POSITION = "COUNCIL_POSITION"
    COUNCIL_ADOPTION = "COUNCIL_ADOPTION"
    SIGNED = "SIGNED"
    OJ_PUBLICATION = "OJ_PUBLICATION"
    CORRIGENDUM = "CORRIGENDUM"  # a corrigendum of the act in the Official Journal
    WITHDRAWN = "WITHDRAWN"
    SPLIT = "SPLIT"  # the procedure was split; `document` names the other part
    SPLIT_FROM = "SPLIT_FROM"  # this procedure came out of the one `document` names
    MERGED = "MERGED"  # joined with the procedure `document` names
    OTHER = "OTHER"

    @classmethod
    def of(cls, code: str) -> EventKind:
        try:
            return cls(code.strip().upper())
        except ValueError:
            return cls.OTHER


EVENT_LABELS = {
    EventKind.PROPOSAL: "Vorschlag der Kommission veröffentlicht",
    EventKind.REFERRAL: "Überweisung an den Ausschuss angekündigt",
    EventKind.COMMITTEE_TABLING_REPORT: "Berichtsentwurf im Ausschuss vorgelegt",
    EventKind.COMMITTEE_TABLING_AMENDMENT: "Änderungsanträge im Ausschuss eingereicht",
    EventKind.COMMITTEE_ADOPTING_OPINION: "Stellungnahme eines mitberatenden Ausschusses",
    EventKind.COMMITTEE_ADOPTING_REPORT: "Abstimmung im Ausschuss",
    EventKind.NEGOTIATIONS_OPENED: "Beschluss, Trilog-Verhandlungen aufzunehmen",
    EventKind.TABLING_PLENARY: "Bericht oder Änderungsanträge für das Plenum eingereicht",
    EventKind.PLENARY_DEBATE: "Aussprache im Plenum",
    EventKind.PLENARY_VOTE: "Abstimmung im Plenum",
    EventKind.PLENARY_VOTE_RESULTS: "Abstimmungsergebnisse des Plenums",
    EventKind.PLENARY_AMEND: "Plenum nimmt Änderungen an",
    EventKind.PLENARY_REFER_COMMITTEE_INTERINSTITUTIONAL_NEGOTIATIONS: (
        "Rücküberweisung an den Ausschuss für Trilog-Verhandlungen"
    ),
    EventKind.INTERINSTITUTIONAL_NEGOTIATION: "Trilog-Verhandlung",
    EventKind.COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT: "Ausschuss billigt vorläufige Einigung",
    EventKind.PLENARY_ADOPT_POSITION: "Parlament legt Standpunkt fest",
    EventKind.COUNCIL_POSITION: "Standpunkt des Rates",
    EventKind.COUNCIL_ADOPTION: "Rat nimmt den Rechtsakt an",
    EventKind.SIGNED: "Rechtsakt unterzeichnet",
    EventKind.OJ_PUBLICATION: "Im Amtsblatt veröffentlicht",
    EventKind.CORRIGENDUM: "Berichtigung im Amtsblatt veröffentlicht",
    EventKind.WITHDRAWN: "Vorschlag zurückgezogen",
    EventKind.SPLIT: "Verfahren aufgeteilt in",
    EventKind.SPLIT_FROM: "Hervorgegangen aus der Aufteilung von",
    EventKind.MERGED: "Zusammengeführt mit",
    EventKind.OTHER: "Sonstiger Verfahrensschritt",
}

_STAGE_OF_EVENT = {
    EventKind.PROPOSAL: Stage.PROPOSAL,
    EventKind.REFERRAL: Stage.COMMITTEE,
    EventKind.COMMITTEE_TABLING_REPORT: Stage.COMMITTEE,
    EventKind.COMMITTEE_TABLING_AMENDMENT: Stage.COMMITTEE,
    EventKind.COMMITTEE_ADOPTING_OPINION: Stage.COMMITTEE,
    EventKind.COMMITTEE_ADOPTING_REPORT: Stage.COMMITTEE,
    EventKind.TABLING_PLENARY: Stage.PLENARY,
    EventKind.PLENARY_DEBATE: Stage.PLENARY,
    EventKind.PLENARY_VOTE: Stage.PLENARY,
    EventKind.PLENARY_VOTE_RESULTS: Stage.PLENARY,
    EventKind.PLENARY_AMEND: Stage.PLENARY,
    EventKind.NEGOTIATIONS_OPENED: Stage.TRILOGUE,
    EventKind.PLENARY_REFER_COMMITTEE_INTERINSTITUTIONAL_NEGOTIATIONS: Stage.TRILOGUE,
    EventKind.INTERINSTITUTIONAL_NEGOTIATION: Stage.TRILOGUE,
    EventKind.COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT: Stage.TRILOGUE,
    EventKind.PLENARY_ADOPT_POSITION: Stage.PLENARY,
    EventKind.COUNCIL_POSITION: Stage.COUNCIL,
    EventKind.COUNCIL_ADOPTION: Stage.ADOPTED,
    EventKind.SIGNED: Stage.ADOPTED,
    EventKind.OJ_PUBLICATION: Stage.PUBLISHED,
}


@dataclass(frozen=True, slots=True)
class DossierEvent:
    """One step of a procedure, from one source. `forecast`: announced, not yet happened."""

    date: dt.date
    kind: EventKind
    source: str  # the source id that reported it
    key: str = ""  # the source's id of the event (stable across fetches)
    label_en: str = ""  # the publisher's own words, if any
    document: str = ""  # a reference of the document it is about (A10-0070/2026 …)
    forecast: bool = False
    # the store's id (0 before storing); higher ids arrived later. Not part of equality.
    id: int = field(default=0, compare=False)

    @property
    def label_de(self) -> str:
        label = EVENT_LABELS[self.kind]
        if self.kind in _NAMES_ITS_DOCUMENT and self.document:
            label = f"{label} {self.document}"
        elif self.kind is EventKind.CORRIGENDUM and self.document:
            label = f"{label} ({self.document})"
        return f"Voraussichtlich: {label}" if self.forecast else label


# Events whose German label ends with the other procedure: "Verfahren aufgeteilt in
# 2025/0261(COD)"; a corrigendum's names its CELEX number in brackets.
_NAMES_ITS_DOCUMENT = frozenset({EventKind.SPLIT, EventKind.SPLIT_FROM, EventKind.MERGED})


class Relation(StrEnum):
    """How a procedure is tied to another one, as the EP's data say (split, merged)."""

    SPLIT_INTO = "split_into"  # this file was split; the other is one of its parts
    SPLIT_FROM = "split_from"  # this file is a part of the other, split one
    MERGED_WITH = "merged_with"  # the two were joined (either way round)


_RELATION_EVENTS = {
    Relation.SPLIT_INTO: EventKind.SPLIT,
    Relation.SPLIT_FROM: EventKind.SPLIT_FROM,
    Relation.MERGED_WITH: EventKind.MERGED,
}


@dataclass(frozen=True, slots=True)
class DossierRelation:
    """One tie to another procedure; `date` when the source gives one."""

    relation: Relation
    reference: str  # canonical procedure reference of the other file
    date: dt.date | None = None

    @property
    def shares_items(self) -> bool:
        """Items naming the other file join this one too: a part of a split file is
        still about what the whole was; merged files are one. The whole of a split file
        does not take the items of each part (they name the part, not the whole)."""
        return self.relation is not Relation.SPLIT_INTO

    def event(self, source: str, fallback: dt.date) -> DossierEvent:
        return DossierEvent(
            date=self.date or fallback,
            kind=_RELATION_EVENTS[self.relation],
            source=source,
            key=f"{self.relation.value}:{self.reference}",
            document=self.reference,
        )


@dataclass(frozen=True, slots=True)
class DossierRecord:
    """What one source says about one procedure; empty fields: the source does not say."""

    reference: str  # canonical procedure reference, 2025/0260(COD)
    source: str
    title_de: str = ""
    title_en: str = ""
    procedure_type: ProcedureType = ProcedureType.OTHER
    lead_committee: str = ""
    rapporteur: str = ""
    status_text: str = ""  # the publisher's words ("Procedure completed")
    withdrawn: bool = False
    aliases: tuple[str, ...] = ()  # canonical references of the same file
    events: tuple[DossierEvent, ...] = ()
    problems: tuple[str, ...] = ()  # what the parser had to leave out, in English
    relations: tuple[DossierRelation, ...] = ()  # split into / from, merged with
    title_other: str = ""  # a title in another language, when neither de nor en exists
    title_other_language: str = ""  # its language code (fr, it …)
    train_url: str = ""  # the EP's Legislative Train page, where the source names one


@dataclass(frozen=True, slots=True)
class Dossier:
    """A procedure as the store knows it, all sources merged."""

    id: int
    reference: str
    title_de: str
    title_en: str
    procedure_type: ProcedureType
    stage: Stage
    lead_committee: str
    rapporteur: str
    created_at: dt.datetime
    updated_at: dt.datetime
    aliases: tuple[str, ...] = ()
    events: tuple[DossierEvent, ...] = ()
    item_ids: tuple[int, ...] = ()
    followers: tuple[str, ...] = ()
    item_count: int = 0
    event_count: int = 0
    next_step: str = ""
    published: bool = False  # offered to subscribers (preference page, digest block)
    title_other: str = ""  # a title in another language, when neither de nor en exists
    title_other_language: str = ""
    train_url: str = ""  # the EP's Legislative Train page, only where a source names it

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def title(self) -> str:
        """German first, then English, then any language a source had."""
        return self.title_de or self.title_en or self.title_other or self.reference

    @property
    def title_language(self) -> str:
        """The language of `title`: de, en, the other title's, or "" (the reference)."""
        if self.title_de:
            return "de"
        if self.title_en:
            return "en"
        return self.title_other_language if self.title_other else ""

    @property
    def main_celex(self) -> str | None:
        """The CELEX number the file's links name: the adopted act's (3…) before the
        proposal's (5…); None when no alias is a CELEX number."""
        return main_celex(self.aliases)


def main_celex(aliases: Iterable[str]) -> str | None:
    """Of a dossier's aliases, the CELEX number its links name: the adopted act's (3…)
    before the proposal's (5…); None when none is a CELEX number."""
    celex = sorted(
        (a for a in aliases if reference_kind(a) is ReferenceKind.CELEX),
        key=lambda a: (not a.startswith("3"), a),
    )
    return celex[0] if celex else None


def eurlex_procedure_url(reference: str, language: str = "DE") -> str | None:
    """EUR-Lex's page of the procedure (2025/0260(COD) → …/procedure/DE/2025_260);
    None for a reference that is not a procedure number."""
    m = re.fullmatch(r"((?:19|20)\d{2})/(\d{4})\([A-Z]{3}\)", reference)
    if m is None:
        return None
    return f"https://eur-lex.europa.eu/procedure/{language}/{m.group(1)}_{int(m.group(2))}"


@dataclass(frozen=True, slots=True)
class DossierLink:
    """An item threaded to a dossier: automatically by a reference, or by staff."""

    dossier_id: int
    item_id: int
    origin: str  # auto | staff
    detached: bool = False  # staff said no: automatic threading never adds it again
    at: dt.datetime | None = None
    by: str = ""


@dataclass(frozen=True, slots=True)
class DossierNote:
    """The office's note on a dossier ("Einordnung für die Region"), in Markdown."""

    note_md: str
    updated_at: dt.datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class DossierUpsert:
    """What storing the records of one source changed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    references: tuple[str, ...] = field(default=())


def stage_of(events: tuple[DossierEvent, ...] | list[DossierEvent], withdrawn: bool) -> Stage:
    """The furthest stage the (past) events reached; a withdrawn file is `WITHDRAWN`.

    A Parliament position adopted after the committee approved a trilogue agreement
    leaves the file with the Council (it adopts the agreed text next)."""
    if withdrawn or any(e.kind is EventKind.WITHDRAWN and not e.forecast for e in events):
        return Stage.WITHDRAWN
    best = Stage.PROPOSAL
    agreement: dt.date | None = None
    for event in sorted((e for e in events if not e.forecast), key=lambda e: e.date):
        stage = _STAGE_OF_EVENT.get(event.kind)
        if event.kind is EventKind.COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT:
            agreement = event.date
        if event.kind is EventKind.PLENARY_ADOPT_POSITION and agreement is not None:
            stage = Stage.COUNCIL
        if stage is not None and _STAGE_ORDER.index(stage) > _STAGE_ORDER.index(best):
            best = stage
    return best


def next_step(stage: Stage, events: tuple[DossierEvent, ...], today: dt.date) -> str:
    """The earliest forecast from today on, in German; else what usually follows the stage."""
    ahead = sorted((e for e in events if e.forecast and e.date >= today), key=lambda e: e.date)
    if ahead:
        first = ahead[0]
        return f"{EVENT_LABELS[first.kind]} (voraussichtlich {german_date(first.date)})"
    return _NEXT_BY_STAGE.get(stage, "")


_MONTHS_DE = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


def german_date(day: dt.date) -> str:
    """26. März 2026 (stdlib: the kernel does not load Babel for a date)."""
    return f"{day.day}. {_MONTHS_DE[day.month - 1]} {day.year}"


def oeil_url(reference: str, language: str = "en") -> str:
    return f"https://oeil.secure.europarl.europa.eu/oeil/{language}/procedure-file?reference={reference}"


@dataclass(frozen=True, slots=True)
class DossierPageLink:
    """One link of a dossier: `key` names it in JSON, `label_de` in the desk;
    `english_only` where no German version of the page exists (OEIL, the train)."""

    key: str
    label_de: str
    url: str
    english_only: bool = False


def dossier_links(d: Dossier) -> tuple[DossierPageLink, ...]:
    """German first: the act (or proposal) and the procedure on EUR-Lex in German, then
    the act in English, then OEIL and the Legislative Train (English only; the train
    only where a source, the EP API or OEIL, named its page)."""
    found: list[DossierPageLink] = []
    main = d.main_celex
    if main:
        found.append(DossierPageLink("eurlex_de", f"EUR-Lex: {main} (deutsch)", eurlex_url(main)))
    if procedure := eurlex_procedure_url(d.reference):
        found.append(
            DossierPageLink("eurlex_procedure_de", "EUR-Lex: Verfahren (deutsch)", procedure)
        )
    if main:
        found.append(
            DossierPageLink("eurlex_en", f"EUR-Lex: {main} (englisch)", eurlex_url(main, "EN"))
        )
    found.append(
        DossierPageLink(
            "oeil",
            "Legislative Observatory des Parlaments (englisch)",
            oeil_url(d.reference),
            english_only=True,
        )
    )
    if d.train_url:
        found.append(
            DossierPageLink(
                "legislative_train",
                "Legislative Train des Parlaments (englisch)",
                d.train_url,
                english_only=True,
            )
        )
    return tuple(found)


def new_events_label(count: int) -> str:
    """'1 neues Ereignis', '2 neue Ereignisse'."""
    return "1 neues Ereignis" if count == 1 else f"{count} neue Ereignisse"


@dataclass(frozen=True, slots=True)
class UnseenEvents:
    """A dossier a staff member follows, with the events that arrived since they last
    opened its page (or began to follow it): what their inbox and list mark "neu"."""

    reference: str
    title: str  # German first
    stage: Stage
    count: int
    latest: DossierEvent  # the newest of them (by date)

    @property
    def label(self) -> str:
        return new_events_label(self.count)

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]


@dataclass(frozen=True, slots=True)
class DossierNews:
    """What one followed dossier's block in one reader's digest reports: the events that
    arrived since that reader's previous digest reported it (never a forecast), where
    the file stands now and stood before them, and what comes next."""

    dossier_id: int
    reference: str
    title: str  # German first
    stage: Stage
    events: tuple[DossierEvent, ...]
    event_ids: tuple[int, ...]  # the store's ids of `events`: what makes two blocks equal
    procedure_type: ProcedureType = ProcedureType.OTHER
    stage_before: Stage | None = None  # the stage before these events, if they changed it
    next_step: str = ""  # German, as of the edition's planning day
    celex: str | None = None  # the act's (else the proposal's) CELEX number: German text

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]

    @property
    def stage_before_label(self) -> str:
        return STAGE_LABELS[self.stage_before] if self.stage_before else ""

    @property
    def type_label(self) -> str:
        return (
            ""
            if self.procedure_type is ProcedureType.OTHER
            else PROCEDURE_TYPE_LABELS[self.procedure_type]
        )


def dossier_slug(reference: str) -> str:
    """'2025/0260(COD)' → '2025-0260-cod': the dossier's address in the public archive
    (no slashes or brackets)."""
    m = re.fullmatch(r"((?:19|20)\d{2})/(\d{4})\(([A-Z]{3})\)", reference)
    if m is None:
        return re.sub(r"[^a-z0-9]+", "-", reference.lower()).strip("-")
    return f"{m.group(1)}-{m.group(2)}-{m.group(3).lower()}"


def dossier_public_url(base_url: str | None, reference: str) -> str:
    """The dossier's page in the public archive when the office has a base URL, else OEIL
    (/archiv/verfahren/2025-0260-cod)."""
    if base_url:
        return f"{base_url.rstrip('/')}/archiv/verfahren/{dossier_slug(reference)}"
    return oeil_url(reference)


def document_events(
    document: str,
    references: tuple[str, ...] | list[str],
    dossier_reference: str,
    aliases: set[str] | frozenset[str],
    day: dt.date,
    source: str,
) -> tuple[tuple[str, ...], tuple[DossierEvent, ...]]:
    """What an item that is an EUR-Lex document (its link names CELEX `document`) and
    is threaded to a dossier adds to it: (new aliases, events). Pure.

    - a corrigendum (32026R1398R(01)) of the dossier's act → an event "Berichtigung";
    - an act (sector 3: 3YYYYR/L/D…) that is the dossier's act already (an alias) → the
      event "Im Amtsblatt veröffentlicht" (the stage becomes "im Amtsblatt");
    - an act that is no alias yet, in an entry that names the procedure or the proposal
      (COM number, or its CELEX 5…PC) → it becomes an alias, and the same event;
    - anything else (a proposal, an act the entry only mentions beside the procedure
      through another reference) → nothing: an OJ entry that names the file only by,
      say, an act it amends is no publication of the file's act.
    """
    canonical = celex(document)
    if canonical is None or not canonical.startswith("3"):
        return (), ()
    known = set(aliases) | {dossier_reference}
    key = f"celex:{canonical}"
    if "(" in canonical:  # a corrigendum: R(nn)
        act = equivalents(canonical)[-1]
        if act in known:
            event = DossierEvent(day, EventKind.CORRIGENDUM, source, key, document=canonical)
            return (), (event,)
        return (), ()
    if canonical[5] not in "RLD":
        return (), ()
    publication = DossierEvent(day, EventKind.OJ_PUBLICATION, source, key, document=canonical)
    if canonical in known:
        return (), (publication,)
    names_the_file = False
    for ref in references:
        norm = normalize_reference(ref) or ref
        kind = reference_kind(norm)
        if norm == dossier_reference or (
            norm in known
            and (kind is ReferenceKind.COM or (kind is ReferenceKind.CELEX and norm[0] == "5"))
        ):
            names_the_file = True
            break
    if not names_the_file:
        return (), ()
    return equivalents(canonical), (publication,)
