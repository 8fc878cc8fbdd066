"""Load and validate sources.yaml, taxonomy.yaml, office.yaml and glossary.yaml.

Each file is edited by hand (by staff and ops), so every error names the
file, the line and the field: ``sources.yaml:42: sources[3].url: must start
with http:// or https://``. The YAML is composed into nodes first so that the
line of each value is known, then turned into the frozen model types.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pipeline.errors import ConfigError
from pipeline.model import (
    Branding,
    Newsletter,
    Office,
    Source,
    SourceKind,
    Taxonomy,
    Topic,
    contrast_ratio,
)
from pipeline.model.glossary import Glossary

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANG_RE = re.compile(r"^[a-z]{2}$")
MAX_FILE_BYTES = 2_000_000

SOURCE_FIELDS = frozenset(
    {
        "id",
        "name",
        "institution",
        "url",
        "language",
        "kind",
        "adapter",
        "topics",
        "enabled",
        "interval_minutes",
        "options",
    }
)
TOPIC_FIELDS = frozenset({"id", "label_de", "label_en", "keywords_de", "keywords_en", "weight"})
REGION_FIELDS = frozenset(
    {"name", "label_de", "keywords", "land", "country", "sectors", "companies"}
)
AREA_FIELDS = frozenset({"name", "keywords"})
MAX_TOPIC_WEIGHT = 3.0


# libyaml's loader when PyYAML was built with it (the wheels are): the same nodes and
# marks, ~8x faster on taxonomy.yaml, which every fetch and every scheduler run reads.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Doc:
    """A YAML document with positions, for error messages that name file:line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        if len(raw) > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: file is larger than {MAX_FILE_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 (byte {exc.start})") from None
        try:
            self.root = yaml.compose(text, Loader=_LOADER)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from None

    def error(self, node: Node | None, field: str, message: str) -> ConfigError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return ConfigError(f"{self.path.name}{line}: {field}: {message}")

    def top(self, key: str) -> Node:
        if not isinstance(self.root, MappingNode):
            raise self.error(self.root, key, "the file must be a mapping with a top-level key")
        for k, v in self.root.value:
            if k.value == key:
                return v  # type: ignore[no-any-return]
        raise self.error(self.root, key, "missing top-level key")


def _mapping(doc: _Doc, node: Node, field: str) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        raise doc.error(node, field, "must be a mapping")
    out: dict[str, Node] = {}
    for k, v in node.value:
        if k.value in out:
            raise doc.error(k, f"{field}.{k.value}", "appears twice")
        out[str(k.value)] = v
    return out


def _sequence(doc: _Doc, node: Node, field: str) -> list[Node]:
    if isinstance(node, ScalarNode) and node.value in ("", "~", "null"):
        return []
    if not isinstance(node, SequenceNode):
        raise doc.error(node, field, "must be a list")
    return list(node.value)


_CONSTRUCTOR = yaml.SafeLoader("")  # turns composed nodes into Python values


def _value(node: Node) -> Any:
    return _CONSTRUCTOR.construct_object(node, deep=True)


def _string(doc: _Doc, node: Node | None, field: str, *, required: bool = True) -> str:
    if node is None:
        if required:
            raise doc.error(None, field, "is required")
        return ""
    if not isinstance(node, ScalarNode):
        raise doc.error(node, field, "must be text")
    value = str(_value(node) if node.tag != "tag:yaml.org,2002:null" else "").strip()
    if required and not value:
        raise doc.error(node, field, "must not be empty")
    return value


def _strings(doc: _Doc, node: Node | None, field: str) -> tuple[str, ...]:
    if node is None:
        return ()
    return tuple(
        _string(doc, item, f"{field}[{i}]") for i, item in enumerate(_sequence(doc, node, field))
    )


def _check_unknown(doc: _Doc, fields: dict[str, Node], allowed: Collection[str], at: str) -> None:
    for name, node in fields.items():
        if name not in allowed:
            raise doc.error(
                node, f"{at}.{name}", f"unknown field (allowed: {', '.join(sorted(allowed))})"
            )


def load_sources(
    path: Path,
    *,
    topic_ids: Collection[str] | None = None,
    adapter_names: Collection[str] | None = None,
) -> list[Source]:
    """Read sources.yaml. Topic ids and adapter names are checked when given."""
    doc = _Doc(path)
    entries = _sequence(doc, doc.top("sources"), "sources")
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(entries):
        at = f"sources[{i}]"
        f = _mapping(doc, node, at)
        sid = _string(doc, f.get("id"), f"{at}.id")
        at = f"sources[{i}] ({sid})"
        _check_unknown(doc, f, SOURCE_FIELDS, at)
        if not ID_RE.match(sid):
            raise doc.error(f["id"], f"{at}.id", "use lower-case letters, digits, - and _")
        if sid in seen:
            raise doc.error(f["id"], f"{at}.id", f"duplicate id (first at entry {seen[sid]})")
        seen[sid] = i
        url = _string(doc, f.get("url"), f"{at}.url")
        if not url.startswith(("http://", "https://")) or len(url) > 2000:
            raise doc.error(f["url"], f"{at}.url", "must be an http:// or https:// URL")
        language = _string(doc, f.get("language"), f"{at}.language").lower()
        if not LANG_RE.match(language):
            raise doc.error(f["language"], f"{at}.language", "must be a two-letter code (de, en…)")
        kind_text = _string(doc, f.get("kind"), f"{at}.kind")
        try:
            kind = SourceKind(kind_text)
            if kind is SourceKind.OWN:
                raise ValueError(kind_text)  # own items are written in the desk, not fetched
        except ValueError:
            raise doc.error(
                f["kind"], f"{at}.kind", f"{kind_text!r} is not one of feed, html, api"
            ) from None
        adapter = _string(doc, f.get("adapter"), f"{at}.adapter", required=False) or None
        if kind is SourceKind.API and adapter is None:
            raise doc.error(node, f"{at}.adapter", "is required when kind is api")
        if adapter is not None and adapter_names is not None and adapter not in adapter_names:
            raise doc.error(
                f["adapter"],
                f"{at}.adapter",
                f"unknown adapter {adapter!r} (known: {', '.join(sorted(adapter_names))})",
            )
        topics = _strings(doc, f.get("topics"), f"{at}.topics")
        if topic_ids is not None:
            for t in topics:
                if t not in topic_ids:
                    raise doc.error(
                        f["topics"], f"{at}.topics", f"unknown topic {t!r} (see taxonomy.yaml)"
                    )
        enabled = _typed(doc, f.get("enabled"), f"{at}.enabled", bool, True)
        interval = _typed(doc, f.get("interval_minutes"), f"{at}.interval_minutes", int, 60)
        if not 5 <= interval <= 10080:
            raise doc.error(
                f["interval_minutes"], f"{at}.interval_minutes", "must be 5..10080 minutes"
            )
        options: dict[str, Any] = {}
        if "options" in f:
            _mapping(doc, f["options"], f"{at}.options")
            options = dict(_value(f["options"]) or {})
        sources.append(
            Source(
                id=sid,
                name=_string(doc, f.get("name"), f"{at}.name"),
                institution=_string(doc, f.get("institution"), f"{at}.institution"),
                url=url,
                language=language,
                kind=kind,
                topics=topics,
                adapter=adapter,
                enabled=enabled,
                interval_minutes=interval,
                options=options,
            )
        )
    return sources


def _typed(doc: _Doc, node: Node | None, field: str, kind: type[Any], default: Any) -> Any:
    if node is None:
        return default
    value = _value(node)
    # bool is an int in Python: reject True for an int field and 1 for a bool field.
    if type(value) is not kind:
        raise doc.error(node, field, f"must be {'true or false' if kind is bool else 'a number'}")
    return value


def load_taxonomy(path: Path) -> Taxonomy:
    """Read taxonomy.yaml: topics with labels and keyword rules, and region keywords."""
    doc = _Doc(path)
    topics: list[Topic] = []
    seen: set[str] = set()
    for i, node in enumerate(_sequence(doc, doc.top("topics"), "topics")):
        at = f"topics[{i}]"
        f = _mapping(doc, node, at)
        tid = _string(doc, f.get("id"), f"{at}.id")
        at = f"topics[{i}] ({tid})"
        _check_unknown(doc, f, TOPIC_FIELDS, at)
        if not ID_RE.match(tid):
            raise doc.error(f["id"], f"{at}.id", "use lower-case letters, digits, - and _")
        if tid in seen:
            raise doc.error(f["id"], f"{at}.id", "duplicate id")
        seen.add(tid)
        kw_de = _strings(doc, f.get("keywords_de"), f"{at}.keywords_de")
        kw_en = _strings(doc, f.get("keywords_en"), f"{at}.keywords_en")
        if not kw_de and not kw_en:
            raise doc.error(node, f"{at}.keywords_de", "a topic needs at least one keyword")
        topics.append(
            Topic(
                id=tid,
                label_de=_string(doc, f.get("label_de"), f"{at}.label_de"),
                label_en=_string(doc, f.get("label_en"), f"{at}.label_en"),
                keywords_de=kw_de,
                keywords_en=kw_en,
                weight=_weight(doc, f.get("weight"), f"{at}.weight"),
            )
        )
    if not topics:
        raise doc.error(doc.root, "topics", "the list is empty")
    region = _mapping(doc, doc.top("region"), "region")
    _check_unknown(doc, region, REGION_FIELDS, "region")
    region_keywords = _strings(doc, region.get("keywords"), "region.keywords")
    if not region_keywords:
        raise doc.error(doc.top("region"), "region.keywords", "at least one keyword is needed")
    land_name, land_keywords = _area(doc, region.get("land"), "region.land")
    country_name, country_keywords = _area(doc, region.get("country"), "region.country")
    return Taxonomy(
        topics=tuple(topics),
        region_keywords=region_keywords,
        region_name=_string(doc, region.get("label_de"), "region.label_de", required=False)
        or _string(doc, region.get("name"), "region.name", required=False),
        land_name=land_name,
        land_keywords=land_keywords,
        country_name=country_name,
        country_keywords=country_keywords,
        sector_keywords=_strings(doc, region.get("sectors"), "region.sectors"),
        company_keywords=_strings(doc, region.get("companies"), "region.companies"),
    )


def _threshold(doc: _Doc, node: Node | None) -> float:
    """desk.inbox_threshold: a relevance from 0 (fold nothing) to 1."""
    if node is None:
        return 0.2  # the default of Office.inbox_threshold
    value = _value(node)
    if type(value) not in (int, float) or not 0 <= value <= 1:
        raise doc.error(node, "desk.inbox_threshold", "must be a number from 0 to 1, e.g. 0.2")
    return float(value)


def _weight(doc: _Doc, node: Node | None, field: str) -> float:
    """A topic's optional `weight:` for relevance, 0..3 (default 1)."""
    if node is None:
        return 1.0
    value = _value(node)
    if type(value) not in (int, float) or not 0 <= value <= MAX_TOPIC_WEIGHT:
        raise doc.error(node, field, f"must be a number from 0 to {MAX_TOPIC_WEIGHT:g}")
    return float(value)


def _area(doc: _Doc, node: Node | None, field: str) -> tuple[str, tuple[str, ...]]:
    """`land:` or `country:` of the region: a German name and its keywords."""
    if node is None:
        return "", ()
    f = _mapping(doc, node, field)
    _check_unknown(doc, f, AREA_FIELDS, field)
    return (
        _string(doc, f.get("name"), f"{field}.name"),
        _strings(doc, f.get("keywords"), f"{field}.keywords"),
    )


NEWSLETTER_FIELDS = frozenset({"id", "name", "description", "cadence", "curated"})
BRANDING_FIELDS = frozenset(
    {"primary_color", "text_color", "background_color", "logo_url", "logo_alt"}
)
HEX_COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
MIN_CONTRAST = 4.5  # WCAG 2.x AA for body text


def _color(doc: _Doc, node: Node | None, field: str, default: str) -> str:
    value = _string(doc, node, field, required=False)
    if not value:
        return default
    if not HEX_COLOR_RE.match(value):
        raise doc.error(node, field, f"{value!r} is not a colour like #00549f")
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.lower()


def _load_branding(doc: _Doc) -> Branding:
    """The optional top-level `branding:` mapping; missing keys keep the defaults."""
    if not (
        isinstance(doc.root, MappingNode) and any(k.value == "branding" for k, _ in doc.root.value)
    ):
        return Branding()
    node = doc.top("branding")
    f = _mapping(doc, node, "branding")
    _check_unknown(doc, f, BRANDING_FIELDS, "branding")
    d = Branding()
    colors = {
        key: _color(doc, f.get(key), f"branding.{key}", getattr(d, key))
        for key in ("primary_color", "text_color", "background_color")
    }
    for key in ("text_color", "primary_color"):
        ratio = contrast_ratio(colors[key], colors["background_color"])
        if ratio < MIN_CONTRAST:
            raise doc.error(
                f.get(key) or f.get("background_color") or node,
                f"branding.{key}",
                f"contrast {ratio:.2f}:1 against background_color {colors['background_color']}"
                f" is too low to read (at least {MIN_CONTRAST}:1)",
            )
    logo_url = _string(doc, f.get("logo_url"), "branding.logo_url", required=False)
    if logo_url and (
        not logo_url.startswith("https://") or len(logo_url) > 2000 or " " in logo_url
    ):
        raise doc.error(f.get("logo_url"), "branding.logo_url", "must be an https:// URL")
    logo_alt = _string(doc, f.get("logo_alt"), "branding.logo_alt", required=False)
    if len(logo_alt) > 200:
        raise doc.error(f.get("logo_alt"), "branding.logo_alt", "at most 200 characters")
    return Branding(logo_url=logo_url, logo_alt=logo_alt, **colors)


def load_office(path: Path) -> Office:
    """Read office.yaml: the office's name, newsletters, the desk's rules and branding."""
    doc = _Doc(path)
    office = _mapping(doc, doc.top("office"), "office")
    name = _string(doc, office.get("name"), "office.name")
    desk: dict[str, Node] = {}
    if isinstance(doc.root, MappingNode) and any(k.value == "desk" for k, _ in doc.root.value):
        desk = _mapping(doc, doc.top("desk"), "desk")
    newsletters: list[Newsletter] = []
    for i, node in enumerate(_sequence(doc, doc.top("newsletters"), "newsletters")):
        at = f"newsletters[{i}]"
        f = _mapping(doc, node, at)
        nid = _string(doc, f.get("id"), f"{at}.id")
        at = f"newsletters[{i}] ({nid})"
        _check_unknown(doc, f, NEWSLETTER_FIELDS, at)
        if not ID_RE.match(nid):
            raise doc.error(f["id"], f"{at}.id", "use lower-case letters, digits, - and _")
        if any(n.id == nid for n in newsletters):
            raise doc.error(f["id"], f"{at}.id", "duplicate id")
        cadence = _string(doc, f.get("cadence"), f"{at}.cadence", required=False) or "weekly"
        if cadence not in ("weekly", "daily"):
            raise doc.error(f["cadence"], f"{at}.cadence", "must be weekly or daily")
        newsletters.append(
            Newsletter(
                id=nid,
                name=_string(doc, f.get("name"), f"{at}.name"),
                description=_string(doc, f.get("description"), f"{at}.description", required=False),
                cadence=cadence,
                curated=_typed(doc, f.get("curated"), f"{at}.curated", bool, True),
            )
        )
    if not newsletters:
        raise doc.error(doc.top("newsletters"), "newsletters", "at least one newsletter is needed")
    sender = _string(doc, office.get("sender_email"), "office.sender_email", required=False)
    if sender and not re.match(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", sender):
        raise doc.error(office.get("sender_email"), "office.sender_email", "not an email address")
    for key in ("privacy_url",):
        value = _string(doc, office.get(key), f"office.{key}", required=False)
        if value and not value.startswith(("https://", "http://")):
            raise doc.error(office.get(key), f"office.{key}", "must be an http(s) URL")
    return Office(
        name=name,
        sender_email=sender or "newsletter@example.org",
        sender_name=_string(doc, office.get("sender_name"), "office.sender_name", required=False)
        or name,
        reply_to=_string(doc, office.get("reply_to"), "office.reply_to", required=False),
        imprint=_string(doc, office.get("imprint"), "office.imprint", required=False),
        privacy_url=_string(doc, office.get("privacy_url"), "office.privacy_url", required=False),
        newsletters=tuple(newsletters),
        four_eyes=_typed(doc, desk.get("four_eyes"), "desk.four_eyes", bool, True),
        inbox_threshold=_threshold(doc, desk.get("inbox_threshold")),
        default_sections=_strings(doc, desk.get("default_sections"), "desk.default_sections")
        or ("Meldungen",),
        branding=_load_branding(doc),
        archive_dossiers=_archive_dossiers(doc),
    )


def _archive_dossiers(doc: _Doc) -> str:
    """archive.dossiers: public | none (the default)."""
    root = doc.root
    if not (isinstance(root, MappingNode) and any(k.value == "archive" for k, _ in root.value)):
        return "none"
    archive = _mapping(doc, doc.top("archive"), "archive")
    value = _string(doc, archive.get("dossiers"), "archive.dossiers", required=False) or "none"
    if value not in ("public", "none"):
        raise doc.error(archive.get("dossiers"), "archive.dossiers", "must be public or none")
    return value


# ---------------------------------------------------------------- glossary.yaml

GLOSSARY_FIELDS = frozenset({"term", "explanation", "variants", "english"})


def load_glossary(path: Path) -> Glossary:
    """Read glossary.yaml: EU words explained in the digest, the archive and the desk.

    `terms:` is a list of {term, explanation (at most 200 characters), variants, english};
    a term or spelling given twice is an error (it would be explained twice)."""
    from pipeline.model.glossary import MAX_EXPLANATION, Glossary, GlossaryEntry

    doc = _Doc(path)
    entries: list[GlossaryEntry] = []
    owner: dict[str, str] = {}
    for i, node in enumerate(_sequence(doc, doc.top("terms"), "terms")):
        at = f"terms[{i}]"
        f = _mapping(doc, node, at)
        for required in ("term", "explanation"):  # named with the entry's line
            if required not in f:
                raise doc.error(node, f"{at}.{required}", "is required")
        term = _string(doc, f.get("term"), f"{at}.term")
        at = f"terms[{i}] ({term})"
        _check_unknown(doc, f, GLOSSARY_FIELDS, at)
        explanation = " ".join(_string(doc, f.get("explanation"), f"{at}.explanation").split())
        if len(explanation) > MAX_EXPLANATION:
            raise doc.error(
                f["explanation"],
                f"{at}.explanation",
                f"{len(explanation)} characters; at most {MAX_EXPLANATION}",
            )
        variants = _strings(doc, f.get("variants"), f"{at}.variants")
        english = _strings(doc, f.get("english"), f"{at}.english")
        for field_name, spellings in (
            ("term", (term,)),
            ("variants", variants),
            ("english", english),
        ):
            for spelling in spellings:
                if any(c in spelling for c in '<>&"'):
                    raise doc.error(
                        f.get(field_name), f"{at}.{field_name}", 'must not contain < > & "'
                    )
                key = spelling.casefold()
                if key in owner and owner[key] != term:
                    raise doc.error(
                        f.get(field_name),
                        f"{at}.{field_name}",
                        f"„{spelling}“ is already a spelling of „{owner[key]}“",
                    )
                if key in owner and field_name == "term":
                    raise doc.error(f.get("term"), f"{at}.term", "duplicate term")
                owner[key] = term
        entries.append(GlossaryEntry(term, explanation, variants, english))
    return Glossary(tuple(entries))
