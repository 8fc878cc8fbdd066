"""No tracking: no pixel and no tracking parameter in any mail; every SendGrid request
(Prism, SendGrid's own spec) switches open, click, subscription and GA tracking off."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest

from pipeline import jobs
from pipeline.deliver.sendgrid import TRACKING_OFF, SendGridMailer
from pipeline.logs import redact
from pipeline.model import OrgType, OutgoingEmail
from pipeline.model.feedback import READER_PLACEHOLDER
from tests.deliver.conftest import Peer, _proxy, peer, prism_url  # noqa: F401 (fixtures)
from tests.deliver.test_send import BASE, make_edition
from tests.feedback.conftest import KOMMUNE, Sent, add_reader, links, path
from tests.subscribers.conftest import Mail, Visitor

TRACKING_PARAMS = re.compile(
    r"^(utm_|mc_[ce]id$|fbclid$|gclid$|_hs|mkt_tok$|trk|sg_|ga_|_ga$)", re.I
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(found)
        self.urls += [found[k] for k in ("href", "src", "action") if found.get(k)]


def assert_untracked(mail: Mail) -> None:
    tags = _Tags()
    tags.feed(mail.html)
    for img in tags.images:
        style = img.get("style", "").replace(" ", "").lower()
        assert img.get("width") not in ("0", "1") and img.get("height") not in ("0", "1"), img
        assert not re.search(r"(^|;)(width|height):[01]px", style), img
        assert not urlsplit(img.get("src", "")).query, img
    urls = tags.urls + re.findall(r"https?://\S+", mail.text)
    assert urls, "no link at all?"
    for url in urls:
        for name, _ in parse_qsl(urlsplit(url).query):
            assert not TRACKING_PARAMS.match(name), (mail.subject, url)
    assert "open-track" not in mail.html and "utm_" not in mail.html + mail.text


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_no_mail_carries_a_pixel_or_a_tracking_parameter(sent: Sent) -> None:
    visitor = Visitor(sent.client())
    assert visitor.sign_up("neu@gemeinde-weissach.example").status_code == 303
    assert visitor.submit("/abo/link", {"email": KOMMUNE}).status_code == 200
    mails = sent.outbox.all()
    kinds = {m.subject.split(":")[0] for m in mails}
    assert len(mails) >= 4 and len(kinds) >= 3, kinds  # digests, confirmation, link
    for mail in mails:
        assert_untracked(mail)
    digest = sent.outbox.to(KOMMUNE)[0]
    assert f"{BASE}/feedback/" in digest.html and READER_PLACEHOLDER not in digest.html


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_every_sendgrid_request_switches_tracking_off(sent_via_prism: Peer) -> None:
    prism = sent_via_prism
    assert prism.exchanges, "nothing reached the peer"
    for e in prism.exchanges:
        assert e.status == 202
        assert "sl-violations" not in e.response_headers, e.response_headers["sl-violations"]
        body = e.json()
        assert body["tracking_settings"] == TRACKING_OFF
        assert body["tracking_settings"]["open_tracking"] == {"enable": False}
        assert body["tracking_settings"]["click_tracking"]["enable"] is False
    digests = [e.json() for e in prism.exchanges if "personalizations" in e.json()]
    html = digests[0]["content"][1]["value"]
    assert f"{BASE}/feedback/" in html and READER_PLACEHOLDER in html
    for p in digests[0]["personalizations"]:
        assert p["substitutions"][READER_PLACEHOLDER]  # each reader's own part

    mailer = SendGridMailer("SG.test", host=prism.url, default_from="eu@europabuero.example.org")
    before = len(prism.exchanges)
    [result] = mailer.send(
        [OutgoingEmail(to="leser@gemeinde.example", subject="Bitte bestätigen", text="Text",
                       html="<p>Text</p>", reference="confirm-s1")]
    )  # fmt: skip
    assert result.ok
    assert prism.exchanges[before].json()["tracking_settings"] == TRACKING_OFF


@pytest.fixture
def sent_via_prism(
    sent: Sent,
    peer: Peer,  # noqa: F811
) -> Peer:
    """A second edition of the same readers, sent through SendGrid's spec."""
    add_reader(sent.services, "dritte@landkreis-boeblingen.example", OrgType.LANDKREIS)
    mailer = SendGridMailer("SG.test", host=peer.url, sleep=lambda s: None)
    services = sent.services.derive(mailer=mailer)
    edition_id, _ = make_edition(services)
    assert jobs.send(services, edition_id).sent == 3
    return peer


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_logs_show_no_feedback_token(sent: Sent) -> None:
    url = links(sent.outbox.to(KOMMUNE)[0])["Nein"][0]
    line = redact(f'127.0.0.1 - - "POST {path(url)} HTTP/1.1" 303 -; next {url}/danke')
    assert line == '127.0.0.1 - - "POST /feedback/[token] HTTP/1.1" 303 -; next ' + (
        f"{BASE}/feedback/[token]"
    )
