"""Staff correct an item of an edition that went out (ADR 0009).

    correct_item(edition, item, headline | comment | link | deadline | withdrawn,
                 reason, delivery)
      ▸ editors and admins only; only a SENT edition; the item must be in it
      ▸ each change must differ from what the readers got; a reason is required
      ▸ receivers: exactly the subscribers whose delivery of the edition contained the
        item and was sent (the ledger and the segments recorded when it was planned)
      ▸ one store transaction: the correction, the annotation's new headline/comment,
        one notice per receiver (queued mail, or waiting for their next digest), audit

Every message is German: staff read them in the desk and on the command line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline.errors import Forbidden, InvalidInput
from pipeline.model import (
    DEADLINE_LABELS,
    MAX_FIELD,
    MAX_REASON,
    Correction,
    CorrectionChange,
    CorrectionDelivery,
    CorrectionField,
    Deadline,
    EditionState,
    Role,
    StaffUser,
    corrected,
    deadline_value,
    german_date,
    parse_deadline,
)
from pipeline.store import Store
from pipeline.text import safe_href

CORRECTORS = (Role.EDITOR, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class CorrectionRequest:
    """What staff entered: None means "unchanged"."""

    headline: str | None = None
    comment: str | None = None
    link: str | None = None
    deadline_old: str | None = None  # "2027-03-15 call_closing": which deadline
    deadline_new: dt.date | None = None
    withdrawn: bool = False
    reason: str = ""
    delivery: CorrectionDelivery = CorrectionDelivery.NEXT


@dataclass(frozen=True, slots=True)
class CorrectionResult:
    correction: Correction
    # sent deliveries of the edition whose items are not known (planned before their
    # segments were recorded, and not provable since): they get no notice
    unattributed: int = 0

    @property
    def message(self) -> str:
        """What the desk and the command line tell staff (German)."""
        c = self.correction
        who = f"{c.receivers} {'Leser' if c.receivers == 1 else 'Lesern'}"
        if c.receivers == 0:
            text = "Korrektur gespeichert; sie steht im Archiv. Keine Mitteilung geht hinaus."
        elif c.delivery is CorrectionDelivery.MAIL:
            text = (
                f"Korrektur gespeichert; {who} geht sie als kurze Mail zu "
                "(beim nächsten Versandlauf)."
            )
        else:
            text = f"Korrektur gespeichert; {who} steht sie oben im nächsten Newsletter."
        if self.unattributed:
            n = self.unattributed
            text += (
                f" Bei {n} {'Zustellung' if n == 1 else 'Zustellungen'} dieser Ausgabe ist "
                "nicht sicher bekannt, welche Meldungen sie enthielt (versandt vor der "
                "Aufzeichnung, Leserprofil seither geändert): dorthin geht keine Mitteilung."
            )
        return text


def may_correct(actor: StaffUser) -> bool:
    return actor.active and actor.role in CORRECTORS


def correct_item(
    store: Store,
    edition_id: int,
    item_id: int,
    request: CorrectionRequest,
    *,
    actor: StaffUser,
    now: dt.datetime,
) -> CorrectionResult:
    """Record a correction of an item of a sent edition and notify who got it."""
    if not may_correct(actor):
        raise Forbidden("Nur die Redaktion korrigiert versandte Meldungen.")
    edition = store.editions.get(edition_id)
    if edition.state is not EditionState.SENT:
        raise InvalidInput(
            "Nur eine versandte Ausgabe wird korrigiert; vor dem Versand ändern Sie die "
            "Meldung einfach in der Ausgabe."
        )
    if item_id not in edition.item_ids:
        raise InvalidInput(f"Meldung {item_id} gehört nicht zu dieser Ausgabe.")
    item = store.items.get(item_id)
    earlier = store.corrections.for_items([item_id])
    if any(c.withdrawn for c in earlier):
        raise InvalidInput("Diese Meldung ist bereits zurückgezogen.")
    now_item = corrected(item, earlier)
    reason = " ".join(request.reason.split())
    if not reason:
        raise InvalidInput("Bitte den Grund der Korrektur angeben (die Leser sehen ihn).")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Der Grund ist zu lang (höchstens {MAX_REASON} Zeichen).")

    changes: list[CorrectionChange] = []
    own_headline = item.annotation.headline.strip() if item.annotation else ""
    if request.headline is not None:
        new = " ".join(request.headline.split())
        old = own_headline or " ".join(item.title.split())
        if not new:
            raise InvalidInput("Die neue Überschrift ist leer.")
        if len(new) > MAX_FIELD:
            raise InvalidInput(f"Die Überschrift ist zu lang (höchstens {MAX_FIELD} Zeichen).")
        if new != old:
            changes.append(CorrectionChange(CorrectionField.HEADLINE, old, new))
    if request.comment is not None:
        new = request.comment.strip()
        old = item.annotation.comment_md.strip() if item.annotation else ""
        if len(new) > MAX_FIELD:
            raise InvalidInput(f"Die Einordnung ist zu lang (höchstens {MAX_FIELD} Zeichen).")
        if new != old:
            changes.append(CorrectionChange(CorrectionField.COMMENT, old, new))
    if request.link is not None and request.link.strip():
        new = safe_href(request.link.strip()) or ""
        if not new.startswith(("https://", "http://")) or len(new) > 2000:
            raise InvalidInput("Der Link muss eine vollständige Adresse mit https:// sein.")
        old = now_item.url or ""
        if new != old:
            changes.append(CorrectionChange(CorrectionField.LINK, old, new))
    if request.deadline_old:
        try:
            which = parse_deadline(request.deadline_old)
        except ValueError:
            raise InvalidInput("Diese Frist gibt es bei der Meldung nicht.") from None
        if not any((d.date, d.kind) == (which.date, which.kind) for d in now_item.deadlines):
            raise InvalidInput("Diese Frist gibt es bei der Meldung nicht.")
        if request.deadline_new is None:
            raise InvalidInput("Bitte das richtige Datum der Frist angeben.")
        if request.deadline_new != which.date:
            moved = deadline_value(Deadline(request.deadline_new, which.kind))
            changes.append(CorrectionChange(CorrectionField.DEADLINE, deadline_value(which), moved))
    if not changes and not request.withdrawn:
        raise InvalidInput(
            "Es ist nichts geändert: bitte Überschrift, Einordnung, Link oder Frist "
            "berichtigen oder die Meldung zurückziehen."
        )
    receivers, _ = store.corrections.receivers(edition_id, item_id)
    correction = store.corrections.create(
        edition_id=edition_id,
        item_id=item_id,
        changes=changes,
        withdrawn=request.withdrawn,
        reason=reason,
        delivery=request.delivery,
        receivers=receivers,
        actor=actor.name,
        now=now,
    )
    return CorrectionResult(correction, store.corrections.unrecorded(edition_id))


def resolve_unknown(
    store: Store, correction_id: int, *, resend: bool, actor: StaffUser, now: dt.datetime
) -> int:
    """Correction mails whose outcome is unknown (the sender died mid-request): count them
    as sent, or queue them again (`resend`: the next send-due sends them). Audited."""
    if not may_correct(actor):
        raise Forbidden("Nur die Redaktion entscheidet über Zustellungen.")
    return store.corrections.resolve_unknown(
        correction_id, resend=resend, actor=actor.name, now=now
    )


def deadline_choices(store: Store, item_id: int) -> list[tuple[str, str]]:
    """The item's deadlines as (value, German label) for the form, as corrected so far."""
    item = corrected(store.items.get(item_id), store.corrections.for_items([item_id]))
    return [
        (deadline_value(d), f"{DEADLINE_LABELS[d.kind]}: {german_date(d.date)}")
        for d in sorted(item.deadlines, key=lambda d: (d.date, d.kind.value))
    ]


def parse_delivery(value: str) -> CorrectionDelivery:
    """'mail' / 'sofort' or 'next' / 'naechste' (desk form and command line)."""
    value = value.strip().lower()
    if value in ("mail", "sofort", "now"):
        return CorrectionDelivery.MAIL
    if value in ("next", "naechste", "nächste", ""):
        return CorrectionDelivery.NEXT
    raise InvalidInput(
        "Zustellung: „mail“ (sofort als kurze Mail) oder „next“ (im nächsten Newsletter)."
    )
