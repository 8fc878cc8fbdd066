"""The subscriber rules on the real store, on SQLite and on PostgreSQL.

The domain functions run as the web app and the CLI call them; mails go to an
outbox in a temporary folder and the links are read back from it.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from pipeline.catalog import load_office, load_taxonomy
from pipeline.deliver.outbox import OutboxMailer
from pipeline.model import Office, OrgType, Profile, SubscriberStatus, SuppressionReason, Taxonomy
from pipeline.store import Store
from subscribers import gdpr, portability, preferences, signup
from subscribers.addresses import email_hash, hash_of
from subscribers.profiles import ProfileForm
from subscribers.signup import SignUpForm
from subscribers.tokens import Links, TokenInvalid, Tokens
from tests.subscribers.conftest import OFFICE_YAML, ROOT, SECRET, Outbox

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
BERND = "bernd.mueller@landratsamt-bb.de"
TZ = ZoneInfo("Europe/Brussels")


class World:
    """Store, office, taxonomy, outbox and links: what a shell hands to subscribers.*."""

    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        office_file = folder / "office.yaml"
        office_file.write_text(OFFICE_YAML, encoding="utf-8")
        self.office: Office = load_office(office_file)
        self.taxonomy: Taxonomy = load_taxonomy(ROOT / "taxonomy.yaml")
        self.mailer = OutboxMailer(folder / "outbox")
        self.outbox = Outbox(folder / "outbox")
        self.links = Links(Tokens(SECRET), "https://newsletter.region-stuttgart.de")

    def sign_up(
        self, address: str, now: dt.datetime = NOW, **profile: object
    ) -> signup.SignUpResult:
        profile.setdefault("newsletters", ("weekly",))
        form = SignUpForm(address, ProfileForm(**profile))  # type: ignore[arg-type]
        return signup.sign_up(
            self.store, self.mailer, self.office, self.taxonomy, self.links, form,
            client="192.0.2.1", now=now,
        )  # fmt: skip

    def confirm_last(self, address: str, now: dt.datetime = NOW) -> signup.Confirmation:
        link = self.outbox.last(address).link("/abo/bestaetigen/")
        token = urlsplit(link).path.rsplit("/", 1)[1]
        return signup.confirm(self.store, self.links, token, now=now)


@pytest.fixture
def world(store: Store, tmp_path: Path) -> World:
    return World(store, tmp_path)


def _emails(world: World, newsletter: str = "weekly") -> list[str]:
    store = world.store
    readers = store.subscribers.confirmed_for(newsletter)
    # the sender's check of a batch (per row) and a reader read alone say the same
    everyone = [s.id for s in store.subscribers.iter_all()]
    assert store.deliveries.receiving(newsletter, everyone) == {s.id for s in readers}
    assert readers == [store.subscribers.get(s.id) for s in readers]
    return [s.email for s in readers]


def test_only_confirmed_subscribers_are_recipients(world: World) -> None:
    first = world.sign_up("Bernd.Mueller@Landratsamt-BB.de", topics=("funding",))
    world.sign_up("anna.schmid@stadt-esslingen.de")
    assert not first.known
    assert _emails(world) == []
    done = world.confirm_last(BERND, NOW + dt.timedelta(hours=1))
    assert done.subscriber.status is SubscriberStatus.CONFIRMED
    assert _emails(world) == [BERND]
    assert world.store.subscribers.counts() == {
        "pending": 1,
        "confirmed": 1,
        "unsubscribed": 0,
        "suppressed": 0,
    }


def test_a_known_address_changes_only_when_the_new_link_is_confirmed(world: World) -> None:
    world.sign_up(BERND, topics=("funding",), name="Bernd Müller")
    world.confirm_last(BERND)
    later = NOW + dt.timedelta(days=3)
    again = world.sign_up(BERND, later, topics=("digital",), newsletters=("daily",))
    assert again.known
    s = world.store.subscribers.by_hash(hash_of(BERND))
    assert s is not None and s.topics == ("funding",) and s.newsletters == ("weekly",)
    world.confirm_last(BERND, later + dt.timedelta(minutes=1))
    s = world.store.subscribers.get(s.id)
    assert (s.topics, s.newsletters, s.name) == (("digital",), ("daily",), "Bernd Müller")
    assert _emails(world, "daily") == [BERND] and _emails(world, "weekly") == []
    with pytest.raises(TokenInvalid, match="bereits verwendet"):
        world.confirm_last(BERND, later + dt.timedelta(minutes=2))


def test_unsubscribed_and_suppressed_subscribers_are_no_recipients(world: World) -> None:
    world.sign_up(BERND, newsletters=("weekly", "daily"))
    s = world.confirm_last(BERND).subscriber
    preferences.save(
        world.store, s, Profile(newsletters=("weekly",), topics=("energy_climate",)), now=NOW
    )
    assert _emails(world, "weekly") == [BERND] and _emails(world, "daily") == []
    world.store.subscribers.suppress(email_hash(BERND), SuppressionReason.BOUNCE, now=NOW)
    assert _emails(world, "weekly") == []


def test_erasure_keeps_only_the_hash_and_a_new_opt_in_lifts_it(world: World) -> None:
    world.sign_up(BERND, name="Bernd Müller", organisation="Landratsamt Böblingen")
    s = world.confirm_last(BERND).subscriber
    data = gdpr.subscriber_data(world.store, s, world.office, world.taxonomy, now=NOW)
    assert data["subscriber"]["organisation"] == "Landratsamt Böblingen"

    kept = gdpr.erase(world.store, s.id, now=NOW)
    assert kept == email_hash(BERND)
    assert world.store.subscribers.by_hash(kept) is None
    assert list(world.store.subscribers.iter_all()) == []
    assert world.store.subscribers.suppression(kept) is SuppressionReason.ERASED
    assert world.store.subscribers.counts()["suppressed"] == 1

    later = NOW + dt.timedelta(days=10)
    result = world.sign_up(BERND, later)
    assert not result.known  # the row is gone: a new pending sign-up
    assert world.store.subscribers.suppression(kept) is SuppressionReason.ERASED
    world.confirm_last(BERND, later)
    assert world.store.subscribers.suppression(kept) is None
    assert _emails(world) == [BERND]


def test_retention_deletes_only_old_unconfirmed_sign_ups(world: World) -> None:
    world.sign_up("alt.unbestaetigt@landratsamt-bb.de", NOW - dt.timedelta(days=31))
    world.sign_up("alt.bestaetigt@landratsamt-bb.de", NOW - dt.timedelta(days=40))
    world.confirm_last("alt.bestaetigt@landratsamt-bb.de", NOW - dt.timedelta(days=39))
    world.sign_up("neu.unbestaetigt@landratsamt-bb.de", NOW - dt.timedelta(days=29))
    assert gdpr.purge_pending(world.store, now=NOW) == 1
    left = sorted(s.email for s in world.store.subscribers.iter_all())
    assert left == ["alt.bestaetigt@landratsamt-bb.de", "neu.unbestaetigt@landratsamt-bb.de"]
    assert (
        world.store.subscribers.suppression(hash_of("alt.unbestaetigt@landratsamt-bb.de")) is None
    )


def test_rate_limits_count_per_key_in_a_window(world: World) -> None:
    take = world.store.subscribers.take
    hour = dt.timedelta(hours=1)
    assert [take("k", now=NOW, window=hour, limit=2) for _ in range(3)] == [True, True, False]
    assert take("other", now=NOW, window=hour, limit=2)
    assert take("k", now=NOW + hour, window=hour, limit=2)


def test_windows_that_ended_are_forgotten_by_the_purge(world: World) -> None:
    """Every kind of key, not only feedback's: sign-up windows had been kept for ever."""
    subs, day = world.store.subscribers, dt.timedelta(days=1)
    for key, start in (("signup:ip:a", NOW - 3 * day), ("feedback:r:b", NOW - 3 * day),
                       ("signup:addr:c", NOW - day / 2), ("test-send:u1", NOW)):  # fmt: skip
        assert subs.take(key, now=start, window=day, limit=1)
    assert subs.forget_rate_limits(NOW - 2 * day) == 2
    assert subs.take("signup:ip:a", now=NOW, window=day, limit=1)  # a fresh window
    assert not subs.take("signup:addr:c", now=NOW, window=day, limit=1)  # still counted
    assert subs.forget_rate_limits(NOW - 2 * day) == 0


CSV = (
    "email;name;organisation;organisation_type;newsletters;topics;language;consent_at\n"
    "anna.schmid@stadt-esslingen.de;Anna Schmid;Stadt Esslingen;Kommune;weekly;funding;de;"
    "2024-03-01\n"
    "bernd.mueller@landratsamt-bb.de;Bernd Müller;Landratsamt Böblingen;landkreis;weekly;;de;\n"
    "kein-at-zeichen;X;;;weekly;;de;2024-03-01\n"
)


def test_import_and_export_round_trip(world: World, tmp_path: Path) -> None:
    report = portability.import_csv(
        world.store, world.mailer, world.office, world.taxonomy, CSV.encode(),
        links=world.links, tz=TZ, now=NOW,
    )  # fmt: skip
    assert (report.confirmed, report.pending, report.mailed) == (1, 1, 1)
    assert [(p.line, p.reason.split(":")[0]) for p in report.problems] == [
        (4, "ungültige E-Mail-Adresse")
    ]
    anna = world.store.subscribers.by_hash(hash_of("anna.schmid@stadt-esslingen.de"))
    assert anna is not None and anna.status is SubscriberStatus.CONFIRMED
    assert anna.consent_at == dt.datetime(2024, 2, 29, 23, 0, tzinfo=dt.UTC)  # midnight, Brussels
    assert anna.org_type is OrgType.KOMMUNE
    assert _emails(world) == ["anna.schmid@stadt-esslingen.de"]
    mail = world.outbox.last(BERND)
    assert "stellen unseren Verteiler auf einen neuen Newsletter um" in mail.text
    world.confirm_last(BERND)

    exported = io.StringIO()
    assert portability.write_csv(world.store, exported) == 2
    before = sorted(world.store.subscribers.iter_all(), key=lambda s: s.email)

    other = Store(f"sqlite:///{tmp_path / 'copy.db'}")
    other.upgrade()
    try:
        again = portability.import_csv(
            other, world.mailer, world.office, world.taxonomy, exported.getvalue().encode(),
            links=None, tz=TZ, now=NOW + dt.timedelta(days=1),
        )  # fmt: skip
        assert (again.confirmed, again.pending, again.problem_count) == (2, 0, 0)
        after = sorted(other.subscribers.iter_all(), key=lambda s: s.email)
    finally:
        other.close()
    fields = ("email", "name", "organisation", "org_type", "language", "topics", "newsletters",
              "status", "consent_at")  # fmt: skip
    assert [[getattr(s, f) for f in fields] for s in after] == [
        [getattr(s, f) for f in fields] for s in before
    ]


def test_an_erased_subscribers_id_is_never_given_again(store) -> None:  # type: ignore[no-untyped-def]
    """Deliveries refer to subscriber ids: a new person must never inherit an old id."""
    import datetime as dt

    from pipeline.model import NewSubscriber, Profile

    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    first = store.subscribers.add(
        NewSubscriber("a@example.org", "a" * 64, Profile(newsletters=("weekly",)), "v1"), now=now
    )
    store.subscribers.erase(first.id, now=now)
    second = store.subscribers.add(
        NewSubscriber("b@example.org", "b" * 64, Profile(newsletters=("weekly",)), "v1"), now=now
    )
    assert second.id > first.id


def test_topic_filter_matches_whole_ids_and_empty_means_all(store) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from pipeline.model import NewSubscriber, Profile
    from pipeline.store.subscribers import SubscriberQuery

    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    people = {
        "a@example.org": ("funding", "energy_climate"),
        "b@example.org": ("fundingx",),
        "c@example.org": (),  # all topics
        "d@example.org": ("energyxclimate",),
    }
    for n, (email, topics) in enumerate(people.items()):
        store.subscribers.add(
            NewSubscriber(
                email, f"{n}" * 64, Profile(topics=topics, newsletters=("weekly",)), "v1"
            ),
            now=now,
        )

    def emails(topic: str) -> set[str]:
        return {s.email for s in store.subscribers.search(SubscriberQuery(topic=topic)).subscribers}

    assert emails("funding") == {"a@example.org", "c@example.org"}
    assert emails("energy_climate") == {"a@example.org", "c@example.org"}
    assert emails("fund") == {"c@example.org"}
