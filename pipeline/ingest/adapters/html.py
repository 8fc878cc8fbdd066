"""Pages without a feed, read with CSS selectors from the source's `options`.

    options:
      item_selector: "article.c-card"          # required: one match per news item
      title_selector: ".c-card__title a"       # default: first h1–h6, else first link
      link_selector: "a[href]"                 # default: the title's link, else the first a[href]
      date_selector: "time"                    # optional; a `datetime` attribute wins over the text
      summary_selector: ".c-card__text"        # optional; its inner HTML becomes the summary
      date_format: "%d.%m.%Y"                  # optional strptime format; else guessed from
                                               # 12. März 2026 / 12 March 2026 / 12/03/2026
      max_items: 50                            # optional cap

Links are resolved against the page's <base href> or the page URL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from soupsieve import SelectorSyntaxError

from pipeline.errors import ParseError
from pipeline.ingest.adapters._base import RequestSpec, default_request
from pipeline.ingest.adapters._text import collapse, find_date, first_words
from pipeline.model import FetchResult, RawItem, Source
from pipeline.text import html_to_line

log = logging.getLogger(__name__)

NAME = "html"
SELECTOR_OPTIONS = ("item_selector", "title_selector", "link_selector", "date_selector",
                    "summary_selector")  # fmt: skip
DEFAULT_TITLE = "h1, h2, h3, h4, h5, h6"
MAX_ITEMS = 200


def request(source: Source) -> RequestSpec:
    return default_request(source)


def check_options(options: Mapping[str, Any]) -> list[str]:
    """Problems with a source's selector options, in words staff can act on."""
    problems = []
    if not isinstance(options.get("item_selector"), str) or not options["item_selector"].strip():
        problems.append("options.item_selector is required (a CSS selector matching each item)")
    soup = BeautifulSoup("<p></p>", "html.parser")
    for key in SELECTOR_OPTIONS:
        value = options.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(f"options.{key} must be a non-empty CSS selector")
            continue
        try:
            soup.select(value)
        except SelectorSyntaxError as exc:
            problems.append(f"options.{key} {value!r} is not a valid CSS selector: {exc}")
    if "date_format" in options and not isinstance(options["date_format"], str):
        problems.append("options.date_format must be a strptime format such as '%d.%m.%Y'")
    max_items = options.get("max_items")
    if max_items is not None and (not isinstance(max_items, int) or max_items < 1):
        problems.append("options.max_items must be a positive whole number")
    return problems


def parse(source: Source, result: FetchResult) -> list[RawItem]:
    options = source.options
    problems = check_options(options)
    if problems:
        raise ParseError(source.id, "; ".join(problems))
    if not result.body.strip():
        raise ParseError(source.id, "empty body: the server sent no content")
    soup = BeautifulSoup(result.body, "lxml")
    base = _base_url(soup, result.url or source.url)
    item_selector = str(options["item_selector"])
    nodes = soup.select(item_selector)
    if not nodes:
        raise ParseError(
            source.id,
            f"item_selector '{item_selector}' matched nothing: the page layout may have changed",
        )
    limit = int(options.get("max_items") or MAX_ITEMS)
    items: list[RawItem] = []
    for node in nodes[:limit]:
        item = _item(source, node, base, options)
        if item is None:
            log.debug("%s: an item without title or link was skipped", source.id)
            continue
        items.append(item)
    if not items:
        raise ParseError(
            source.id,
            f"item_selector '{item_selector}' matched {len(nodes)} element(s) but none had "
            "a title or a link: check title_selector and link_selector",
        )
    return items


def _base_url(soup: BeautifulSoup, page_url: str) -> str:
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        return urljoin(page_url, str(base["href"]))
    return page_url


def _select_one(node: Tag, selector: object) -> Tag | None:
    if not isinstance(selector, str):
        return None
    found = node.select_one(selector)
    return found if isinstance(found, Tag) else None


def _item(source: Source, node: Tag, base: str, options: Mapping[str, Any]) -> RawItem | None:
    title_el = _select_one(node, options.get("title_selector") or DEFAULT_TITLE)
    if title_el is None and not options.get("title_selector"):
        title_el = _select_one(node, "a[href]")
    link_el = _select_one(node, options["link_selector"]) if options.get("link_selector") else None
    if link_el is None:
        if title_el is not None and title_el.name == "a" and title_el.get("href"):
            link_el = title_el
        elif title_el is not None and _select_one(title_el, "a[href]") is not None:
            link_el = _select_one(title_el, "a[href]")
        else:
            link_el = _select_one(node, "a[href]")
    url = _absolute(base, link_el.get("href") if link_el is not None else None)

    summary_el = _select_one(node, options.get("summary_selector"))
    summary_html = summary_el.decode_contents().strip() if summary_el is not None else ""
    title = collapse(title_el.get_text(" ")) if title_el is not None else ""
    if not title:
        title = first_words(html_to_line(summary_html)) or (url or "")
    if not title:
        return None

    date_el = _select_one(node, options.get("date_selector"))
    published = _date(date_el, options.get("date_format")) if date_el is not None else None
    return RawItem(
        source_id=source.id,
        title=title,
        url=url,
        guid=None,
        summary_html=summary_html,
        language=None,
        published=published,
    )


def _absolute(base: str, href: object) -> str | None:
    if not isinstance(href, str) or not href.strip():
        return None
    url = urljoin(base, href.strip())
    return url if urlsplit(url).scheme in ("http", "https") else None


def _date(element: Tag, date_format: object) -> dt.datetime | None:
    attr = element.get("datetime") or element.get("content")
    if isinstance(attr, str) and attr.strip():
        value = find_date(attr)
        if value is not None:
            return value
    text = collapse(element.get_text(" "))
    if isinstance(date_format, str) and date_format:
        try:
            return dt.datetime.strptime(text, date_format)  # noqa: DTZ007 (local page time)
        except ValueError:
            log.debug("date %r does not match date_format %r; guessing", text, date_format)
    return find_date(text)
