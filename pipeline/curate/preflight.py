"""Preflight: the checklist of an edition before approval and sending (pure).

    check(edition, items, office, settings, today, …facts) -> Preflight(blocking, warnings)

Blocking (approval is refused while one stands, see `curate.approve`):
- office.yaml still holds a sample value ("… hier eintragen", example.org, TODO) or a
  setting every mail needs is empty (name, sender, imprint, privacy page);
- mails would go out (EUDIGEST_MAIL_BACKEND=sendgrid) and EUDIGEST_BASE_URL is unset or
  not https, or EUDIGEST_SECRET_KEY is unset; SendGrid is chosen without a key;
- the edition has no item, or a section has no item that would be sent.
With the outbox backend no mail leaves the machine (files under var/outbox, the demo,
trying things out): base URL and secret key are then warnings, so that the switch to
SendGrid is not the first time anyone hears of them.

Warnings (staff acknowledge them, audited): deadlines already passed; links that fail
(checked by `curate.links`); items an earlier edition of the newsletter already sent;
links to an English EU page in a comment or the intro where a German version exists;
"Handlungsbedarf" without a comment; a subject over 78 characters; how many readers
get what. The facts that need I/O (links, earlier editions, reach) are passed in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence

from pipeline.config import Settings
from pipeline.model import (
    MAX_SUBJECT,
    Acknowledgement,
    DeadlineKind,
    Edition,
    Finding,
    Item,
    ItemStatus,
    LinkStatus,
    Office,
    Preflight,
    PreflightCode,
    Priority,
    Reach,
    german_link,
)
from pipeline.text import de_date, de_number

__all__ = [
    "PLACEHOLDER_RE",
    "blocking_findings",
    "check",
    "edition_findings",
    "edition_links",
    "office_findings",
    "setup_findings",
]

# What a sample value in office.yaml looks like: the shipped imprint's "(… hier
# eintragen)", example domains, and the usual markers of something left to do.
PLACEHOLDER_RE = re.compile(
    r"hier\s+eintragen|bitte\s+eintragen|\bexample\.(?:org|com|net)\b|"
    r"\b(?:todo|fixme|tbd|lorem\s+ipsum|platzhalter)\b",
    re.IGNORECASE,
)
URL_RE = re.compile(r"https?://[^\s<>()\[\]\"'`]+", re.IGNORECASE)
PASSED_KINDS = frozenset(
    {
        DeadlineKind.CALL_CLOSING,
        DeadlineKind.CONSULTATION_END,
        DeadlineKind.DEADLINE,
        DeadlineKind.EVENT,
    }
)
GONE = (ItemStatus.DELETED, ItemStatus.REJECTED)

# office.yaml fields: (where, German name, required)
_OFFICE_FIELDS = (
    ("office.name", "der Name des Büros", True),
    ("office.sender_email", "die Absenderadresse", True),
    ("office.sender_name", "der Absendername", False),
    ("office.reply_to", "die Antwortadresse", False),
    ("office.imprint", "das Impressum", True),
    ("office.privacy_url", "der Link zur Datenschutzerklärung", True),
    ("branding.logo_url", "die Logo-Adresse", False),
    ("branding.logo_alt", "der Alternativtext des Logos", False),
)


def _office_value(office: Office, where: str) -> str:
    part, _, name = where.partition(".")
    source = office.branding if part == "branding" else office
    return str(getattr(source, name) or "").strip()


def office_findings(office: Office) -> list[Finding]:
    """office.yaml settings that are still a sample value, or empty but needed."""
    found: list[Finding] = []
    for where, label, required in _OFFICE_FIELDS:
        value = _office_value(office, where)
        if not value:
            if required:
                found.append(
                    Finding(
                        PreflightCode.OFFICE_EMPTY,
                        f"office.yaml: {label} ({where}) fehlt. Er steht in jeder Mail und im "
                        "öffentlichen Archiv: bitte eintragen und die Anwendung neu starten.",
                        where,
                        blocking=True,
                    )
                )
            continue
        match = PLACEHOLDER_RE.search(value)
        if match is not None:
            sample = _line_of(value, match.start())
            found.append(
                Finding(
                    PreflightCode.OFFICE_PLACEHOLDER,
                    f"office.yaml: {label} ({where}) enthält noch den Platzhalter „{sample}“. "
                    "Bitte die echten Angaben eintragen und die Anwendung neu starten.",
                    where,
                    blocking=True,
                )
            )
    return found


def _line_of(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    line = text[start : end if end >= 0 else len(text)].strip()
    return line if len(line) <= 120 else line[:119] + "…"


def setup_findings(settings: Settings) -> list[Finding]:
    """Base URL, secret key and SendGrid key: blocking when mails would go out (the
    SendGrid backend), warnings with the outbox (files only; nobody receives them)."""
    sends = settings.mail_backend == "sendgrid"
    later = (
        ""
        if sends
        else " (Noch geht keine Mail hinaus: Postausgang als Dateien. Vor dem Umstieg auf "
        "SendGrid nötig.)"
    )
    found: list[Finding] = []
    base = settings.base_url
    if not base:
        found.append(
            Finding(
                PreflightCode.BASE_URL_MISSING,
                "EUDIGEST_BASE_URL ist nicht gesetzt: Links in den Mails (Abmelden, "
                "Einstellungen, Archiv) hätten keine Adresse. Bitte die öffentliche "
                "https-Adresse der Installation eintragen." + later,
                "EUDIGEST_BASE_URL",
                blocking=sends,
            )
        )
    elif not base.startswith("https://"):
        found.append(
            Finding(
                PreflightCode.BASE_URL_NOT_HTTPS,
                f"EUDIGEST_BASE_URL ({base}) beginnt nicht mit https://: die Ein-Klick-"
                "Abmeldung (List-Unsubscribe-Post) verlangt https, und Links zu den "
                "Einstellungen gingen unverschlüsselt." + later,
                "EUDIGEST_BASE_URL",
                blocking=sends,
            )
        )
    if not settings.secret_key:
        found.append(
            Finding(
                PreflightCode.SECRET_KEY_MISSING,
                "EUDIGEST_SECRET_KEY ist nicht gesetzt: Abmelde- und Einstellungslinks wären "
                "nach einem Neustart ungültig. Bitte mindestens 32 zufällige Zeichen "
                "eintragen." + later,
                "EUDIGEST_SECRET_KEY",
                blocking=sends,
            )
        )
    if sends and not settings.sendgrid_api_key:
        found.append(
            Finding(
                PreflightCode.SENDGRID_KEY_MISSING,
                "EUDIGEST_MAIL_BACKEND=sendgrid, aber SENDGRID_API_KEY ist nicht gesetzt.",
                "SENDGRID_API_KEY",
                blocking=True,
            )
        )
    return found


def _sendable(item: Item | None) -> bool:
    return item is not None and item.status not in GONE


def edition_findings(edition: Edition, items: Mapping[int, Item]) -> list[Finding]:
    """An empty edition; sections with no item that would be sent."""
    if not edition.item_ids:
        return [
            Finding(
                PreflightCode.EDITION_EMPTY,
                "Eine leere Ausgabe kann nicht freigegeben werden: Sie enthält keine Meldung.",
                blocking=True,
            )
        ]
    found: list[Finding] = []
    for section in sorted(edition.sections, key=lambda s: s.position):
        if not any(_sendable(items.get(i)) for i in section.item_ids):
            what = (
                "ist leer"
                if not section.item_ids
                else "enthält nur gelöschte oder abgelehnte Meldungen"
            )
            found.append(
                Finding(
                    PreflightCode.SECTION_EMPTY,
                    f"Der Abschnitt „{section.title}“ {what}: Meldungen hinzufügen oder den "
                    "Abschnitt entfernen.",
                    str(section.id),
                    blocking=True,
                )
            )
    return found


def blocking_findings(
    edition: Edition,
    items: Mapping[int, Item],
    office: Office,
    settings: Settings,
) -> list[Finding]:
    """What refuses approval (all of it needs no network and no reader list)."""
    found = office_findings(office) + setup_findings(settings) + edition_findings(edition, items)
    return [f for f in found if f.blocking]


def _headline(item: Item) -> str:
    a = item.annotation
    text = (a.headline if a is not None and a.headline else "") or item.title
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:79] + "…"


def _sent_items(edition: Edition, items: Mapping[int, Item]) -> list[Item]:
    seen: set[int] = set()
    out: list[Item] = []
    for i in edition.item_ids:
        item = items.get(i)
        if item is not None and _sendable(item) and i not in seen:
            seen.add(i)
            out.append(item)
    return out


def edition_links(edition: Edition, items: Mapping[int, Item]) -> list[str]:
    """The links a reader of the edition gets, each once: the items' links (and the
    German version the digest uses instead, where there is one), the links in comments
    and in the intro."""
    urls: list[str] = []
    for item in _sent_items(edition, items):
        for url in (item.url, german_link(item.url)):
            if url:
                urls.append(url)
        if item.annotation is not None:
            urls.extend(_links_in(item.annotation.comment_md))
    urls.extend(_links_in(edition.intro))
    return list(dict.fromkeys(urls))


def _links_in(text: str) -> list[str]:
    return [m.group(0).rstrip(".,;:!?") for m in URL_RE.finditer(text or "")]


def check(
    edition: Edition,
    items: Mapping[int, Item],
    office: Office,
    settings: Settings,
    *,
    today: dt.date,
    sent_before: Mapping[int, Edition] | None = None,
    links: Mapping[str, LinkStatus] | None = None,
    reach: Reach | None = None,
    acknowledged: Iterable[Acknowledgement] = (),
) -> Preflight:
    """The whole checklist. `sent_before`: item id → an earlier *sent* edition of the
    same newsletter that carried it; `links`: the results of `curate.links`; `reach`:
    from the segments of the edition (compose). Missing facts are not checked."""
    found = office_findings(office) + setup_findings(settings) + edition_findings(edition, items)
    blocking = [f for f in found if f.blocking]
    warnings = [f for f in found if not f.blocking]
    sent = _sent_items(edition, items)
    warnings += _deadline_findings(sent, today)
    if links is not None:
        warnings += _link_findings(edition_links(edition, items), links)
    if sent_before:
        warnings += _sent_before_findings(sent, sent_before, edition)
    warnings += _english_link_findings(edition, sent)
    warnings += _comment_findings(sent)
    if len(edition.title) > MAX_SUBJECT:
        warnings.append(
            Finding(
                PreflightCode.SUBJECT_TOO_LONG,
                f"Der Betreff ist {len(edition.title)} Zeichen lang (empfohlen höchstens "
                f"{MAX_SUBJECT}); Mailprogramme kürzen ihn. Bitte den Titel kürzen.",
            )
        )
    if reach is not None:
        warnings.append(_reach_finding(reach))
    by_key = {a.key: a for a in acknowledged}
    open_ = tuple(f for f in warnings if f.key not in by_key)
    done = tuple((f, by_key[f.key]) for f in warnings if f.key in by_key)
    return Preflight(edition.id, tuple(blocking), open_, done)


def _deadline_findings(sent: Sequence[Item], today: dt.date) -> list[Finding]:
    found = []
    for item in sent:
        dates = [d for d in item.deadlines if d.kind in PASSED_KINDS]
        if dates and all(d.date < today for d in dates):
            last = max(dates, key=lambda d: d.date)
            what = last.label or ("Termin" if last.kind is DeadlineKind.EVENT else "Frist")
            found.append(
                Finding(
                    PreflightCode.DEADLINE_PASSED,
                    f"„{_headline(item)}“: {what} am {de_date(last.date)} ist schon vorbei.",
                    str(item.id),
                )
            )
    return found


def _link_findings(urls: Sequence[str], links: Mapping[str, LinkStatus]) -> list[Finding]:
    found = []
    for url in urls:
        status = links.get(url)
        if status is not None and not status.ok:
            found.append(
                Finding(
                    PreflightCode.LINK_FAILED,
                    f"Der Link {url} funktioniert nicht ({status.detail or 'Fehler'}).",
                    url,
                )
            )
    return found


def _sent_before_findings(
    sent: Sequence[Item], before: Mapping[int, Edition], edition: Edition
) -> list[Finding]:
    found = []
    for item in sent:
        earlier = before.get(item.id)
        if earlier is None or earlier.id == edition.id:
            continue
        when = f" vom {de_date(earlier.sent_at.date())}" if earlier.sent_at else ""
        found.append(
            Finding(
                PreflightCode.SENT_BEFORE,
                f"„{_headline(item)}“ ging schon mit der Ausgabe „{earlier.title}“{when} hinaus.",
                str(item.id),
            )
        )
    return found


def _english_link_findings(edition: Edition, sent: Sequence[Item]) -> list[Finding]:
    """Links staff wrote (comments, intro) to an English EU page with a German version.
    (An item's own link needs no warning: the digest links the German version itself.)"""
    texts = [(f"„{_headline(i)}“", i.annotation.comment_md) for i in sent if i.annotation]
    texts.append(("Einleitung", edition.intro))
    found = []
    for where, text in texts:
        for url in dict.fromkeys(_links_in(text)):
            german = german_link(url)
            if german and german != url:
                found.append(
                    Finding(
                        PreflightCode.ENGLISH_LINK,
                        f"{where}: Der Link {url} führt zur englischen Fassung; "
                        f"auf Deutsch: {german}",
                        url,
                    )
                )
    return found


def _comment_findings(sent: Sequence[Item]) -> list[Finding]:
    return [
        Finding(
            PreflightCode.ACTION_WITHOUT_COMMENT,
            f"„{_headline(i)}“ ist als „Handlungsbedarf“ markiert, hat aber keine Einordnung.",
            str(i.id),
        )
        for i in sent
        if i.annotation is not None
        and i.annotation.priority is Priority.ACTION
        and not i.annotation.comment_md.strip()
    ]


def _reach_finding(reach: Reach) -> Finding:
    subject = f"{reach.readers}/{reach.variants}/{reach.nothing}"
    if not reach.readers:
        message = "Kein bestätigter Leser: Die Ausgabe ginge an niemanden."
        return Finding(PreflightCode.REACH, message, subject)
    readers = "1 Leser" if reach.readers == 1 else f"{de_number(reach.readers, 0)} Leser"
    variants = "1 Variante" if reach.variants == 1 else f"{de_number(reach.variants, 0)} Varianten"
    if not reach.nothing:
        nothing = "alle bekommen Meldungen"
    else:
        verb = "bekommt" if reach.nothing == 1 else "bekommen"
        nothing = f"{de_number(reach.nothing, 0)} {verb} nichts"
    return Finding(PreflightCode.REACH, f"{readers}, {variants}; {nothing}.", subject)
