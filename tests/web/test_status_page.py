"""The status page at a glance (issue 15): problems first, key figures, SVG charts per day
whose numbers are also in a table, the long tables folded."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from sqlalchemy import insert

from pipeline.model import EditionState
from pipeline.store import Store
from pipeline.store.schema import deliveries, editions, job_runs, webhook_events
from tests.web.conftest import NOW, Desk, Seeded, visible

YESTERDAY = NOW - dt.timedelta(days=1)


def _figure(html: str, chart_id: str) -> str:
    start = html.index(f'<figure class="chart" id="{chart_id}">')
    return html[start : html.index("</figure>", start)]


def _rows(figure: str) -> list[str]:
    body = figure[figure.index("<tbody>") : figure.index("</tbody>")]
    return [visible(r) for r in re.findall(r"<tr>.*?</tr>", body, flags=re.S)]


def _seed_mail_and_runs(store: Store) -> int:
    """A sent edition (4 sent yesterday, 1 failed), 2 bounces and 1 complaint yesterday,
    one more bounce 40 days ago (outside the window), a failed job run yesterday."""
    with store.engine.begin() as conn:
        edition_id = conn.execute(
            insert(editions)
            .values(
                newsletter_id="weekly",
                title="EU-Wochenbrief 47/2026",
                intro="",
                state=EditionState.SENT.value,
                created_by="anna",
                last_editor="anna",
                created_at=YESTERDAY,
                updated_at=YESTERDAY,
                sent_at=YESTERDAY,
            )
            .returning(editions.c.id)
        ).scalar_one()
        for n in range(5):
            conn.execute(
                insert(deliveries).values(
                    edition_id=edition_id,
                    subscriber_id=n + 1,
                    segment_key="s",
                    state="sent" if n < 4 else "failed",
                    sent_at=YESTERDAY if n < 4 else None,
                    created_at=YESTERDAY,
                    updated_at=YESTERDAY,
                )
            )
        for n, (event, when) in enumerate(
            [
                ("bounce", YESTERDAY),
                ("dropped", YESTERDAY),
                ("spamreport", YESTERDAY),
                ("bounce", NOW - dt.timedelta(days=40)),
                ("open", YESTERDAY),
            ]
        ):
            conn.execute(
                insert(webhook_events).values(
                    dedupe_key=hashlib.sha256(str(n).encode()).hexdigest(),
                    event=event,
                    occurred_at=when,
                    received_at=when,
                    email_hash=hashlib.sha256(f"a{n}".encode()).hexdigest(),
                    reason="",
                )
            )
        conn.execute(
            insert(job_runs).values(
                job="ingest",
                run_key="2026-11-24T07:00",
                scheduled_for=YESTERDAY,
                outcome="failed",
                instance="host:1",
                attempts=1,
            )
        )
    return int(edition_id)


def test_status_page_puts_problems_first_then_figures_then_charts(
    anna: Desk, items: Seeded, store: Store
) -> None:
    store.sources.record_failure(
        "ep-en", now=NOW, error="HTTP 503 Service Unavailable", next_try=NOW + dt.timedelta(hours=2)
    )
    _seed_mail_and_runs(store)
    html = anna.text("/desk/status")
    order = [
        html.index('id="attention-title"'),
        html.index('id="figures-title"'),
        html.index('id="charts-title"'),
        html.index('id="jobs-title"'),
        html.index('id="sources-title"'),
    ]
    assert order == sorted(order)
    # the long tables are folded (a failing source is counted in the figures)
    assert '<details class="folded">\n  <summary><h2 id="jobs-title">' in html
    assert '<details class="folded">\n  <summary><h2 id="sources-title">' in html
    figures = visible(html[html.index('id="figures-title"') : html.index('id="charts-title"')])
    assert "Neue Meldungen heute 3" in figures
    assert "Neue Meldungen, letzte 7 Tage 3" in figures
    assert "Quellen mit Fehlern 1 von" in figures
    assert (
        "Zuletzt versandt EU-Wochenbrief 47/2026 24.11.2026, 09:30 · 4 zugestellt · "
        "1 fehlgeschlagen" in figures
    )
    assert "Bounces, 30 Tage 2" in figures
    assert "Beschwerden, 30 Tage 1" in figures


def test_every_chart_is_an_svg_image_with_title_desc_and_a_table(
    anna: Desk, items: Seeded, store: Store
) -> None:
    _seed_mail_and_runs(store)
    html = anna.text("/desk/status")
    for chart_id, days in [
        ("chart-items", 14),
        ("chart-failures", 14),
        ("chart-sent", 30),
        ("chart-bounces", 30),
    ]:
        fig = _figure(html, chart_id)
        assert 'role="img"' in fig
        assert f'aria-labelledby="{chart_id}-svg-title {chart_id}-svg-desc"' in fig
        assert f'<title id="{chart_id}-svg-title">' in fig
        assert f'<desc id="{chart_id}-svg-desc">' in fig
        assert '<details class="chart-data">' in fig and "Zahlen als Tabelle" in fig
        assert len(_rows(fig)) == days
        assert "<script" not in fig

    items_fig = _figure(html, "chart-items")
    rows = _rows(items_fig)
    assert rows[0].startswith("12.11.2026 0") and rows[-1].startswith("25.11.2026 3")
    assert "Meldungen in 14 Tagen" in items_fig and "; 3 Meldungen" in items_fig
    # one rectangle per source with items today, each with its number as a tooltip
    assert len(re.findall(r'<rect class="bar c\d"', items_fig)) == len(
        re.findall(r"<title>[^<]+: \d+</title>", items_fig)
    )

    assert _rows(_figure(html, "chart-failures"))[-2] == "24.11.2026 1"
    assert "1 fehlgeschlagene" in _figure(html, "chart-failures")

    sent = _rows(_figure(html, "chart-sent"))
    assert sent[0] == "27.10.2026 0" and sent[-2] == "24.11.2026 4" and sent[-1] == "25.11.2026 0"

    bounces = _figure(html, "chart-bounces")
    # Tag, Gesamt, Bounces, Beschwerden: the bounce 40 days ago and the "open" are not counted
    assert _rows(bounces)[-2] == "24.11.2026 3 2 1"
    assert sum(int(r.split()[1]) for r in _rows(bounces)) == 3
    assert "2 Bounces und 1 Beschwerden in 30 Tagen" in bounces
    assert '<rect class="bar c4"' in bounces and '<rect class="bar c6"' in bounces


def test_status_page_without_any_activity_draws_empty_charts(anna: Desk) -> None:
    html = anna.text("/desk/status")
    fig = _figure(html, "chart-sent")
    assert "<rect" not in fig
    assert all(r.endswith(" 0") for r in _rows(fig))
    assert "Zuletzt versandt noch keine Ausgabe" in visible(html)
