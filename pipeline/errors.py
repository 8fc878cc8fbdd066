"""The eudigest error tree: every error class of the project, where it is defined.

EudigestError
├── ConfigError                 a setting, sources.yaml or taxonomy.yaml is wrong
├── SourceError(source_id)      one source failed; the run goes on
│   ├── FetchError              network, HTTP status, size cap, redirects
│   └── ParseError              not a feed, malformed beyond repair, bad JSON
├── NotFound                    carries the id asked for
│   ├── SourceNotFound
│   ├── ItemNotFound
│   ├── EditionNotFound
│   ├── UserNotFound
│   ├── DossierNotFound         no dossier has that reference or alias
│   ├── CorrectionNotFound      no correction has that id
│   └── SubscriberNotFound
├── InvalidInput (ValueError)   something a person sent us is wrong
│   ├── StaleEdit               someone else changed it since the form was opened
│   ├── PreflightBlocked        approval refused: the preflight has blocking findings
│   ├── InvalidEmail            subscribers.addresses: not an address we can mail
│   ├── InvalidForm             subscribers.profiles: a sign-up or preferences form
│   ├── RateLimited             subscribers.signup: too many sign-ups from one place
│   ├── TokenInvalid            subscribers.tokens: a link expired, was altered or replaced
│   ├── FeedbackInvalid         subscribers.feedback: a feedback link forged, expired, replayed
│   ├── SuggestionInvalid       subscribers.feedback: "Was fehlt Ihnen?" empty or too long
│   └── BatchTooLarge           subscribers.events: a webhook batch beyond the limit
├── Forbidden                   the role or the four-eyes rule does not allow it
├── InvalidTransition           an edition cannot go from one state to another
│   └── NotSendable             deliver.send: `send` of a draft or a sent edition
├── LoginFailed                 curate.staff: wrong name or password, locked (never says which)
├── WebhookRejected             deliver.sendgrid: an Event Webhook call we do not trust
├── ModelRefused                curate.learning: a stored model of another version or that
│                               does not load (the rules decide)
├── StoreError                  the database failed; __cause__ holds the driver error
│   ├── StoreUnavailable        it cannot be reached or refused the operation for now
│   └── DuplicateItem
└── DeliveryError(permanent)    a mail could not be sent
    ├── SendFailed              deliver.sendgrid: one request failed (permanent, transient,
    │                           unknown, halt)
    ├── SendStopped             deliver.send: the backend refuses all sending (401/403)
    │   ├── SendBlocked         deliver.send: a setting stops every mail (the edition halts)
    │   └── SendDueStopped      deliver.send: ... during send-due (later editions untried)
    └── SendUnfinished          deliver.send: send-due stopped early; the rest is queued
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class EudigestError(Exception):
    """Root of every error eudigest raises on purpose."""


class ConfigError(EudigestError):
    """Configuration is invalid. The message names the variable or file, line and field."""


class SourceError(EudigestError):
    def __init__(self, source_id: str, message: str) -> None:
        super().__init__(message)
        self.source_id = source_id
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str]]:
        # pickled from a parsing process (ingest): rebuilt with both arguments
        return (type(self), (self.source_id, self.message))


class FetchError(SourceError):
    pass


class ParseError(SourceError):
    pass


class NotFound(EudigestError):
    def __init__(self, ident: object) -> None:
        super().__init__(f"{type(self).__name__}: {ident!r}")
        self.ident = ident


class SourceNotFound(NotFound):
    pass


class ItemNotFound(NotFound):
    pass


class EditionNotFound(NotFound):
    pass


class CorrectionNotFound(NotFound):
    pass


class DossierNotFound(NotFound):
    pass


class UserNotFound(NotFound):
    pass


class SubscriberNotFound(NotFound):
    pass


class InvalidInput(EudigestError, ValueError):
    pass


class StaleEdit(InvalidInput):
    """An edit started from an old version; nothing was changed."""


class PreflightBlocked(InvalidInput):
    """Approval refused while the preflight finds something blocking (`findings`)."""

    def __init__(self, edition_id: int, findings: Sequence[Any]) -> None:
        lines = "; ".join(str(getattr(f, "message", f)) for f in findings)
        super().__init__(
            f"Die Ausgabe kann noch nicht freigegeben werden ({len(findings)} "
            f"{'Punkt blockiert' if len(findings) == 1 else 'Punkte blockieren'}): {lines}"
        )
        self.edition_id = edition_id
        self.findings = tuple(findings)


class Forbidden(EudigestError):
    pass


class InvalidTransition(EudigestError):
    def __init__(self, edition_id: int, from_state: str, to_state: str) -> None:
        super().__init__(f"edition {edition_id}: cannot go from {from_state} to {to_state}")
        self.edition_id = edition_id
        self.from_state = from_state
        self.to_state = to_state


class StoreError(EudigestError):
    pass


class StoreUnavailable(StoreError):
    """The database cannot be reached, is locked or went away: perhaps only for now."""


class DuplicateItem(StoreError):
    pass


class DeliveryError(EudigestError):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent
