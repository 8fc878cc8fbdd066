"""The one Jinja2 environment of templates/email/: the digest (compose.render) and the
mails of the subscriber flow (subscribers.mails) are rendered from it.

    <name>.subject.txt   one line (the caller joins its whitespace)
    <name>.text.j2       the plain-text part: no escaping; filter `wrap` (pipeline.text.wrap)
    <name>.html.j2       the HTML part: autoescaped

Undefined names raise (StrictUndefined): a template never sends a blank where a value
was meant. In the kernel because subscribers/ may import only the kernel and the store;
Jinja2 is imported on first use.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from pipeline.config import PROJECT_ROOT
from pipeline.text import wrap

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["TEMPLATES", "environment"]

TEMPLATES = PROJECT_ROOT / "templates" / "email"


@functools.cache
def environment() -> Environment:
    """The environment (made once, shared; Jinja2 environments are safe to share)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    return env
