"""EU words explained (issue 17): glossary.yaml, its loader and its matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.catalog import load_glossary
from pipeline.config import PROJECT_ROOT
from pipeline.errors import ConfigError
from pipeline.model.glossary import Glossary, GlossaryEntry


@pytest.fixture(scope="module")
def shipped() -> Glossary:
    return load_glossary(PROJECT_ROOT / "glossary.yaml")


def terms(glossary: Glossary, *texts: str) -> list[str]:
    return [e.term for e in glossary.find(*texts)]


def test_the_shipped_glossary(shipped: Glossary) -> None:
    assert len(shipped.entries) >= 40
    assert all(0 < len(e.explanation) <= 200 for e in shipped.entries)
    named = {e.term for e in shipped.entries}
    for term in (
        "Trilog", "Delegierter Rechtsakt", "Durchführungsrechtsakt", "Arbeitsprogramm",
        "Konsultation", "Kohäsionsfonds", "EFRE", "Partnerschaftsvereinbarung",
        "Ordentliches Gesetzgebungsverfahren", "Verordnung", "Richtlinie", "Mitteilung",
        "Berichterstatter", "AdR", "EWSA", "Horizont Europa", "LIFE", "Interreg", "KMU",
        "Beihilfe", "De-minimis", "Taxonomie", "Green Deal", "NextGenerationEU",
        "Aufbau- und Resilienzfazilität", "Kommissionsvorschlag", "Ratsposition",
        "Allgemeine Ausrichtung", "Plenum", "Ausschuss", "Komitologie", "Subsidiarität",
        "Folgenabschätzung", "Aufforderung zur Stellungnahme", "Ausschreibung",
        "Aufforderung zur Einreichung von Vorschlägen", "Kofinanzierung", "Förderquote",
        "Arbeitsprogramm der Kommission", "Europäisches Semester",
    ):  # fmt: skip
        assert term in named


def test_whole_words_with_light_inflection(shipped: Glossary) -> None:
    text = "Nach dem Abschluss des Trilogs gelten die neuen Verordnungen; die Richtlinien folgen."
    assert terms(shipped, text) == ["Trilog", "Verordnung", "Richtlinie"]
    assert terms(shipped, "Die Trilogverhandlungen beginnen") == ["Trilog"]
    assert terms(shipped, "Sondierung bis Freitag") == ["Aufforderung zur Stellungnahme"]
    assert terms(shipped, "A call for evidence and a delegated act") == [
        "Delegierter Rechtsakt",
        "Aufforderung zur Stellungnahme",
    ]


def test_no_false_hits_inside_other_words(shipped: Glossary) -> None:
    text = (
        "Der Regionalausschuss berät den Verordnungsentwurf zur Lebensqualität; quality of life"
        " and a lifestyle; Pressemitteilungen; Ratspositionierung; Subsidiaritätsrüge? nein."
    )
    assert terms(shipped, text) == []


def test_abbreviations_match_only_as_written(shipped: Glossary) -> None:
    assert terms(shipped, "Das LIFE-Programm fördert KMU und der AdR tagt") == [
        "AdR",
        "LIFE",
        "KMU",
    ]
    assert terms(shipped, "life, adr, kmu") == []


def test_a_longer_term_wins_over_a_shorter_one_inside_it(shipped: Glossary) -> None:
    # "Ausschuss der Regionen" is the AdR, not the Parliament's Ausschuss
    assert terms(shipped, "Der Ausschuss der Regionen hat Stellung genommen") == ["AdR"]
    both = "Der Ausschuss der Regionen und der Ausschuss für Regionalentwicklung"
    assert terms(shipped, both) == ["Ausschuss", "AdR"]


def test_mark_html_marks_each_term_once_outside_links() -> None:
    glossary = Glossary(
        (
            GlossaryEntry("Trilog", "Verhandlungen <zu dritt> & mehr"),
            GlossaryEntry("KMU", "Kleine und mittlere Unternehmen"),
        )
    )
    seen: set[str] = set()
    first = glossary.mark_html('<p><a href="x">Trilog</a>: der Trilog &amp; KMU.</p>', seen)
    assert first == (
        '<p><a href="x">Trilog</a>: der <dfn title="Trilog: Verhandlungen &lt;zu dritt&gt;'
        ' &amp; mehr">Trilog</dfn> &amp; <abbr title="KMU: Kleine und mittlere Unternehmen">'
        "KMU</abbr>.</p>"
    )
    assert glossary.mark_html("<p>Wieder ein Trilog.</p>", seen) == "<p>Wieder ein Trilog.</p>"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "glossary.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "terms:\n  - term: Trilog\n    explanation: " + "x" * 201 + "\n",
            r"glossary\.yaml:3: terms\[0\] \(Trilog\)\.explanation: 201 characters; at most 200",
        ),
        (
            "terms:\n  - term: Trilog\n    explanation: Gut.\n  - explanation: Ohne Begriff\n",
            r"glossary\.yaml:4: terms\[1\]\.term: is required",
        ),
        (
            "terms:\n  - term: Trilog\n    explanation: Gut.\n    varianten: [Triloge]\n",
            r"glossary\.yaml:4: terms\[0\] \(Trilog\)\.varianten: unknown field",
        ),
        (
            "terms:\n  - term: Trilog\n    explanation: Gut.\n"
            "  - term: Verhandlung\n    explanation: Auch gut.\n    variants: [trilog]\n",
            r"glossary\.yaml:6: terms\[1\] \(Verhandlung\)\.variants: „trilog“ is already a"
            r" spelling of „Trilog“",
        ),
        (
            "terms:\n  - term: Trilog\n    explanation: [kein, Text]\n",
            r"glossary\.yaml:3: terms\[0\] \(Trilog\)\.explanation: must be text",
        ),
        ("terms:\n  - term: Trilog\n   explanation: falsch eingerückt\n", r"glossary\.yaml:3"),
        ("begriffe: []\n", r"glossary\.yaml:1: terms: missing top-level key"),
    ],
)
def test_a_malformed_glossary_names_file_line_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_glossary(write(tmp_path, text))
