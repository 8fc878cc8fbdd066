"""CSV import and CSV/JSON export of subscribers.

    import_csv(bytes):
        decode          UTF-8, UTF-8 with BOM, else Windows-1252 (Excel); the report names it
        sniff           ',' or ';' (German Excel writes ';')
        read_rows       header → columns (email required); each row checked on its own:
                        a bad row is reported by its line number and skipped, never the file
        store           one transaction (add_many): rows with consent_at are confirmed with
                        that consent date, the others pending
        mail            a confirmation mail to each pending row

    export_rows()       every subscriber, streamed in id order (iter_all)

Import columns: email (required), name, organisation, organisation_type, newsletters
and topics (ids separated by ';', ',' or '|'; in a ';' file quote the cell or use ',' or
'|'), language, consent_at (ISO date); an export adds
status and confirmed_at, and an import of an export gives the same subscribers back
(rows with status "unsubscribed" are not imported).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from pipeline.errors import ConfigError, DeliveryError, InvalidInput
from pipeline.model import (
    Mailer,
    NewSubscriber,
    Office,
    OutgoingEmail,
    Profile,
    SendResult,
    Subscriber,
    SubscriberStatus,
    Taxonomy,
)
from pipeline.store import Store
from subscribers import mails
from subscribers.addresses import InvalidEmail, email_hash, normalise_email
from subscribers.profiles import InvalidForm, ProfileForm, parse_profile
from subscribers.signup import CONSENT_VERSION
from subscribers.tokens import Links

log = logging.getLogger("eudigest.subscribers")

MAX_IMPORT_BYTES = 50_000_000
MAX_IMPORT_ROWS = 200_000
MAX_PROBLEMS_SHOWN = 1000  # the report keeps the first ones; the count is always exact
MAIL_BATCH = 500
CONCURRENT_MAIL_BATCH = 50  # per thread, for a mailer with `concurrency` (SendGrid)

COLUMNS = (
    "email",
    "name",
    "organisation",
    "organisation_type",
    "applicant_type",
    "newsletters",
    "topics",
    "language",
    "consent_at",
)
EXPORT_COLUMNS = (*COLUMNS, "status", "confirmed_at")
# Header spellings seen in real lists (Excel exports, German column names).
ALIASES = {
    "e-mail": "email",
    "e_mail": "email",
    "mail": "email",
    "emailadresse": "email",
    "e-mail-adresse": "email",
    "organization": "organisation",
    "organisationstyp": "organisation_type",
    "org_type": "organisation_type",
    "antragsteller": "applicant_type",
    "antragstellerart": "applicant_type",
    "sprache": "language",
    "themen": "topics",
    "einwilligung": "consent_at",
}
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 mit BOM",
    "utf-16": "UTF-16 (Excel „Unicode-Text“)",
    "cp1252": "Windows-1252",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    reason: str  # German


@dataclass
class ImportReport:
    encoding: str = ""  # as people call it: "UTF-8", "UTF-8 mit BOM", "Windows-1252"
    delimiter: str = ","
    rows: int = 0  # data rows read
    confirmed: int = 0  # imported as confirmed (the row had consent_at)
    pending: int = 0  # imported as pending: a confirmation mail was due
    mailed: int = 0  # confirmation mails handed to the mailer
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    default_newsletters: tuple[str, ...] = ()  # given to rows without newsletters

    @property
    def imported(self) -> int:
        return self.confirmed + self.pending

    def problem(self, line: int, reason: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_SHOWN:
            self.problems.append(RowProblem(line, reason))


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    email: str
    profile: Profile
    consent_at: dt.datetime | None


# ---------------------------------------------------------------- import


def import_csv(
    store: Store,
    mailer: Mailer,
    office: Office,
    taxonomy: Taxonomy,
    data: bytes,
    *,
    links: Links | None,
    tz: ZoneInfo,
    now: dt.datetime,
) -> ImportReport:
    """Import a CSV file's good rows and report the bad ones by line.

    InvalidInput when the file as a whole cannot be read (too big, no email column,
    undecodable); ConfigError when rows need a confirmation mail but `links` is None.
    """
    rows, report = read_csv(data, office, taxonomy, tz=tz, now=now)
    if not rows:
        return report
    if links is None and any(r.consent_at is None for r in rows):
        raise ConfigError(
            "rows without consent_at need a confirmation mail: set EUDIGEST_SECRET_KEY "
            "and EUDIGEST_BASE_URL (nothing was imported)"
        )
    rows = _drop_suppressed(store, rows, report)
    ids = store.subscribers.add_many(
        [
            NewSubscriber(r.email, email_hash(r.email), r.profile, CONSENT_VERSION, r.consent_at)
            for r in rows
        ],
        now=now,
    )
    to_mail: list[Subscriber] = []
    for row, subscriber_id in zip(rows, ids, strict=True):
        if subscriber_id is None:
            report.problem(row.line, "bereits eingetragen (nicht geändert)")
        elif row.consent_at is not None:
            report.confirmed += 1
        else:
            report.pending += 1
            to_mail.append(_pending(subscriber_id, row, now))
    if to_mail and links is not None:
        lines = {r.email: r.line for r in rows}
        _send_confirmations(mailer, office, taxonomy, links, to_mail, lines, report, now)
    log.info(
        "import: %d rows, %d confirmed, %d pending (%d mailed), %d problems",
        report.rows,
        report.confirmed,
        report.pending,
        report.mailed,
        report.problem_count,
    )
    return report


def _pending(subscriber_id: int, row: _Row, now: dt.datetime) -> Subscriber:
    """The subscriber add_many just wrote, as the store would return it (no re-read)."""
    p = row.profile
    return Subscriber(
        id=subscriber_id,
        email=row.email,
        status=SubscriberStatus.PENDING,
        created_at=now,
        name=p.name,
        organisation=p.organisation,
        org_type=p.org_type,
        applicant=p.applicant,
        language=p.language,
        topics=p.topics,
        newsletters=p.newsletters,
        consent_at=now,
        consent_text=CONSENT_VERSION,
    )


def _send_confirmations(
    mailer: Mailer,
    office: Office,
    taxonomy: Taxonomy,
    links: Links,
    subscribers: Sequence[Subscriber],
    lines: dict[str, int],
    report: ImportReport,
    now: dt.datetime,
) -> None:
    """A confirmation mail to each, handed to the mailer in batches, results in row order.

    A mailer that takes requests in parallel (`concurrency` above 1: SendGrid, one request
    per mail, EUDIGEST_SENDGRID_CONCURRENCY) gets that many smaller batches at once, each
    on a thread of its own, as the sender does: 10,000 mails at a round trip of 80 ms
    then take about half a minute instead of a quarter of an hour. Mails are made here,
    at most two batches per thread ahead of the answers."""
    confirmations = mails.Confirmations(office, taxonomy, imported=True)
    workers = max(1, int(getattr(mailer, "concurrency", 1)))
    size = MAIL_BATCH if workers == 1 else CONCURRENT_MAIL_BATCH

    def made(batch: Sequence[Subscriber]) -> list[OutgoingEmail]:
        return [confirmations.mail(s, links.confirm(s, now=now)) for s in batch]

    batches = (subscribers[i : i + size] for i in range(0, len(subscribers), size))
    if workers == 1:
        for batch in batches:
            _record(batch, _send(mailer, made(batch)), lines, report)
        return
    waiting: deque[tuple[Sequence[Subscriber], Future[list[SendResult] | DeliveryError]]]
    waiting = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="confirm")
    try:
        for batch in batches:
            waiting.append((batch, pool.submit(_send, mailer, made(batch))))
            if len(waiting) >= 2 * workers:
                done, answer = waiting.popleft()
                _record(done, answer.result(), lines, report)
        while waiting:
            done, answer = waiting.popleft()
            _record(done, answer.result(), lines, report)
    finally:  # an error other than DeliveryError: the batches not begun are not sent
        pool.shutdown(wait=True, cancel_futures=True)


def _send(mailer: Mailer, messages: list[OutgoingEmail]) -> list[SendResult] | DeliveryError:
    try:
        return mailer.send(messages)
    except DeliveryError as exc:
        return exc


def _record(
    batch: Sequence[Subscriber],
    results: list[SendResult] | DeliveryError,
    lines: dict[str, int],
    report: ImportReport,
) -> None:
    if isinstance(results, DeliveryError):
        for s in batch:
            report.problem(
                lines[s.email], f"eingetragen, Bestätigungsmail fehlgeschlagen: {results}"
            )
        return
    for s, result in zip(batch, results, strict=True):
        if result.ok:
            report.mailed += 1
        else:
            report.problem(
                lines[s.email],
                f"eingetragen, Bestätigungsmail fehlgeschlagen: {result.error or 'unbekannt'}",
            )


def _drop_suppressed(store: Store, rows: list[_Row], report: ImportReport) -> list[_Row]:
    """An erased or blocked address comes back only by signing up itself, not by import."""
    if not store.subscribers.counts().get("suppressed"):
        return rows
    blocked = store.subscribers.suppressed_among(email_hash(r.email) for r in rows)
    kept = []
    for row in rows:
        if email_hash(row.email) in blocked:
            report.problem(
                row.line,
                "Adresse ist gesperrt (gelöscht, abgemeldet oder unzustellbar); "
                "nur eine eigene Anmeldung mit Bestätigung hebt das auf",
            )
        else:
            kept.append(row)
    return kept


def read_csv(
    data: bytes, office: Office, taxonomy: Taxonomy, *, tz: ZoneInfo, now: dt.datetime
) -> tuple[list[_Row], ImportReport]:
    """Decide, without the store: the good rows, and a report of the bad ones by line."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            f"Die Datei ist zu groß ({len(data):,} Bytes; höchstens {MAX_IMPORT_BYTES:,})."
        )
    text, encoding = decode(data)
    report = ImportReport(encoding=ENCODINGS[encoding])
    if not text.strip():
        raise InvalidInput("Die Datei ist leer.")
    report.delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=report.delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InvalidInput(f"Zeile 1 (Kopfzeile): nicht lesbar ({exc}).") from None
    columns = _columns(header, report)
    default_newsletters = tuple(n.id for n in office.newsletters[:1])
    if "newsletters" not in columns:
        report.default_newsletters = default_newsletters
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.problem(line, f"nicht lesbar ({exc}); der Rest der Datei wurde übersprungen")
            break
        if not any(v.strip() for v in record):
            continue  # an empty line (Excel leaves some at the end)
        report.rows += 1
        if report.rows > MAX_IMPORT_ROWS:
            report.problem(line, f"mehr als {MAX_IMPORT_ROWS:,} Zeilen: der Rest wurde ignoriert")
            break
        extra = [v.strip() for v in record[len(header) :] if v.strip()]
        if extra:  # an unquoted list split into cells: every later column is shifted
            report.problem(line, _extra_cells(extra, report.delimiter, columns, taxonomy))
            continue
        values = {name: record[i].strip() if i < len(record) else "" for name, i in columns.items()}
        try:
            row = _row(line, values, office, taxonomy, default_newsletters, tz, now)
        except InvalidInput as exc:
            report.problem(line, str(exc))
            continue
        if values.get("status", "").lower() == SubscriberStatus.UNSUBSCRIBED.value:
            report.problem(line, "abgemeldet (Status unsubscribed): nicht übernommen")
            continue
        first = seen.get(row.email)
        if first is not None:
            report.problem(line, f"doppelt in der Datei (zuerst in Zeile {first})")
            continue
        seen[row.email] = line
        rows.append(row)
    return rows, report


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding found: "utf-8-sig" (BOM), "utf-8", "utf-16" or "cp1252"."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InvalidInput("Die Datei ist kein lesbares UTF-16.") from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            raise InvalidInput(
                "Die Datei beginnt wie UTF-8, enthält aber ungültige Zeichen. "
                "Bitte in Excel als „CSV UTF-8“ speichern."
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise InvalidInput(
            "Die Kodierung der Datei ist weder UTF-8 noch Windows-1252. "
            "Bitte in Excel als „CSV UTF-8“ speichern."
        ) from None


def sniff_delimiter(text: str) -> str:
    """',' or ';': whichever the header line has more of (outside quotes)."""
    header = text.split("\n", 1)[0]
    outside, quoted = [], False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    counts = {d: outside.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _columns(header: list[str], report: ImportReport) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = raw.strip().strip("\ufeff").lower().replace(" ", "_")
        name = ALIASES.get(name, name)
        if name in (*EXPORT_COLUMNS,) and name not in columns:
            columns[name] = i
        elif raw.strip():
            report.ignored_columns.append(raw.strip()[:60])
    if "email" not in columns:
        found = ", ".join(h.strip()[:40] for h in header if h.strip()) or "keine"
        raise InvalidInput(
            f"Die Spalte „email“ fehlt in der Kopfzeile (gefunden: {found}). "
            "Die erste Zeile muss die Spaltennamen enthalten."
        )
    return columns


def _row(
    line: int,
    values: dict[str, str],
    office: Office,
    taxonomy: Taxonomy,
    default_newsletters: tuple[str, ...],
    tz: ZoneInfo,
    now: dt.datetime,
) -> _Row:
    try:
        email = normalise_email(values.get("email", ""))
    except InvalidEmail as exc:
        raise InvalidInput(f"ungültige E-Mail-Adresse: {exc}") from None
    newsletters = _split(values.get("newsletters", "")) if "newsletters" in values else []
    form = ProfileForm(
        name=_unformula(values.get("name", "")),
        organisation=_unformula(values.get("organisation", "")),
        org_type=values.get("organisation_type", ""),
        applicant=values.get("applicant_type", ""),
        language=values.get("language", "") or "de",
        newsletters=newsletters or list(default_newsletters),
        topics=_split(values.get("topics", "")),
    )
    try:
        profile = parse_profile(form, office, taxonomy)
    except InvalidForm as exc:
        raise InvalidInput("; ".join(exc.errors.values())) from None
    consent_at = None
    if values.get("status", "").lower() != SubscriberStatus.PENDING.value:
        consent_at = _consent_date(values.get("consent_at", ""), tz, now)
    return _Row(line, email, profile, consent_at)


def _extra_cells(
    extra: list[str], delimiter: str, columns: dict[str, int], taxonomy: Taxonomy
) -> str:
    """Why a row with more cells than the header is refused, in German."""
    n = len(extra)
    shown = ", ".join(f"„{v[:40]}“" for v in extra[:3]) + (" …" if n > 3 else "")
    cells = "1 Zelle" if n == 1 else f"{n} Zellen"
    named = {"\t": "Tabulator", ";": "„;“", ",": "„,“"}.get(delimiter, delimiter)
    lists = [c for c in ("topics", "newsletters") if c in columns]
    known = taxonomy.topic_ids()
    hint = ""
    if any(v in known for v in extra) or lists:
        hint = (
            f" Vermutlich eine Liste ({' oder '.join(lists) or 'topics'}) mit {named} "
            "ohne Anführungszeichen: die Liste in Anführungszeichen setzen oder ihre "
            "Einträge mit „|“ trennen (in einer Semikolon-Datei auch mit „,“)."
        )
    return f"{cells} mehr als die Kopfzeile Spalten hat ({shown}); nicht übernommen.{hint}"


def _split(value: str) -> list[str]:
    """A list cell: ids separated by ';', ',' or '|'."""
    return [v.strip() for v in value.replace(",", ";").replace("|", ";").split(";") if v.strip()]


def _consent_date(value: str, tz: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """ISO date or date-time, or a German date (Excel turns ISO dates into 01.03.2024)."""
    text = value.strip()
    if not text:
        return None
    when: dt.datetime | None = None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            when = dt.datetime.strptime(text, "%d.%m.%Y")  # noqa: DTZ007 (made aware below)
        except ValueError:
            raise InvalidInput(
                f"consent_at „{text[:40]}“ ist kein Datum (erwartet 2024-03-01)"
            ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    when = when.astimezone(dt.UTC)
    if when > now:
        raise InvalidInput(f"consent_at {text[:40]} liegt in der Zukunft")
    return when


def _unformula(value: str) -> str:
    """Undo the export's guard against spreadsheet formulas ("'=…" back to "=…")."""
    if value.startswith("'") and value[1:2] in _FORMULA_START:
        return value[1:]
    return value


# ---------------------------------------------------------------- export


def export_rows(store: Store) -> Iterator[dict[str, Any]]:
    """Every subscriber as a plain dict (lists, ISO times), in id order, streamed."""
    for s in store.subscribers.iter_all():
        confirmed = s.status is not SubscriberStatus.PENDING
        yield {
            "email": s.email,
            "name": s.name,
            "organisation": s.organisation,
            "organisation_type": s.org_type.value,
            "applicant_type": s.applicant.value if s.applicant else "",
            "newsletters": list(s.newsletters),
            "topics": list(s.topics),
            "language": s.language,
            # A pending row has a sign-up time, not a confirmed consent: leave it empty so
            # that an import of this file does not turn it into a confirmed subscriber.
            "consent_at": _iso(s.consent_at) if confirmed else None,
            "status": s.status.value,
            "confirmed_at": _iso(s.confirmed_at),
        }


def write_csv(store: Store, out: TextIO) -> int:
    """The export as CSV (UTF-8, ';' inside lists); returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    for row in export_rows(store):
        writer.writerow(_csv_row(row))
        n += 1
    return n


def iter_csv(store: Store, *, chunk_rows: int = 500) -> Iterator[str]:
    """The same CSV as write_csv, as text chunks (for a streamed HTTP answer)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for n, row in enumerate(export_rows(store), 1):
        writer.writerow(_csv_row(row))
        if n % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_row(row: dict[str, Any]) -> list[str]:
    return [
        _guard(row["email"]),
        _guard(row["name"]),
        _guard(row["organisation"]),
        row["organisation_type"],
        row["applicant_type"],
        ";".join(row["newsletters"]),
        ";".join(row["topics"]),
        row["language"],
        row["consent_at"] or "",
        row["status"],
        row["confirmed_at"] or "",
    ]


def write_json(store: Store, out: TextIO) -> int:
    """The export as one JSON array, written an object at a time."""
    n = 0
    out.write("[")
    for row in export_rows(store):
        out.write(",\n" if n else "\n")
        out.write(json.dumps(row, ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n


def _guard(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
