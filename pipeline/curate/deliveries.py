"""Staff decide about deliveries whose outcome is unknown (the sender stopped mid-request),
and resume a send that was halted for a person to fix.

    unknown ──"Als zugestellt werten"──► sent      nothing is resent
    unknown ──"Erneut senden"─────────► queued    a SENT edition goes back to SENDING,
                                                  so the next `send-due` sends exactly these
    halted ──"Versand fortsetzen"─────► sending   refused while a blocker stands; the next
                                                  `send-due` sends the ledger's queued rows

Either for every unknown delivery of the edition or for the ones chosen. Editors and
admins may decide; each decision is one store transaction with an audit entry naming
the staff member.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pipeline.errors import Forbidden, InvalidInput
from pipeline.model import Edition, Resolution, Role, SendBlocker, StaffUser
from pipeline.store import Store

MAX_SELECTED = 5_000  # ids in one request; "alle" has no limit
DECIDERS = (Role.EDITOR, Role.ADMIN)


def may_decide(actor: StaffUser) -> bool:
    """Editors and admins (every active desk role) decide about deliveries."""
    return actor.active and actor.role in DECIDERS


def resolve_unknown(
    store: Store,
    edition_id: int,
    *,
    delivery_ids: Sequence[int] | None,
    resend: bool,
    actor: StaffUser,
    now: dt.datetime,
) -> Resolution:
    """Treat unknown deliveries as sent, or queue them again (`resend`).

    `delivery_ids` None: all unknown deliveries of the edition; else exactly these
    (refused as a whole when one of them is not an unknown delivery of the edition).
    """
    if not may_decide(actor):
        raise Forbidden("Nur die Redaktion entscheidet über Zustellungen.")
    if delivery_ids is not None:
        if not delivery_ids:
            raise InvalidInput("Bitte zuerst Zustellungen auswählen.")
        if len(delivery_ids) > MAX_SELECTED:
            raise InvalidInput(
                f"Höchstens {MAX_SELECTED} Zustellungen auf einmal; für mehr „alle“ wählen."
            )
    return store.deliveries.resolve(
        edition_id, delivery_ids, resend=resend, actor=actor.name, now=now
    )


def resume_halted(
    store: Store,
    edition_id: int,
    *,
    blockers: Sequence[SendBlocker],
    actor: StaffUser,
    now: dt.datetime,
) -> Edition:
    """ "Versand fortsetzen": a halted edition goes back to SENDING (audited with the name).

    `blockers` are what the settings of this process still lack (`Settings.send_blockers`):
    while one stands, nothing changes and the message says what to fix. Exactly once holds
    as for any resume: only the ledger's queued rows are sent."""
    if not may_decide(actor):
        raise Forbidden("Nur die Redaktion setzt einen angehaltenen Versand fort.")
    if blockers:
        raise InvalidInput(
            "Der Versand kann noch nicht fortgesetzt werden: "
            + " ".join(b.message_de for b in blockers)
        )
    return store.editions.resume(edition_id, actor=actor.name, now=now)
