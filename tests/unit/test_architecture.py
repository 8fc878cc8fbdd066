"""The one-way flow of DESIGN.md, checked by walking imports with ast."""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL = {
    "pipeline.model",
    "pipeline.errors",
    "pipeline.config",
    "pipeline.text",
    "pipeline.email_templates",
}
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
    # httpx's connection layer: the fetcher's address check sits in its network backend;
    # the mailer posts through its connections (one fixed endpoint, no client layer)
    "httpcore": ("pipeline/ingest/fetch.py", "pipeline/deliver/sendgrid.py"),
    "sendgrid": ("pipeline/deliver/sendgrid.py",),
    "feedparser": ("pipeline/ingest/parse.py",),
    "flask": ("pipeline/web/",),
    "apscheduler": ("pipeline/scheduler/",),
    # Untrusted text and German formats: one module (pipeline/text.py, issue 11).
    "nh3": ("pipeline/text.py",),
    "markdown_it": ("pipeline/text.py",),
    "babel": ("pipeline/text.py",),
    "jinja2": ("pipeline/email_templates.py",),
    "sklearn": ("pipeline/curate/learning.py",),
    "numpy": ("pipeline/curate/learning.py",),
}
# What pipeline.text may import besides the standard library: it is a leaf.
TEXT_LIBRARIES = {"nh3", "markdown_it", "babel"}


@functools.cache
def _parse(path: Path) -> ast.Module:
    """The file's syntax tree, parsed once per run (the tests only read it)."""
    return ast.parse(path.read_text(encoding="utf-8"))


@functools.cache
def _modules() -> dict[str, tuple[Path, set[str]]]:
    found: dict[str, tuple[Path, set[str]]] = {}
    for pkg in ("pipeline", "subscribers"):
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(p for p in rel.parts if p != "__init__")
            imports: set[str] = set()
            for node in ast.walk(_parse(path)):
                if isinstance(node, ast.Import):
                    imports |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    imports.add(node.module)
                    if node.module.split(".")[0] in ("pipeline", "subscribers"):
                        # `from pipeline import web` imports the module pipeline.web
                        imports |= {f"{node.module}.{a.name}" for a in node.names}
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


def test_text_and_the_email_templates_belong_to_the_kernel() -> None:
    """Stages and subscribers/ handle untrusted text and render mails through the kernel."""
    modules = _modules()
    assert _in_kernel("pipeline.text") and _in_kernel("pipeline.email_templates")
    path, imports = modules["pipeline.text"]
    others = {
        i
        for i in imports
        if i.split(".")[0] not in sys.stdlib_module_names | TEXT_LIBRARIES | {"__future__"}
    }
    assert not others, f"{path.name} is a leaf (stdlib, {sorted(TEXT_LIBRARIES)}): {others}"
    _, imports = modules["pipeline.email_templates"]
    project = {i for i in imports if _under(i, "pipeline")}
    assert all(_under(i, "pipeline.config") or _under(i, "pipeline.text") for i in project), project


def test_untrusted_text_is_handled_in_one_place() -> None:
    """One copy of each: no other module defines safe_href, an HTML-to-text function, a
    Markdown renderer or a German date format, nor builds a Jinja2 environment of email/."""
    one_home = {"safe_href", "sanitize_html", "render_markdown", "de_date", "de_datetime",
                "de_number", "language_name", "html_to_line", "html_to_paragraphs",
                "html_to_text"}  # fmt: skip
    for name, (path, _) in _modules().items():
        if name == "pipeline.text":
            continue
        tree = _parse(path)
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        twice = defined & one_home
        assert not twice, f"{name} defines {sorted(twice)}; pipeline.text has the one copy"
        if name != "pipeline.email_templates":
            source = path.read_text(encoding="utf-8")
            assert '"templates" / "email"' not in source, f"{name} reads templates/email itself"


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


def test_subscribers_imports_only_the_kernel_and_the_store() -> None:
    for name, (_, imports) in _modules().items():
        if _under(name, "subscribers"):
            project = {
                i
                for i in imports
                if _under(i, "pipeline") and not _in_kernel(i) and not _under(i, "pipeline.store")
            }
            assert not project, f"{name} imports {project}"


def test_imports_of_a_submodule_by_name_are_seen_too() -> None:
    """`from pipeline import web` is an import of pipeline.web (and is checked as one)."""
    path, imports = _modules()["pipeline.cli.editions"]
    assert "pipeline.curate" in imports, path  # imported as `from pipeline import curate`


def _classes() -> dict[str, list[str]]:
    """Class name → the modules that define a class of that name."""
    found: dict[str, list[str]] = {}
    for name, (path, _) in _modules().items():
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, []).append(name)
    return found


def test_domain_words_are_defined_in_the_model_and_only_there() -> None:
    import pipeline.model

    classes = _classes()
    model_classes = {
        n for n, mods in classes.items() if any(_under(m, "pipeline.model") for m in mods)
    }
    for word in ("Source", "Item", "Topic", "Annotation", "Newsletter", "Edition", "Segment",
                 "Delivery", "Subscriber", "Sender", "JobRun", "Mailer", "Batch"):  # fmt: skip
        assert word in model_classes, f"{word} is not defined in pipeline/model/"
        assert word in pipeline.model.__all__, f"pipeline.model does not export {word}"
    for name in sorted(model_classes):
        elsewhere = [m for m in classes[name] if not _under(m, "pipeline.model")]
        assert not elsewhere, f"{name} is defined in pipeline/model/ and again in {elsewhere}"


def test_every_error_class_appears_in_the_drawing_of_errors_py() -> None:
    bases: dict[str, set[str]] = {}
    for _, (path, _) in _modules().items():
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(
                    b.id for b in node.bases if isinstance(b, ast.Name)
                )

    def is_error(name: str, seen: frozenset[str] = frozenset()) -> bool:
        return name == "EudigestError" or any(
            is_error(b, seen | {name}) for b in bases.get(name, ()) if b not in seen
        )

    drawing = ast.get_docstring(ast.parse((ROOT / "pipeline" / "errors.py").read_text())) or ""
    drawn = set(re.findall(r"[─└├│ ]+ ?(\w+)", drawing)) | {"EudigestError"}
    errors = {n for n in bases if is_error(n)}
    assert errors, "no error classes found"
    missing = sorted(errors - drawn)
    assert not missing, f"error classes missing from the drawing in errors.py: {missing}"
