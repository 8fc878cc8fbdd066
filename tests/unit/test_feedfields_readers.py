"""feedfields reads the extension elements feedparser drops with the standard library's
expat when a document is well-formed, with lxml's recovering parser otherwise: where both
read a document, they must give the same namespaces, entries and texts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.ingest import feedfields
from pipeline.ingest.feedfields import _read_lxml, _read_stdlib

WRITTEN = Path(__file__).resolve().parents[1] / "data" / "written"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "feeds"
FEEDS = sorted([*CORPUS.glob("*.xml"), *WRITTEN.glob("*.xml")])


def shape(read: tuple[dict[str, str], Any] | None) -> object:
    """What _fill_from_xml uses of a tree: the root's prefixes, each entry's children."""
    if read is None:
        return None
    nsmap, root = read
    entries = [
        [(child.tag, "".join(child.itertext())) for child in el if isinstance(child.tag, str)]
        for el in root.iter()
        if isinstance(el.tag, str) and el.tag.rpartition("}")[2] in ("item", "entry")
    ]
    return {p: u for p, u in nsmap.items() if p}, entries


@pytest.mark.parametrize("path", FEEDS, ids=lambda p: p.name)
def test_both_readers_agree(path: Path) -> None:
    body = path.read_bytes().lstrip()
    stdlib = _read_stdlib(body)
    if stdlib is not None:
        assert shape(stdlib) == shape(_read_lxml(body))


def test_the_newsroom_feeds_need_no_lxml(corpus_dir: Path) -> None:
    body = (corpus_dir / "feeds" / "ec-newsroom-cnect-dae-items-en.xml").read_bytes()
    assert _read_stdlib(body) is not None
    assert _read_stdlib(b"\xef\xbb\xbf<rss><channel/></rss>") is not None
    latin1 = b'<?xml version="1.0" encoding="ISO-8859-1"?><rss>\xe9</rss>'
    assert _read_stdlib(latin1) is not None


@pytest.mark.parametrize(
    "body",
    [
        b"<rss><channel><item><x:a xmlns:x='urn:x'>broken</item></channel></rss>",  # not closed
        b"<!DOCTYPE rss [<!ENTITY e 'x'>]><rss><channel><item>&e;</item></channel></rss>",
        b"<rss>&nbsp;</rss>",  # an entity XML does not define
        b"<r>" + b"<a>" * 300 + b"</a>" * 300 + b"</r>",  # deeper than lxml reads
        # a DOCTYPE that would not show as ASCII bytes
        '<?xml version="1.0" encoding="utf-16"?><rss/>'.encode("utf-16"),
        b'<?xml version="1.0" encoding="cp037"?>' + "<rss/>".encode("cp037"),
    ],
)
def test_what_expat_does_not_read_as_lxml_would_goes_to_lxml(body: bytes) -> None:
    assert _read_stdlib(body) is None


def test_a_recovered_entry_keeps_its_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken document still gives the fields lxml recovers."""
    body = (
        b"<rss xmlns:n='urn:n'><channel><item><title>t</title>"
        b"<n:NewsType id='1'>Call for tenders</n:NewsType></item><bad & </channel></rss>"
    )
    fields: list[dict[str, str]] = [{}]
    feedfields._fill_from_xml(body, {"n"}, fields)
    assert fields == [{"newstype": "Call for tenders"}]
    assert _read_stdlib(body) is None


def test_lxml_is_not_loaded_for_a_well_formed_feed(corpus_dir: Path) -> None:
    """In a process of its own: this one has loaded lxml for the tests above."""
    body = corpus_dir / "feeds" / "ec-newsroom-cnect-dae-services-en.xml"
    script = (
        "import sys; from pathlib import Path; from pipeline.ingest import feedfields; "
        "fields = [{} for _ in range(17)]; "
        f"body = Path({str(body)!r}).read_bytes(); "
        "feedfields._fill_from_xml(body, {'infsonewsroom'}, fields); "
        "print(sum(map(len, fields)), 'lxml.etree' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    filled, lxml_loaded = out.stdout.split()
    assert int(filled) > 0
    assert lxml_loaded == "False"
