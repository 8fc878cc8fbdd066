"""The labelled development set of issue 12: keys, loading, validation and a summary.

    key_of(url, source_id, title)     the key of an item as the pipeline stores it
    load_labels(folder)               every label of tests/data/labels/*.jsonl, validated
    python -m tests.support.labels --summary [--folder DIR]

One file per corpus source (`<source id>.jsonl`, the source id being the corpus file's
stem), one JSON object per line, sorted by key. A line holds judgements only: the key,
topics, doc type, relevance, deadlines, references and an optional short note, never text
of the item. The guide is docs/labelling.md.

Like the rest of tests/support this module does not import eudigest: the labels judge
the pipeline, so they must not be read through it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "DEADLINE_KINDS",
    "DOC_TYPES",
    "LABELS_DIR",
    "MAX_NOTE",
    "RELEVANCE",
    "TOPICS",
    "Label",
    "LabelDeadline",
    "LabelError",
    "key_of",
    "load_labels",
    "summary",
]

LABELS_DIR = Path(__file__).resolve().parents[1] / "data" / "labels"

# The topic ids of taxonomy.yaml, in its order (tests/unit/test_labels.py checks both agree).
TOPICS: tuple[str, ...] = (
    "funding", "cohesion", "industry", "mobility", "energy_climate", "digital", "research",
    "employment", "environment", "municipalities", "trade", "institutional", "agriculture",
    "health",
)  # fmt: skip
# The pipeline's doc types plus the three issue 12 adds (speech, statement, report).
DOC_TYPES: tuple[str, ...] = (
    "press_release", "legislative_proposal", "adopted_act", "funding_call", "consultation",
    "event", "speech", "statement", "report", "other",
)  # fmt: skip
RELEVANCE: tuple[str, ...] = ("high", "medium", "low")
DEADLINE_KINDS: tuple[str, ...] = ("call_closing", "consultation_end", "deadline")
MAX_NOTE = 120  # characters: a short reason in one's own words, never a quotation

_FIELDS = frozenset({"key", "topics", "doc_type", "relevance", "deadlines", "references", "note"})
_REQUIRED = _FIELDS - {"note"}
_KEY_RE = re.compile(r"[0-9a-f]{16}")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# How references are written (docs/labelling.md, "References"). Each is short.
REFERENCE_FORMS: dict[str, re.Pattern[str]] = {
    "document": re.compile(r"(?:COM|SWD|SEC|JOIN|C)\((?:19|20)\d{2}\) \d{1,5}"),
    "procedure": re.compile(r"(?:19|20)\d{2}/\d{4}\((?:COD|CNS|APP|NLE|INI|RSP|BUD|DEA|RPS)\)"),
    "celex": re.compile(r"[0-9CE](?:19|20)\d{2}[A-Z]{1,2}\d{4}(?:-(?:19|20)\d{6})?"),
    "press": re.compile(r"(?:IP|STATEMENT|MEX|MEMO|SPEECH|QANDA|FS|AC|INF|DAILY)/\d{2}/\d{1,6}"),
    "act": re.compile(
        r"\((?:EU|EC|EEC|CFSP|EU, Euratom)\) (?:No )?\d{1,4}/\d{2,4}|(?:19|20)\d{2}/\d{1,4}/CFSP"
    ),
    "call": re.compile(r"[A-Z][A-Z0-9]{1,11}(?:-[A-Za-z0-9]{1,20}){1,10}"),
    "tender": re.compile(r"[A-Z]{2,10} (?:19|20)\d{2}/\d{1,5}"),
}
MAX_REFERENCE = 60


class LabelDeadline(NamedTuple):
    """A deadline as (ISO date, kind)."""

    date: str
    kind: str


@dataclass(frozen=True, slots=True)
class Label:
    """The hand-made judgement of one item of the corpus.

    `source_file` is the stem of the label file (the corpus source the item is filed
    under); `line` is its line there, for messages.
    """

    key: str
    source_file: str
    topics: tuple[str, ...]
    doc_type: str
    relevance: str
    deadlines: tuple[LabelDeadline, ...]
    references: tuple[str, ...]
    note: str = ""
    line: int = 0

    def where(self) -> str:
        return f"{self.source_file}.jsonl:{self.line}"


class LabelError(ValueError):
    """Invalid label files; `problems` lists each one as 'file:line: what'."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def key_of(url: str | None, source_id: str, title: str) -> str:
    """The label key of an item: the first 16 hex digits of the SHA-256 of its URL as the
    pipeline stores it, or of "source_id\\ntitle" when the item has no URL."""
    basis = url if url else f"{source_id}\n{title}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def reference_form(ref: str) -> str | None:
    """The name of the form a reference is written in, or None if it has none."""
    for name, pattern in REFERENCE_FORMS.items():
        if pattern.fullmatch(ref):
            return name
    return None


def load_labels(folder: Path = LABELS_DIR) -> list[Label]:
    """Every label of `folder`/*.jsonl, in file and line order.

    Raises LabelError naming every problem (file:line) at once: bad JSON, unknown or
    missing fields, unknown topics, doc types, relevance values or deadline kinds, bad
    dates, references in no known form, long notes, keys out of order or repeated.
    """
    labels: list[Label] = []
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise LabelError([f"{folder}: no *.jsonl label files"])
    for path in files:
        previous = ""
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.name}:{number}"
            if not text.strip():
                problems.append(f"{where}: empty line")
                continue
            label, errors = _parse(path.stem, number, text)
            problems.extend(f"{where}: {e}" for e in errors)
            if label is None:
                continue
            if label.key <= previous:
                problems.append(f"{where}: key {label.key} is not after {previous} (sort by key)")
            previous = max(previous, label.key)
            if label.key in first_seen:
                problems.append(
                    f"{where}: key {label.key} already labelled at {first_seen[label.key]}"
                )
            else:
                first_seen[label.key] = where
            labels.append(label)
    if problems:
        raise LabelError(problems)
    return labels


def _parse(source_file: str, line: int, text: str) -> tuple[Label | None, list[str]]:
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"not JSON ({exc.msg})"]
    if not isinstance(raw, dict):
        return None, ["not a JSON object"]
    errors: list[str] = []
    unknown = sorted(set(raw) - _FIELDS)
    missing = sorted(_REQUIRED - set(raw))
    if unknown:
        errors.append(f"unknown field(s) {', '.join(unknown)}")
    if missing:
        return None, [*errors, f"missing field(s) {', '.join(missing)}"]
    key = raw["key"]
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        return None, [*errors, f"key must be 16 lower-case hex digits, not {key!r}"]
    topics = _strings(raw["topics"], "topics", errors)
    for topic in topics:
        if topic not in TOPICS:
            errors.append(f"unknown topic {topic!r} (known: {', '.join(TOPICS)})")
    if len(set(topics)) != len(topics):
        errors.append("a topic is listed twice")
    doc_type, relevance = raw["doc_type"], raw["relevance"]
    if doc_type not in DOC_TYPES:
        errors.append(f"unknown doc_type {doc_type!r} (known: {', '.join(DOC_TYPES)})")
    if relevance not in RELEVANCE:
        errors.append(f"unknown relevance {relevance!r} (known: {', '.join(RELEVANCE)})")
    deadlines = _deadlines(raw["deadlines"], errors)
    references = _strings(raw["references"], "references", errors)
    for ref in references:
        if len(ref) > MAX_REFERENCE or reference_form(ref) is None:
            errors.append(f"reference {ref!r} is in none of the known forms")
    if len(set(references)) != len(references):
        errors.append("a reference is listed twice")
    note = raw.get("note", "")
    if not isinstance(note, str):
        errors.append("note must be a string")
        note = ""
    elif len(note) > MAX_NOTE:
        errors.append(f"note is {len(note)} characters long (at most {MAX_NOTE})")
    label = Label(
        key=key,
        source_file=source_file,
        topics=tuple(topics),
        doc_type=str(doc_type),
        relevance=str(relevance),
        deadlines=tuple(deadlines),
        references=tuple(references),
        note=note,
        line=line,
    )
    return label, errors


def _strings(value: Any, field: str, errors: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f"{field} must be a list of strings")
        return []
    return list(value)


def _deadlines(value: Any, errors: list[str]) -> list[LabelDeadline]:
    if not isinstance(value, list):
        errors.append("deadlines must be a list")
        return []
    found: list[LabelDeadline] = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"date", "kind"}:
            errors.append('a deadline must be {"date": "YYYY-MM-DD", "kind": …}')
            continue
        date, kind = entry["date"], entry["kind"]
        if not isinstance(date, str) or not _DATE_RE.fullmatch(date) or not _is_date(date):
            errors.append(f"deadline date {date!r} is not a date YYYY-MM-DD")
            continue
        if kind not in DEADLINE_KINDS:
            errors.append(f"unknown deadline kind {kind!r} (known: {', '.join(DEADLINE_KINDS)})")
            continue
        found.append(LabelDeadline(date, kind))
    if len(set(found)) != len(found):
        errors.append("a deadline is listed twice")
    return found


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def dumps(label: Label) -> str:
    """One line of a label file (fields in a fixed order, no note when empty)."""
    obj: dict[str, Any] = {
        "key": label.key,
        "topics": list(label.topics),
        "doc_type": label.doc_type,
        "relevance": label.relevance,
        "deadlines": [{"date": d.date, "kind": d.kind} for d in label.deadlines],
        "references": list(label.references),
    }
    if label.note:
        obj["note"] = label.note
    return json.dumps(obj, ensure_ascii=False)


# ---------------------------------------------------------------- summary


def summary(labels: Iterable[Label]) -> str:
    """Markdown tables: labels per source file (by relevance), per doc type, per topic."""
    labels = list(labels)
    per_file: dict[str, Counter[str]] = {}
    for label in labels:
        per_file.setdefault(label.source_file, Counter())[label.relevance] += 1
    lines = [
        f"{len(labels)} labels in {len(per_file)} files.",
        "",
        "| label file | labels | high | medium | low |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in sorted(per_file):
        c = per_file[name]
        lines.append(f"| {name}.jsonl | {c.total()} | {c['high']} | {c['medium']} | {c['low']} |")
    totals = Counter(label.relevance for label in labels)
    lines.append(
        f"| **all** | {len(labels)} | {totals['high']} | {totals['medium']} | {totals['low']} |"
    )
    by_type: dict[str, Counter[str]] = {d: Counter() for d in DOC_TYPES}
    for label in labels:
        by_type[label.doc_type][label.relevance] += 1
    lines += ["", "| doc type | labels | high | medium | low |", "|---|---:|---:|---:|---:|"]
    for doc_type, c in by_type.items():
        lines.append(f"| {doc_type} | {c.total()} | {c['high']} | {c['medium']} | {c['low']} |")
    topics = Counter(t for label in labels for t in label.topics)
    untagged = sum(1 for label in labels if not label.topics)
    lines += ["", "| topic | labels |", "|---|---:|"]
    lines += [f"| {t} | {topics[t]} |" for t in TOPICS]
    lines.append(f"| (no topic) | {untagged} |")
    with_deadlines = sum(1 for label in labels if label.deadlines)
    with_refs = sum(1 for label in labels if label.references)
    lines += [
        "",
        f"Labels with deadlines: {with_deadlines} "
        f"({sum(len(label.deadlines) for label in labels)} deadlines); "
        f"with references: {with_refs} "
        f"({sum(len(label.references) for label in labels)} references).",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--summary", action="store_true", help="print the tables of docs/labelling.md")
    ap.add_argument("--folder", type=Path, default=LABELS_DIR)
    args = ap.parse_args(argv)
    try:
        labels = load_labels(args.folder)
    except LabelError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.summary:
        print(summary(labels))
    else:
        print(f"{len(labels)} valid labels in {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
