"""A command imports what it needs when it runs (issue 11: every process paid ~1 s and
140 MB for the whole application before doing anything).

Each case runs the command in a fresh interpreter and lists the modules it loaded; the
speed itself is measured by bench/startup_bench.py, never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("flask", "bs4", "sendgrid", "httpx", "jinja2", "feedparser", "apscheduler", "nh3",
         "argon2", "babel", "css_inline", "alembic", "sklearn", "numpy", "scipy")  # fmt: skip
STAGES = ("pipeline.web", "pipeline.deliver", "pipeline.ingest", "pipeline.compose",
          "pipeline.curate", "pipeline.scheduler", "subscribers")  # fmt: skip

PROBE = """
import json, sys
from pipeline.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(tmp_path: Path, *args: str, log_format: str = "text") -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EUDIGEST_")}
    env.update(EUDIGEST_DATA_DIR=str(tmp_path / "var"), EUDIGEST_LOG_FORMAT=log_format)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert result["code"] in (0, None), done.stderr
    return set(result["modules"])


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    loaded(folder, "init")
    return folder


@pytest.mark.parametrize(
    "args",
    [("--help",), ("sources", "--json"), ("items", "--json", "--limit", "1"), ("runs", "--json")],
)
def test_a_command_loads_neither_the_web_app_nor_other_stages(
    initialised: Path, args: tuple[str, ...]
) -> None:
    modules = loaded(initialised, *args)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    stages = sorted(m for m in modules if m.startswith(STAGES))
    assert not heavy and not stages, (heavy, stages)


def test_help_loads_not_even_the_store(initialised: Path) -> None:
    modules = loaded(initialised, "--help")
    assert not any(m.startswith(("sqlalchemy", "pipeline.store", "rich")) for m in modules)


def test_a_quiet_fetch_loads_neither_httpx_command_line_nor_json_logging(
    initialised: Path,
) -> None:
    """httpx would import its command line client (click, rich, pygments) and the JSON log
    formatter python-json-logger; a fetch that logs nothing needs neither."""
    empty = initialised / "no-sources.yaml"
    empty.write_text("sources: []\n", encoding="utf-8")
    modules = loaded(
        initialised, "fetch", "--json", "--sources-file", str(empty), log_format="json"
    )
    assert "httpx" in modules
    unwanted = ("click", "rich", "pygments", "pythonjsonlogger")
    assert not sorted(m for m in modules if m.split(".")[0] in unwanted)
