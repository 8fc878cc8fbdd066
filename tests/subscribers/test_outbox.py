"""The outbox mailer writes real RFC 5322 messages that the email package reads back."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path

from pipeline.deliver.outbox import OutboxMailer
from pipeline.model import OutgoingEmail

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
UNSUBSCRIBE = "<https://newsletter.region-stuttgart.de/abo/abmelden/" + "T" * 120 + ">"


def _message(reference: str, **kw: object) -> OutgoingEmail:
    fields: dict[str, object] = {
        "to": "bernd.mueller@landratsamt-bb.de",
        "subject": "EU-Wochenbrief: Förderaufrufe für Kommunen – Frist im März",
        "text": "Grüße aus Brüssel\n\nFörderung für Straßenbahnen",
        "html": "<p>Grüße aus <strong>Brüssel</strong></p>",
        "headers": {
            "From": "Europabüro der Region Stuttgart <europabuero@region-stuttgart.de>",
            "Reply-To": "europabuero@region-stuttgart.de",
            "List-Unsubscribe": (
                f"{UNSUBSCRIBE}, <mailto:europabuero@region-stuttgart.de?subject=unsubscribe>"
            ),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        "reference": reference,
    }
    fields.update(kw)
    return OutgoingEmail(**fields)  # type: ignore[arg-type]


def test_a_message_becomes_an_eml_and_an_html_preview(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "outbox", clock=lambda: NOW)
    [result] = mailer.send([_message("digest-s12-abc")])
    assert result.ok and result.reference == "digest-s12-abc" and result.message_id
    [eml] = sorted((tmp_path / "outbox").glob("*.eml"))
    [html] = sorted((tmp_path / "outbox").glob("*.html"))
    assert eml.name == "20261125T083000000000Z-000001-digest-s12-abc.eml"
    assert html.read_text(encoding="utf-8") == "<p>Grüße aus <strong>Brüssel</strong></p>"

    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "bernd.mueller@landratsamt-bb.de"
    assert msg["From"] == "Europabüro der Region Stuttgart <europabuero@region-stuttgart.de>"
    assert msg["Subject"] == "EU-Wochenbrief: Förderaufrufe für Kommunen – Frist im März"
    assert msg["Reply-To"] == "europabuero@region-stuttgart.de"
    assert msg["Message-ID"] == result.message_id
    assert msg["Date"] == "Wed, 25 Nov 2026 08:30:00 +0000"
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.splitlines() == ["Grüße aus Brüssel", "", "Förderung für Straßenbahnen"]


def test_list_unsubscribe_stays_one_readable_header(tmp_path: Path) -> None:
    """A long URL must not be folded into encoded words, which mail clients would not read."""
    OutboxMailer(tmp_path).send([_message("digest-s1-x")])
    raw = next(tmp_path.glob("*.eml")).read_bytes().decode("ascii")
    line = next(h for h in raw.split("\r\n") if h.startswith("List-Unsubscribe:"))
    assert line == (
        f"List-Unsubscribe: {UNSUBSCRIBE}, "
        "<mailto:europabuero@region-stuttgart.de?subject=unsubscribe>"
    )
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    assert "=?utf-8?" not in line


def test_file_names_sort_in_sending_order(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path, clock=lambda: NOW)  # the same instant for all
    mailer.send([_message(f"confirm-s{n}-x") for n in (3, 1, 2)])
    names = sorted(p.name for p in tmp_path.glob("*.eml"))
    assert [n.split("-", 2)[2] for n in names] == [
        "confirm-s3-x.eml",
        "confirm-s1-x.eml",
        "confirm-s2-x.eml",
    ]


def test_a_hostile_header_fails_that_message_only(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    bad = _message("bad", headers={"X-Name": "Bernd\r\nBcc: alle@example.org"})
    results = mailer.send([bad, _message("good")])
    assert [r.ok for r in results] == [False, True]
    assert "linefeed" in (results[0].error or "")
    assert [p.name.split("-", 2)[2] for p in tmp_path.glob("*.eml")] == ["good.eml"]


def test_a_reference_never_escapes_the_outbox(tmp_path: Path) -> None:
    OutboxMailer(tmp_path / "outbox").send([_message("../../etc/passwd")])
    [eml] = (tmp_path / "outbox").glob("*.eml")
    assert eml.name.endswith("-.._.._etc_passwd.eml")
    assert not (tmp_path / "etc").exists()
