"""The import's confirmation mails, rendered once per shape and filled per reader, are
the mails `confirmation()` renders one by one: subject, text and HTML alike."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from pipeline.model import Office, OrgType, Subscriber, SubscriberStatus, Taxonomy
from subscribers import mails
from tests.subscribers.conftest import NOW

NAMES = ["", "Jürgen Müller", 'Anna "Änni" O\'Neil & Söhne <GmbH>', "Zoë  Ünal"]
TOPICS: list[tuple[str, ...]] = [(), ("energy_climate",), ("funding", "research", "unbekannt")]
NEWSLETTERS: list[tuple[str, ...]] = [("weekly",), ("weekly", "daily"), ()]
LANGUAGES = ["de", "en", "xx"]


def readers() -> list[Subscriber]:
    combos = itertools.product(NAMES, TOPICS, NEWSLETTERS, LANGUAGES)
    return [
        Subscriber(
            id=n,
            email=f"leser{n}@stadt-esslingen.de",
            status=SubscriberStatus.PENDING,
            created_at=NOW,
            name=name,
            organisation="Stadt Esslingen",
            org_type=OrgType.KOMMUNE,
            language=language,
            topics=topics,
            newsletters=newsletters,
        )
        for n, (name, topics, newsletters, language) in enumerate(combos, start=1)
    ]


def url(s: Subscriber) -> str:
    return f"https://newsletter.example/abo/bestaetigen/tok.{s.id}&x=<y>"


def content(m: Any) -> tuple[Any, ...]:
    return (m.to, m.subject, m.text, m.html, m.headers, m.category)


@pytest.mark.parametrize("imported", [True, False])
def test_every_shape_gives_the_mail_rendered_one_by_one(
    office: Office, taxonomy: Taxonomy, imported: bool
) -> None:
    office = dataclasses.replace(
        office, name="Europabüro <Region> & Co", imprint="Königstraße 1\n70173 Stuttgart"
    )
    builder = mails.Confirmations(office, taxonomy, imported=imported)
    for s in readers():
        fast = builder.mail(s, url(s))
        slow = mails.confirmation(office, taxonomy, s, url(s), imported=imported)
        assert content(fast) == content(slow), s
        assert fast.reference.startswith(f"confirm-s{s.id}-")
    # name or not × no, one, several topics × one, several newsletters (of the readers)
    assert 4 <= len(builder._shapes) <= 18 and None not in builder._shapes.values()


def test_a_template_that_counts_a_list_still_gives_each_mail_its_own_word(
    office: Office, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An office's template may say "Thema" for one topic and "Themen" for several: the
    skeleton holds one placeholder, so the first mail with several topics shows the
    difference and its shape is rendered one by one."""
    render = mails.render

    def counting(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
        subject, text, html = render(name, context)
        word = "Thema" if len(context.get("topics") or []) == 1 else "Themen"
        return subject, text.replace("Themen:", f"{word}:"), html

    monkeypatch.setattr(mails, "render", counting)
    builder = mails.Confirmations(office, taxonomy, imported=False)
    several = [s for s in readers() if len(s.topics) > 1]
    one = [s for s in readers() if len(s.topics) == 1]
    assert several and one
    for s in [*one[:3], *several[:3]]:
        slow = mails.confirmation(office, taxonomy, s, url(s), imported=False)
        assert content(builder.mail(s, url(s))) == content(slow)
    assert "Themen:" in builder.mail(several[0], url(several[0])).text


def test_a_shape_that_does_not_fill_in_is_rendered_one_by_one(
    office: Office, taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if a template did more with the name than print it (a filter)."""
    render = mails.render

    def shouting(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
        subject, text, html = render(name, context)
        return subject, text.replace("\x1aname\x1a", "\x1aNAME\x1a"), html

    monkeypatch.setattr(mails, "render", shouting)
    builder = mails.Confirmations(office, taxonomy, imported=True)
    for s in readers()[:40]:
        slow = mails.confirmation(office, taxonomy, s, url(s), imported=True)
        assert content(builder.mail(s, url(s))) == content(slow)
    named = {shape: fill for shape, fill in builder._shapes.items() if shape[0]}
    assert named and all(fill is None for fill in named.values())
    assert any(fill is not None for shape, fill in builder._shapes.items() if not shape[0])
