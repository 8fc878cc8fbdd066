"""Login, logout and the session's user (Flask-Login), with throttling of failed attempts.

Throttling is per client and per (client, name) (curate.staff): an unknown name and a
known one get the same answer. The session id names the account's session_version:
logout and a new password raise it, so a copied session cookie stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from pipeline.curate import staff as accounts
from pipeline.errors import Forbidden, UserNotFound
from pipeline.model import StaffUser
from pipeline.web.context import desk, staff_user
from pipeline.web.forms import LoginForm

FAILED = "Anmeldung fehlgeschlagen"
LOCKED = "Zu viele Fehlversuche – bitte in einigen Minuten erneut versuchen"

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


class DeskUser(UserMixin):  # type: ignore[misc]
    """A staff member as Flask-Login sees them.

    The session id carries the account's session_version and a fingerprint of the
    password hash: logout, a new password (or a deactivation) ends every session of
    that account signed in before, checked on every request.
    """

    def __init__(self, staff: StaffUser) -> None:
        self.staff = staff

    def get_id(self) -> str:
        staff = self.staff
        return f"{staff.id}:{staff.session_version}:{_fingerprint(staff.password_hash)}"

    @property
    def is_active(self) -> bool:
        return self.staff.active

    @property
    def is_admin(self) -> bool:
        return self.staff.is_admin

    @property
    def name(self) -> str:
        return self.staff.name


def _fingerprint(password_hash: str) -> str:
    key = str(current_app.secret_key).encode("utf-8")
    return hmac.new(key, password_hash.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def init_app(app: Flask) -> None:
    manager = LoginManager()
    manager.init_app(app)
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    app.register_blueprint(bp)


def _load_user(session_id: str) -> DeskUser | None:
    user_id, _, rest = session_id.partition(":")
    version, _, fingerprint = rest.partition(":")
    try:
        staff = desk().store.users.get(int(user_id))
    except (UserNotFound, ValueError):
        return None
    if not staff.active or version != str(staff.session_version):
        return None
    if not hmac.compare_digest(fingerprint, _fingerprint(staff.password_hash)):
        return None
    return DeskUser(staff)


def _unauthorized() -> ResponseReturnValue:
    flash("Bitte melden Sie sich an.", "info")
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target) if target else url_for("auth.login"))


def desk_blueprint(name: str, url_prefix: str) -> Blueprint:
    """A blueprint whose every page needs a signed-in staff member."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)

    @blueprint.before_request
    def _require_login() -> ResponseReturnValue | None:
        if not current_user.is_authenticated:
            return _unauthorized()
        return None

    return blueprint


def admin_required(view: F) -> F:
    """Admin-only views: editors get 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not staff_user().is_admin:
            raise Forbidden("Nur für die Administration.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


def safe_next(target: str | None) -> str | None:
    """A local path to go to after login, or None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(c in target for c in "\\\r\n\t") or target.startswith("/login"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or url_for("staff.inbox"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        staff, error = attempt_login(form.name.data or "", form.password.data or "")
        if staff is not None:
            session.clear()
            login_user(DeskUser(staff))
            session.permanent = True
            return redirect(target or url_for("staff.inbox"), code=303)
        status = 429 if error == LOCKED else 200
    elif request.method == "POST":
        error = FAILED
    return render_template("web/login.html", form=form, error=error, next=target), status


def attempt_login(name: str, password: str) -> tuple[StaffUser | None, str | None]:
    """(the user, None) when name and password match, else (None, the German message)."""
    d = desk()
    try:
        staff = accounts.authenticate(d.store, name, password, now=d.now(), client=client())
    except accounts.LoginFailed as exc:
        return None, LOCKED if exc.locked_until is not None else FAILED
    return d.store.users.get(staff.id), None  # re-read: a rehash changes the fingerprint


def client() -> str:
    """The client's address for throttling (the one trusted proxy has set it)."""
    return request.remote_addr or "unknown"


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        desk().store.users.end_sessions(current_user.staff.id)  # a copied cookie dies too
    logout_user()
    session.clear()
    flash("Sie sind abgemeldet.", "info")
    return redirect(url_for("auth.login"), code=303)
