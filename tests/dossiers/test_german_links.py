"""German first: the German version of an EU document, from the addresses in the corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.model import german_link

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # press corner press releases, in any language and spelling of the address
        (
            "https://ec.europa.eu/commission/presscorner/detail/en/ip_26_1692",
            "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1692",
        ),
        (
            "https://ec.europa.eu/commission/presscorner/detail/fr/IP_26_1900",
            "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1900",
        ),
        (
            "https://ec.europa.eu/commission/presscorner/api/documents/en/ip_26_1900",
            "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1900",
        ),
        (
            "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1692",
            "https://ec.europa.eu/commission/presscorner/detail/de/ip_26_1692",
        ),
        (
            "http://europa.eu/rapid/press-release_IP-19-6691_en.htm",
            None,  # not the press corner's host: left alone
        ),
        (
            "https://ec.europa.eu/rapid/press-release_IP-19-6691_en.htm",
            "https://ec.europa.eu/commission/presscorner/detail/de/ip_19_6691",
        ),
        # speeches, Q&As, the midday express: English (and French) only as a rule
        ("https://ec.europa.eu/commission/presscorner/detail/en/speech_26_1677", None),
        ("https://ec.europa.eu/commission/presscorner/detail/en/qanda_26_1686", None),
        ("https://ec.europa.eu/commission/presscorner/detail/en/mex_26_1693", None),
        # EUR-Lex, as the corpus's feeds link it
        (
            "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3A52021DC0699",
            "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:52021DC0699",
        ),
        (
            "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=celex%3A52020DC0380",
            "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:52020DC0380",
        ),
        (  # a consolidated version keeps its date
            "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3A02011R0753-20240913&qid=1751294529505",
            "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:02011R0753-20240913",
        ),
        (
            "https://eur-lex.europa.eu/smartapi/cgi/sga_doc?smartapi!celexplus!prod!CELEXnumdoc&lg=EN&numdoc=32025R0535",
            "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32025R0535",
        ),
        (
            "https://eur-lex.europa.eu/smartapi/cgi/sga_doc?smartapi!celexplus!prod!DocNumber&lg=EN&type_doc=COMfinal&an_doc=2024&nu_doc=0469",
            "https://eur-lex.europa.eu/smartapi/cgi/sga_doc?smartapi!celexplus!prod!DocNumber&lg=DE&type_doc=COMfinal&an_doc=2024&nu_doc=0469",
        ),
        (
            "https://eur-lex.europa.eu/eli/reg/2024/1689/oj/eng",
            "https://eur-lex.europa.eu/eli/reg/2024/1689/oj/deu",
        ),
        # a staff working document exists in English only
        ("https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:52025SC0045", None),
        # EUR-Lex pages that are no document
        ("https://eur-lex.europa.eu/en/index.htm", None),
        ("https://eur-lex.europa.eu/oj/daily-view/L-series/default.html?&ojDate=21032025", None),
        # anything else
        ("https://www.interregeurope.eu/news-and-events/news/fourth-call", None),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
        ("http://[::1", None),
    ],
)
def test_german_link(url: str | None, expected: str | None) -> None:
    assert german_link(url) == expected


def test_every_press_release_of_the_corpus_has_a_german_link() -> None:
    text = (CORPUS / "feeds" / "ec-presscorner-en.xml").read_text(encoding="utf-8")
    urls = set(re.findall(r"https://ec\.europa\.eu/commission/presscorner/detail/en/\w+", text))
    releases = {u for u in urls if "/ip_" in u}
    assert releases, "the corpus feed names press releases"
    for url in urls:
        found = german_link(url)
        if url in releases:
            assert found == url.replace("/detail/en/", "/detail/de/")
        else:
            assert found is None, url
