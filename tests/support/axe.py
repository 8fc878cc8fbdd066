"""axe-core in a Playwright page: the violations of a page, as readable lines.

axe-core is Deque's accessibility engine (the one browsers' developer tools use). Its
script comes bundled in the PyPI package `axe-playwright-python` (a dev extra), so a fresh
clone needs nothing but `pip install -e '.[dev]'`; that package's wrapper is not used,
only its copy of `axe.min.js`, injected with `page.evaluate` (which no CSP of the page
blocks) and run with the rules chosen here.

    violations = axe(page)                       # WCAG 2.0–2.2 A and AA rules
    violations = axe(page, best_practice=True)   # and axe's best practices (landmarks, h1)
    assert not violations, report(violations)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

# The WCAG success criteria of levels A and AA in all versions axe knows (2.0, 2.1, 2.2).
WCAG_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")


@cache
def script() -> str:
    """The bundled axe-core (`axe.min.js` of axe-playwright-python)."""
    import axe_playwright_python  # the package only carries the script for us

    path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    return path.read_text(encoding="utf-8")


def version(page: Page) -> str:
    _inject(page)
    value: str = page.evaluate("axe.version")
    return value


@dataclass(frozen=True)
class Violation:
    rule: str  # "color-contrast"
    impact: str  # minor, moderate, serious, critical
    help: str  # "Elements must meet minimum color contrast ratio thresholds"
    nodes: tuple[str, ...]  # per element: its CSS target, its HTML, what is wrong

    def __str__(self) -> str:
        lines = [f"{self.rule} ({self.impact}): {self.help}"]
        lines += [f"    - {n}" for n in self.nodes]
        return "\n".join(lines)


def _inject(page: Page) -> None:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(script())


def axe(
    page: Page,
    *,
    best_practice: bool = False,
    rules: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> list[Violation]:
    """The violations of the page as loaded now.

    `best_practice` adds axe's best-practice rules (one main landmark, one h1, content in
    landmarks); `rules` runs only these rules (ids); `exclude` leaves out CSS selectors."""
    _inject(page)
    if rules:
        run_only: dict[str, Any] = {"type": "rule", "values": list(rules)}
    else:
        tags = [*WCAG_AA, "best-practice"] if best_practice else list(WCAG_AA)
        run_only = {"type": "tag", "values": tags}
    options = {"runOnly": run_only, "resultTypes": ["violations"]}
    context: dict[str, Any] = {"exclude": [[s] for s in exclude]} if exclude else {}
    results = page.evaluate(
        "([context, options]) => axe.run(context.exclude ? context : document, options)",
        [context, options],
    )
    return [_violation(v) for v in results["violations"]]


def _violation(raw: dict[str, Any]) -> Violation:
    nodes = []
    for node in raw["nodes"]:
        target = " ".join(str(t) for t in node["target"])
        html = " ".join(str(node.get("html", "")).split())[:160]
        why = node.get("failureSummary") or ""
        why = " ".join(why.split())
        nodes.append(f"{target}: {html} — {why}")
    return Violation(
        rule=raw["id"],
        impact=raw.get("impact") or "",
        help=raw["help"],
        nodes=tuple(nodes),
    )


def report(violations: list[Violation], where: str = "") -> str:
    """All violations, one block each, for an assertion message."""
    head = f"{len(violations)} axe violation(s){' on ' + where if where else ''}:"
    return "\n".join([head, *(str(v) for v in violations)])
