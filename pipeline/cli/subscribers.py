"""`eudigest subscribers …`: sign-ups by hand, CSV import and export, GDPR data and erasure."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import InvalidInput, NotFound
from pipeline.model import Subscriber

if TYPE_CHECKING:
    from pipeline.bootstrap import Services
    from pipeline.cli.output import Console
    from subscribers import portability


def _split_ids(values: Sequence[str]) -> list[str]:
    return [v for value in values for v in value.replace(";", ",").split(",") if v.strip()]


def cmd_subscribers_add(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from subscribers import signup
    from subscribers.profiles import ProfileForm
    from subscribers.signup import SignUpForm
    from subscribers.tokens import Links

    office, taxonomy = services.office(), services.taxonomy()
    links = Links.from_settings(services.settings)
    newsletters = _split_ids(args.newsletters) or [n.id for n in office.newsletters[:1]]
    form = SignUpForm(
        args.email,
        ProfileForm(
            name=args.name,
            organisation=args.organisation,
            org_type=args.org_type,
            language=args.language,
            newsletters=newsletters,
            topics=_split_ids(args.topics),
        ),
    )
    email, profile = signup.check_form(form, office, taxonomy)
    result = signup.request_confirmation(
        services.store, services.mailer, office, taxonomy, links, email, profile,
        now=services.clock(),
    )  # fmt: skip
    if result.known:
        out.print(
            f"Die Adresse ist bereits eingetragen (Abonnent Nr. {result.subscriber_id}): "
            "eine Bestätigungsmail mit den neuen Einstellungen ist verschickt; sie gelten "
            "erst nach der Bestätigung.",
            highlight=False,
        )
    else:
        out.print(
            f"Abonnent Nr. {result.subscriber_id} angelegt (unbestätigt); "
            "die Bestätigungsmail ist verschickt.",
            highlight=False,
        )
    return 0


def cmd_subscribers_import(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from subscribers import portability
    from subscribers.tokens import Links

    path: Path = args.file
    try:
        with path.open("rb") as f:
            data = f.read(portability.MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"{path}: nicht lesbar ({exc.strerror})") from None
    settings = services.settings
    links = Links.from_settings(settings) if settings.secret_key and settings.base_url else None
    report = portability.import_csv(
        services.store, services.mailer, services.office(), services.taxonomy(), data,
        links=links, tz=settings.tz, now=services.clock(),
    )  # fmt: skip
    _print_import_report(path, report, out)
    return 0 if report.imported else 1


def _print_import_report(path: Path, r: portability.ImportReport, out: Console) -> None:
    from pipeline.text import de_count, de_number

    def n(value: int) -> str:
        return de_number(value, 0)

    delimiter = {",": "Komma", ";": "Semikolon", "\t": "Tabulator"}.get(r.delimiter, r.delimiter)
    out.print(
        f"Datei {path.name}: Kodierung {r.encoding}, Trennzeichen {delimiter}.", highlight=False
    )
    if r.ignored_columns:
        out.print(f"Nicht verwendete Spalten: {', '.join(r.ignored_columns)}", highlight=False)
    if r.default_newsletters:
        out.print(
            f"Keine Spalte newsletters: alle Zeilen erhalten {', '.join(r.default_newsletters)}.",
            highlight=False,
        )
    out.print(
        f"{de_count(r.rows, 'Zeile', 'Zeilen')} gelesen, {n(r.imported)} importiert: "
        f"{n(r.confirmed)} bestätigt (mit consent_at), {n(r.pending)} unbestätigt "
        f"({de_count(r.mailed, 'Bestätigungsmail', 'Bestätigungsmails')} verschickt).",
        highlight=False,
    )
    if r.problem_count:
        out.print(f"{de_count(r.problem_count, 'Zeile', 'Zeilen')} mit Problemen:", highlight=False)
        for p in r.problems:
            out.print(f"  Zeile {p.line}: {p.reason}", highlight=False, markup=False)
        if r.problem_count > len(r.problems):
            out.print(f"  … und {n(r.problem_count - len(r.problems))} weitere", highlight=False)
    if not r.imported:
        out.print("Es wurde keine Zeile importiert.", highlight=False)


def cmd_subscribers_export(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from subscribers import portability

    write = portability.write_json if args.json else portability.write_csv
    if args.output:
        with args.output.open("w", encoding="utf-8", newline="") as f:
            n = write(services.store, f)
        from pipeline.text import de_count

        err.print(
            f"{de_count(n, 'Abonnent', 'Abonnenten')} nach {args.output} exportiert.",
            highlight=False,
        )
    else:
        n = write(services.store, sys.stdout)
        sys.stdout.flush()
    return 0


def _subscriber_by_email(services: Services, raw: str) -> Subscriber:
    from subscribers.addresses import hash_of

    subscriber = services.store.subscribers.by_hash(hash_of(raw))
    if subscriber is None:
        raise NotFound(raw.strip())
    return subscriber


def cmd_subscribers_data(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from subscribers import gdpr

    subscriber = _subscriber_by_email(services, args.email)
    data = gdpr.subscriber_data(
        services.store, subscriber, services.office(), services.taxonomy(), now=services.clock()
    )
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return 0


def cmd_subscribers_erase(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from subscribers import gdpr
    from subscribers.addresses import hash_of

    hashed = hash_of(args.email)
    subscriber = services.store.subscribers.by_hash(hashed)
    if subscriber is None:
        if services.store.subscribers.suppression(hashed) is not None:
            out.print("Keine Daten zu dieser Adresse; sie ist bereits gesperrt.", highlight=False)
            return 0
        raise NotFound(args.email.strip())
    gdpr.erase(services.store, subscriber.id, now=services.clock())
    out.print(
        f"Abonnent Nr. {subscriber.id} gelöscht; nur die Prüfsumme der Adresse bleibt gesperrt.",
        highlight=False,
    )
    return 0


def cmd_subscribers_purge(
    services: Services, args: argparse.Namespace, out: Console, err: Console
) -> int:
    from subscribers import gdpr

    if args.days < 1:
        raise InvalidInput("--days: mindestens 1")
    n = gdpr.purge_pending(
        services.store, now=services.clock(), older_than=dt.timedelta(days=args.days)
    )
    from pipeline.text import de_count

    out.print(
        f"{de_count(n, 'unbestätigte Anmeldung', 'unbestätigte Anmeldungen')} "
        f"(älter als {de_count(args.days, 'Tag', 'Tage')}) gelöscht.",
        highlight=False,
    )
    return 0
