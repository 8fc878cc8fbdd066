"""Delivery benchmark: one edition composed and sent to 10,000 and 100,000 subscribers.

    python bench/deliver_bench.py [--sizes 10000,100000] [--baseline 2000] [--profile]
                                  [--errors 1000] [--error-every 10]
                                  [--latency-ms 0,80] [--concurrency N] [--processes 1,2]
                                  [--senders N] [--json] [--postgres URL]

`--latency-ms` lists the peer's answer delays to run the send scenarios at (0: at once;
80: a plausible round trip to a distant API, issue 16); `--concurrency` overrides
EUDIGEST_SENDGRID_CONCURRENCY for the send scenarios; `--processes` lists how many sender
processes one `eudigest send` uses (EUDIGEST_SEND_PROCESSES: its helpers, deliver.processes;
1: the previous release's one process); `--senders N` also sends each size with N separate
`eudigest send` commands of one process each (as by hand beside each other); `--postgres
URL` keeps the ledger on PostgreSQL (each scenario creates a database of its own on that
server and drops it after) instead of a SQLite file; `--json`
prints one JSON array, one object per run (scenario, subscribers, latency_ms, wall_s,
cpu_s, peer_cpu_s, requests, peak_mb, …) instead of the table. `cpu_s` is the CPU time
(user + system, all threads) of the scenario's process and its helpers during the send,
`peer_cpu_s` that of the peer over the whole child run: on a shared machine the CPU
seconds move less than the wall time.

Each scenario runs in a fresh subprocess, so its peak memory (max RSS) is its own:
- send N:     `jobs.send` — the real send path: the delivery ledger on a SQLite file
              (plan, claim, start, record), segments (`compose.resolve_segments`), one
              rendering per segment (`compose.render_digest`: Jinja2, css-inline, Babel),
              per-reader links and one-click headers, and the `SendGridMailer` (Mail Send
              bodies of up to 1,000 personalizations through the `sendgrid` library).
- errors N:   the send of N subscribers while the peer answers 503 to every 10th request
              (a steady 10 % error rate), once with this release's retries (full jitter,
              a ceiling growing with failures in a row, a retry budget) and once with the
              previous policy (a fixed 2 s before the first retry, doubling, no budget),
              against the same send without errors. Issue 10: a 3 s send took 449 s.
- naive:      the baseline: for each subscriber, pick their items (`segments.wants`),
              render their own digest, fill in their links and send it as one message
              (`SendGridMailer.send`, one request each). Run on a sample and extrapolated
              linearly to N (labelled so).

The SendGrid peer is a loopback HTTP server of this script (in the parent process,
not counted in the child's memory, keep-alive, a thread per connection) that answers
every POST with 202 after `--latency-ms` and counts requests and personalizations (by
counting `"to":[` in the body, not decoding it: see `personalizations`); it does not
validate against SendGrid's spec (the tests in tests/deliver do that with Prism).
Subscribers are synthetic: 20 topics (the taxonomy's 14 plus 6 more), 1-5 topics each
or none, 8 % English, all organisation types; the edition has 40 items in 5 sections.
Wall time counts only `jobs.send` (or the naive loop), not creating the store, the
subscribers or the edition.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import math
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)
SECRET = "bench-secret-key-0123456789abcdefghijklmnop"
BASE_URL = "https://newsletter.region-stuttgart.example"
POSTGRES_ENV = "DELIVER_BENCH_POSTGRES"  # --postgres, for the scenarios' processes
EXTRA_TOPICS = 6  # the taxonomy has 14: 20 in all


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process so far (all its threads, user and system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_s() -> float:
    """CPU seconds of this process's children that have ended (a send's helpers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- the SendGrid peer


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.personalizations = 0
        self.max_per_request = 0
        self.bytes = 0
        self.failed = 0

    def reset(self) -> None:
        with self.lock:
            self.requests = self.personalizations = self.max_per_request = self.bytes = 0
            self.failed = 0


def personalizations(body: bytes) -> int:
    """How many personalizations a Mail Send body has, without decoding it: each has one
    `"to":[` (or `"to": [`), and no other byte sequence of a body can read so (a quote
    inside a JSON string is escaped, `"to"` is no header name SendGrid lets us set, and a
    custom_args value is a string, not a list). The peer shares the two cores with the
    send it measures: a json.loads of every body cost it ~1 s of CPU per 100,000 readers."""
    return body.count(b'"to":[') + body.count(b'"to": [')


def start_peer() -> tuple[ThreadingHTTPServer, Counter]:
    counter = Counter()
    counter.fail_every = 0  # type: ignore[attr-defined]
    counter.latency_s = 0.0  # type: ignore[attr-defined]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            n = personalizations(body)
            with counter.lock:
                counter.requests += 1
                ident = counter.requests
                every = counter.fail_every  # type: ignore[attr-defined]
                if every and ident % every == 0:
                    counter.failed += 1  # type: ignore[attr-defined]
                    failing = True
                else:
                    failing = False
                    counter.personalizations += n
                    counter.max_per_request = max(counter.max_per_request, n)
                    counter.bytes += len(body)
            latency = counter.latency_s  # type: ignore[attr-defined]
            if latency:
                time.sleep(latency)  # a distant API's round trip (the bench's peer, not a test)
            if failing:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(202)
            self.send_header("X-Message-Id", f"bench-{ident}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counter


# ---------------------------------------------------------------- the store


def bench_taxonomy(folder: Path) -> Path:
    """taxonomy.yaml with 6 more topics (copies of the first six under new ids)."""
    import yaml

    data = yaml.safe_load((ROOT / "taxonomy.yaml").read_text(encoding="utf-8"))
    extra = []
    for n, topic in enumerate(data["topics"][:EXTRA_TOPICS], start=1):
        copy = dict(topic)
        copy["id"] = f"{topic['id']}_extra"
        copy["label_de"] = f"{topic['label_de']} (Ergänzung {n})"
        copy["label_en"] = f"{topic['label_en']} (extra {n})"
        extra.append(copy)
    data["topics"] = data["topics"] + extra
    path = folder / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def bench_database(folder: Path) -> Iterator[None]:
    """With --postgres: a new database on that server for one scenario (dropped after),
    its URL in `folder` for every process of the scenario; without: the SQLite file."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        yield
        return
    import sqlalchemy as sa  # CREATE DATABASE needs autocommit

    url = sa.make_url(server)
    name = f"eudigest_deliver_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    (folder / "database_url").write_text(
        url.set(database=name).render_as_string(hide_password=False), encoding="utf-8"
    )
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def services_for(folder: Path, peer_url: str, **env: str) -> Any:
    """Services as `eudigest` builds them from its environment (`env` adds to it): a
    send's helper processes (deliver.processes) are given the same environment."""
    from pipeline.bootstrap import build
    from pipeline.config import Settings

    database = folder / "database_url"
    if database.exists():  # --postgres (bench_database)
        env = {"EUDIGEST_DATABASE_URL": database.read_text(encoding="utf-8"), **env}

    settings = Settings.from_env(
        {
            **{k: v for k, v in os.environ.items() if not k.startswith(("EUDIGEST_", "SENDGRID"))},
            "EUDIGEST_DATA_DIR": str(folder / "var"),
            "EUDIGEST_SECRET_KEY": SECRET,
            "EUDIGEST_BASE_URL": BASE_URL,
            "EUDIGEST_TAXONOMY": str(bench_taxonomy(folder)),
            "EUDIGEST_MAIL_BACKEND": "sendgrid",
            "SENDGRID_API_KEY": "SG.bench",
            "EUDIGEST_SENDGRID_HOST": peer_url,
            "EUDIGEST_LOG_LEVEL": "WARNING",
            **env,
        },
        cwd=folder,
    )
    services = build(settings)
    services.clock = lambda: NOW
    return services


def prepare(services: Any, subscribers: int, seed: int = 11) -> int:
    """Schema, 40 items over 20 topics, N confirmed subscribers, an approved edition."""
    from pipeline.ingest.dedupe import Incoming, decide
    from pipeline.model import (
        Classification,
        DocType,
        EditionState,
        NewSubscriber,
        NormalizedItem,
        OrgType,
        Profile,
        Source,
        SourceKind,
        TopicAssignment,
    )
    from subscribers.addresses import hash_of

    store = services.store
    store.upgrade()
    taxonomy = services.taxonomy()
    store.topics.sync(taxonomy)
    topic_ids = sorted(taxonomy.topic_ids())
    assert len(topic_ids) == 20, len(topic_ids)
    source = Source(
        "ec-de", "Presseraum EU-Kommission", "European Commission", "https://x.test/ec", "de",
        SourceKind.FEED,
    )  # fmt: skip
    store.sources.register([source], now=NOW)
    rng = random.Random(seed)
    incoming = []
    for n in range(1, 41):
        url = f"https://ec.europa.eu/commission/presscorner/detail/de/ip_26_{n}"
        title = f"Meldung {n}: Förderaufruf für Kommunen, Hochschulen und Unternehmen"
        summary = "Die Kommission öffnet einen Aufruf; Anträge bis zum Frühjahr möglich."
        topics = [] if n % 13 == 0 else rng.sample(topic_ids, rng.randint(1, 3))
        incoming.append(
            Incoming(
                NormalizedItem(
                    source_id=source.id,
                    identity=f"url:{url}",
                    title=title,
                    url=url,
                    summary_html=f"<p>{summary}</p>",
                    summary_text=summary,
                    language="de",
                    published=NOW - dt.timedelta(hours=n),
                    updated=None,
                    content_hash=f"bench-{n}",
                    family=None,
                ),
                Classification(
                    topics=tuple(TopicAssignment(t, 0.8) for t in topics),
                    doc_type=DocType.PRESS_RELEASE,
                    references=(),
                    deadlines=(),
                    relevance=0.5,
                ),
            )
        )
    known = store.items.lookup({i.item.identity for i in incoming}, set(), set())
    store.items.apply(decide(incoming, known, institution=source.institution), now=NOW)
    found = store.items.lookup({i.item.identity for i in incoming}, set(), set()).by_identity
    ids = [found[i.item.identity].item_id for i in incoming]
    titles = ["Im Fokus", "Förderung & Ausschreibungen", "Politik", "Termine", "Aus der Region"]
    edition = store.editions.create(
        "weekly",
        title="KW 48",
        intro="Die Themen der Woche.",
        sections=[(t, ids[k * 8 : (k + 1) * 8]) for k, t in enumerate(titles)],
        actor="bench",
        now=NOW,
    )
    store.editions.transition(
        edition.id,
        from_states=(EditionState.DRAFT,),
        to_state=EditionState.APPROVED,
        actor="bench",
        now=NOW,
    )
    org_types = list(OrgType)
    rows = []
    for n in range(1, subscribers + 1):
        email = f"person{n}@gemeinde{n % 97}.example.org"
        topics = () if rng.random() < 0.3 else tuple(rng.sample(topic_ids, rng.randint(1, 5)))
        profile = Profile(
            name=f"Person Nr. {n}" if n % 3 else "",
            org_type=rng.choice(org_types),
            language="en" if rng.random() < 0.08 else "de",
            topics=topics,
            newsletters=("weekly",),
        )
        rows.append(NewSubscriber(email, hash_of(email), profile, "v1", consent_at=NOW))
    for start in range(0, len(rows), 10_000):
        store.subscribers.add_many(rows[start : start + 10_000], now=NOW)
    return int(edition.id)


# ---------------------------------------------------------------- scenarios


def _one_sender(folder: str, peer_url: str, edition_id: int, concurrency: int) -> dict[str, Any]:
    """One more `eudigest send` of the same edition, in a process of its own (--senders)."""
    from pipeline import jobs
    from pipeline.deliver.sendgrid import SendGridMailer

    services = services_for(Path(folder), peer_url, EUDIGEST_SEND_PROCESSES="1")
    if concurrency:
        services.mailer = SendGridMailer("SG.bench", host=peer_url, concurrency=concurrency)
    cpu = _cpu_s()
    jobs.send(services, edition_id)
    out = {"cpu_s": _cpu_s() - cpu, "max_rss_mb": _max_rss_mb()}
    out["requests"] = services.mailer.requests_made
    services.close()
    return out


def scenario_senders(
    subscribers: int, peer_url: str, senders: int, concurrency: int = 0
) -> dict[str, Any]:
    """The edition sent by `senders` processes at once, as several `eudigest send ID` share
    one edition through the ledger's claims (docs/deploy.md §12): wall time from their
    start to the last one's end; CPU summed; peak memory of the largest and of all."""
    import multiprocessing

    with tempfile.TemporaryDirectory() as tmp, bench_database(Path(tmp)):
        services = services_for(Path(tmp), peer_url)
        edition_id = prepare(services, subscribers)
        services.close()
        ctx = multiprocessing.get_context("spawn")  # each sender a fresh process, as by hand
        started = time.perf_counter()
        with ctx.Pool(senders) as pool:
            parts = pool.starmap(_one_sender, [(tmp, peer_url, edition_id, concurrency)] * senders)
        wall = time.perf_counter() - started
        services = services_for(Path(tmp), peer_url)
        counts = services.store.deliveries.counts(edition_id)
        services.close()
    return {
        "wall_s": wall,
        "cpu_s": sum(p["cpu_s"] for p in parts),
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "unknown": counts.get("unknown", 0),
        "queued": counts.get("queued", 0),
        "max_rss_mb": max(p["max_rss_mb"] for p in parts),
        "sum_rss_mb": sum(p["max_rss_mb"] for p in parts),
        "senders": senders,
        "requests_each": [p["requests"] for p in parts],
    }


def scenario_send(
    subscribers: int,
    peer_url: str,
    profile: bool,
    policy: str = "current",
    concurrency: int = 0,
    processes: int = 1,
) -> dict[str, Any]:
    """`jobs.send` as `eudigest send` runs it; with `processes` > 1 it starts that many
    sender processes in all (deliver.processes; their CPU and peak memory are counted)."""
    from pipeline import jobs
    from pipeline.deliver.sendgrid import SendGridMailer

    with tempfile.TemporaryDirectory() as tmp, bench_database(Path(tmp)):
        env = {"EUDIGEST_SEND_PROCESSES": str(processes)}
        if concurrency:
            env["EUDIGEST_SENDGRID_CONCURRENCY"] = str(concurrency)
        services = services_for(Path(tmp), peer_url, **env)
        if concurrency:
            services.mailer = SendGridMailer("SG.bench", host=peer_url, concurrency=concurrency)
        if policy == "previous":  # a fixed 2 s before the first retry, doubling, no budget
            services.mailer = SendGridMailer(
                "SG.bench",
                host=peer_url,
                backoff_s=2.0,
                jitter=lambda ceiling: ceiling,
                retry_ratio=1e9,
            )
        edition_id = prepare(services, subscribers)
        # the send on the real clock, as its helpers (their leases are compared)
        services.clock = lambda: dt.datetime.now(dt.UTC)
        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), _cpu_s() + _children_cpu_s()
        if profiler:
            profiler.enable()
        report = jobs.send(services, edition_id)
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - started, _cpu_s() + _children_cpu_s() - cpu
        segments: dict[str, int] = {}
        for d in services.store.deliveries.list(edition_id):
            segments[d.segment_key] = segments.get(d.segment_key, 0) + 1
        requests_made = services.mailer.requests_made
        services.close()
    out = {
        "wall_s": wall,
        "cpu_s": cpu,
        "finished": report.finished,
        "sent": report.sent,
        "failed": report.failed,
        "unknown": report.unknown,
        "queued": report.queued,
        "skipped": report.skipped,
        "segments": len(segments),
        "bound": sum(math.ceil(n / 1000) for n in segments.values()),
        "client_requests": requests_made,
        "concurrency": getattr(services.mailer, "concurrency", 1),
        "processes": processes,
        "max_rss_mb": _max_rss_mb(),
        "helper_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
        print(text.getvalue(), file=sys.stderr)
    return out


def scenario_naive(sample: int, peer_url: str) -> dict[str, Any]:
    from pipeline.compose.render import greeting, personalize, render_digest
    from pipeline.compose.segments import receives, wants
    from pipeline.model import OutgoingEmail
    from subscribers.tokens import Links
    from subscribers.unsubscribe import list_unsubscribe_headers

    with tempfile.TemporaryDirectory() as tmp, bench_database(Path(tmp)):
        services = services_for(Path(tmp), peer_url)
        edition_id = prepare(services, sample)
        store, settings = services.store, services.settings
        started = time.perf_counter()
        edition = store.editions.get(edition_id)
        office = services.office()
        newsletter = office.newsletter(edition.newsletter_id)
        labels = {t.id: t.label_de for t in services.taxonomy().topics}
        sources = {h.source.id: h.source for h in store.sources.health()}
        items = store.items.get_many(edition.item_ids)
        sections = [
            (s.title, [items[i] for i in s.item_ids if i in items])
            for s in sorted(edition.sections, key=lambda s: s.position)
        ]
        links = Links.from_settings(settings)
        sender = f"{office.sender_name or office.name} <{office.sender_email}>"
        sent = 0
        for subscriber in store.subscribers.confirmed_for("weekly"):
            if not receives(subscriber, "weekly"):
                continue
            own = [(t, [i for i in its if wants(subscriber, i)]) for t, its in sections]
            if not any(its for _, its in own):
                continue
            digest = render_digest(
                edition,
                newsletter,  # type: ignore[arg-type]
                own,
                office=office,
                branding=office.branding,
                topic_labels=labels,
                language=subscriber.language,
                tz=settings.tz,
                today=NOW.date(),
                sources=sources,
            )
            digest = personalize(
                digest,
                greeting=greeting(subscriber.name),
                preferences_url=links.manage(subscriber, now=NOW),
                unsubscribe_url=links.unsubscribe(subscriber, now=NOW),
            )
            headers = {
                "From": sender,
                **list_unsubscribe_headers(settings, office, subscriber, now=NOW, links=links),
            }
            [result] = services.mailer.send(
                [
                    OutgoingEmail(
                        to=subscriber.email,
                        subject=digest.subject,
                        text=digest.text,
                        html=digest.html,
                        headers=headers,
                        category="digest",
                        reference=f"s{subscriber.id}",
                    )
                ]
            )
            sent += result.ok
        wall = time.perf_counter() - started
        requests_made = services.mailer.requests_made
        services.close()
    return {
        "wall_s": wall,
        "sent": sent,
        "client_requests": requests_made,
        "max_rss_mb": _max_rss_mb(),
    }


# ---------------------------------------------------------------- driver


def run_child(counter: Counter, *args: str) -> dict[str, Any]:
    counter.reset()
    peer_cpu = _cpu_s()  # this process: the peer's threads (the child's CPU is its own)
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore", "EUDIGEST_LOG_LEVEL": "WARNING"},
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    warnings = [line for line in out.stderr.splitlines() if '"WARNING"' in line or "ERROR" in line]
    if warnings:
        print(f"{len(warnings)} warnings, e.g. {warnings[0][:300]}", file=sys.stderr)
    if "--profile" in args:
        print(out.stderr[-8000:], file=sys.stderr)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    with counter.lock:
        result.update(
            peer_cpu_s=_cpu_s() - peer_cpu,
            requests=counter.requests,
            personalizations=counter.personalizations,
            max_per_request=counter.max_per_request,
            mb_sent=counter.bytes / 1e6,
        )
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--baseline", type=int, default=2000, help="naive sample size (0: none)")
    ap.add_argument("--profile", action="store_true", help="cProfile of the send (stderr)")
    ap.add_argument("--errors", type=int, default=1000, help="subscribers of the error scenario")
    ap.add_argument("--error-every", type=int, default=10, help="the peer fails every n-th")
    ap.add_argument(
        "--latency-ms", default="0", help="the peer answers after this long (a list: 0,80)"
    )
    ap.add_argument("--concurrency", type=int, default=0, help="requests in flight (0: default)")
    ap.add_argument(
        "--processes",
        default="1,2",
        help="sender processes of one `eudigest send` (a list: 1,2; EUDIGEST_SEND_PROCESSES)",
    )
    ap.add_argument(
        "--senders", type=int, default=1, help="also send each size with N `eudigest send`s"
    )
    ap.add_argument("--json", action="store_true", help="one JSON array of the runs on stdout")
    ap.add_argument(
        "--postgres",
        metavar="URL",
        help="the ledger on PostgreSQL: each scenario in a new database on this server",
    )
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args()
    if args.postgres:
        os.environ[POSTGRES_ENV] = args.postgres  # the scenarios' processes inherit it
    if args.child:
        from pipeline.memory import tune_malloc

        tune_malloc()  # as the `eudigest` command does first
        name, size, url, *rest = args.child
        if name == "senders":
            print(json.dumps(scenario_senders(int(size), url, int(rest[0]), int(rest[1]))))
            return
        if name == "send":
            policy = rest[0] if rest else "current"
            concurrency = int(rest[1]) if len(rest) > 1 else 0
            procs = int(rest[2]) if len(rest) > 2 else 1
            result = scenario_send(int(size), url, args.profile, policy, concurrency, procs)
            print(json.dumps(result))
        else:
            print(json.dumps(scenario_naive(int(size), url)))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s]
    latencies = [int(x) for x in args.latency_ms.split(",") if x]
    server, counter = start_peer()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    say = (lambda *a, **k: None) if args.json else print
    say(
        "SendGrid peer: a loopback HTTP server of this script answering 202 and counting "
        "(no spec validation; Prism does that in tests/deliver)"
    )
    say(
        "edition: 40 items in 5 sections; subscribers: 20 topics (0-5 each), 8 % English, "
        "all organisation types; store: "
        + ("a new PostgreSQL database per scenario" if args.postgres else "SQLite file")
    )
    runs: list[dict[str, Any]] = []

    def record(scenario: str, n: int, latency: int, r: dict[str, Any]) -> None:
        runs.append(
            {
                "scenario": scenario,
                "subscribers": n,
                "latency_ms": latency,
                "wall_s": round(r["wall_s"], 3) if "wall_s" in r else None,
                "cpu_s": round(r["cpu_s"], 3) if "cpu_s" in r else None,
                "peer_cpu_s": round(r["peer_cpu_s"], 3) if "peer_cpu_s" in r else None,
                "requests": r.get("requests"),
                "personalizations": r.get("personalizations"),  # the peer's count: 2x = twice
                "peak_mb": round(r["max_rss_mb"], 1) if "max_rss_mb" in r else None,
                **{
                    k: r[k]
                    for k in (
                        "sent",
                        "failed",
                        "unknown",
                        "queued",
                        "concurrency",
                        "finished",
                        "error",
                        "senders",
                        "sum_rss_mb",
                        "processes",
                        "helper_rss_mb",
                    )
                    if k in r
                },
            }
        )

    naive: dict[str, Any] = {"error": "not run"}
    if args.baseline:
        naive = run_child(counter, "naive", str(args.baseline), url)
        record("naive", args.baseline, 0, naive)
    results: dict[tuple[int, int, int], dict[str, Any]] = {}
    process_counts = [int(x) for x in args.processes.split(",") if x]
    for latency in latencies:
        counter.latency_s = latency / 1000  # type: ignore[attr-defined]
        for n in sizes:
            extra = ["current", str(args.concurrency)]
            for procs in process_counts:
                r = run_child(
                    counter, "send", str(n), url, *extra, str(procs), *["--profile"] * args.profile
                )
                results[(latency, n, procs)] = r
                record("send" if procs == 1 else f"send, {procs} processes", n, latency, r)
            if args.senders > 1:
                r = run_child(counter, "senders", str(n), url, str(args.senders), extra[1])
                record(f"send, {args.senders} senders", n, latency, r)
    counter.latency_s = 0.0  # type: ignore[attr-defined]
    errors: dict[str, dict[str, Any]] = {}
    if args.errors:
        errors["no errors"] = run_child(counter, "send", str(args.errors), url)
        record("errors: none", args.errors, 0, errors["no errors"])
        counter.fail_every = args.error_every  # type: ignore[attr-defined]
        for policy in ("current", "previous"):
            errors[policy] = run_child(counter, "send", str(args.errors), url, policy)
            with counter.lock:
                errors[policy]["failed_requests"] = counter.failed
            record(f"errors: {policy} backoff", args.errors, 0, errors[policy])
        counter.fail_every = 0  # type: ignore[attr-defined]
    server.shutdown()
    if args.json:
        print(json.dumps(runs, indent=1))
        return

    head = (
        f"{'scenario':<28} {'wall s':>8} {'sent':>8} {'requests':>8} {'rcpt/req':>8} "
        f"{'msgs/s':>8} {'peak MB':>8}  notes"
    )
    print(head)
    if "error" in naive:
        print(f"{'naive (baseline)':<28} {naive['error']}")
        naive_rate = 0.0
    else:
        naive_rate = naive["sent"] / naive["wall_s"]
        print(
            f"{'naive, ' + format(args.baseline, ',') + ' measured':<28} {naive['wall_s']:>8.2f} "
            f"{naive['sent']:>8,} {naive['requests']:>8,} {1:>8} {naive_rate:>8,.0f} "
            f"{naive['max_rss_mb']:>8.1f}  one rendering and one request per subscriber"
        )
    for (latency, n, procs), r in results.items():
        name = f"send {n:,}" + (f", peer {latency} ms" if latency else "")
        name += f", {procs} processes" if procs > 1 else ""
        if "error" in r:
            print(f"{name:<28} error: {r['error']}")
            continue
        if naive_rate and not latency and procs == 1:
            est = r["sent"] / naive_rate
            print(
                f"{'naive, ' + format(n, ',') + ' extrapolated':<28} {est:>8.1f} "
                f"{r['sent']:>8,} {r['sent']:>8,} {1:>8} {naive_rate:>8,.0f} {'-':>8}  "
                "linear from the measured sample (not run)"
            )
        rate = r["sent"] / r["wall_s"]
        per = r["personalizations"] / max(1, r["requests"])
        speedup = f"; {rate / naive_rate:.0f}× the naive rate" if naive_rate else ""
        print(
            f"{name:<28} {r['wall_s']:>8.2f} {r['sent']:>8,} "
            f"{r['requests']:>8,} {per:>8.0f} {rate:>8,.0f} {r['max_rss_mb']:>8.1f}  "
            f"{r['segments']:,} segments (renderings); requests ≤ bound "
            f"{r['bound']:,} (⌈segment/1000⌉ summed): {r['requests'] <= r['bound']}; "
            f"largest request {r['max_per_request']:,} personalizations, "
            f"{r['mb_sent']:.0f} MB posted, {r['concurrency']} in flight{speedup}; "
            f"CPU {r['cpu_s']:.1f} s (peer {r['peer_cpu_s']:.1f} s)"
            + (f"; helpers' peak {r['helper_rss_mb']:.0f} MB" if procs > 1 else "")
        )

    if errors:
        rate = f"{100 / args.error_every:.0f} %"
        print()
        print(
            f"steady error rate: the peer answers 503 to every {args.error_every}th request "
            f"({rate}); {args.errors:,} subscribers"
        )
        print(f"{'scenario':<34} {'wall s':>8} {'sent':>8} {'requests':>8} {'503s':>6}  notes")
        clean = errors.get("no errors", {})
        for label, key in (
            ("no errors", "no errors"),
            (f"{rate} 503, this release", "current"),
            (f"{rate} 503, previous backoff", "previous"),
        ):
            r = errors[key]
            if "error" in r:
                print(f"{label:<34} error: {r['error']}")
                continue
            times = (
                f"{r['wall_s'] / clean['wall_s']:.1f}× the send without errors"
                if "wall_s" in clean and key != "no errors"
                else ""
            )
            state = "" if r["finished"] else "stopped early (rest queued); "
            print(
                f"{label:<34} {r['wall_s']:>8.2f} {r['sent']:>8,} {r['requests']:>8,} "
                f"{r.get('failed_requests', 0):>6,}  {state}{times}"
            )


if __name__ == "__main__":
    main()
