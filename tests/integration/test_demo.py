"""`eudigest demo` (what `make run` runs): the whole job, from fetching to a digest file.

The sources point at a loopback feed server (EUDIGEST_SOURCES), or at a closed port for
the run without a network. The CLI uses the real clock; the feeds are dated relative to it.
"""

from __future__ import annotations

import email
import html
import re
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest

from pipeline.jobs import DEMO_EMAIL
from tests.integration.test_cli_editions import TITLES, office_file, rss, sources_file
from tests.integration.test_ingest_corpus import Cli
from tests.support.feedserver import FeedServer
from tests.support.ports import refusing_port

ENTRIES = [(f"demo-{k}", f"{TITLES[k % len(TITLES)]} (Nr. {k})") for k in range(15)]


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


@pytest.fixture
def feed(tmp_path: Path, server: FeedServer) -> str:
    """A live feed of this test's own, with the 15 entries of ENTRIES."""
    path = f"/demo/{tmp_path.name}.xml"
    server.put(path, rss(ENTRIES))
    return path


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer, feed: str
) -> Cli:
    monkeypatch.setenv("EUDIGEST_SOURCES", str(sources_file(tmp_path, server.url(feed))))
    for name in ("EUDIGEST_SECRET_KEY", "EUDIGEST_BASE_URL", "EUDIGEST_OFFICE"):
        monkeypatch.delenv(name, raising=False)  # the embedded defaults
    return Cli(tmp_path, monkeypatch, capsys)


def digest_paths(out: str) -> tuple[Path, Path]:
    found = re.search(r"^digest \(HTML preview\): (.+)$", out, re.M)
    eml = re.search(r"^digest \(email, \.eml\): +(.+)$", out, re.M)
    assert found and eml, out
    return Path(found.group(1)), Path(eml.group(1))


def test_demo_fetches_drafts_approves_and_delivers_a_digest(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("demo")
    assert code == 0, err
    html_path, eml_path = digest_paths(out)
    assert html_path.is_file() and eml_path.is_file()
    assert html_path.parent == tmp_path / "var" / "outbox"

    editions = cli.json("edition", "list")
    assert len(editions) == 1
    shown = cli.json("edition", "show", str(editions[0]["id"]))
    assert shown["state"] == "sent"
    # the shipped office.yaml: four eyes on (a second demo account approves), and its
    # sample imprint does not stop the demo (it mails only its demo subscriber)
    assert shown["created_by"] == "demo" and shown["approved_by"] == "demo-reviewer"
    assert shown["title"].endswith("(Demo)")
    items = [i for s in shown["sections"] for i in s["items"]]
    assert len(items) == 12  # the demo's share of the 15 new items, all with topics
    assert all(i["topics"] for i in items)
    assert shown["deliveries"]["sent"] == 1 and sum(shown["deliveries"].values()) == 1

    page = html.unescape(html_path.read_text(encoding="utf-8"))
    for item in items:
        assert item["title"] in page
    message = email.message_from_bytes(eml_path.read_bytes(), policy=policy.default)
    assert message["To"] == DEMO_EMAIL
    assert "List-Unsubscribe" in message
    text = message.get_body(("plain",))
    assert text is not None and "Demo-Lauf" in text.get_content()
    assert f"Demo edition {editions[0]['id']}" in out and DEMO_EMAIL in out

    people = cli.json("subscribers", "export")
    assert [p["email"] for p in people] == [DEMO_EMAIL]
    assert (
        people[0]["status"] == "confirmed" and "kein echter Abonnent" in people[0]["organisation"]
    )


def test_demo_twice_points_at_the_previous_digest_then_uses_new_items(
    cli: Cli, server: FeedServer, feed: str
) -> None:
    code, first, _ = cli("demo")
    assert code == 0
    paths = digest_paths(first)

    code, second, err = cli("demo")
    assert code == 0, err
    assert "No new items since the last demo digest" in second
    assert digest_paths(second) == paths  # the previous digest
    assert len(cli.json("edition", "list")) == 1
    assert len(cli.json("subscribers", "export")) == 1  # no second demo subscriber

    server.put(feed, rss([*ENTRIES, ("demo-new", "Neue Förderung für Wasserstoff-Tankstellen")]))
    code, third, err = cli("demo")
    assert code == 0, err
    html_path, eml_path = digest_paths(third)
    assert (html_path, eml_path) != paths and eml_path.is_file()
    editions = cli.json("edition", "list")
    assert len(editions) == 2
    shown = cli.json("edition", "show", str(editions[0]["id"]))
    assert [i["title"] for s in shown["sections"] for i in s["items"]] == [
        "Neue Förderung für Wasserstoff-Tankstellen"
    ]
    assert "Wasserstoff-Tankstellen" in html.unescape(html_path.read_text(encoding="utf-8"))
    assert len(cli.json("subscribers", "export")) == 1


def test_demo_leaves_out_items_published_long_ago(cli: Cli, server: FeedServer, feed: str) -> None:
    """The demo composes without an editor: a relevant item of a feed's archive (here
    published two years ago) stays out of its digest; the recent ones go in."""
    old = rss(
        [("demo-2014", "Förderaufruf Wasserstoff-Tankstellen für Kommunen")], hours_ago=2 * 365 * 24
    )
    item = old[old.index(b"<item>") : old.index(b"</channel>")]
    fresh = rss(ENTRIES)
    server.put(feed, fresh.replace(b"</channel>", item + b"</channel>"))
    code, _, err = cli("demo")
    assert code == 0, err
    [edition] = cli.json("edition", "list")
    shown = cli.json("edition", "show", str(edition["id"]))
    titles = [i["title"] for s in shown["sections"] for i in s["items"]]
    assert titles and "Förderaufruf Wasserstoff-Tankstellen für Kommunen" not in titles
    assert len(cli.json("items")) == len(ENTRIES) + 1  # fetched all the same


def test_demo_never_mails_real_subscribers(cli: Cli, tmp_path: Path) -> None:
    assert cli("init")[0] == 0
    csv = tmp_path / "list.csv"
    csv.write_text("email,newsletters,consent_at\nanna@kommune.example,weekly,2026-01-15\n")
    code, _, err = cli("subscribers", "import", str(csv))
    assert code == 0, err

    code, out, err = cli("demo")
    assert code == 0, err
    assert "1 confirmed subscribers besides the demo subscriber" in out
    assert "digest (" not in out
    assert cli.json("edition", "list") == []
    assert not list((tmp_path / "var" / "outbox").glob("*.eml"))
    assert [p["email"] for p in cli.json("subscribers", "export")] == ["anna@kommune.example"]


def test_demo_without_network_says_so_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    with refusing_port() as port:
        url = f"http://127.0.0.1:{port}/feed.xml"
        monkeypatch.setenv("EUDIGEST_SOURCES", str(sources_file(tmp_path, url)))
        cli = Cli(tmp_path, monkeypatch, capsys)
        code, out, err = cli("demo")
        assert code == 0, err
        assert "No source could be reached" in out
        assert "No digest could be composed because nothing was fetched" in out
        assert "digest (" not in out and "Traceback" not in out + err
        assert cli.json("edition", "list") == []
        # and a second run offline is just as calm
        code, out, _ = cli("demo")
        assert code == 0 and "nothing was fetched" in out


def test_demo_after_a_run_without_network_tries_every_source_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer, feed: str
) -> None:
    """A first `make run` without a network puts every source in backoff for hours. The
    person fixes the network and runs it again: it fetches and delivers a digest, as the
    first run promised. Once a source has been fetched, a failing one waits out its
    backoff again, and the demo says which and how to try it now."""
    with refusing_port() as port:
        offline = f"http://127.0.0.1:{port}/feed.xml"
        monkeypatch.setenv("EUDIGEST_SOURCES", str(sources_file(tmp_path, offline)))
        cli = Cli(tmp_path, monkeypatch, capsys)
        code, out, _ = cli("demo")
        assert code == 0 and "the next run retries them" in out
        [live] = cli.json("sources")
        assert live["consecutive_failures"] == 1 and live["next_try"]  # in backoff

        # the network is back (the same source, reachable now)
        monkeypatch.setenv("EUDIGEST_SOURCES", str(sources_file(tmp_path, server.url(feed))))
        code, out, err = cli("demo")
        assert code == 0, err
        assert "skipped" not in out
        html_path, _ = digest_paths(out)
        assert html_path.is_file()

        # a source that fails after it once worked waits out its backoff, and says so
        monkeypatch.setenv("EUDIGEST_SOURCES", str(sources_file(tmp_path, offline)))
        assert cli("demo")[0] == 0
        code, out, _ = cli("demo")
        assert code == 0
        assert "1 source was skipped, waiting in backoff after failures: live" in out
        assert "`eudigest fetch --force`" in out


def test_demo_without_four_eyes_approves_as_its_author(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EUDIGEST_OFFICE", str(office_file(tmp_path, four_eyes=False)))
    code, out, err = cli("demo")
    assert code == 0, err
    assert digest_paths(out)[1].is_file()
    shown = cli.json("edition", "show", str(cli.json("edition", "list")[0]["id"]))
    assert (shown["created_by"], shown["approved_by"]) == ("demo", "demo")
