"""Public pages at the root: for now a start page (sign-up, preferences and archive follow)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("public", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    return render_template("web/public/index.html")
