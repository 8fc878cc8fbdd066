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

import re
import secrets
from collections.abc import Callable, Mapping
from email.utils import formataddr
from typing import Any

from markupsafe import escape

from pipeline.email_templates import environment
from pipeline.model import Office, OutgoingEmail, Profile, Subscriber, Taxonomy
from subscribers.profiles import LANGUAGES, profile_of
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
    p = profile or profile_of(subscriber)
    return compose(
        office,
        subscriber.email,
        "confirm",
        _confirm_context(office, taxonomy, p, confirm_url, imported=imported),
        reference=reference("confirm", subscriber.id),
    )


def _confirm_context(
    office: Office, taxonomy: Taxonomy, p: Profile, confirm_url: str, *, imported: bool
) -> dict[str, Any]:
    labels = {t.id: t.label_de for t in taxonomy.topics}
    names = {n.id: n.name for n in office.newsletters}
    return {
        "name": p.name,
        "confirm_url": confirm_url,
        "imported": imported,
        "valid_days": CONFIRM_MAX_AGE.days,
        "newsletters": [names.get(n, n) for n in p.newsletters],
        "topics": [labels.get(t, t) for t in p.topics],
        "language": LANGUAGES.get(p.language, p.language),
    }


# The reader's values in a confirmation mail rendered once with placeholders.
_SLOTS = ("name", "confirm_url", "newsletters", "topics", "language")
_SLOT = re.compile("\x1a(" + "|".join(_SLOTS) + ")\x1a")

Fill = Callable[[Profile, str], tuple[str, str, str]]


class Confirmations:
    """The double opt-in mails of an import: the same mails as `confirmation()`, but the
    templates are rendered once for each shape of mail (with a name or without; no, one
    or several topics and newsletters), with placeholders where the reader's values go; each
    mail then fills them in (escaped in the HTML part, as the template escapes them).
    Rendering 10,000 mails one by one cost about 0.1 ms each.

    The first mail of each shape is also rendered the ordinary way; should the two ever
    differ (a template that does more with a value than print it), that shape is
    rendered one by one from then on."""

    def __init__(self, office: Office, taxonomy: Taxonomy, *, imported: bool = False) -> None:
        self.office = office
        self.taxonomy = taxonomy
        self.imported = imported
        self._shapes: dict[tuple[bool, int, int], Fill | None] = {}

    def mail(self, subscriber: Subscriber, confirm_url: str) -> OutgoingEmail:
        p = profile_of(subscriber)
        # one, several or no topics and newsletters: a template may say "Thema"/"Themen"
        shape = (bool(p.name), min(len(p.topics), 2), min(len(p.newsletters), 2))
        if shape not in self._shapes:
            self._shapes[shape] = self._skeleton(p, confirm_url)
        fill = self._shapes[shape]
        if fill is None:
            return confirmation(
                self.office, self.taxonomy, subscriber, confirm_url, imported=self.imported
            )
        subject, text, html = fill(p, confirm_url)
        return OutgoingEmail(
            to=subscriber.email,
            subject=subject,
            text=text,
            html=html,
            headers=sender_headers(self.office),
            category="confirm",
            reference=reference("confirm", subscriber.id),
        )

    def _context(self, p: Profile, confirm_url: str) -> dict[str, Any]:
        return {
            "office": self.office,
            **_confirm_context(self.office, self.taxonomy, p, confirm_url, imported=self.imported),
        }

    def _skeleton(self, first: Profile, first_url: str) -> Fill | None:
        """The shape of `first`'s mail with placeholders, and how to fill it; None if
        filling it does not give `first`'s mail as `confirmation()` renders it."""
        mark = {slot: f"\x1a{slot}\x1a" for slot in _SLOTS}
        placeholders = {
            **self._context(first, first_url),
            **mark,
            "name": mark["name"] if first.name else "",
            "newsletters": [mark["newsletters"]],  # the templates join the lists
            "topics": [mark["topics"]] if first.topics else [],
        }
        subject, text, html = render("confirm", placeholders)

        def fill(p: Profile, confirm_url: str) -> tuple[str, str, str]:
            context = self._context(p, confirm_url)
            values = {
                "name": p.name,
                "confirm_url": confirm_url,
                "newsletters": ", ".join(context["newsletters"]),
                "topics": ", ".join(context["topics"]),
                "language": context["language"],
            }
            escaped = {k: str(escape(v)) for k, v in values.items()}
            return (
                " ".join(_SLOT.sub(lambda m: values[m.group(1)], subject).split()),
                _SLOT.sub(lambda m: values[m.group(1)], text),
                _SLOT.sub(lambda m: escaped[m.group(1)], html),
            )

        return (
            fill
            if fill(first, first_url) == render("confirm", self._context(first, first_url))
            else None
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
