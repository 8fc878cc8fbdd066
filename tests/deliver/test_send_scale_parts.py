"""The parts a 100,000 send made cheaper (issue 16) give what they gave before.

- `Recipient.with_custom_args` checks the new custom_args and keeps the rest as it was.
- The Mail Send body is compact JSON, ASCII on the wire, and decodes to the same dict.
- `confirmed_for` reads the audience a page at a time: everyone once, in id order.
- The text part's blank lines are tidied as `re.sub(r"\\n{3,}", "\\n\\n")` did.
- The bench's peer counts personalizations without decoding a body, exactly.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest

from pipeline.compose.render import _tidy_text
from pipeline.deliver.sendgrid import batch_body, encode
from pipeline.errors import InvalidInput
from pipeline.model import Batch, NewSubscriber, Profile, Recipient
from pipeline.store import Store
from subscribers.addresses import hash_of
from tests.web.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
ONE_CLICK = {
    "List-Unsubscribe": "<https://x.example/abo/abmelden/t1>, <mailto:buero@x.example>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def recipient(email: str = "anna@kommune.example") -> Recipient:
    return Recipient(
        email,
        substitutions={"%%greeting%%": "Guten Tag Anna Müller,", "%%feedback%%": "r.t"},
        headers=ONE_CLICK,
    )


def test_with_custom_args_keeps_the_rest_and_checks_the_args() -> None:
    base = recipient()
    other = base.with_custom_args({"edition_id": "e7", "delivery_id": "d12"})
    assert other == Recipient(
        base.email, base.substitutions, base.headers, {"edition_id": "e7", "delivery_id": "d12"}
    )
    assert base.custom_args == {}  # the original is unchanged
    args = {"edition_id": "e7"}
    made = base.with_custom_args(args)
    args["edition_id"] = "e8"  # a later change of the caller's dict does not leak in
    assert made.custom_args == {"edition_id": "e7"}
    with pytest.raises(TypeError):
        made.custom_args["edition_id"] = "e9"  # type: ignore[index]
    with pytest.raises(InvalidInput):  # never personal data in custom_args
        base.with_custom_args({"who": "anna"})
    with pytest.raises(InvalidInput):
        base.with_custom_args({"delivery_id": "a.b@c"})


def test_body_is_compact_ascii_json_of_the_same_dict() -> None:
    batch = Batch(
        subject="EU-Wochenbrief · Förderung",
        text="Grüße\n„Zitat“ – €\U0001f600",
        html="<p>Grüße ͏ &nbsp;</p>",
        from_email="buero@x.example",
        from_name="Europabüro",
        recipients=(recipient(),),
    )
    body = batch_body(batch, batch.recipients)
    raw = encode(body)
    assert json.loads(raw) == body
    raw.decode("ascii")  # non-ASCII as \\u escapes: the same on every wire
    assert b'": ' not in raw and b'", "' not in raw  # no spaces after separators


def test_confirmed_for_reads_everyone_once_a_page_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.store.subscribers as module

    monkeypatch.setattr(module, "RECIPIENTS_PAGE", 3)
    rows = []
    for n in range(1, 11):
        email = f"person{n}@gemeinde.example"
        topics = ("funding", "energy_climate") if n % 2 else ()
        profile = Profile(name=f"P {n}", topics=topics, newsletters=("weekly",))
        rows.append(NewSubscriber(email, hash_of(email), profile, "v1", consent_at=NOW))
    rows.append(  # not subscribed to it: not in the audience
        NewSubscriber(
            "other@x.example",
            hash_of("other@x.example"),
            Profile(newsletters=("monthly",)),
            "v1",
            consent_at=NOW,
        )
    )
    store.subscribers.add_many(rows, now=NOW)
    everyone = store.subscribers.confirmed_for("weekly")
    assert [s.email for s in everyone] == [f"person{n}@gemeinde.example" for n in range(1, 11)]
    assert [s.id for s in everyone] == sorted(s.id for s in everyone)
    assert everyone[0].topics == ("funding", "energy_climate")
    monkeypatch.setattr(module, "RECIPIENTS_PAGE", 10)  # a page exactly full, then none
    assert store.subscribers.confirmed_for("weekly") == everyone


def test_tidy_text_is_the_blank_line_rule_it_was() -> None:
    before = re.compile(r"\n{3,}")
    rng = random.Random(16)
    parts = ["\n", "\n\n\n\n", "a", " ", "\r", "\t", "ä", "\n\n"]
    for _ in range(5000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 30)))
        assert _tidy_text(text) == before.sub("\n\n", text).strip() + "\n", repr(text)


def test_the_bench_peer_counts_personalizations_exactly() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from deliver_bench import personalizations
    finally:
        sys.path.remove(str(ROOT / "bench"))
    tricky = recipient("to@x.example").with_custom_args({"to": "t1"})
    batch = Batch(
        subject='"to":[ in the subject',
        text='a "to":[ and "to": [ in the text',
        html='<p>"to":[</p>',
        from_email="buero@x.example",
        recipients=(recipient(), tricky, recipient("c@x.example")),
    )
    body = batch_body(batch, batch.recipients)
    assert personalizations(encode(body)) == 3
    assert personalizations(json.dumps(body).encode()) == 3  # the spaced form as well
