"""Who may apply for a funding call: the facets the digest and the desk show.

A funding call's `Eligibility` is derived at ingest from what its source says
(pipeline/ingest/eligibility.py: the Funding & Tenders metadata, or the text of a call
from another source) and corrected by staff on the desk; a staff correction is never
overwritten by a later fetch. A call whose sources say nothing has no Eligibility and
reads "Antragsberechtigung: siehe Aufruf": nothing is guessed.

A subscriber says what kind of organisation they are (`Applicant`, on the preference
page); without that answer it follows from their organisation type where that is
unambiguous (Kommune/Landkreis → Kommunen und Landkreise, Hochschule → Hochschulen und
Forschung, Unternehmen → Unternehmen). Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipeline.model.subscribers import OrgType


class Applicant(StrEnum):
    KOMMUNEN = "kommunen"
    KMU = "kmu"
    UNTERNEHMEN = "unternehmen"
    HOCHSCHULEN = "hochschulen"
    VEREINE = "vereine"
    OEFFENTLICHE = "oeffentliche"


APPLICANT_LABELS = {
    Applicant.KOMMUNEN: "Kommunen und Landkreise",
    Applicant.KMU: "KMU",
    Applicant.UNTERNEHMEN: "Unternehmen",
    Applicant.HOCHSCHULEN: "Hochschulen und Forschung",
    Applicant.VEREINE: "Vereine und Verbände",
    Applicant.OEFFENTLICHE: "öffentliche Einrichtungen",
}

# The subscriber's organisation type, where it names one kind of applicant.
ORG_TYPE_APPLICANT = {
    OrgType.KOMMUNE: Applicant.KOMMUNEN,
    OrgType.LANDKREIS: Applicant.KOMMUNEN,
    OrgType.HOCHSCHULE: Applicant.HOCHSCHULEN,
    OrgType.UNTERNEHMEN: Applicant.UNTERNEHMEN,
}

UNKNOWN_LINE = "Antragsberechtigung: siehe Aufruf"
MAX_PROGRAMME = 200
MAX_ACTION_TYPE = 200
MAX_RATE_NOTE = 200


def parse_applicants(values: object) -> tuple[Applicant, ...]:
    """Applicant ids from a list or a comma-separated string; unknown ids raise ValueError."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [v for v in values.replace(";", ",").split(",")]
    if not isinstance(values, list | tuple | set | frozenset):
        raise ValueError(f"applicants must be a list of ids, not {type(values).__name__}")
    found: list[Applicant] = []
    for value in values:
        text = str(value).strip().lower()
        if not text:
            continue
        try:
            applicant = Applicant(text)
        except ValueError:
            known = ", ".join(a.value for a in Applicant)
            raise ValueError(f"unknown applicant {text!r} (known: {known})") from None
        if applicant not in found:
            found.append(applicant)
    return tuple(sorted(found, key=list(Applicant).index))


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The facets of one funding call. Empty fields: the sources do not say."""

    programme: str = ""  # "Horizont Europa"
    applicants: tuple[Applicant, ...] = ()  # who may apply; empty: unknown
    action_type: str = ""  # "Forschungs- und Innovationsmaßnahme (RIA)"
    budget_eur: int | None = None  # the call topic's budget
    funding_rate: int | None = None  # percent of the eligible costs
    rate_note: str = ""  # "100 % für gemeinnützige Einrichtungen"
    german_applicants: bool | None = None  # may applicants from Germany apply?
    edited_by: str = ""  # staff who corrected it ("" = as derived)

    @property
    def empty(self) -> bool:
        return not (
            self.programme
            or self.applicants
            or self.action_type
            or self.budget_eur is not None
            or self.funding_rate is not None
            or self.german_applicants is not None
        )

    @property
    def known(self) -> bool:
        """Whether it says who may apply (else: "siehe Aufruf")."""
        return bool(self.applicants) and self.german_applicants is not False

    def open_to(self, applicant: Applicant | None) -> bool | None:
        """True: this applicant may apply; False: may not; None: unknown."""
        if applicant is None or not self.applicants:
            return None
        if self.german_applicants is False:
            return False
        return applicant in self.applicants

    @property
    def applicant_labels(self) -> tuple[str, ...]:
        return tuple(APPLICANT_LABELS[a] for a in self.applicants)

    def as_json(self) -> dict[str, object]:
        """The `eligibility` object of `eudigest items --json`."""
        return {
            "programme": self.programme or None,
            "applicants": [a.value for a in self.applicants],
            "action_type": self.action_type or None,
            "budget_eur": self.budget_eur,
            "funding_rate": self.funding_rate,
            "german_applicants": self.german_applicants,
        }


def applicant_of(explicit: Applicant | None, org_type: OrgType) -> Applicant | None:
    """A subscriber's kind of applicant: their own answer, else their org type's."""
    return explicit if explicit is not None else ORG_TYPE_APPLICANT.get(org_type)
