"""Operations endpoints for load balancers and Prometheus: no login, no CSRF, no HTML.

    GET /healthz   liveness: the process answers (no database)           200
    GET /readyz    database reachable, schema current, scheduler heartbeat fresh
                   → 200 or 503, a JSON body naming each check
    GET /metrics   Prometheus text format, computed from the database at scrape time
                   (gunicorn workers and scheduler processes share nothing else);
                   with EUDIGEST_METRICS_TOKEN set it needs `Authorization: Bearer …`

Bodies name checks and counts only: no addresses, no database host, no error text
(the full error goes to the log).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.blueprints import BlueprintSetupState
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from pipeline.errors import EudigestError
from pipeline.store import Store
from pipeline.web.context import desk

log = logging.getLogger("eudigest.web.ops")

bp = Blueprint("ops", __name__)
NO_STORE = {"Cache-Control": "no-store"}
REGISTRY_KEY = "eudigest_metrics_registry"


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(state.blueprint)
    d = state.app.extensions["eudigest"]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(d.services.store, d.services.clock))
    state.app.extensions[REGISTRY_KEY] = registry


@bp.get("/healthz")
def healthz() -> Response:
    response = jsonify({"status": "ok"})
    response.headers.update(NO_STORE)
    return response


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    d = desk()
    checks = readiness(d.store, d.now(), d.services.settings.heartbeat_max_age_s)
    ok = all(c["ok"] for c in checks.values())
    response = jsonify({"status": "ok" if ok else "unavailable", "checks": checks})
    response.headers.update(NO_STORE)
    return response, 200 if ok else 503


def readiness(store: Store, now: dt.datetime, heartbeat_max_age_s: int) -> dict[str, Any]:
    """Each check: {"ok": bool, "detail": str}; later checks are skipped when the database
    cannot be read."""
    checks: dict[str, Any] = {}
    try:
        revision = store.revision()
    except EudigestError as exc:
        log.error("readyz: database unreachable: %s", exc)
        checks["database"] = {"ok": False, "detail": "unreachable"}
        checks["migrations"] = {"ok": False, "detail": "not checked: no database"}
        checks["scheduler"] = {"ok": False, "detail": "not checked: no database"}
        return checks
    checks["database"] = {"ok": True, "detail": "reachable"}
    head = store.head_revision()
    checks["migrations"] = (
        {"ok": True, "detail": f"at {head}"}
        if revision == head
        else {"ok": False, "detail": f"at {revision or 'nothing'}, needs {head}: eudigest init"}
    )
    checks["scheduler"] = _scheduler_check(store, now, heartbeat_max_age_s)
    return checks


def _scheduler_check(store: Store, now: dt.datetime, max_age_s: int) -> dict[str, Any]:
    if max_age_s <= 0:
        return {"ok": True, "detail": "not checked (EUDIGEST_HEARTBEAT_MAX_AGE=0)"}
    try:
        beats = store.runs.heartbeats()
    except EudigestError as exc:
        log.error("readyz: heartbeats unreadable: %s", exc)
        return {"ok": False, "detail": "heartbeats unreadable"}
    if not beats:
        return {"ok": False, "detail": "no scheduler has reported"}
    age = max(0.0, (now - beats[0][1]).total_seconds())
    ok = age <= max_age_s
    return {
        "ok": ok,
        "detail": f"newest heartbeat {age:.0f} s old (limit {max_age_s} s)",
        "age_s": round(age, 1),
    }


@bp.get("/metrics")
def metrics() -> Response:
    d = desk()
    token = d.services.settings.metrics_token
    if token is not None:
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            return Response(
                "unauthorized\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"', **NO_STORE},
            )
    from flask import current_app

    body = generate_latest(current_app.extensions[REGISTRY_KEY])
    return Response(
        body, status=200, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, **NO_STORE}
    )


class StoreCollector:
    """Prometheus metrics read from the database at each scrape (no process-local state).

    Labels are source ids, job ids, states and scheduler instances (host:pid): never a
    person. When the database cannot be read, only `eudigest_database_up 0` is reported.
    """

    def __init__(self, store: Store, clock: Callable[[], dt.datetime]) -> None:
        self._store = store
        self._clock = clock

    def describe(self) -> list[Metric]:
        return []  # metric families depend on the data; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("eudigest_database_up", "1 when the database could be read")
        try:
            families = list(self._families())
        except EudigestError as exc:
            log.error("metrics: database unreadable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[Metric]:
        store = self._store
        now = self._clock()
        health = store.sources.health()
        items = GaugeMetricFamily(
            "eudigest_items",
            "Items in the store (ingested, not deleted), by source",
            labels=["source"],
        )
        failures = GaugeMetricFamily(
            "eudigest_source_consecutive_failures",
            "Failed fetches in a row, by source (0: the last fetch worked)",
            labels=["source"],
        )
        last_success = GaugeMetricFamily(
            "eudigest_source_last_success_timestamp_seconds",
            "Time of the last successful fetch, by source",
            labels=["source"],
        )
        for h in health:
            items.add_metric([h.source.id], h.items)
            failures.add_metric([h.source.id], h.consecutive_failures)
            if h.last_success is not None:
                last_success.add_metric([h.source.id], h.last_success.timestamp())
        yield from (items, failures, last_success)

        yield _by_label(
            "eudigest_deliveries", "Deliveries by state", "state", store.stats.deliveries_by_state()
        )
        yield _by_label(
            "eudigest_editions", "Editions by state", "state", store.stats.editions_by_state()
        )
        yield _by_label(
            "eudigest_subscribers",
            "Subscribers by status",
            "status",
            store.stats.subscribers_by_status(),
        )

        runs = GaugeMetricFamily(
            "eudigest_job_runs", "Stored runs by job and outcome", labels=["job", "outcome"]
        )
        durations = SummaryMetricFamily(
            "eudigest_job_duration_seconds",
            "Duration of the stored runs that started and finished, by job",
            labels=["job"],
        )
        timed: dict[str, int] = {}
        seconds: dict[str, float] = {}
        for r in store.stats.job_runs():
            runs.add_metric([r.job, r.outcome], r.count)
            timed[r.job] = timed.get(r.job, 0) + r.timed
            seconds[r.job] = seconds.get(r.job, 0.0) + r.seconds
        for job in sorted(timed):
            durations.add_metric([job], count_value=timed[job], sum_value=seconds[job])
        yield from (runs, durations)

        last_outcome = GaugeMetricFamily(
            "eudigest_job_last_outcome",
            "1 for the outcome of each job's newest run",
            labels=["job", "outcome"],
        )
        last_duration = GaugeMetricFamily(
            "eudigest_job_last_duration_seconds",
            "Duration of each job's newest finished run",
            labels=["job"],
        )
        last_time = GaugeMetricFamily(
            "eudigest_job_last_run_timestamp_seconds",
            "Scheduled time of each job's newest run",
            labels=["job"],
        )
        for job, run in sorted(store.runs.latest_per_job().items()):
            last_outcome.add_metric([job, run.outcome], 1)
            last_time.add_metric([job], run.scheduled_for.timestamp())
            if run.duration_s is not None:
                last_duration.add_metric([job], run.duration_s)
        yield from (last_outcome, last_duration, last_time)

        beats = GaugeMetricFamily(
            "eudigest_scheduler_heartbeat_age_seconds",
            "Seconds since each scheduler instance last reported",
            labels=["instance"],
        )
        for instance, beat in store.runs.heartbeats():
            beats.add_metric([instance], max(0.0, (now - beat).total_seconds()))
        yield beats

        current = GaugeMetricFamily(
            "eudigest_schema_current", "1 when the schema is at the newest migration"
        )
        current.add_metric([], 1 if store.is_current() else 0)
        yield current


def _by_label(name: str, doc: str, label: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, n in sorted(counts.items()):
        family.add_metric([key], n)
    return family
