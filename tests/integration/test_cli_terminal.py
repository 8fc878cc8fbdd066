"""The command line at a terminal of 80 columns, interrupted prompts, --help defaults and
unknown ids: what an operator meets before reading any documentation.

The width is forced with COLUMNS=80 (rich reads it); every table line must fit, and a
column left out must be named in a note with the way to see it (--wide, --json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import common
from pipeline.cli.main import _parser, main
from tests.dossiers.test_cli import write_sources
from tests.integration.test_cli_editions import Desk
from tests.integration.test_ingest_corpus import Cli
from tests.support.feedserver import FeedServer

LONG = (
    "Kommission schlägt neue Leitlinien für staatliche Beihilfen an Kommunen, Landkreise "
    "und kommunale Unternehmen im Bereich Wasserstoff vor"
)


@pytest.fixture
def server(corpus_dir: Path) -> Iterator[FeedServer]:
    with FeedServer(corpus_dir) as srv:
        yield srv


@pytest.fixture
def desk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer
) -> Iterator[Desk]:
    monkeypatch.setenv("COLUMNS", "80")
    d = Desk(tmp_path, monkeypatch, capsys, server)
    assert d("init")[0] == 0
    yield d
    d.store.close()


def fits(out: str, width: int = 80) -> None:
    too_wide = [line for line in out.splitlines() if len(line) > width]
    assert not too_wide, too_wide


def shown_or_named(out: str, headers: list[str]) -> None:
    """Every header is in the table, or named in the note that says how to see it."""
    note = [line for line in out.splitlines() if "left out" in line]
    table = "\n".join(line for line in out.splitlines() if "left out" not in line)
    for header in headers:
        if header not in table:
            assert note and header in note[0] and "--wide" in note[0], (header, out)


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def test_items_at_80_columns_keep_the_whole_title(desk: Desk) -> None:
    desk.fetch_and_accept([("long", LONG)])
    out = desk.ok("items")
    fits(out)
    assert "title" in out and "id" in out
    assert words(LONG) <= words(out)  # wrapped, not cut
    shown_or_named(out, ["id", "published", "source", "type", "topics", "rel.", "title"])
    wide = desk.ok("items", "--wide")
    for header in ("published", "source", "type", "topics", "rel."):
        assert header in wide
    assert "left out" not in wide


def test_sources_at_80_columns_name_what_they_leave_out(desk: Desk) -> None:
    desk.publish([("a", "Eine Meldung")])
    assert desk("fetch")[0] == 0
    out = desk.ok("sources")
    fits(out)
    shown_or_named(
        out, ["id", "failures", "last success", "next try", "items", "institution", "last error"]
    )
    assert "live" in out


def test_edition_list_at_80_columns(desk: Desk) -> None:
    desk.fetch_and_accept([("long", LONG)])
    desk.draft()
    out = desk.ok("edition", "list")
    fits(out)
    shown_or_named(out, ["id", "newsletter", "state", "items", "title"])
    assert "draft" in out


def test_dossiers_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, server: FeedServer
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    cli = Cli(tmp_path, monkeypatch, capsys)
    assert cli("init")[0] == 0
    assert cli("fetch", "--sources-file", str(write_sources(tmp_path, server)))[0] in (0, 1)
    code, out, err = cli("dossiers")
    assert code == 0, err
    fits(out)
    assert "2025/0260(COD)" in out
    assert words("Nichtanwendung von Zöllen auf die Einfuhren bestimmter Waren") <= words(out)
    shown_or_named(
        out, ["Verfahren", "Titel", "Stand", "Nächster Schritt", "Meldungen", "Ereignisse"]
    )


def test_runs_at_80_columns(desk: Desk) -> None:
    when = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
    desk.store.runs.record(
        "fetch",
        when.isoformat(),
        when,
        "failed",
        instance="a-rather-long-host-name.example.org:12345",
        now=when,
        detail="connection refused by the database server at db.internal:5432 " * 2,
    )
    out = desk.ok("runs")
    fits(out)
    assert "fetch" in out and "failed" in out
    shown_or_named(out, ["job", "scheduled", "started", "seconds", "outcome", "instance"])


def test_users_list_at_80_columns(desk: Desk) -> None:
    from pipeline.curate import staff
    from pipeline.model import Role

    now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    for name in ("anna", "bernd-mit-einem-recht-langen-namen"):
        user = staff.add_user(desk.store, name, Role.EDITOR, "ein-langes-passwort-1", now=now)
        address = f"{name}.beim-europabuero-der-region-stuttgart@region-stuttgart.example"
        staff.set_email(desk.store, user.id, address)
    out = desk.ok("users", "list")
    fits(out)
    assert "bernd-mit-einem-recht-langen-namen" in out and "yes" in out
    shown_or_named(out, ["name", "role", "active", "last login", "test email"])
    wide = desk.ok("users", "list", "--wide")
    assert "test email" in wide and "left out" not in wide


def test_status_at_80_columns(desk: Desk) -> None:
    when = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
    desk.store.runs.record(
        "fetch",
        when.isoformat(),
        when,
        "failed",
        instance="host",
        now=when,
        detail="connection refused by the database server at db.internal:5432 " * 2,
    )
    code, out, _ = desk("status")
    assert code in (0, 1)
    fits(out)
    shown_or_named(out, ["job", "last run", "outcome", "duration", "next run"])
    assert words("connection refused by the database server at db.internal:5432") <= words(out)


def test_model_status_at_80_columns(desk: Desk) -> None:
    out = desk.ok("model", "status")
    fits(out)
    shown_or_named(out, ["output", "labels", "trained", "AUC model", "AUC rules", "in use"])
    assert "relevance" in out and "never trained: the rules decide" in " ".join(out.split())


# ---------------------------------------------------------------- unknown ids


def test_an_unknown_topic_is_an_error_not_an_empty_list(desk: Desk) -> None:
    line = desk.fails("items", "--topic", "nosuchtopic")
    assert "nosuchtopic" in line and "energy_climate" in line


def test_an_unknown_source_is_an_error(desk: Desk) -> None:
    line = desk.fails("items", "--source", "nosuchsource")
    assert "nosuchsource" in line


@pytest.mark.parametrize("action", ["accept", "reject", "delete"])
def test_an_unknown_item_id_is_an_error_and_nothing_changes(desk: Desk, action: str) -> None:
    desk.publish([("a", "Eine Meldung")])
    assert desk("fetch")[0] == 0
    (item,) = desk.json("items")
    line = desk.fails("items", action, str(item["id"]), "99999")
    assert "99999" in line
    assert desk.json("items")[0]["status"] == "new"


def test_an_unknown_job_is_an_error(desk: Desk) -> None:
    line = desk.fails("runs", "--job", "nosuchjob")
    assert "nosuchjob" in line and "fetch" in line


def test_an_unknown_edition_id_is_an_error(desk: Desk) -> None:
    line = desk.fails("edition", "show", "9999")
    assert "9999" in line


# ---------------------------------------------------------------- prompts


@pytest.mark.parametrize("raised", [KeyboardInterrupt, EOFError])
def test_ctrl_c_and_ctrl_d_at_the_password_prompt_end_cleanly(
    raised: type[BaseException], desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def getpass(prompt: str = "") -> str:
        raise raised

    monkeypatch.setattr(common.getpass, "getpass", getpass)
    monkeypatch.setattr(common.sys.stdin, "isatty", lambda: True)
    code, out, err = desk("users", "add", "anna")
    assert code == 130
    assert "Traceback" not in out + err
    assert "interrupted" in err
    assert desk.store.users.by_name("anna") is None


@pytest.mark.parametrize("raised", [KeyboardInterrupt, EOFError])
def test_ctrl_c_and_ctrl_d_at_the_approval_prompt_end_cleanly(
    raised: type[BaseException], desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common.getpass, "getpass", lambda prompt="": "ein-langes-passwort-1")
    monkeypatch.setattr(common.sys.stdin, "isatty", lambda: True)
    assert desk("users", "add", "anna")[0] == 0
    desk.fetch_and_accept([("a", "Eine Meldung")])
    edition_id = desk.draft()

    def getpass(prompt: str = "") -> str:
        raise raised

    monkeypatch.setattr(common.getpass, "getpass", getpass)
    code, out, err = desk("edition", "approve", str(edition_id), "--as", "anna")
    assert code == 130
    assert "Traceback" not in out + err
    assert desk.json("edition", "show", str(edition_id))["state"] == "draft"


def test_a_typed_password_still_adds_the_user(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.getpass, "getpass", lambda prompt="": "ein-langes-passwort-1")
    monkeypatch.setattr(common.sys.stdin, "isatty", lambda: True)
    assert desk("users", "add", "anna")[0] == 0
    assert desk.store.users.by_name("anna") is not None


# ---------------------------------------------------------------- help


def parsers(p: argparse.ArgumentParser, path: str = "eudigest") -> Iterator[Any]:
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from parsers(child, f"{path} {name}")


def test_every_option_has_help() -> None:
    missing = [
        f"{path} {'/'.join(a.option_strings)}"
        for path, p in parsers(_parser())
        for a in p._actions
        if a.option_strings and not a.help
    ]
    assert not missing


def test_help_shows_the_defaults(capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "(default: 127.0.0.1)" in out and "(default: 8000)" in out
    with pytest.raises(SystemExit):
        main(["items", "--help"])
    out = capsys.readouterr().out
    assert "(default: 50)" in out
    assert "(default: False)" not in out  # flags say nothing


# ---------------------------------------------------------------- CSV lists


def test_an_unquoted_list_in_a_semicolon_csv_is_refused_with_its_line(
    desk: Desk, tmp_path: Path
) -> None:
    path = tmp_path / "liste.csv"
    path.write_text(
        "email;topics;consent_at\n"
        "anna@stadt-esslingen.de;funding;2024-03-01\n"
        "karl@stadt-esslingen.de;mobility;energy_climate;2024-03-01\n"
        'petra@stadt-esslingen.de;"mobility;energy_climate";2024-03-01\n'
        "jan@stadt-esslingen.de;mobility|energy_climate;2024-03-01\n"
        "eva@stadt-esslingen.de;mobility,energy_climate;2024-03-01\n",
        encoding="utf-8",
    )
    code, out, err = desk("subscribers", "import", str(path))
    assert code == 0, err
    assert "4 importiert" in out
    line = next(x for x in out.splitlines() if "Zeile 3:" in x)
    assert "1 Zelle mehr" in line and "2024-03-01" in line and "Anführungszeichen" in line
    people = {s.email: s for s in desk.store.subscribers.iter_all()}
    assert "karl@stadt-esslingen.de" not in people
    for email in ("petra", "jan", "eva"):
        topics = set(people[f"{email}@stadt-esslingen.de"].topics)
        assert topics == {"mobility", "energy_climate"}, email
