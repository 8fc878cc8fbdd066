"""The docs tell the truth about the code: every variable and command is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.cli.main import _parser
from pipeline.config import VARIABLES

ROOT = Path(__file__).resolve().parents[2]


def test_every_variable_is_documented_in_readme_and_env_doc() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    env_doc = (ROOT / "docs" / "env-vars.md").read_text(encoding="utf-8")
    for name in VARIABLES:
        assert f"`{name}`" in env_doc, f"{name} missing from docs/env-vars.md"
        assert name in readme, f"{name} missing from README.md"


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in sub.choices:
        assert f"eudigest {command}" in readme, f"`eudigest {command}` is not in README.md"


def test_quick_start_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make run" in quick and "make test" in quick
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
