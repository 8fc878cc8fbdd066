"""What a subscriber chooses, checked against office.yaml and taxonomy.yaml.

    parse_profile(ProfileForm(...), office, taxonomy) -> Profile   (or InvalidForm)

Used by the sign-up form, the preference page, the CSV import and the CLI, so a
value refused in one place is refused everywhere, with the same German message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.errors import InvalidInput
from pipeline.model import ORG_TYPE_LABELS, Office, OrgType, Profile, Subscriber, Taxonomy
from pipeline.model.eligibility import APPLICANT_LABELS, Applicant
from subscribers.addresses import clean_text

LANGUAGES = {"de": "Deutsch", "en": "Englisch"}
MAX_CHOICES = 100  # more checkboxes than any office.yaml or taxonomy.yaml has


class InvalidForm(InvalidInput):
    """One or more fields are wrong: `errors` maps each field to a German message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class ProfileForm:
    """A profile as a person typed it: untrusted strings."""

    name: str = ""
    organisation: str = ""
    org_type: str = ""
    applicant: str = ""  # kind of applicant for funding calls; "" = not said
    language: str = "de"
    newsletters: Sequence[str] = field(default_factory=tuple)
    topics: Sequence[str] = field(default_factory=tuple)


def profile_of(subscriber: Subscriber) -> Profile:
    """The settings a subscriber has now, as a form would give them."""
    return Profile(
        name=subscriber.name,
        organisation=subscriber.organisation,
        org_type=subscriber.org_type,
        language=subscriber.language,
        topics=subscriber.topics,
        newsletters=subscriber.newsletters,
        applicant=subscriber.applicant,
    )


def parse_profile(
    form: ProfileForm,
    office: Office,
    taxonomy: Taxonomy,
    *,
    require_newsletter: bool = True,
) -> Profile:
    """The checked profile, or InvalidForm naming every wrong field."""
    errors: dict[str, str] = {}
    name = _text(form.name, "name", "Name", errors)
    organisation = _text(form.organisation, "organisation", "Organisation", errors)
    org_type = OrgType.SONSTIGE
    try:
        org_type = parse_org_type(form.org_type)
    except InvalidInput as exc:
        errors["org_type"] = str(exc)
    applicant = None
    try:
        applicant = parse_applicant(form.applicant)
    except InvalidInput as exc:
        errors["applicant"] = str(exc)
    language = (form.language or "de").strip().lower()
    if language not in LANGUAGES:
        errors["language"] = "Bitte Deutsch oder Englisch wählen."
    newsletters: tuple[str, ...] = ()
    try:
        newsletters = parse_newsletters(form.newsletters, office)
    except InvalidInput as exc:
        errors["newsletters"] = str(exc)
    else:
        if require_newsletter and not newsletters:
            errors["newsletters"] = "Bitte mindestens einen Newsletter wählen."
    topics: tuple[str, ...] = ()
    try:
        topics = parse_topics(form.topics, taxonomy)
    except InvalidInput as exc:
        errors["topics"] = str(exc)
    if errors:
        raise InvalidForm(errors)
    return Profile(
        name=name,
        organisation=organisation,
        org_type=org_type,
        language=language,
        topics=topics,
        newsletters=newsletters,
        applicant=applicant,
    )


def parse_org_type(value: str | None) -> OrgType:
    """An organisation type by id ("kommune") or German label ("Hochschule/Forschung")."""
    text = (value or "").strip().lower()
    if not text:
        return OrgType.SONSTIGE
    for org_type, label in ORG_TYPE_LABELS.items():
        if text in (org_type.value, label.lower()):
            return org_type
    allowed = ", ".join(ORG_TYPE_LABELS.values())
    raise InvalidInput(f"Unbekannte Art der Organisation „{_short(text)}“ (möglich: {allowed}).")


def parse_applicant(value: str | None) -> Applicant | None:
    """A kind of applicant by id ("kmu") or German label ("KMU"); empty: not said."""
    text = (value or "").strip().lower()
    if not text:
        return None
    for applicant, label in APPLICANT_LABELS.items():
        if text in (applicant.value, label.lower()):
            return applicant
    allowed = ", ".join(APPLICANT_LABELS.values())
    raise InvalidInput(f"Unbekannte Art des Antragstellers „{_short(text)}“ (möglich: {allowed}).")


def parse_newsletters(values: Sequence[str], office: Office) -> tuple[str, ...]:
    """Newsletter ids of office.yaml, in its order; an unknown id is an error."""
    wanted = _ids(values, "Newsletter")
    known = {n.id for n in office.newsletters}
    unknown = [v for v in wanted if v not in known]
    if unknown:
        raise InvalidInput(f"Unbekannter Newsletter „{_short(unknown[0])}“.")
    return tuple(n.id for n in office.newsletters if n.id in wanted)


def parse_topics(values: Sequence[str], taxonomy: Taxonomy) -> tuple[str, ...]:
    """Topic ids (or German labels) of taxonomy.yaml, in its order. Empty means all."""
    wanted = _ids(values, "Themen")
    by_label = {t.label_de.lower(): t.id for t in taxonomy.topics}
    known = taxonomy.topic_ids()
    ids: set[str] = set()
    for value in wanted:
        topic_id = value if value in known else by_label.get(value.lower())
        if topic_id is None:
            raise InvalidInput(f"Unbekanntes Thema „{_short(value)}“.")
        ids.add(topic_id)
    return tuple(t.id for t in taxonomy.topics if t.id in ids)


def _ids(values: Sequence[str], what: str) -> list[str]:
    if len(values) > MAX_CHOICES:
        raise InvalidInput(f"{what}: zu viele Angaben.")
    return [v.strip() for v in values if v and v.strip()]


def _text(value: str, key: str, label: str, errors: dict[str, str]) -> str:
    try:
        return clean_text(value, field=label)
    except InvalidInput as exc:
        errors[key] = str(exc)
        return ""


def _short(text: str) -> str:
    text = clean_text(text[:200], field="Wert", max_len=10_000)
    return text if len(text) <= 40 else text[:39] + "…"
