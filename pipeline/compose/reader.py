"""What the digest adds for its reader (issue 17), as plain German text (pure).

call_lines(item, today)       → (facts, eligibility): "Budget 20 Mio. € · Förderquote
                                100 % · Einreichungsschluss 15. September 2026" and
                                "Horizont Europa · … · Antragsberechtigt: …", or
                                "Antragsberechtigung: siehe Aufruf" when sources say nothing
open_to(item, applicant)      → True / False / None (unknown) for a funding call
"""

from __future__ import annotations

import datetime as dt

from pipeline.model import DeadlineKind, DocType, Item
from pipeline.model.eligibility import UNKNOWN_LINE, Applicant, Eligibility
from pipeline.text import de_date, de_number


def is_call(item: Item) -> bool:
    return item.doc_type is DocType.FUNDING_CALL


def open_to(item: Item, applicant: Applicant | None) -> bool | None:
    """Whether readers of this kind may apply for this call (None: not a call, or unknown)."""
    if not is_call(item) or item.eligibility is None:
        return None
    return item.eligibility.open_to(applicant)


def _day(value: dt.date) -> str:
    return de_date(value, "d. MMMM yyyy")


def call_deadlines(item: Item, today: dt.date) -> tuple[tuple[str, dt.date], ...]:
    """The call's coming dates: opening (if still ahead), then each stage's deadline."""
    opening = sorted(d.date for d in item.deadlines if d.kind is DeadlineKind.CALL_OPENING)
    closing = sorted({d.date for d in item.deadlines if d.kind is DeadlineKind.CALL_CLOSING})
    found = [("Öffnung", day) for day in opening if day >= today][:1]
    for stage, day in enumerate(closing, start=1):
        if day >= today:
            found.append((f"Frist {stage}. Stufe" if len(closing) > 1 else "Frist", day))
    return tuple(found)


def euro(amount: int) -> str:
    """German amounts: '24 Mio. €', '1,5 Mio. €', '750.000 €'."""
    if amount >= 1_000_000 and amount % 100_000 == 0:
        return de_number(amount / 1_000_000, 1).removesuffix(",0") + " Mio. €"
    return de_number(amount, 0) + " €"


def facts_line(e: Eligibility | None, deadlines: tuple[tuple[str, dt.date], ...]) -> str:
    """'Budget 20 Mio. € · Förderquote 100 % · Frist 15. September 2026' (one line)."""
    parts: list[str] = []
    if e is not None and e.budget_eur is not None:
        parts.append(f"Budget {euro(e.budget_eur)}")
    if e is not None and e.funding_rate is not None:
        note = f" ({e.rate_note})" if e.rate_note else ""
        parts.append(f"Förderquote {e.funding_rate} %{note}")
    parts += [f"{label} {_day(day)}" for label, day in deadlines]
    return " · ".join(parts)


def call_lines(item: Item, today: dt.date) -> tuple[str, str]:
    """(facts, eligibility) of a funding call; ("", "") for anything else."""
    if not is_call(item):
        return "", ""
    e = item.eligibility
    facts = facts_line(e, call_deadlines(item, today))
    if e is None or not e.applicants:
        who = UNKNOWN_LINE
    elif e.german_applicants is False:
        who = "Antragsberechtigt: nicht für Antragsteller aus Deutschland"
    elif len(e.applicants) == len(Applicant):
        who = "Antragsberechtigt: alle Organisationsarten"
    else:
        who = "Antragsberechtigt: " + ", ".join(e.applicant_labels)
    head = " · ".join(x for x in ((e.programme, e.action_type) if e else ()) if x)
    return facts, f"{head} · {who}" if head else who
