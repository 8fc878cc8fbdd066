"""A subscriber says what kind of applicant they are (issue 17): sign-up, preference page,
refused values."""

from __future__ import annotations

from pipeline.bootstrap import Services
from pipeline.model.eligibility import Applicant
from subscribers.addresses import hash_of
from tests.subscribers.conftest import Outbox, Visitor, visible

KAEMMEREI = "kaemmerei@stadt-esslingen.de"


def test_the_preference_page_asks_for_the_kind_of_applicant(
    visitor: Visitor, services: Services, outbox: Outbox
) -> None:
    visitor.sign_up(KAEMMEREI, newsletters=["weekly"], org_type="kommune", applicant="")
    prefs = visitor.confirm(outbox.last(KAEMMEREI).link("/abo/bestaetigen/")).headers["Location"]
    page = visitor.get(prefs)
    assert "Für Förderaufrufe: Ihre Organisation ist" in visible(page.text)
    assert '<option value="" selected>keine Angabe</option>' in page.text
    found = services.store.subscribers.by_hash(hash_of(KAEMMEREI))
    assert found is not None and found.applicant is None  # follows org_type: Kommunen

    fields = {"org_type": "sonstige", "language": "de", "newsletters": ["weekly"]}
    response = visitor.post_from(page, prefs, {**fields, "applicant": "vereine"})
    assert response.status_code == 303
    after = visitor.get(prefs)
    assert '<option value="vereine" selected>Vereine und Verbände</option>' in after.text
    found = services.store.subscribers.by_hash(hash_of(KAEMMEREI))
    assert found is not None and found.applicant is Applicant.VEREINE

    refused = visitor.post_from(after, prefs, {**fields, "applicant": "gemeinde"})
    assert refused.status_code == 400
    assert "Unbekannte Art des Antragstellers „gemeinde“" in visible(refused.text)
    again = services.store.subscribers.by_hash(hash_of(KAEMMEREI))
    assert again is not None and again.applicant is Applicant.VEREINE
