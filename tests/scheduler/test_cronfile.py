"""cron.yaml: the shipped file is valid; each kind of mistake is refused with file:line:field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.scheduler.cronfile import load_cron
from tests.scheduler.conftest import ROOT, TEST_MODULES, cron_of, one_job, write_cron

BRUSSELS = "Europe/Brussels"


def test_the_shipped_cron_yaml_is_valid_and_has_the_default_jobs() -> None:
    cron = load_cron(ROOT / "cron.yaml")
    jobs = {j.id: j for j in cron.jobs}
    assert {j.job for j in cron.jobs} >= {
        "pipeline.jobs:fetch_due",
        "pipeline.jobs:draft_daily",
        "pipeline.jobs:draft_weekly",
        "pipeline.jobs:send_due",
        "pipeline.jobs:purge",
        "pipeline.jobs:cleanup",
    }
    assert all(j.timezone.key == BRUSSELS for j in cron.jobs)
    # Wednesday 25 November 2026, 09:30 in Brussels
    wednesday = dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC)

    def local_next(job_id: str, after: dt.datetime = wednesday) -> str:
        nxt = jobs[job_id].next_fire(after)
        assert nxt is not None
        return nxt.astimezone(jobs[job_id].timezone).strftime("%a %H:%M")

    assert local_next("fetch-workday") == "Wed 09:40"
    assert local_next("send-due") == "Wed 09:35"
    assert local_next("draft-daily") == "Thu 06:30"
    assert local_next("draft-weekly") == "Thu 07:00"
    # the working-day fetch runs 06:00-20:00, hourly otherwise, also at the weekend
    evening = dt.datetime(2026, 11, 25, 18, 50, tzinfo=dt.UTC)  # 19:50
    assert local_next("fetch-offhours", evening) == "Wed 20:00"
    saturday = dt.datetime(2026, 11, 28, 9, 10, tzinfo=dt.UTC)
    assert local_next("fetch-weekend", saturday) == "Sat 11:00"
    # night jobs stay out of the DST hour 02:00-03:00
    for job_id in ("purge", "cleanup"):
        hour = int(local_next(job_id).split()[1][:2])
        assert not 2 <= hour < 3 and hour < 6


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        cron_of(tmp_path, text)
    return str(info.value)


def test_an_unknown_job_is_refused_with_line_and_field(tmp_path: Path) -> None:
    msg = error_of(tmp_path, one_job("*/5 * * * *", job="pipeline.jobs:no_such_job"))
    assert msg.startswith("cron.yaml:3: jobs[0] (tick).job:"), msg
    assert "unknown job 'pipeline.jobs:no_such_job'" in msg


def test_a_job_outside_the_allowed_modules_is_refused(tmp_path: Path) -> None:
    path = write_cron(tmp_path, one_job("*/5 * * * *", job="os:system"))
    with pytest.raises(ConfigError, match=r"cron.yaml:3: jobs\[0\] \(tick\).job: unknown job"):
        load_cron(path)
    # and the test module is refused unless a test allows it
    path = write_cron(tmp_path, one_job("*/5 * * * *"))
    with pytest.raises(ConfigError, match=r"jobs live in pipeline\.jobs"):
        load_cron(path)
    assert load_cron(path, allowed_modules=TEST_MODULES).jobs[0].id == "tick"


def test_a_bad_expression_is_refused(tmp_path: Path) -> None:
    msg = error_of(tmp_path, one_job("*/5 25 * * *"))
    assert msg.startswith("cron.yaml:4: jobs[0] (tick).schedule:"), msg
    assert "not a valid crontab expression" in msg
    msg = error_of(tmp_path, one_job("*/5 * * *"))
    assert "has 4 fields; 5 are needed" in msg and msg.startswith("cron.yaml:4:")


@pytest.mark.parametrize("weekday", ["1-5", "0", "mon-5", "*/2"])
def test_numeric_weekdays_are_refused(tmp_path: Path, weekday: str) -> None:
    msg = error_of(tmp_path, one_job(f"30 6 * * {weekday}"))
    assert msg.startswith("cron.yaml:4: jobs[0] (tick).schedule: weekday"), msg
    assert "write names (mon-fri" in msg and "0 as Monday" in msg


def test_seconds_are_refused_outside_tests(tmp_path: Path) -> None:
    msg = error_of(tmp_path, one_job("*/2 * * * * *"))
    assert "has 6 fields; 5 are needed" in msg
    job = cron_of(tmp_path, one_job("*/2 * * * * *"), seconds=True).jobs[0]
    t = dt.datetime(2026, 11, 25, 8, 30, 1, tzinfo=dt.UTC)
    assert job.next_fire(t) == t + dt.timedelta(seconds=1)


def test_a_missing_timezone_is_refused(tmp_path: Path) -> None:
    text = "jobs:\n  - id: tick\n    job: pipeline.jobs:purge\n    schedule: '30 4 * * *'\n"
    msg = error_of(tmp_path, text)
    assert msg.startswith("cron.yaml:2: jobs[0] (tick).timezone: is required"), msg


def test_an_unknown_timezone_and_other_fields_are_refused(tmp_path: Path) -> None:
    msg = error_of(tmp_path, one_job("30 4 * * *").replace(BRUSSELS, "Europe/Bruxelles"))
    assert msg.startswith("cron.yaml:5: jobs[0] (tick).timezone: unknown time zone"), msg
    msg = error_of(tmp_path, one_job("30 4 * * *", extra="cron: '30 4 * * *'"))
    assert msg.startswith("cron.yaml:6: jobs[0] (tick).cron: unknown field"), msg
    msg = error_of(tmp_path, one_job("30 4 * * *", extra="retry: {limit: many}"))
    assert msg.startswith("cron.yaml:6: jobs[0] (tick).retry.limit: must be a number"), msg
    msg = error_of(tmp_path, one_job("30 4 * * *", extra="timeout: 0"))
    assert msg.startswith("cron.yaml:6: jobs[0] (tick).timeout: must be 1..86400"), msg
    msg = error_of(tmp_path, "timezone: Europe/Brussels\n" + one_job("30 4 * * *"))
    assert msg.startswith("cron.yaml:1: cron.yaml.timezone: unknown field"), msg
    twice = one_job("30 4 * * *") + one_job("30 5 * * *").removeprefix("jobs:\n")
    assert "cron.yaml:6: jobs[1] (tick).id: duplicate id" in error_of(tmp_path, twice)


def test_options_are_read(tmp_path: Path) -> None:
    extra = "misfire_grace_time: 120\ncoalesce: false\ntimeout: 30\nretry: {limit: 2, backoff: 5}"
    job = cron_of(tmp_path, one_job("30 4 * * *", extra=extra)).jobs[0]
    assert (job.misfire_grace_time, job.coalesce, job.timeout) == (120, False, 30)
    assert (job.retry.limit, job.retry.delay(1), job.retry.delay(2)) == (2, 5.0, 10.0)
    assert not job.overlap  # by default a job never runs beside an earlier run of itself
    job = cron_of(tmp_path, one_job("30 4 * * *", extra="overlap: true")).jobs[0]
    assert job.overlap
    msg = error_of(tmp_path, one_job("30 4 * * *", extra="overlap: sometimes"))
    assert msg.startswith("cron.yaml:6: jobs[0] (tick).overlap:"), msg
