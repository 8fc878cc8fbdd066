"""APScheduler wiring: cron.yaml's triggers call `Runner.fire_due`; the heartbeat loop.

serve(runner):
    add one APScheduler job per cron.yaml entry (trigger, misfire grace, coalesce)
    heartbeat; start; catch up from our own record of runs (APScheduler forgets)
    every heartbeat_s: heartbeat (+ writes that waited for the database)
    on stop (SIGTERM): shut down, waiting for the run in progress to finish
        within the executor's grace, or be killed and released
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from pipeline.scheduler.runner import Runner

log = logging.getLogger("eudigest.scheduler")
HEARTBEAT_S = 30.0


def serve(runner: Runner, *, heartbeat_s: float = HEARTBEAT_S) -> None:
    """Run until `runner.stop` is set."""
    jobs = runner.cron.jobs
    scheduler = BackgroundScheduler(
        timezone=dt.UTC,
        # two workers a job: a fire time while the job still runs reaches the runner,
        # which records it as skipped (instead of APScheduler dropping it unseen)
        executors={"default": ThreadPoolExecutor(max_workers=2 * len(jobs) + 1)},
    )
    for job in jobs:
        scheduler.add_job(
            runner.fire_due,
            trigger=job.trigger,
            args=(job.id,),
            id=job.id,
            name=job.description or job.id,
            misfire_grace_time=job.misfire_grace_time,
            coalesce=job.coalesce,
            max_instances=2,
            replace_existing=True,
        )
    runner.beat()
    scheduler.start()
    log.info(
        "scheduler %s started with %d jobs from %s", runner.instance, len(jobs), runner.cron.path
    )
    for job in jobs:
        nxt = job.next_fire(runner.clock())
        log.info(
            "job %s (%s, %s): next run %s",
            job.id,
            job.schedule,
            job.timezone.key,
            nxt.astimezone(job.timezone).isoformat() if nxt else "never",
        )
    catching_up = threading.Thread(target=runner.catch_up, name="catch-up", daemon=True)
    catching_up.start()
    while not runner.stop.wait(heartbeat_s):
        runner.beat()
    log.info("scheduler %s stopping: waiting for the runs in progress", runner.instance)
    scheduler.shutdown(wait=True)
    catching_up.join()
    runner.flush()
    log.info("scheduler %s stopped", runner.instance)
