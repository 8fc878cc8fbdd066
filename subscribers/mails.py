"""The mails of the subscriber flow, rendered from template triples in templates/email/.

    <name>.subject.txt   one line
    <name>.text.j2       the plain text part (no escaping)
    <name>.html.j2       the HTML part (autoescaped; extends _layout.html.j2)

The environment is pipeline.email_templates.environment(), the digest's too.

`compose(office, to, name, context, reference)` → OutgoingEmail, with From and
Reply-To taken from office.yaml (a Mailer reads them from the headers).
Nothing here sends: the caller hands the message to a Mailer.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from email.utils import formataddr
from typing import Any

from pipeline.email_templates import environment
from pipeline.model import Office, OutgoingEmail, Profile, Subscriber, Taxonomy
from subscribers.profiles import LANGUAGES
from subscribers.tokens import CONFIRM_MAX_AGE


def render(name: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) of the template triple `name`."""
    env = environment()
    subject = env.get_template(f"{name}.subject.txt").render(context)
    subject = " ".join(subject.split())  # one line, always
    text = env.get_template(f"{name}.text.j2").render(context)
    html = env.get_template(f"{name}.html.j2").render(context)
    return subject, text, html


def sender_headers(office: Office) -> dict[str, str]:
    headers = {"From": formataddr((office.sender_name or office.name, office.sender_email))}
    if office.reply_to:
        headers["Reply-To"] = office.reply_to
    return headers


def reference(kind: str, subscriber_id: int) -> str:
    """An opaque id for logs and file names: the kind, the subscriber id, a random part."""
    return f"{kind}-s{subscriber_id}-{secrets.token_hex(4)}"


def compose(
    office: Office,
    to: str,
    name: str,
    context: Mapping[str, Any],
    *,
    reference: str,
    headers: Mapping[str, str] | None = None,
) -> OutgoingEmail:
    subject, text, html = render(name, {"office": office, **context})
    return OutgoingEmail(
        to=to,
        subject=subject,
        text=text,
        html=html,
        headers={**sender_headers(office), **(headers or {})},
        category=name,
        reference=reference,
    )


def confirmation(
    office: Office,
    taxonomy: Taxonomy,
    subscriber: Subscriber,
    confirm_url: str,
    *,
    profile: Profile | None = None,
    imported: bool = False,
) -> OutgoingEmail:
    """The double opt-in mail: one link, the chosen settings, what happens otherwise."""
    p = profile or Profile(
        name=subscriber.name,
        organisation=subscriber.organisation,
        org_type=subscriber.org_type,
        language=subscriber.language,
        topics=subscriber.topics,
        newsletters=subscriber.newsletters,
    )
    labels = {t.id: t.label_de for t in taxonomy.topics}
    names = {n.id: n.name for n in office.newsletters}
    return compose(
        office,
        subscriber.email,
        "confirm",
        {
            "name": p.name,
            "confirm_url": confirm_url,
            "imported": imported,
            "valid_days": CONFIRM_MAX_AGE.days,
            "newsletters": [names.get(n, n) for n in p.newsletters],
            "topics": [labels.get(t, t) for t in p.topics],
            "language": LANGUAGES.get(p.language, p.language),
        },
        reference=reference("confirm", subscriber.id),
    )


def manage_link(office: Office, subscriber: Subscriber, manage_url: str) -> OutgoingEmail:
    """The link to the preference page, on request."""
    return compose(
        office,
        subscriber.email,
        "manage",
        {"name": subscriber.name, "manage_url": manage_url},
        reference=reference("manage", subscriber.id),
    )
