"""classify._names_policy: the public-policy test for non-EU items, split in two regexes
for speed, says what the one regex it replaced said, for any text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pipeline.ingest.classify import _names_policy

# The regex before the split (classify.py, issue 16).
REFERENCE = re.compile(
    r"\b(?:eu|europaeische[nr]? (?:union|kommission)|eu-\w+|bundesregierung|regierung\w*"
    r"|\w*minister\w*|\w*gesetz\w*|verordnung\w*|richtlinie\w*|\w*gericht\w*|urteil\w*"
    r"|\w*parlament\w*|bundestag|bundesrat|\w*behoerde\w*|\w*aufsicht|reguliere?\w*"
    r"|foerder\w*|subvention\w*|staatlich\w*|bund|bundes\w+|kommission|koalition\w*"
    r"|\w*politik\w*|wto|welthandel\w*|government|ministry|parliament|congress|senate|court"
    r"|ruling|law|laws|legislation|regulation|regulators?|directive|policy|policies|subsid\w*"
    r"|public funding|authorit(?:y|ies)|state aid|tariffs?|sanctions?|copyright office)\b"
)
PIECES = ["minister", "gesetz", "gericht", "parlament", "behoerde", "politik", "aufsicht",
          "bund", "eu", "law", "x", "ä", "_", "-", " ", ".", "1", "s", "en"]  # fmt: skip


@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_the_same_answer_as_the_single_regex(text: str) -> None:
    assert _names_policy(text) == (REFERENCE.search(text) is not None)


def test_examples() -> None:
    for text in ("landesaufsicht", "finanzministerium", "bundesverfassungsgericht", "eu"):
        assert _names_policy(text) and REFERENCE.search(text)
    for text in ("aufsichtsrat", "a game about dogs", "euro"):
        assert not _names_policy(text) and not REFERENCE.search(text)
