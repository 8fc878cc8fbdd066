"""The one-way flow of DESIGN.md, checked by walking imports with ast."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL = {"pipeline.model", "pipeline.errors", "pipeline.config"}
STAGES = ["ingest", "curate", "compose", "deliver"]
SHELLS = {
    "pipeline.web",
    "pipeline.cli",
    "pipeline.jobs",
    "pipeline.scheduler",
    "pipeline.bootstrap",
}
# Each third-party library stays in one place (STYLE.md).
LIBRARY_HOMES = {
    "sqlalchemy": ("pipeline/store/",),
    "alembic": ("pipeline/store/",),
    "httpx": ("pipeline/ingest/fetch.py", "pipeline/deliver/sendgrid.py"),
    "sendgrid": ("pipeline/deliver/sendgrid.py",),
    "feedparser": ("pipeline/ingest/parse.py",),
    "flask": ("pipeline/web/",),
    "apscheduler": ("pipeline/scheduler/",),
}


def _modules() -> dict[str, tuple[Path, set[str]]]:
    found: dict[str, tuple[Path, set[str]]] = {}
    for pkg in ("pipeline", "subscribers"):
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(p for p in rel.parts if p != "__init__")
            imports: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    imports |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    imports.add(node.module)
            found[name] = (path, imports)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _in_kernel(name: str) -> bool:
    return any(_under(name, k) for k in KERNEL)


def test_kernel_imports_nothing_of_the_project() -> None:
    for name, (_, imports) in _modules().items():
        if _in_kernel(name):
            project = {i for i in imports if _under(i, "pipeline") or _under(i, "subscribers")}
            outside = {i for i in project if not _in_kernel(i)}
            assert not outside, f"{name} imports {outside}"


def test_stages_never_import_to_their_right_or_the_shells() -> None:
    for name, (_, imports) in _modules().items():
        for n, stage in enumerate(STAGES):
            if not _under(name, f"pipeline.{stage}"):
                continue
            forbidden = [f"pipeline.{s}" for s in STAGES[n + 1 :]] + sorted(SHELLS)
            forbidden.append("subscribers")
            bad = {i for i in imports for f in forbidden if _under(i, f)}
            assert not bad, f"{name} imports {bad}"


def test_store_imports_only_the_kernel() -> None:
    for name, (_, imports) in _modules().items():
        if _under(name, "pipeline.store"):
            project = {
                i for i in imports if _under(i, "pipeline") and not _under(i, "pipeline.store")
            }
            outside = {i for i in project if not _in_kernel(i)}
            assert not outside, f"{name} imports {outside}"


def test_each_library_stays_in_its_home() -> None:
    for path, imports in _modules().values():
        rel = path.relative_to(ROOT).as_posix()
        for lib, homes in LIBRARY_HOMES.items():
            if any(_under(i, lib) for i in imports):
                assert rel.startswith(homes), f"{rel} imports {lib}; allowed only in {homes}"
