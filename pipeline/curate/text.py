"""Markdown written by staff, rendered to safe HTML for the desk, the archive and email."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt

from pipeline.ingest.normalize import sanitize_html

MAX_MARKDOWN = 20_000


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # CommonMark without raw HTML: a <script> typed into a comment stays text.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> str:
    """Markdown → HTML, then through the same allow-list sanitiser as feed content."""
    if not text.strip():
        return ""
    return sanitize_html(_markdown().render(text[:MAX_MARKDOWN]))
