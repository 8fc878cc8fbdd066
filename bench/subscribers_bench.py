"""Subscribers benchmark: a 50,000-row CSV imported and exported; segments for 50,000.

    python bench/subscribers_bench.py [--rows 50000] [--repeat 1]

Scenarios, each in a fresh subprocess so its peak memory (max RSS) is its own:
- csv baseline:  the csv module reads the file into dicts and writes them out again;
                 no validation, no store. The floor for import + export.
- import:        `subscribers.portability.import_csv` into an empty SQLite store (migrated
                 before the clock starts): decode, sniff, validate every row (address
                 normalisation, topics, dates), one add_many transaction, and a
                 confirmation mail for each row without consent_at (10 %) through the
                 real outbox mailer (.eml + .html files in a temporary folder).
- read_csv:      the part of import that decodes and checks rows, alone (no store, no mail).
- export:        `portability.write_csv` of that store to a file (iter_all, 1,000 a batch).
- naive segments: baseline; for each subscriber, every item checked with the same rule
                 (`segments.wants`), no grouping: one item list per subscriber.
- segments:      `compose.resolve_segments` for the same 50,000 subscribers over 20 topics
                 and an edition of 40 items in 5 sections.
- recipients:    `store.subscribers.confirmed_for("weekly")` on the imported store, then
                 resolve_segments over an edition of 40 items with the real taxonomy's topics.

The CSV is synthetic (written by this script): German names with umlauts, real kinds of
organisation in the region, 1-5 of the taxonomy's topics or none, ';' as Excel writes
it, UTF-8 with BOM, 90 % with a consent date, 0.5 % bad rows. Wall time counts only
the work named, not start-up, data generation or schema creation.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SECRET = "bench-secret-key-0123456789abcdefghijklmnop"
FIRST = [
    "Anna",
    "Bernd",
    "Carla",
    "Dieter",
    "Elif",
    "Fatma",
    "Günther",
    "Hannah",
    "Jürgen",
    "Katrin",
    "Lukas",
    "Märta",
    "Nils",
    "Özlem",
    "Paul",
    "Renée",
    "Sören",
    "Tobias",
    "Ursula",
    "Zoë",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Yılmaz",
    "Kovačević",
]
ORGS = [
    ("Stadt Esslingen am Neckar", "kommune", "esslingen.de"),
    ("Landeshauptstadt Stuttgart", "kommune", "stuttgart.de"),
    ("Große Kreisstadt Waiblingen", "kommune", "waiblingen.de"),
    ("Gemeinde Weissach", "kommune", "weissach.de"),
    ("Landratsamt Böblingen", "landkreis", "lrabb.de"),
    ("Landratsamt Rems-Murr-Kreis", "landkreis", "rems-murr-kreis.de"),
    ("Universität Stuttgart", "hochschule", "uni-stuttgart.de"),
    ("Hochschule Esslingen", "hochschule", "hs-esslingen.de"),
    ("Fraunhofer IAO", "hochschule", "iao.fraunhofer.de"),
    ("IHK Region Stuttgart", "kammer", "stuttgart.ihk.de"),
    ("Handwerkskammer Region Stuttgart", "kammer", "hwk-stuttgart.de"),
    ("Robert Bosch GmbH", "unternehmen", "bosch.example"),
    ("Müller & Söhne Präzisionstechnik GmbH", "unternehmen", "mueller-praezision.example"),
    ("Verband Region Stuttgart", "sonstige", "region-stuttgart.org"),
]
_ASCII = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "ë": "e", "ı": "i", "č": "c", "ć": "c"}
)
COLUMNS = [
    "email",
    "name",
    "organisation",
    "organisation_type",
    "newsletters",
    "topics",
    "language",
    "consent_at",
]


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- data


def write_subscriber_csv(path: Path, rows: int, topic_ids: list[str], seed: int = 4) -> int:
    """The office's list as Excel saves it; returns how many rows are meant to be bad."""
    rng = random.Random(seed)
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            org, org_type, domain = rng.choice(ORGS)
            local = f"{first}.{last}".lower().translate(_ASCII)
            email = f"{local}.{n}@{domain}"
            topics = (
                "" if rng.random() < 0.3 else ";".join(rng.sample(topic_ids, rng.randint(1, 5)))
            )
            consent = ""
            if rng.random() < 0.9:
                consent = (NOW - dt.timedelta(days=rng.randint(30, 2000))).date().isoformat()
            if n % 200 == 199:  # 0.5 % bad rows, as real lists have them
                bad += 1
                if n % 400 == 399:
                    email = f"{first} {last} <{local}@{domain}"
                else:
                    topics = "wasserstoff;" + topics
            writer.writerow(
                [
                    email,
                    f"{first} {last}",
                    org,
                    org_type,
                    rng.choice(["weekly", "weekly", "weekly;daily", "daily"]),
                    topics,
                    "en" if rng.random() < 0.08 else "de",
                    consent,
                ]
            )
    return bad


def synthetic_edition(topic_ids: list[str], items: int = 40, seed: int = 7) -> list[Any]:
    from pipeline.model import (
        Annotation,
        Audience,
        DocType,
        Item,
        ItemStatus,
        TopicAssignment,
    )

    rng = random.Random(seed)
    made = []
    for n in range(1, items + 1):
        topics = [] if n % 13 == 0 else rng.sample(topic_ids, rng.randint(1, 3))
        audiences = rng.sample(list(Audience), rng.randint(1, 2)) if rng.random() < 0.25 else []
        made.append(
            Item(
                id=n,
                source_id="ec-de",
                title=f"Meldung {n}: Förderaufruf für Kommunen und Unternehmen",
                url=f"https://ec.europa.eu/commission/presscorner/detail/de/ip_26_{n}",
                summary_html="<p>Zusammenfassung</p>",
                language="de",
                published=NOW,
                fetched_at=NOW,
                updated_at=NOW,
                doc_type=DocType.PRESS_RELEASE,
                status=ItemStatus.ACCEPTED,
                relevance=0.5,
                topics=tuple(TopicAssignment(t, 0.8) for t in topics),
                annotation=Annotation(n, audiences=tuple(audiences)) if audiences else None,
            )
        )
    titles = [
        "Im Fokus",
        "Förderung & Ausschreibungen",
        "Politik & Gesetzgebung",
        "Termine",
        "Aus der Region",
    ]
    per = len(made) // len(titles)
    return [(t, made[i * per : (i + 1) * per]) for i, t in enumerate(titles)]


def synthetic_subscribers(count: int, topic_ids: list[str], seed: int = 5) -> list[Any]:
    from pipeline.model import OrgType, Subscriber, SubscriberStatus

    rng = random.Random(seed)
    org_types = list(OrgType)
    out = []
    for n in range(1, count + 1):
        topics = () if rng.random() < 0.3 else tuple(rng.sample(topic_ids, rng.randint(1, 5)))
        out.append(
            Subscriber(
                id=n,
                email=f"person{n}@gemeinde.example",
                status=SubscriberStatus.CONFIRMED,
                created_at=NOW,
                org_type=rng.choice(org_types),
                language="en" if rng.random() < 0.08 else "de",
                topics=topics,
                newsletters=("weekly",),
            )
        )
    return out


TOPICS_20 = [f"topic{n:02d}" for n in range(1, 21)]


# ---------------------------------------------------------------- scenarios


def scenario_csv_baseline(csv_path: Path, work: Path) -> dict[str, float]:
    started = time.perf_counter()
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    with (work / "baseline-out.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return {"wall_s": time.perf_counter() - started, "rows": len(rows), "max_rss_mb": _max_rss_mb()}


def _services(work: Path) -> Any:
    from pipeline.bootstrap import build
    from pipeline.config import Settings

    settings = Settings.from_env(
        {
            "EUDIGEST_DATA_DIR": str(work / "var"),
            "EUDIGEST_SECRET_KEY": SECRET,
            "EUDIGEST_BASE_URL": "https://newsletter.region-stuttgart.example",
        },
        cwd=work,
    )
    return build(settings)


def scenario_import(csv_path: Path, work: Path) -> dict[str, float]:
    from pipeline.deliver.outbox import OutboxMailer
    from subscribers import portability
    from subscribers.tokens import Links

    services = _services(work)
    services.store.upgrade()
    data = csv_path.read_bytes()
    mailer = OutboxMailer(work / "outbox", clock=lambda: NOW)
    started = time.perf_counter()
    report = portability.import_csv(
        services.store,
        mailer,
        services.office(),
        services.taxonomy(),
        data,
        links=Links.from_settings(services.settings),
        tz=services.settings.tz,
        now=NOW,
    )
    wall = time.perf_counter() - started
    services.close()
    return {
        "wall_s": wall,
        "rows": report.rows,
        "confirmed": report.confirmed,
        "pending": report.pending,
        "mailed": report.mailed,
        "problems": report.problem_count,
        "max_rss_mb": _max_rss_mb(),
    }


def scenario_validate(csv_path: Path, work: Path) -> dict[str, float]:
    """Part of import: decode and check every row, no store, no mail."""
    from subscribers import portability

    services = _services(work)
    data = csv_path.read_bytes()
    office, taxonomy = services.office(), services.taxonomy()
    started = time.perf_counter()
    _, report = portability.read_csv(data, office, taxonomy, tz=services.settings.tz, now=NOW)
    wall = time.perf_counter() - started
    services.close()
    return {
        "wall_s": wall,
        "rows": report.rows,
        "problems": report.problem_count,
        "max_rss_mb": _max_rss_mb(),
    }


def scenario_export(work: Path) -> dict[str, float]:
    from subscribers import portability

    services = _services(work)
    started = time.perf_counter()
    with (work / "export.csv").open("w", encoding="utf-8", newline="") as out:
        rows = portability.write_csv(services.store, out)
    wall = time.perf_counter() - started
    services.close()
    return {"wall_s": wall, "rows": rows, "max_rss_mb": _max_rss_mb()}


def _segment_inputs(count: int) -> tuple[list[Any], list[Any]]:
    return synthetic_edition(TOPICS_20), synthetic_subscribers(count, TOPICS_20)


def scenario_naive_segments(count: int) -> dict[str, float]:
    from pipeline.compose.segments import wants

    edition, subscribers = _segment_inputs(count)
    started = time.perf_counter()
    items = list(dict.fromkeys(i for _, section in edition for i in section))
    per_subscriber = []
    for s in subscribers:
        chosen = [i.id for i in items if wants(s, i)]
        if chosen:
            per_subscriber.append((s.id, chosen))
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "rows": len(subscribers),
        "receiving": len(per_subscriber),
        "renderings": len(per_subscriber),
        "max_rss_mb": _max_rss_mb(),
    }


def scenario_segments(count: int) -> dict[str, float]:
    from pipeline.compose import resolve_segments

    edition, subscribers = _segment_inputs(count)
    started = time.perf_counter()
    segments = resolve_segments(edition, subscribers, "weekly")
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "rows": len(subscribers),
        "receiving": sum(len(s.subscribers) for s in segments),
        "renderings": len(segments),
        "max_rss_mb": _max_rss_mb(),
    }


def scenario_recipients(work: Path) -> dict[str, float]:
    from pipeline.compose import resolve_segments

    services = _services(work)
    edition = synthetic_edition(sorted(services.taxonomy().topic_ids()))
    started = time.perf_counter()
    subscribers = services.store.subscribers.confirmed_for("weekly")
    loaded = time.perf_counter() - started
    segments = resolve_segments(edition, subscribers, "weekly")
    wall = time.perf_counter() - started
    services.close()
    return {
        "wall_s": wall,
        "load_s": loaded,
        "rows": len(subscribers),
        "receiving": sum(len(s.subscribers) for s in segments),
        "renderings": len(segments),
        "max_rss_mb": _max_rss_mb(),
    }


# ---------------------------------------------------------------- driver


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def child(name: str, arg: str) -> dict[str, Any]:
    if name == "csv":
        csv_path, work = arg.split("|")
        return scenario_csv_baseline(Path(csv_path), Path(work))
    if name == "import":
        csv_path, work = arg.split("|")
        return scenario_import(Path(csv_path), Path(work))
    if name == "validate":
        csv_path, work = arg.split("|")
        return scenario_validate(Path(csv_path), Path(work))
    if name == "export":
        return scenario_export(Path(arg))
    if name == "naive":
        return scenario_naive_segments(int(arg))
    if name == "segments":
        return scenario_segments(int(arg))
    if name == "recipients":
        return scenario_recipients(Path(arg))
    raise SystemExit(f"unknown scenario {name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", nargs=2, metavar=("SCENARIO", "ARG"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    from pipeline.catalog import load_taxonomy

    topic_ids = sorted(load_taxonomy(ROOT / "taxonomy.yaml").topic_ids())
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "verteiler.csv"
        bad = write_subscriber_csv(csv_path, args.rows, topic_ids)
        size = csv_path.stat().st_size
        print(
            f"CSV: {args.rows:,} rows ({bad} bad on purpose), {size / 1e6:.1f} MB, UTF-8 BOM, ';'; "
            f"segments: {args.rows:,} subscribers, 20 topics, 40 items in 5 sections; "
            f"{args.repeat} run(s), median"
        )
        for r in range(args.repeat):
            work = Path(tmp) / f"run{r}"
            work.mkdir()
            for name, arg in (
                ("csv", f"{csv_path}|{work}"),
                ("validate", f"{csv_path}|{work}"),
                ("import", f"{csv_path}|{work}"),
                ("export", str(work)),
                ("recipients", str(work)),
                ("naive", str(args.rows)),
                ("segments", str(args.rows)),
            ):
                results.setdefault(name, []).append(run_child(name, arg))
    labels = {
        "csv": "csv baseline (read + write)",
        "validate": "  of which read_csv (checks)",
        "import": "import_csv (store + mails)",
        "export": "write_csv export",
        "naive": "naive segments (baseline)",
        "segments": "resolve_segments",
        "recipients": "confirmed_for + resolve",
    }
    print(f"{'scenario':<30} {'wall s':>8} {'peak MB':>8} {'rows':>8}  notes")
    for name in ("csv", "import", "validate", "export", "naive", "segments", "recipients"):
        runs = results[name]
        if any("error" in r for r in runs):
            print(f"{labels[name]:<30} {'error':>8}  {runs[0].get('error')}")
            continue
        med = {k: statistics.median(float(r[k]) for r in runs) for k in runs[0]}
        notes = ""
        if name == "import":
            notes = (
                f"{int(med['confirmed']):,} confirmed, {int(med['pending']):,} pending "
                f"({int(med['mailed']):,} mails to the outbox), {int(med['problems'])} bad rows reported"  # noqa: E501
            )
        elif name in ("naive", "segments", "recipients"):
            notes = f"{int(med['receiving']):,} receive; {int(med['renderings']):,} renderings"
            if name == "recipients":
                notes += f"; loading took {med['load_s']:.2f} s"
        print(
            f"{labels[name]:<30} {med['wall_s']:>8.2f} {med['max_rss_mb']:>8.1f} "
            f"{int(med['rows']):>8,}  {notes}"
        )
    base = results["csv"][0]
    if "error" not in base and "error" not in results["import"][0]:
        total = statistics.median(r["wall_s"] for r in results["import"]) + statistics.median(
            r["wall_s"] for r in results["export"]
        )
        print(f"import + export: {total:.2f} s = {total / base['wall_s']:.0f}× the csv baseline")


if __name__ == "__main__":
    main()
