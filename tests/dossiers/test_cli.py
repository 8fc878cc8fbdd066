"""End to end through the command line: ingest (feeds, the EP API, OEIL) → dossiers →
show → follow, all served from the loopback FeedServer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_ingest_corpus import Cli
from tests.support.feedserver import FeedServer

PROCEDURE = "api/ep-opendata-procedure-2025-0260-cod.json"
LIST = "api/ep-opendata-procedures-list-2026.json"
OEIL = "pages/oeil-procedure-file-2024-0258-cod-en.html"
CHALLENGE = (  # made up here: the shape of a JavaScript challenge page
    b"<!DOCTYPE html><html><head><script>var challenge=1;</script></head>"
    b"<body>Please enable JavaScript</body></html>"
)
# Written for this test: press items naming the procedures in odd spellings.
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Presse</title><link>https://www.europarl.europa.eu/</link>
<item><title>Zölle: Abgeordnete stimmen Einigung zu</title>
<link>https://www.europarl.europa.eu/news/de/press-room/1</link>
<description>Verfahren 2025/260(COD), Bericht A10-0070/2026.</description>
<pubDate>Tue, 16 Jun 2026 12:00:00 GMT</pubDate></item>
<item><title>Moldau: Fazilität im Amtsblatt</title>
<link>https://www.europarl.europa.eu/news/de/press-room/2</link>
<description>Der Vorschlag COM(2024)469 final ist nun Verordnung.</description>
<pubDate>Fri, 21 Mar 2025 12:00:00 GMT</pubDate></item>
<item><title>Etwas ganz anderes</title>
<link>https://www.europarl.europa.eu/news/de/press-room/3</link>
<description>Ohne Verfahren.</description>
<pubDate>Fri, 21 Mar 2025 13:00:00 GMT</pubDate></item>
</channel></rss>"""


@pytest.fixture
def server(corpus_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(corpus_dir) as srv:
        yield srv


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Cli:
    c = Cli(tmp_path, monkeypatch, capsys)
    monkeypatch.setenv("EUDIGEST_FETCH_TIMEOUT", "2")
    assert c("init")[0] == 0
    return c


def write_sources(tmp_path: Path, server: FeedServer, *, with_feed: bool = True) -> Path:
    list_body = {
        "data": [
            {
                "id": "eli/dl/proc/2025-0260",
                "type": "Process",
                "process_id": "2025-0260",
                "process_type": "def/ep-procedure-types/COD",
                "label": "2025/0260(COD)",
            },
            {
                "id": "eli/dl/proc/2026-0010",
                "type": "Process",
                "process_id": "2026-0010",
                "process_type": "def/ep-procedure-types/COD",
                "label": "2026/0010(COD)",
            },
            {
                "id": "eli/dl/proc/2026-0045",
                "type": "Process",
                "process_id": "2026-0045",
                "process_type": "def/ep-procedure-types/COD",
                "label": "2026/0045(COD)",
            },
        ]
    }
    server.put("/ep/procedures", json.dumps(list_body).encode(), "application/ld+json")
    server.put(
        "/ep/procedures/2025-0260", (server.root / PROCEDURE).read_bytes(), "application/ld+json"
    )  # type: ignore[operator]
    # 2026-0010: not found (404); 2026-0045: an anti-bot page instead of JSON
    server.put("/ep/procedures/2026-0045", CHALLENGE, "text/html")
    server.put("/press.xml", RSS.encode())
    lines = ["sources:"]
    entries = [
        (
            "ep-procedures",
            server.url("/ep/procedures"),
            "api",
            "ep_procedures",
            {"types": ["COD"], "detail_url": server.url("/ep/procedures/{id}")},
        ),
        ("oeil-2024-0258", server.url(OEIL), "html", "oeil", {}),
    ]
    if with_feed:
        entries.insert(0, ("ep-press", server.url("/press.xml"), "feed", None, {}))
    for sid, url, kind, adapter, options in entries:
        lines += [
            f"  - id: {sid}",
            f"    name: {sid}",
            "    institution: Europäisches Parlament",
            f"    url: {url}",
            "    language: de",
            f"    kind: {kind}",
        ]
        if adapter:
            lines.append(f"    adapter: {adapter}")
        if options:
            lines.append(f"    options: {json.dumps(options)}")
    path = tmp_path / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ingest_then_dossiers_show_and_follow(cli: Cli, server: FeedServer, tmp_path: Path) -> None:
    sources = write_sources(tmp_path, server)
    report = {r["source"]: r for r in cli.json("fetch", "--sources-file", str(sources))}
    ep = report["ep-procedures"]
    # one procedure failed (404), one was an anti-bot page: the others went on
    assert ep["status"] == "ok" and ep["new"] == 3
    assert len(ep["warnings"]) == 2
    assert any("404" in w for w in ep["warnings"])
    assert any("anti-bot" in w for w in ep["warnings"])
    assert report["oeil-2024-0258"]["status"] == "ok"

    listed = {d["reference"]: d for d in cli.json("dossiers")}
    assert set(listed) == {"2025/0260(COD)", "2026/0010(COD)", "2026/0045(COD)", "2024/0258(COD)"}
    customs = listed["2025/0260(COD)"]
    assert customs["title_de"] == "Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren"
    assert (customs["type"], customs["stage"], customs["items"], customs["events"]) == (
        "COD",
        "council",
        1,
        23,
    )
    assert customs["next_step"] == "Annahme durch den Rat"
    assert set(customs) >= {
        "reference",
        "title_de",
        "title_en",
        "type",
        "stage",
        "next_step",
        "updated_at",
        "items",
        "events",
    }
    assert listed["2024/0258(COD)"]["stage"] == "published"
    assert [d["reference"] for d in cli.json("dossiers", "--stage", "published")] == [
        "2024/0258(COD)"
    ]

    shown = cli.json("dossier", "show", "COM(2024)469 final")
    assert shown["reference"] == "2024/0258(COD)"
    assert shown["links"] == {
        "oeil": "https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file?reference=2024/0258(COD)",
        "eurlex_de": "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32025R0535",
        "eurlex_en": "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32025R0535",
        "eurlex_procedure_de": "https://eur-lex.europa.eu/procedure/DE/2024_258",
    }
    assert next(iter(shown["links"])) == "eurlex_de"  # German first, as in the desk
    assert len(shown["items"]) == 1
    assert shown["events"][-1] == {
        "date": "2025-03-21",
        "kind": "OJ_PUBLICATION",
        "label_de": "Im Amtsblatt veröffentlicht",
        "label_en": "Final act published in Official Journal",
        "document": "",
        "forecast": False,
        "source": "oeil-2024-0258",
    }
    assert "52024PC0469" in shown["aliases"]

    code, out, err = cli("dossier", "show", "2025/260(COD)")
    assert code == 0, err
    assert "Stand: Rat" in out and "Nächster Schritt: Annahme durch den Rat" in out
    assert "16. Juni 2026: Parlament legt Standpunkt fest" in out
    assert "16. Juni 2026: Zölle: Abgeordnete stimmen Einigung zu" in out  # its item

    code, _, err = cli("dossier", "follow", "2025/0260(COD)", "--as", "anna")
    assert code == 2 and "Kein Mitarbeiterkonto" in err
    assert cli_users_add(cli, "anna") == 0
    assert cli("dossier", "follow", "2025/0260 (COD)", "--as", "anna")[0] == 0
    assert [d["reference"] for d in cli.json("dossiers", "--followed", "anna")] == [
        "2025/0260(COD)"
    ]
    assert cli.json("dossier", "show", "2025/0260(COD)")["followers"] == ["anna"]
    assert cli("dossier", "unfollow", "2025/0260(COD)", "--as", "anna")[0] == 0
    assert cli.json("dossiers", "--followed", "anna") == []
    code, _, err = cli("dossier", "show", "2099/0001(COD)")
    assert code == 2 and "2099/0001(COD)" in err


def test_items_that_came_before_their_dossier_join_it(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, server)
    assert cli.json("fetch", "--sources-file", str(sources), "--source", "ep-press")
    assert cli.json("dossiers") == []
    cli.json("fetch", "--sources-file", str(sources))
    shown = cli.json("dossier", "show", "2025/0260(COD)")
    assert len(shown["items"]) == 1
    item_id = shown["items"][0]
    assert cli_users_add(cli, "anna") == 0
    assert cli("dossier", "detach", "2025/0260(COD)", str(item_id), "--as", "anna")[0] == 0
    cli.json("fetch", "--sources-file", str(sources), "--force")
    assert cli.json("dossier", "show", "2025/0260(COD)")["items"] == []  # stays out
    assert cli("dossier", "attach", "2025/0260(COD)", str(item_id), "--as", "anna")[0] == 0
    assert cli.json("dossier", "show", "2025/0260(COD)")["items"] == [item_id]


def test_followed_dossiers_count_new_events_until_the_follower_looks(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    """`dossiers --followed` takes the account from --as (or names it); a follow sees
    what is there; a later event is new until `dossier show --as` (or the desk page)."""
    import datetime as dt
    import os

    from pipeline.bootstrap import build
    from pipeline.config import Settings
    from pipeline.model import DossierEvent, DossierRecord, EventKind

    assert cli.json("fetch", "--sources-file", str(write_sources(tmp_path, server)))
    assert cli_users_add(cli, "anna") == 0
    assert cli("dossier", "follow", "2025/260(COD)", "--as", "anna")[0] == 0
    code, _, err = cli("dossiers", "--followed")
    assert code == 2 and "--as" in err
    [row] = cli.json("dossiers", "--followed", "--as", "anna")
    assert (row["reference"], row["new_events"]) == ("2025/0260(COD)", 0)
    assert [r["reference"] for r in cli.json("dossiers", "--followed", "anna")] == [
        "2025/0260(COD)"
    ]
    assert "new_events" not in cli.json("dossiers")[0]  # no account, no "new"

    services = build(Settings.from_env(dict(os.environ), cwd=tmp_path))
    try:  # the Official Journal publishes the act: an event from another source
        event = DossierEvent(dt.date(2026, 7, 20), EventKind.OJ_PUBLICATION, "eurlex", key="oj")
        record = DossierRecord(reference="2025/0260(COD)", source="eurlex", events=(event,))
        services.store.dossiers.upsert([record], now=services.clock())
    finally:
        services.close()
    [row] = cli.json("dossiers", "--followed", "--as", "anna")
    assert row["new_events"] == 1 and row["stage_de"] == "im Amtsblatt"
    code, out, _ = cli("dossiers", "--followed", "--as", "anna")
    assert code == 0 and "1 neues Ereignis" in out and "Neu" in out

    assert cli("dossier", "show", "2025/0260(COD)", "--as", "anna")[0] == 0  # looked
    assert cli.json("dossiers", "--followed", "--as", "anna")[0]["new_events"] == 0


def cli_users_add(cli: Cli, name: str) -> int:
    import io
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO("geheim-und-lang-genug-123\n")
    try:
        return cli("users", "add", name)[0]
    finally:
        sys.stdin = old


def test_the_dossier_list_loads_no_other_stage(tmp_path: Path) -> None:
    from tests.unit.test_startup_imports import HEAVY, STAGES, loaded

    loaded(tmp_path, "init")
    modules = loaded(tmp_path, "dossiers", "--json")
    assert "pipeline.store.dossiers" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    stages = sorted(m for m in modules if m.startswith(STAGES))
    assert not heavy and not stages, (heavy, stages)


def test_when_every_procedure_request_fails_the_source_fails(
    cli: Cli, server: FeedServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, server, with_feed=False)
    text = sources.read_text(encoding="utf-8").replace(
        server.url("/ep/procedures/{id}"), server.url("/_fault/status/503?procedure={id}")
    )
    sources.write_text(text, encoding="utf-8")
    code, _, err = cli("fetch", "--sources-file", str(sources), "--source", "ep-procedures")
    assert code == 1, err
    (health,) = [h for h in cli.json("sources") if h["id"] == "ep-procedures"]
    assert health["consecutive_failures"] == 1
    assert "all 3 procedure requests failed" in health["last_error"]
    assert "HTTP 503" in health["last_error"]
    assert cli.json("dossiers") == []
