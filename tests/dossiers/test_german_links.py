"""German first: the German version of an EU document, from the addresses in the corpus."""

from __future__ import annotations

import dataclasses
import datetime as dt
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
        # EUR-Lex's RSS links its documents as /./legal-content/AUTO/ (written fixtures)
        (
            "https://eur-lex.europa.eu/./legal-content/AUTO/?uri=CELEX:32026R1412",
            "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32026R1412",
        ),
        (  # a corrigendum keeps its suffix
            "https://eur-lex.europa.eu/./legal-content/AUTO/?uri=CELEX:32026R1377R(01)",
            "https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32026R1377R(01)",
        ),
        (
            "https://eur-lex.europa.eu/legal-content/AUTO/TXT/HTML/?qid=1",
            "https://eur-lex.europa.eu/legal-content/DE/TXT/HTML/?qid=1",
        ),
        (  # EUR-Lex's procedure page
            "https://eur-lex.europa.eu/procedure/EN/2025_260",
            "https://eur-lex.europa.eu/procedure/DE/2025_260",
        ),
        # European Parliament: news, plenary documents, committee pages
        (
            "https://www.europarl.europa.eu/news/en/press-room/20260316IPR38101/tariffs-deal",
            "https://www.europarl.europa.eu/news/de/press-room/20260316IPR38101/tariffs-deal",
        ),
        (
            "https://www.europarl.europa.eu/doceo/document/A-10-2025-0123_EN.html",
            "https://www.europarl.europa.eu/doceo/document/A-10-2025-0123_DE.html",
        ),
        (
            "https://www.europarl.europa.eu/doceo/document/TA-10-2026-0097_FR.pdf",
            "https://www.europarl.europa.eu/doceo/document/TA-10-2026-0097_DE.pdf",
        ),
        (
            "https://europarl.europa.eu/committees/en/inta/home/highlights",
            "https://www.europarl.europa.eu/committees/de/inta/home/highlights",
        ),
        # OEIL exists in English and French only (its language menu in the corpus page),
        # the Legislative Train in English only: no German version, the note stays
        (
            "https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file?reference=2024/0258(COD)",
            None,
        ),
        ("https://www.europarl.europa.eu/legislative-train/carriage/tariffs/report?sid=1", None),
        ("https://www.europarl.europa.eu/rss/doc/press-releases/en.xml", None),
        # the Council
        (
            "https://www.consilium.europa.eu/en/press/press-releases/2026/03/16/tariffs/",
            "https://www.consilium.europa.eu/de/press/press-releases/2026/03/16/tariffs/",
        ),
        (
            "https://consilium.europa.eu/fr/council-eu/configurations/gac/?lang=FR",
            "https://www.consilium.europa.eu/de/council-eu/configurations/gac/?lang=FR",
        ),
        ("https://www.consilium.europa.eu/media/12345/st12345-en25.pdf", None),
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


def test_oeil_offers_no_german_page_so_none_is_made_up() -> None:
    """The real OEIL page's language menu: French and English, nothing else."""
    page = (CORPUS / "pages" / "oeil-procedure-file-2024-0258-cod-en.html").read_text("utf-8")
    menu = page.split('id="languageSelectorDropdownContent"', 1)[1].split("</ul>", 1)[0]
    assert sorted(re.findall(r'lang="([a-z]{2})"', menu)) == ["en", "fr"]
    oeil = re.search(r'href="(https://oeil[^"]+/oeil/en/procedure-file[^"]+)"', menu)
    assert oeil is not None and german_link(oeil.group(1)) is None


def test_a_dossiers_links_carry_the_english_note_only_without_a_german_version() -> None:
    """The public dossier page: EUR-Lex in German (no note); OEIL and the Legislative
    Train (English only) with the note; the train only where a source named it."""
    import datetime as dt

    from pipeline.compose.dossier_archive import public_dossier
    from pipeline.model import Dossier, ProcedureType, Stage

    now = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    train = "https://www.europarl.europa.eu/legislative-train/carriage/moldova/report?sid=1"
    base = Dossier(
        1,
        "2024/0258(COD)",
        "Reform- und Wachstumsfazilität für die Republik Moldau",
        "",
        ProcedureType.COD,
        Stage.PUBLISHED,
        "",
        "",
        now,
        now,
        aliases=("32025R0535", "COM(2024) 469"),
    )
    note = "Link führt zu einer englischsprachigen Seite"
    links = public_dossier(base, now.date()).links
    assert [(url, n) for _, url, n in links] == [
        ("https://eur-lex.europa.eu/legal-content/DE/TXT/?uri=CELEX:32025R0535", ""),
        (
            "https://oeil.secure.europarl.europa.eu/oeil/en/procedure-file?reference=2024/0258(COD)",
            note,
        ),
    ]
    with_train = Dossier(
        **{**{f: getattr(base, f) for f in base.__dataclass_fields__}, "train_url": train}
    )
    links = public_dossier(with_train, now.date()).links
    assert links[-1][1:] == (train, note)
    assert all(german_link(url) is None for _, url, n in links if n)  # no German version
    assert all(german_link(url) or "/DE/" in url for _, url, n in links if not n)


def test_the_desk_and_the_command_line_name_the_same_links_german_first() -> None:
    from pipeline.cli.dossiers import links as cli_links
    from pipeline.model import Dossier, ProcedureType, Stage, dossier_links
    from pipeline.web.dossiers import links as desk_links

    when = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    dossier = Dossier(
        id=1,
        reference="2024/0258(COD)",
        title_de="Fazilität für Reformen und Wachstum für die Republik Moldau",
        title_en="Reform and Growth Facility for Moldova",
        procedure_type=ProcedureType.COD,
        stage=Stage.ADOPTED,
        lead_committee="AFET",
        rapporteur="",
        created_at=when,
        updated_at=when,
        aliases=("52024PC0469", "32025R0535"),
        train_url="https://www.europarl.europa.eu/legislative-train/carriage/moldova/report",
    )
    found = dossier_links(dossier)
    assert [link.key for link in found] == [
        "eurlex_de",
        "eurlex_procedure_de",
        "eurlex_en",
        "oeil",
        "legislative_train",
    ]
    assert found[0].url.endswith("/DE/TXT/?uri=CELEX:32025R0535")  # the act before the proposal
    assert [link.english_only for link in found] == [False, False, False, True, True]
    assert list(cli_links(dossier)) == [link.key for link in found]
    assert [url for _, url in desk_links(dossier)] == [link.url for link in found]
    # never an invented train page: only where a source (EP API, OEIL) named one
    plain = dataclasses.replace(dossier, train_url="")
    assert "legislative_train" not in [link.key for link in dossier_links(plain)]
