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
    EventKind,
    FetchResult,
    ProcedureType,
    RawItem,
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
    )
    return DossierBatch((record,), (), tuple(f"{reference}: {p}" for p in problems))


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
