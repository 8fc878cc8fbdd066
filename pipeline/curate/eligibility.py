"""Staff correct a funding call's facets on the desk (issue 17).

    parse_facets(form)  → Eligibility (or None: no facets), InvalidInput in German
    correct(store, item_id, facets, actor, now)

A correction is kept for good: ingest never overwrites facets that staff set.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from pipeline.errors import InvalidInput
from pipeline.model import StaffUser
from pipeline.model.eligibility import (
    MAX_ACTION_TYPE,
    MAX_PROGRAMME,
    MAX_RATE_NOTE,
    Eligibility,
    parse_applicants,
)
from pipeline.store import Store

MAX_BUDGET = 10**12  # one trillion euros: more is a typing error


def _amount(text: str) -> int | None:
    """'20.000.000', '20 000 000 €', '20 Mio.', '1,5 Mio. €' → euros; '' → None."""
    plain = text.strip().replace("€", "").replace("EUR", "").replace("Euro", "").strip()
    if not plain:
        return None
    m = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(Mio\.?|Millionen|Mrd\.?|Milliarden)", plain)
    if m:
        scale = 10**9 if m.group(2).startswith(("Mrd", "Milliarden")) else 10**6
        return round(float(m.group(1).replace(",", ".")) * scale)
    digits = re.sub(r"[.\s\u00a0]", "", plain)
    if not digits.isdigit():
        raise InvalidInput(f"Budget „{text[:40]}“: bitte eine Zahl in Euro (z. B. 20.000.000).")
    return int(digits)


def parse_facets(form: Mapping[str, str], applicants: Sequence[str]) -> Eligibility | None:
    """The facets a staff member entered; None when every field is empty."""
    try:
        who = parse_applicants(list(applicants))
    except ValueError as exc:
        raise InvalidInput(f"Antragsberechtigt: {exc}") from None
    budget = _amount(form.get("budget_eur", ""))
    if budget is not None and not 0 < budget <= MAX_BUDGET:
        raise InvalidInput("Budget: bitte einen Betrag über 0 Euro.")
    rate_text = form.get("funding_rate", "").strip().removesuffix("%").strip()
    rate = None
    if rate_text:
        if not rate_text.isdigit() or not 0 < int(rate_text) <= 100:
            raise InvalidInput("Förderquote: bitte eine ganze Zahl von 1 bis 100 (Prozent).")
        rate = int(rate_text)
    german = {"ja": True, "nein": False}.get(form.get("german_applicants", ""))
    found = Eligibility(
        programme=" ".join(form.get("programme", "").split())[:MAX_PROGRAMME],
        applicants=who,
        action_type=" ".join(form.get("action_type", "").split())[:MAX_ACTION_TYPE],
        budget_eur=budget,
        funding_rate=rate,
        rate_note=" ".join(form.get("rate_note", "").split())[:MAX_RATE_NOTE],
        german_applicants=german,
    )
    return None if found.empty else found


def correct(
    store: Store, item_id: int, facets: Eligibility | None, *, actor: StaffUser, now: dt.datetime
) -> Eligibility | None:
    return store.eligibility.correct(item_id, facets, by=actor.name, now=now)
