"""EU words explained: the office's glossary (glossary.yaml, loaded by pipeline.catalog).

    Glossary.find(*texts)   → the entries used in these texts, each once, in glossary order
    Glossary.mark_html(html, seen) → sanitised HTML with the first use of each term marked
                              (<abbr title> for abbreviations, <dfn title> for words)

Matching: each of an entry's spellings (term, variants, English equivalents) as a whole
word — not inside another word ("Ausschuss" does not match "Regionalausschuss" nor
"Ausschussvorsitz") — with light German inflection (a trailing -e, -en, -er, -es, -n, -s,
-ns: "Verordnungen", "des Trilogs"). Case does not matter, except for abbreviations
(a spelling without spaces with two or more capital letters, "LIFE", "AdR", "KMU"),
which match only as written: "LIFE" is the programme, "life" is not. Stdlib only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, MutableSet
from dataclasses import dataclass, field

MAX_EXPLANATION = 200
_SUFFIX = r"(?:e|en|er|es|n|ns|s)?"
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
# Inside these elements nothing is marked (a link's text stays a plain link; no nesting).
_NO_MARK = frozenset({"a", "abbr", "dfn", "code", "pre", "h1", "h2", "h3", "h4", "script", "style"})


def is_abbreviation(spelling: str) -> bool:
    return " " not in spelling and sum(c.isupper() for c in spelling) >= 2


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    term: str  # German, as shown: "Delegierter Rechtsakt"
    explanation: str  # at most MAX_EXPLANATION characters
    variants: tuple[str, ...] = ()  # other German spellings ("delegierte Rechtsakte")
    english: tuple[str, ...] = ()  # "delegated act"

    @property
    def spellings(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.term, *self.variants, *self.english)))

    @property
    def abbreviation(self) -> bool:
        return is_abbreviation(self.term)


def _pattern(spellings: Iterable[str], *, exact_case: bool) -> re.Pattern[str] | None:
    words = sorted({s for s in spellings if s}, key=len, reverse=True)
    if not words:
        return None
    body = "|".join(r"\s+".join(re.escape(w) for w in s.split()) for s in words)
    flags = 0 if exact_case else re.IGNORECASE
    return re.compile(rf"(?<!\w)(?:{body}){_SUFFIX}(?![\w])", flags)


@dataclass(frozen=True)
class Glossary:
    entries: tuple[GlossaryEntry, ...] = ()
    _patterns: tuple[tuple[re.Pattern[str] | None, re.Pattern[str] | None], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        compiled = []
        for e in self.entries:
            exact = [s for s in e.spellings if is_abbreviation(s)]
            loose = [s for s in e.spellings if not is_abbreviation(s)]
            compiled.append((_pattern(exact, exact_case=True), _pattern(loose, exact_case=False)))
        object.__setattr__(self, "_patterns", tuple(compiled))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, *texts: str) -> tuple[GlossaryEntry, ...]:
        """The entries any of `texts` uses, each once, in the glossary's order."""
        joined = "\n".join(t for t in texts if t)
        if not joined or not self.entries:
            return ()
        spans = {n: self._spans(n, joined) for n in range(len(self.entries))}
        every = [(a, b, n) for n, found in spans.items() for a, b in found]

        def inside_another(n: int, a: int, b: int) -> bool:
            # "Ausschuss" inside "Ausschuss der Regionen" belongs to the longer term only
            return any(m != n and x <= a and b <= y and (y - x) > (b - a) for x, y, m in every)

        return tuple(
            e
            for n, e in enumerate(self.entries)
            if any(not inside_another(n, a, b) for a, b in spans[n])
        )

    def _spans(self, index: int, text: str) -> list[tuple[int, int]]:
        return [m.span() for p in self._patterns[index] if p is not None for m in p.finditer(text)]

    def mark_html(self, fragment: str, seen: MutableSet[str] | None = None) -> str:
        """`fragment` (sanitised HTML) with the first use of each term — first on the page,
        when the caller passes the same `seen` for every fragment — in <abbr>/<dfn> with
        the explanation as title. Text inside links and headings is left alone."""
        if not self.entries or not fragment:
            return fragment
        seen = set() if seen is None else seen
        out: list[str] = []
        blocked: list[str] = []
        for m in _TAG_OR_TEXT.finditer(fragment):
            tag, text = m.group(1), m.group(2)
            if tag is not None:
                out.append(tag)
                name = re.match(r"</?\s*([a-zA-Z0-9]+)", tag)
                if name and name.group(1).lower() in _NO_MARK and not tag.endswith("/>"):
                    if tag.startswith("</"):
                        if blocked:
                            blocked.pop()
                    else:
                        blocked.append(name.group(1).lower())
                continue
            out.append(text if blocked else self._mark_text(text, seen))
        return "".join(out)

    def _mark_text(self, text: str, seen: MutableSet[str]) -> str:
        # `text` is HTML text (entities escaped); terms hold no & < > so matching is safe.
        candidates = [
            (a, b, e)
            for n, e in enumerate(self.entries)
            if e.term not in seen
            for a, b in self._spans(n, text)
        ]
        candidates.sort(key=lambda h: (h[0], -(h[1] - h[0])))  # the longer term first
        hits: list[tuple[int, int, GlossaryEntry]] = []
        for a, b, e in candidates:
            if e.term in seen or any(a < y and x < b for x, y, _ in hits):
                continue
            hits.append((a, b, e))
            seen.add(e.term)
        if not hits:
            return text
        out, at = [], 0
        for start, end, e in sorted(hits, key=lambda h: h[0]):
            tag = "abbr" if e.abbreviation else "dfn"
            title = html.escape(f"{e.term}: {e.explanation}", quote=True)
            out += [text[at:start], f'<{tag} title="{title}">{text[start:end]}</{tag}>']
            at = end
        out.append(text[at:])
        return "".join(out)


EMPTY_GLOSSARY = Glossary()
