"""The shared corpus as a sources.yaml served from a loopback FeedServer.

Entry counts are taken from the corpus MANIFEST.md (counted there by the people who
collected the files, independently of our parser), and the true duplicates are the
ones the MANIFEST names.
"""

from __future__ import annotations

from pathlib import Path

# file → (language, entries per MANIFEST.md)
CORPUS_FILES: dict[str, tuple[str, int]] = {
    "feeds/ec-presscorner-en.xml": ("en", 20),
    "feeds/ec-presscorner-en-2026-07-14.xml": ("en", 3),
    "feeds/ecb-press-en.xml": ("en", 15),
    "feeds/ecb-press-en-trimmed-2026-07-31.xml": ("en", 3),
    "feeds/ecb-press-en-2026-07-14.xml": ("en", 3),
    "feeds/eba-news-en.xml": ("en", 3),
    "feeds/ec-newsroom-cnect-dae-items-en.xml": ("en", 25),
    "feeds/ec-newsroom-cnect-dae-items-en-ascending.xml": ("en", 25),
    "feeds/ec-newsroom-cnect-dae-services-en.xml": ("en", 17),
    "feeds/ec-newsroom-cnect-dae-services-1item-en.xml": ("en", 1),
    "feeds/ec-newsroom-cnect-dae-itemtypes-en.xml": ("en", 24),
    "feeds/de-blick-schweiz.xml": ("de", 50),
    "feeds/quirk-de-atom-heise-developer.xml": ("de", 15),
    "feeds/quirk-de-rss09-rdf-heise-nodates.xml": ("de", 60),
    "feeds/quirk-de-iso8859-1-golem.xml": ("de", 40),
    "feeds/quirk-de-iso8859-1-zeit-2007.xml": ("de", 76),
    "feeds/quirk-xml-decl-not-at-start.xml": ("de", 1),
    "feeds/quirk-undeclared-latin1-uol.xml": ("pt", 15),
    "feeds/quirk-gb2312-kc0011.xml": ("zh", 20),
    "feeds/quirk-windows1251-oren.xml": ("ru", 10),
    "feeds/quirk-rdf-rss10-html-in-title-craigslist.xml": ("en", 25),
    "feeds/quirk-atom-html-titles-onefoottsunami.xml": ("en", 25),
    "feeds/quirk-atom-xhtml-content-intertwingly.xml": ("en", 20),
    # The MANIFEST counts 20 <item> elements: 10 entries, each with an empty <item />
    # nested inside it. Only the 10 real ones are entries.
    "feeds/quirk-illegally-nested-items-pcmag.xml": ("en", 10),
    "feeds/quirk-bogus-xml-declaration-phpxml.xml": ("nl", 20),
    "feeds/quirk-huge-podcast-giantbomb.xml": ("en", 730),
    "api/ft-search-horizon-page.json": ("en", 9),
    "api/eu-sanctionsmap-regimes.json": ("en", 3),
}
ADAPTERS = {
    "api/ft-search-horizon-page.json": "ft_search",
    "api/eu-sanctionsmap-regimes.json": "sanctionsmap",
}
# True duplicates, as the MANIFEST describes them.
DUPLICATES = {
    "feeds/ec-newsroom-cnect-dae-items-en-ascending.xml": 25,  # "Same 25 guids as the file above"
    # "Same build as ecb-press-en.xml, but only 3 items"
    "feeds/ecb-press-en-trimmed-2026-07-31.xml": 3,
    "feeds/ec-newsroom-cnect-dae-services-1item-en.xml": 1,  # its one service is in services-en
    "api/ft-search-horizon-page.json": 1,  # "the last two results are identical"
    # The same article (link .../2006/22/Bahn_xml, no guids) is listed twice.
    "feeds/quirk-de-iso8859-1-zeit-2007.xml": 1,
}
TOTAL_ENTRIES = sum(n for _, n in CORPUS_FILES.values())
DISTINCT_ITEMS = TOTAL_ENTRIES - sum(DUPLICATES.values())


def source_id(path: str) -> str:
    return Path(path).stem.lower()[:64]


def sources_yaml(base_url: str) -> str:
    """A sources.yaml listing every corpus file as a source at `base_url`."""
    lines = ["sources:"]
    for path, (language, _) in CORPUS_FILES.items():
        adapter = ADAPTERS.get(path)
        lines += [
            f"  - id: {source_id(path)}",
            f"    name: Corpus {path}",
            "    institution: Corpus",
            f"    url: {base_url.rstrip('/')}/{path}",
            f"    language: {language}",
            f"    kind: {'api' if adapter else 'feed'}",
        ]
        if adapter:
            lines.append(f"    adapter: {adapter}")
    return "\n".join(lines) + "\n"
