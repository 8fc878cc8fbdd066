"""classify._prefix_tree: the keyword regex built from sorted words equals the one the
earlier tree of node objects built (kept here as the reference), for any words."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pipeline.ingest.classify import _char, _prefix_tree


class _ReferenceTrie:
    """The tree of nodes classify.py used before (3.7 MB for the taxonomy's keywords)."""

    def __init__(self) -> None:
        self.root: dict[str, _ReferenceTrie] = {}
        self.exact = False
        self.stem = False

    def add(self, word: str, *, stem: bool) -> None:
        node = self
        for ch in word:
            node = node.root.setdefault(ch, _ReferenceTrie())
        if stem:
            node.stem = True
        else:
            node.exact = True

    def pattern(self) -> str:
        alts = [_char(ch) + self.root[ch].pattern() for ch in sorted(self.root)]
        if self.exact:
            alts.append(r"(?!\w)")
        if self.stem:
            alts.append(r"\w*")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"


def reference(exact: list[str], stems: list[str]) -> str | None:
    trie = _ReferenceTrie()
    for word in exact:
        trie.add(word, stem=False)
    for word in stems:
        trie.add(word, stem=True)
    return trie.pattern() if trie.root else None


words = st.lists(st.text(alphabet="abö -.+*é", max_size=6), max_size=12)


@given(words, words)
def test_the_pattern_is_the_reference_trees(exact: list[str], stems: list[str]) -> None:
    built = _prefix_tree(exact, stems)
    assert built == reference(exact, stems)
    if built is not None:
        re.compile(built)


def test_examples() -> None:
    assert _prefix_tree([], []) is None
    assert _prefix_tree(["car", "car industry"], ["förder"]) == (
        r"(?:car(?:[ -]industry(?!\w)|(?!\w))|förder\w*)"
    )
    assert _prefix_tree(["eu"], ["eu"]) == r"eu(?:(?!\w)|\w*)"
