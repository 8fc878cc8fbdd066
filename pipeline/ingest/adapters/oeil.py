"""Legislative Observatory (OEIL) procedure files, as dossiers.

    https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file?reference=2024/0258(COD)

One page, one procedure. Read with beautifulsoup4 by the page's words, not its CSS
prefixes (the site moved from `erpl_` to `es_` once already):

    h2 "2024/0258(COD)", then the title       → reference, title_en
    table "Technical information"              → procedure type, stage reached
    table "Key players": committee responsible → lead committee (badge), rapporteur(s)
    table "Key events": date · event · ref     → events (COM, A10-…, T10-… as aliases)
    table "Forecasts" (when the file has one)  → forecast events
    "Final act": CELEX in the EUR-Lex link     → alias
    a key event or technical row saying split / merged, with procedure references
                                               → relations (split into / from, merged with)
    a link to the Legislative Train            → train_url (only when the page has one)

An anti-bot page, or a page without a procedure reference, is a ParseError.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from pipeline.errors import ParseError
from pipeline.ingest.adapters._base import DossierBatch, RequestSpec, is_challenge
from pipeline.ingest.adapters._text import collapse
from pipeline.model import (
    DossierEvent,
    DossierRecord,
    DossierRelation,
    EventKind,
    FetchResult,
    ProcedureType,
    RawItem,
    Relation,
    Source,
    normalize_reference,
    procedure_reference,
)

NAME = "oeil"
_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
_CELEX_LINK = re.compile(r"(?:numdoc=|CELEX[:=])([0-9CE]\d{4}[A-Z]{1,2}\d{4})", re.IGNORECASE)
_COM_IN_TEXT = re.compile(r"(?:COM|SWD|JOIN)\(\d{4}\)\d{1,5}")

# The words of OEIL's key events, most specific first.
_EVENT_WORDS: tuple[tuple[str, EventKind], ...] = (
    ("withdrawn", EventKind.WITHDRAWN),
    ("published in official journal", EventKind.OJ_PUBLICATION),
    ("final act signed", EventKind.SIGNED),
    ("act adopted by council", EventKind.COUNCIL_ADOPTION),
    ("council position", EventKind.COUNCIL_POSITION),
    ("council's position", EventKind.COUNCIL_POSITION),
    ("approval in committee of the text agreed", EventKind.COMMITTEE_APPROVE_PROVISIONAL_AGREEMENT),
    ("interinstitutional negotiations", EventKind.NEGOTIATIONS_OPENED),
    ("legislative proposal", EventKind.PROPOSAL),
    ("committee referral", EventKind.REFERRAL),
    ("vote in committee", EventKind.COMMITTEE_ADOPTING_REPORT),
    ("report tabled for plenary", EventKind.TABLING_PLENARY),
    ("debate in parliament", EventKind.PLENARY_DEBATE),
    ("debate in plenary", EventKind.PLENARY_DEBATE),
    ("decision by parliament", EventKind.PLENARY_ADOPT_POSITION),
    ("results of vote", EventKind.PLENARY_VOTE_RESULTS),
    ("indicative plenary sitting", EventKind.PLENARY_VOTE),
    ("vote scheduled in committee", EventKind.COMMITTEE_ADOPTING_REPORT),
)


def request(source: Source) -> RequestSpec:
    return RequestSpec(url=source.url, headers={"Accept": "text/html"})


def parse(source: Source, result: FetchResult) -> list[RawItem]:
    """A procedure file is a dossier, not an item: nothing for the item pipeline."""
    return []


def check_options(options: Mapping[str, Any]) -> list[str]:
    return []


def event_kind(words: str) -> EventKind:
    text = words.lower()
    for hint, kind in _EVENT_WORDS:
        if hint in text:
            return kind
    return EventKind.OTHER


def dossiers(source: Source, result: FetchResult) -> DossierBatch:
    from bs4 import BeautifulSoup

    if is_challenge(result.body):
        raise ParseError(source.id, "got an anti-bot JavaScript challenge, not a procedure file")
    soup = BeautifulSoup(result.body, "lxml")
    main = soup.find("main") or soup
    reference = None
    title = ""
    headings = main.find_all("h2")
    for n, h in enumerate(headings):
        reference = procedure_reference(h.get_text(" ", strip=True))
        if reference:
            if n + 1 < len(headings):
                title = collapse(headings[n + 1].get_text(" ", strip=True))
            break
    technical = _rows(_section(main, "Technical information"))
    if reference is None:
        reference = procedure_reference(technical.get("procedure reference", ""))
    if reference is None:
        raise ParseError(
            source.id, "no procedure reference on the page: not an OEIL procedure file"
        )
    problems: list[str] = []
    if not title:
        problems.append("no title")

    kind = ProcedureType.of(
        technical.get("procedure type", "").split(" ", 1)[0] or reference[-4:-1]
    )
    status = technical.get("stage reached in procedure", "")
    lead, rapporteurs = _key_players(_section(main, "Key players"))

    aliases: list[str] = []
    events: list[DossierEvent] = []
    relations: list[DossierRelation] = []
    for header, value in technical.items():
        relation = _relation(header)
        if relation is not None:
            relations.extend(
                DossierRelation(relation, other)
                for other in _procedures(value)
                if other != reference
            )
    for heading, forecast in (("Key events", False), ("Forecasts", True)):
        section = _section(main, heading)
        if section is None:
            continue
        for tr in section.select("tbody tr") or section.select("tr"):
            cells = tr.find_all("td")
            if len(cells) < 2:
                continue
            m = _DATE.search(cells[0].get_text(" ", strip=True))
            if m is None:
                continue
            date = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            words = collapse(cells[1].get_text(" ", strip=True))
            document = ""
            if len(cells) > 2:
                for token in cells[2].get_text(" ", strip=True).split():
                    found = normalize_reference(token)
                    if found and not document:
                        document = found
                        aliases.append(found)
            relation = _relation(words)
            others = [p for p in _procedures(tr.get_text(" ", strip=True)) if p != reference]
            if relation is not None and others and not forecast:
                # the relation becomes the event ("Verfahren aufgeteilt in …"): not twice
                relations.extend(DossierRelation(relation, other, date) for other in others)
                continue
            events.append(
                DossierEvent(
                    date=date,
                    kind=event_kind(words),
                    source=source.id,
                    key=f"{date.isoformat()}:{words}"[:300],
                    label_en=words,
                    document=document,
                    forecast=forecast,
                )
            )
    final = _section(main, "Final act")
    if final is not None:
        for a in final.find_all("a", href=True):
            m = _CELEX_LINK.search(unquote(str(a["href"])))
            if m:
                aliases.append(m.group(1).upper())
    for token in _COM_IN_TEXT.findall(main.get_text(" ")):
        found = normalize_reference(token)
        if found:
            aliases.append(found)
    if not events:
        problems.append("no key events")
    record = DossierRecord(
        reference=reference,
        source=source.id,
        title_en=title,
        procedure_type=kind,
        lead_committee=lead,
        rapporteur=", ".join(rapporteurs),
        status_text=status,
        withdrawn="withdrawn" in status.lower() or "lapsed" in status.lower(),
        aliases=tuple(dict.fromkeys(a for a in aliases if a != reference)),
        events=tuple(events),
        problems=tuple(problems),
        relations=tuple(dict.fromkeys(relations)),
        train_url=_train_url(main),
    )
    return DossierBatch((record,), (), tuple(f"{reference}: {p}" for p in problems))


# A split or a merger, in a key event's words ("Procedure split into 2025/0261(COD)",
# "Procedure resulting from the split of …", "Merged with …") or a technical row's
# header. No real page of ours shows one: the words are OEIL's usual English.
_SPLIT_FROM_WORDS = re.compile(r"split (?:from|of)|resulting from|result of the split|former")
_SPLIT_WORDS = re.compile(r"\bsplit")
_MERGE_WORDS = re.compile(r"\bmerg|\bjoined with|\bjoint procedure with")
_PROCEDURE_IN_TEXT = re.compile(r"(?:19|20)\d{2}\s*/\s*\d{1,4}\s*[(/]\s*[A-Za-z]{3}\s*\)?")


def _relation(words: str) -> Relation | None:
    text = words.lower()
    if _SPLIT_FROM_WORDS.search(text):
        return Relation.SPLIT_FROM
    if _SPLIT_WORDS.search(text):
        return Relation.SPLIT_INTO
    if _MERGE_WORDS.search(text):
        return Relation.MERGED_WITH
    return None


def _procedures(text: str) -> list[str]:
    found = (procedure_reference(m.group()) for m in _PROCEDURE_IN_TEXT.finditer(text))
    return list(dict.fromkeys(p for p in found if p))


def _train_url(main: Any) -> str:
    """The Legislative Train page the procedure file links to, if it links one."""
    for a in main.find_all("a", href=True):
        href = str(a["href"]).strip()
        if re.match(r"https?://(?:www\.)?europarl\.europa\.eu/legislative-train/", href):
            return href.replace("http://", "https://", 1)[:500]
    return ""


def _section(main: Any, heading: str) -> Any:
    """The block that an h2 with these words opens (up to the next block of its kind)."""
    for h in main.find_all("h2"):
        if h.get_text(" ", strip=True).lower().startswith(heading.lower()):
            block = h.find_parent(class_=re.compile(r"product-content|oeil-spy-section"))
            return block if block is not None else h.parent
    return None


def _rows(section: Any) -> dict[str, str]:
    """A two-column table as {lowercased header: text}."""
    if section is None:
        return {}
    found = {}
    for tr in section.find_all("tr"):
        th, td = tr.find("th"), tr.find("td")
        if th is not None and td is not None:
            found[th.get_text(" ", strip=True).lower()] = collapse(td.get_text(" ", strip=True))
    return found


def _key_players(section: Any) -> tuple[str, list[str]]:
    """The lead committee(s) and their rapporteurs, from the 'committee responsible' table."""
    if section is None:
        return "", []
    for table in section.find_all("table"):
        header = table.find("th")
        if header is None or "committee responsible" not in header.get_text(" ").lower():
            continue
        committees: list[str] = []
        rapporteurs: list[str] = []
        for tr in table.select("tbody tr"):
            badge = tr.find(class_=re.compile(r"badge-committee"))
            if badge is not None:
                committees.append(badge.get_text(strip=True))
            cells = tr.find_all("td")
            if cells:
                for a in cells[0].find_all("a", class_="rapporteur"):
                    if a.find_parent(id=re.compile("shadow", re.IGNORECASE)) is not None:
                        continue
                    name = collapse(a.get_text(" ", strip=True))
                    if name and name not in rapporteurs:
                        rapporteurs.append(name)
        return ", ".join(dict.fromkeys(committees)), rapporteurs
    return "", []
