"""`eudigest edition …` end to end, and the scheduler's draft jobs, on a real SQLite store.

Items come from a feed served on loopback whose entries are dated relative to the real
clock (the CLI uses the real clock), so nothing here depends on the day the tests run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

from pipeline import curate, jobs
from pipeline.bootstrap import Services, build
from pipeline.cli import common
from pipeline.config import Settings
from pipeline.curate import staff, tokens
from pipeline.model import Audience, Priority, Role, StaffUser
from pipeline.store import Store
from tests.integration.test_ingest_corpus import Cli
from tests.support.feedserver import FeedServer
from tests.support.office import office_yaml

ROOT = Path(__file__).resolve().parents[2]
BRUSSELS = ZoneInfo("Europe/Brussels")
TITLES = [
    "Kommission fördert Wasserstoffprojekte in Regionen",
    "Neue Leitlinien für staatliche Beihilfen an Kommunen",
    "Horizon Europe: call for hydrogen valleys opens",
]


def rss(entries: list[tuple[str, str]], *, hours_ago: int = 2) -> bytes:
    """An RSS 2.0 feed of (guid, title), published a few hours before now."""
    when = format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago))
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://ec.europa.eu/news/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>{when}</pubDate>"
        f"<description>{escape(title)}</description></item>"
        for guid, title in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Test</title><link>https://ec.europa.eu/</link><description>t</description>"
        f"{items}</channel></rss>"
    ).encode()


def sources_file(folder: Path, url: str) -> Path:
    path = folder / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - id: live\n"
        "    name: Live test feed\n"
        "    institution: Europäische Kommission\n"
        f"    url: {url}\n"
        "    language: de\n"
        "    kind: feed\n",
        encoding="utf-8",
    )
    return path


def office_file(folder: Path, *, four_eyes: bool) -> Path:
    """The shipped office.yaml with a real imprint (the placeholder blocks approval)."""
    path = folder / "office.yaml"
    path.write_text(office_yaml(four_eyes=four_eyes), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


class Desk(Cli):
    """The CLI on a data directory with a live feed; `store` opens the same database."""

    def __init__(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: Any,
        server: FeedServer,
        *,
        four_eyes: bool = False,
    ) -> None:
        super().__init__(tmp_path, monkeypatch, capsys)
        self.tmp_path = tmp_path
        self.feed = f"/live/{tmp_path.name}.xml"
        self.server = server
        monkeypatch.setenv("EUDIGEST_SOURCES", str(sources_file(tmp_path, server.url(self.feed))))
        monkeypatch.setenv("EUDIGEST_OFFICE", str(office_file(tmp_path, four_eyes=four_eyes)))
        # what every mailed link needs: without them the preflight blocks approval
        monkeypatch.setenv("EUDIGEST_BASE_URL", "https://eudigest.example.de")
        monkeypatch.setenv("EUDIGEST_SECRET_KEY", "cli-editions-test-key-0123456789abcdef")
        self.store = Store(f"sqlite:///{tmp_path / 'var' / 'eudigest.db'}")

    def publish(self, entries: list[tuple[str, str]]) -> None:
        self.server.put(self.feed, rss(entries))

    def fetch_and_accept(self, entries: list[tuple[str, str]]) -> list[int]:
        """Publish, fetch, accept everything new (with a topic); the ids in feed order."""
        self.publish(entries)
        assert self("fetch")[0] == 0
        found = {i["url"]: i["id"] for i in self.json("items", "--status", "new")}
        assert len(found) == len(entries)
        ids = [found[f"https://ec.europa.eu/news/{guid}"] for guid, _ in entries]  # feed order
        code, _, err = self("items", "accept", *map(str, ids), "--topics", "energy_climate")
        assert code == 0, err
        return ids

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, err
        return out

    def fails(self, *args: str, code: int = 2) -> str:
        """The command fails with one clear `error:` line and no traceback."""
        got, out, err = self(*args)
        assert got == code, (out, err)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, err
        assert "Traceback" not in err + out
        return errors[0]

    def draft(self, newsletter: str = "weekly") -> int:
        return int(self.ok("edition", "draft", newsletter).strip())


@pytest.fixture
def desk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer
) -> Iterator[Desk]:
    d = Desk(tmp_path, monkeypatch, capsys, server)
    assert d("init")[0] == 0
    yield d
    d.store.close()


def entries(n: int = 3, prefix: str = "e") -> list[tuple[str, str]]:
    return [(f"{prefix}-{k}", TITLES[k % len(TITLES)] + f" ({prefix}{k})") for k in range(n)]


def local_iso(delta: dt.timedelta) -> str:
    """A time `delta` from now as the office writes it: local, no offset, minutes."""
    return (dt.datetime.now(BRUSSELS) + delta).replace(tzinfo=None).isoformat("T", "minutes")


# ---------------------------------------------------------------- draft


def test_draft_prints_the_id_alone_and_explains_on_stderr(desk: Desk) -> None:
    ids = desk.fetch_and_accept(entries())
    code, out, err = desk("edition", "draft", "weekly")
    assert code == 0, err
    edition_id = int(out.strip())  # nothing else on stdout
    assert out == f"{edition_id}\n"
    assert f"draft edition {edition_id}" in err and "3 items" in err
    shown = desk.json("edition", "show", str(edition_id))
    assert shown["state"] == "draft" and shown["newsletter"] == "weekly"
    assert sorted(i["id"] for s in shown["sections"] for i in s["items"]) == sorted(ids)


def test_draft_json_is_the_edition(desk: Desk) -> None:
    ids = desk.fetch_and_accept(entries(2))
    before = dt.datetime.now(BRUSSELS).strftime("%d.%m.%Y")
    data = desk.json("edition", "draft", "weekly")
    after = dt.datetime.now(BRUSSELS).strftime("%d.%m.%Y")  # the command may pass midnight
    assert isinstance(data["id"], int)
    assert data["state"] == "draft"
    assert data["title"].startswith("EU-Wochenbrief – ")
    assert before in data["title"] or after in data["title"]
    items = [i for s in data["sections"] for i in s["items"]]
    assert sorted(i["id"] for i in items) == sorted(ids)
    assert all(i["topics"] == ["energy_climate"] for i in items)
    assert data["sections"][0]["title"] == "Energie & Klima"  # the topic's German label
    assert data["deliveries"]["sent"] == 0


def test_draft_of_an_unknown_newsletter_names_the_configured_ones(desk: Desk) -> None:
    error = desk.fails("edition", "draft", "monthly")
    assert "monthly" in error and "weekly, daily" in error
    assert desk.store.editions.list() == []


def test_draft_without_accepted_items_still_gives_an_id_and_says_it_is_empty(desk: Desk) -> None:
    code, out, err = desk("edition", "draft", "daily")
    assert code == 0
    edition_id = int(out)
    assert "no accepted items" in err
    assert desk.store.editions.get(edition_id).item_ids == ()


# ---------------------------------------------------------------- show


def test_show_gives_headline_audiences_and_a_readable_summary(desk: Desk) -> None:
    ids = desk.fetch_and_accept(entries(2))
    anna = StaffUser(id=0, name="anna", role=Role.EDITOR)
    curate.annotate(
        desk.store,
        ids[0],
        headline="Wasserstoff: Geld für die Region",
        comment_md="Wichtig für Kommunen.",
        priority=Priority.ACTION,
        audiences=[Audience.KOMMUNE, Audience.UNTERNEHMEN],
        expected_version=0,
        actor=anna,
        now=dt.datetime.now(dt.UTC),
    )
    edition_id = desk.draft()

    data = desk.json("edition", "show", str(edition_id))
    assert set(data) >= {
        "id", "state", "title", "intro", "newsletter", "scheduled_at", "approved_by",
        "sections", "deliveries",
    }  # fmt: skip
    by_id = {i["id"]: i for s in data["sections"] for i in s["items"]}
    first = by_id[ids[0]]
    assert first["headline"] == "Wasserstoff: Geld für die Region"
    assert first["audiences"] == ["kommune", "unternehmen"]
    assert first["url"] == "https://ec.europa.eu/news/e-0"
    assert first["title"].startswith(TITLES[0])
    assert by_id[ids[1]]["headline"] is None and by_id[ids[1]]["audiences"] == []
    assert set(data["deliveries"]) >= {"queued", "sent", "failed", "unknown", "skipped"}

    text = desk.ok("edition", "show", str(edition_id))
    assert f"edition {edition_id}:" in text
    assert "state: draft" in text
    assert "Wasserstoff: Geld für die Region" in text
    assert "https://ec.europa.eu/news/e-1" in text
    assert "deliveries: none" in text


def test_show_of_an_unknown_edition_is_a_clear_error(desk: Desk) -> None:
    assert "edition 4711 does not exist" in desk.fails("edition", "show", "4711", "--json")
    with pytest.raises(SystemExit) as exited:  # argparse: usage and exit 2
        desk("edition", "show", "abc")
    assert exited.value.code == 2
    assert "invalid int value: 'abc'" in desk.capsys.readouterr().err


# ---------------------------------------------------------------- approve


def test_approve_then_schedule_in_office_time(desk: Desk) -> None:
    desk.fetch_and_accept(entries(2))
    edition_id = desk.draft()
    out = desk.ok("edition", "approve", str(edition_id))
    assert f"edition {edition_id} approved by cli:" in out
    shown = desk.json("edition", "show", str(edition_id))
    assert shown["state"] == "approved" and shown["approved_by"].startswith("cli:")

    at = local_iso(dt.timedelta(days=2))
    out = desk.ok("edition", "schedule", str(edition_id), "--at", at)
    assert "Europe/Brussels" in out
    shown = desk.json("edition", "show", str(edition_id))
    assert shown["state"] == "scheduled"
    scheduled = dt.datetime.fromisoformat(shown["scheduled_at"])
    assert scheduled == dt.datetime.fromisoformat(at).replace(tzinfo=BRUSSELS)
    assert "scheduled for" in desk.ok("edition", "show", str(edition_id))
    # not due yet: send-due leaves it alone
    assert json.loads(desk.ok("send-due", "--json"))["editions"] == []


def test_schedule_with_an_offset_keeps_the_instant(desk: Desk) -> None:
    desk.fetch_and_accept(entries(1))
    edition_id = desk.draft()
    desk.ok("edition", "approve", str(edition_id))
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(microsecond=0, second=0)
    desk.ok("edition", "schedule", str(edition_id), "--at", when.isoformat())
    shown = desk.json("edition", "show", str(edition_id))
    scheduled = dt.datetime.fromisoformat(shown["scheduled_at"])
    assert scheduled == when
    assert scheduled.utcoffset() == when.astimezone(BRUSSELS).utcoffset()  # shown in Brussels


def test_approve_errors(desk: Desk) -> None:
    empty = desk.draft("daily")
    code, _, err = desk("edition", "approve", str(empty))
    assert code == 2 and "Traceback" not in err
    assert "cannot be approved while the preflight finds 1 blocking problem" in err
    assert "✗ [edition_empty] Eine leere Ausgabe kann nicht freigegeben werden" in err
    assert "edition 999 does not exist" in desk.fails("edition", "approve", "999")
    desk.fetch_and_accept(entries(1))
    edition_id = desk.draft()
    desk.ok("edition", "approve", str(edition_id))
    error = desk.fails("edition", "approve", str(edition_id))
    assert "bereits im Zustand „Freigegeben“" in error and "eudigest edition schedule" in error
    assert "no staff account" in desk.fails("edition", "approve", str(empty), "--as", "nobody")


def test_schedule_errors(desk: Desk) -> None:
    desk.fetch_and_accept(entries(1))
    edition_id = str(desk.draft())
    future = local_iso(dt.timedelta(days=1))
    assert "approve it first" in desk.fails("edition", "schedule", edition_id, "--at", future)
    desk.ok("edition", "approve", edition_id)
    past = local_iso(-dt.timedelta(hours=1))
    error = desk.fails("edition", "schedule", edition_id, "--at", past)
    assert "Der Versandzeitpunkt muss in der Zukunft liegen" in error
    error = desk.fails("edition", "schedule", edition_id, "--at", "next tuesday")
    assert "not an ISO 8601 time" in error
    day = future[:10]
    assert "give a time too" in desk.fails("edition", "schedule", edition_id, "--at", day)
    assert "does not exist" in desk.fails("edition", "schedule", "999", "--at", future)
    assert desk.store.editions.get(int(edition_id)).state.value == "approved"  # unchanged

    desk.ok("edition", "schedule", edition_id, "--at", future)
    error = desk.fails("edition", "schedule", edition_id, "--at", future)
    assert "bereits im Zustand „Geplant“" in error and "eudigest edition unschedule" in error


def test_unschedule_and_reopen_go_back_to_draft(desk: Desk) -> None:
    desk.fetch_and_accept(entries(1))
    edition_id = str(desk.draft())
    assert "bereits im Zustand „Entwurf“" in desk.fails("edition", "unschedule", edition_id)
    assert "bereits im Zustand „Entwurf“" in desk.fails("edition", "reopen", edition_id)
    desk.ok("edition", "approve", edition_id)
    desk.ok("edition", "schedule", edition_id, "--at", local_iso(dt.timedelta(days=1)))
    desk.ok("edition", "unschedule", edition_id)
    shown = desk.json("edition", "show", edition_id)
    assert (shown["state"], shown["scheduled_at"], shown["approved_by"]) == ("draft", None, None)
    desk.ok("edition", "approve", edition_id)
    desk.ok("edition", "reopen", edition_id)
    assert desk.json("edition", "show", edition_id)["state"] == "draft"


# ---------------------------------------------------------------- four eyes


@pytest.fixture
def four_eyes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer
) -> Iterator[Desk]:
    d = Desk(tmp_path, monkeypatch, capsys, server, four_eyes=True)
    assert d("init")[0] == 0
    now = dt.datetime.now(dt.UTC)
    staff.add_user(d.store, "anna", Role.EDITOR, "anna-passwort-123", now=now)
    staff.add_user(d.store, "berta", Role.ADMIN, "berta-passwort-123", now=now)
    yield d
    d.store.close()


def test_four_eyes_needs_a_named_second_person_with_a_credential(
    four_eyes: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = four_eyes
    desk.fetch_and_accept(entries(1))
    edition_id = desk.draft()
    error = desk.fails("edition", "approve", str(edition_id))
    assert "four-eyes" in error and "--as NAME" in error

    # anna edits the draft last: she may not approve it, berta may
    anna = desk.store.users.by_name("anna")
    assert anna is not None
    edition = desk.store.editions.get(edition_id)
    curate.update_edition(
        desk.store, edition_id, title="KW 48", intro="Die Themen der Woche.",
        expected_version=edition.version, actor=anna, now=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    typed: list[str] = []

    def prompt(answer: str | None) -> None:
        def ask(text: str) -> str | None:
            typed.append(text)
            return answer

        monkeypatch.setattr(common, "ask_password", ask)

    # a bare --as (no terminal to type a password, no token) approves nobody
    prompt(None)
    error = desk.fails("edition", "approve", str(edition_id), "--as", "berta")
    assert "needs berta's credential" in error and "EUDIGEST_API_TOKEN" in error
    prompt("falsches-passwort-1")
    assert "wrong password" in desk.fails("edition", "approve", str(edition_id), "--as", "berta")
    prompt("anna-passwort-123")
    error = desk.fails("edition", "approve", str(edition_id), "--as", "anna")
    assert "Vier-Augen-Prinzip" in error and "zuletzt geändert hat (anna)" in error
    assert desk.store.editions.get(edition_id).state.value == "draft"

    prompt("berta-passwort-123")
    desk.ok("edition", "approve", str(edition_id), "--as", "berta")
    assert typed[-1] == "Passwort von berta: "
    shown = desk.json("edition", "show", str(edition_id))
    assert (shown["state"], shown["approved_by"]) == ("approved", "berta")
    approval = next(
        a for a in desk.store.editions.audit(edition_id) if a.action == "edition.approved"
    )
    assert (approval.actor, approval.detail) == (
        "berta",
        "zuletzt bearbeitet von anna, freigegeben von berta",
    )


def test_four_eyes_approval_with_a_personal_api_token(
    four_eyes: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = four_eyes
    desk.fetch_and_accept(entries(2))
    first, second = desk.draft("weekly"), desk.draft("daily")
    berta = desk.store.users.by_name("berta")
    anna = desk.store.users.by_name("anna")
    assert berta is not None and anna is not None
    now = dt.datetime.now(dt.UTC)
    token_record, token = tokens.create(desk.store, berta, "Laptop", now=now)
    _, annas = tokens.create(desk.store, anna, "Skript", now=now)
    # only the hash is stored
    assert token not in str(desk.store.tokens.list(berta.id))

    def no_prompt(text: str) -> str | None:
        raise AssertionError("a token in the environment is used without asking")

    monkeypatch.setattr(common, "ask_password", no_prompt)
    monkeypatch.setenv("EUDIGEST_API_TOKEN", annas)
    error = desk.fails("edition", "approve", str(first), "--as", "berta")
    assert "not an active API token of berta" in error
    monkeypatch.setenv("EUDIGEST_API_TOKEN", token)
    desk.ok("edition", "approve", str(first), "--as", "berta")
    assert desk.store.editions.get(first).approved_by == "berta"
    assert desk.store.tokens.list(berta.id)[0].last_used_at is not None
    tokens.revoke(desk.store, berta, token_record.id, now=now)
    error = desk.fails("edition", "approve", str(second), "--as", "berta")
    assert "not an active API token of berta" in error
    assert desk.store.editions.get(second).state.value == "draft"


def test_without_four_eyes_the_operator_approves_as_the_system_user(desk: Desk) -> None:
    desk.fetch_and_accept(entries(1))
    edition_id = desk.draft()
    desk.ok("edition", "approve", str(edition_id))
    approved_by = desk.store.editions.get(edition_id).approved_by or ""
    assert approved_by.startswith("cli:")
    approval = next(
        a for a in desk.store.editions.audit(edition_id) if a.action == "edition.approved"
    )
    # drafted and approved by the same operator: allowed without four eyes, and named
    assert approval.detail == f"zuletzt bearbeitet von {approved_by}, freigegeben von {approved_by}"


def test_four_eyes_refuses_a_deactivated_account(four_eyes: Desk) -> None:
    desk = four_eyes
    desk.fetch_and_accept(entries(1))
    edition_id = desk.draft()
    berta = desk.store.users.by_name("berta")
    assert berta is not None
    desk.store.users.set_active(berta.id, False)
    assert "deactivated" in desk.fails("edition", "approve", str(edition_id), "--as", "berta")


# ---------------------------------------------------------------- the scheduler's draft jobs


def make_services(tmp_path: Path, clock: Any = None) -> Services:
    settings = Settings.from_env(
        {
            "EUDIGEST_DATA_DIR": str(tmp_path / "var"),
            "EUDIGEST_OFFICE": str(tmp_path / "office.yaml"),
            "EUDIGEST_SOURCES": str(tmp_path / "sources.yaml"),
        },
        cwd=tmp_path,
    )
    services = build(settings)
    if clock is not None:
        services.clock = clock
    return services


def test_draft_jobs_are_idempotent_per_office_day(desk: Desk) -> None:
    services = make_services(desk.tmp_path)
    try:
        nothing = jobs.draft_weekly(services)
        assert not nothing.created
        assert str(nothing) == "draft_weekly: nothing drafted (no accepted item waits for weekly)"
        assert desk.store.editions.list() == []

        ids = desk.fetch_and_accept(entries(2))
        made = jobs.draft_weekly(services)
        assert made.created and made.newsletter_id == "weekly" and made.items == 2
        assert (
            str(made) == f"draft_weekly: edition {made.edition_id} of weekly drafted with 2 items"
        )
        edition = desk.store.editions.get(made.edition_id or 0)
        assert sorted(edition.item_ids) == sorted(ids)
        assert edition.created_by == "scheduler"

        desk.fetch_and_accept(entries(1, prefix="later"))
        again = jobs.draft_weekly(services)
        assert not again.created and "already created today" in again.reason
        assert len(desk.store.editions.list(newsletter_id="weekly")) == 1

        daily = jobs.draft_daily(services)  # another newsletter: its own day
        assert daily.created and daily.newsletter_id == "daily" and daily.items == 3
    finally:
        services.close()


def test_draft_jobs_count_days_in_the_office_time_zone(desk: Desk) -> None:
    desk.fetch_and_accept(entries(1))
    midnight = dt.datetime.combine(dt.datetime.now(BRUSSELS).date(), dt.time(), BRUSSELS)
    before = midnight - dt.timedelta(minutes=30)  # 23:30 in Brussels, 22:30 UTC in winter
    after = midnight + dt.timedelta(minutes=30)  # the next day in Brussels
    services = make_services(desk.tmp_path, clock=lambda: before.astimezone(dt.UTC))
    try:
        assert jobs.draft_weekly(services).created
        desk.fetch_and_accept(entries(1, prefix="late"))
        services.clock = lambda: after.astimezone(dt.UTC)
        result = jobs.draft_weekly(services)
        assert result.created, result
    finally:
        services.close()


def test_draft_job_without_such_a_newsletter_says_so(desk: Desk) -> None:
    office = desk.tmp_path / "office.yaml"
    text = office.read_text(encoding="utf-8")
    office.write_text(text.replace("cadence: daily", "cadence: weekly"), encoding="utf-8")
    services = make_services(desk.tmp_path)
    try:
        result = jobs.draft_daily(services)
        assert not result.created
        assert str(result) == (
            "draft_daily: nothing drafted (office.yaml has no newsletter with cadence daily)"
        )
    finally:
        services.close()
