"""Public pages (German): start page, sign-up, confirmation, preferences, unsubscribe.

    /                                   start page
    /abo/anmelden                       sign-up form → /abo/anmelden/danke (same for every address)
    /abo/bestaetigen/<token>            GET: a page with a button; POST: confirm
    /abo/einstellungen/<token>          the subscriber's page: profile, unsubscribe one/all,
                                        …/daten (JSON download), …/loeschen (erasure, confirmed)
    /abo/abmelden/<token>               GET: asks; POST: one-click unsubscribe (RFC 8058),
                                        the only POST without a CSRF token
    /abo/link                           mail me the link to my page

Confirmation is a POST behind a button, not the GET of the mailed link: mail
scanners (Safe Links, antivirus gateways) open every link in a mail, and a GET
that confirmed would turn a scanner's visit into a "double opt-in".
Views only parse and call subscribers.*; errors of that package become pages here.
"""

from __future__ import annotations

import json
import logging

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from pipeline.errors import DeliveryError, InvalidInput
from pipeline.model import ORG_TYPE_LABELS, Subscriber
from pipeline.model.eligibility import APPLICANT_LABELS
from pipeline.web.context import desk
from subscribers import gdpr, preferences, signup
from subscribers.addresses import email_hash
from subscribers.profiles import LANGUAGES, InvalidForm, ProfileForm, parse_profile
from subscribers.signup import CONSENT_TEXT, RateLimited, SignUpForm
from subscribers.tokens import Links, TokenInvalid, TokenProblem, Tokens, subscriber_for
from subscribers.unsubscribe import unsubscribe

bp = Blueprint("public", __name__)
log = logging.getLogger("eudigest.web")

# Shown to a visitor when this installation cannot mail signed links (see _mail_links).
NO_MAIL_DE = (
    "Wir können Ihnen gerade keine E-Mail schicken: Diese Installation ist noch nicht "
    "vollständig eingerichtet. Bitte versuchen Sie es später noch einmal. Es wurde nichts "
    "gespeichert und nichts verschickt. (Hinweis für den Betrieb: {missing})"
)


@bp.record_once
def _exempt_one_click(state: BlueprintSetupState) -> None:
    """Mail providers POST the one-click unsubscribe without cookies: no CSRF token there."""
    state.app.extensions["csrf"].exempt(one_click)


@bp.after_request
def _no_index(response: Response) -> Response:
    response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    return response


def _links() -> Links:
    """Links for this request's own pages and redirects; never mailed (see _mail_links)."""
    base = desk().services.settings.base_url or request.host_url
    return Links(Tokens(str(current_app.secret_key)), base)


def _mail_links() -> Links | None:
    """Links that go out by mail: only ever from EUDIGEST_BASE_URL (never the request's
    Host header, which a caller chooses), signed with EUDIGEST_SECRET_KEY (never a key
    that changes at restart), as the command line does. None, logged, when one is unset."""
    settings = desk().services.settings
    missing = settings.unset_for_mail_links()
    if missing or settings.secret_key is None or settings.base_url is None:
        log.error(
            "no subscriber mail sent from %s: %s not set (mailed links come only from "
            "EUDIGEST_BASE_URL and are signed with EUDIGEST_SECRET_KEY)",
            request.path,  # /abo/anmelden or /abo/link: no token in it
            " and ".join(missing),
        )
        return None
    return Links(Tokens(settings.secret_key), settings.base_url)


def _no_mail() -> ResponseReturnValue:
    missing = " ".join(
        f"{n} ist nicht gesetzt." for n in desk().services.settings.unset_for_mail_links()
    )
    return _message("E-Mail nicht verschickt", NO_MAIL_DE.format(missing=missing), 503)


def _client() -> str:
    return request.remote_addr or "unknown"


def _page(template: str, status: int = 200, /, **context: object) -> ResponseReturnValue:
    return render_template(f"web/public/{template}", status=status, **context), status


def _message(title: str, message: str, status: int = 200, **context: object) -> ResponseReturnValue:
    return _page("message.html", status, title=title, message=message, **context)


# ---------------------------------------------------------------- errors


@bp.errorhandler(TokenInvalid)
def _token_invalid(exc: TokenInvalid) -> ResponseReturnValue:
    status = 400 if exc.problem is TokenProblem.FORGED else 410
    new_link = exc.problem in (TokenProblem.USED, TokenProblem.REVOKED, TokenProblem.FORGED)
    return _message("Link nicht gültig", str(exc), status, signup_link=True, new_link=new_link)


@bp.errorhandler(InvalidInput)
def _invalid(exc: InvalidInput) -> ResponseReturnValue:
    return _message("Nicht möglich", str(exc) or "Die Eingabe ist ungültig.", 400)


@bp.errorhandler(RateLimited)
def _rate_limited(exc: RateLimited) -> ResponseReturnValue:
    return _message("Zu viele Anfragen", str(exc), 429)


@bp.errorhandler(DeliveryError)
def _not_sent(exc: DeliveryError) -> ResponseReturnValue:
    return _message(
        "E-Mail nicht verschickt",
        "Die E-Mail konnte gerade nicht verschickt werden. Bitte versuchen Sie es in "
        "einigen Minuten noch einmal.",
        503,
    )


# ---------------------------------------------------------------- start and sign-up


@bp.route("/")
def index() -> ResponseReturnValue:
    return render_template("web/public/index.html")


def _profile_form(form: MultiDict[str, str]) -> ProfileForm:
    return ProfileForm(
        name=form.get("name", ""),
        organisation=form.get("organisation", ""),
        org_type=form.get("org_type", ""),
        applicant=form.get("applicant", ""),
        language=form.get("language", "de"),
        newsletters=form.getlist("newsletters"),
        topics=form.getlist("topics"),
    )


def _choices() -> dict[str, object]:
    d = desk()
    return {
        "org_types": list(ORG_TYPE_LABELS.items()),
        "applicant_types": list(APPLICANT_LABELS.items()),
        "languages": list(LANGUAGES.items()),
        "topics": d.taxonomy.topics,
        "newsletters": d.office.newsletters,
    }


@bp.route("/abo/anmelden", methods=["GET", "POST"])
def sign_up() -> ResponseReturnValue:
    d = desk()
    consent = CONSENT_TEXT.format(office=d.office.name)
    if request.method == "GET":
        first = [d.office.newsletters[0].id] if d.office.newsletters else []
        return _page(
            "signup.html", values={"newsletters": first}, errors={}, consent=consent, **_choices()
        )
    form = SignUpForm(request.form.get("email", ""), _profile_form(request.form))
    links = _mail_links()
    if links is None:
        return _no_mail()
    try:
        signup.sign_up(
            d.store, d.services.mailer, d.office, d.taxonomy, links, form,
            client=_client(), now=d.now(),
        )  # fmt: skip
    except InvalidForm as exc:
        values: dict[str, object] = {
            **request.form.to_dict(),
            "newsletters": request.form.getlist("newsletters"),
            "topics": request.form.getlist("topics"),
        }
        return _page(
            "signup.html", 400, values=values, errors=exc.errors, consent=consent, **_choices()
        )
    return redirect(url_for("public.signed_up"), code=303)


@bp.route("/abo/anmelden/danke")
def signed_up() -> ResponseReturnValue:
    return _page("signed_up.html")


# ---------------------------------------------------------------- confirmation


@bp.route("/abo/bestaetigen/<token>", methods=["GET"])
def confirm_page(token: str) -> ResponseReturnValue:
    d = desk()
    links = _links()
    signup.open_confirmation(d.store, links, token, now=d.now())  # a used link: 410
    return _page("confirm.html", token=token)


@bp.route("/abo/bestaetigen/<token>", methods=["POST"])
def confirm(token: str) -> ResponseReturnValue:
    d = desk()
    links = _links()
    done = signup.confirm(d.store, links, token, now=d.now())
    thanks = "Vielen Dank! Ihre Anmeldung ist bestätigt. Hier können Sie Ihre Einstellungen "
    thanks += "jederzeit ändern."
    flash(thanks, "success")
    return redirect(links.manage(done.subscriber, now=d.now()), code=303)


# ---------------------------------------------------------------- preferences


def _subscriber(token: str) -> Subscriber:
    d = desk()
    return subscriber_for(d.store, _links().tokens, token, now=d.now())


@bp.route("/abo/einstellungen/<token>", methods=["GET", "POST"])
def manage(token: str) -> ResponseReturnValue:
    d = desk()
    subscriber = _subscriber(token)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            profile = parse_profile(
                _profile_form(request.form), d.office, d.taxonomy, require_newsletter=False
            )
        except InvalidForm as exc:
            errors = exc.errors
        else:
            followed = (
                request.form.getlist("dossiers") if "dossiers_shown" in request.form else None
            )
            updated = preferences.save(d.store, subscriber, profile, now=d.now(), dossiers=followed)
            flash(
                "Ihre Einstellungen sind gespeichert."
                if updated.newsletters
                else "Sie haben keinen Newsletter mehr gewählt und sind von allen abgemeldet.",
                "success",
            )
            return redirect(url_for("public.manage", token=token), code=303)
    return _manage_page(token, subscriber, errors)


def _manage_page(token: str, subscriber: Subscriber, errors: dict[str, str]) -> ResponseReturnValue:
    d = desk()
    suppressed = d.store.subscribers.suppression(email_hash(subscriber.email))
    values: dict[str, object] = {
        "name": subscriber.name,
        "organisation": subscriber.organisation,
        "org_type": subscriber.org_type.value,
        "applicant": subscriber.applicant.value if subscriber.applicant else "",
        "language": subscriber.language,
        "newsletters": list(subscriber.newsletters),
        "topics": list(subscriber.topics),
    }
    if errors:
        values.update(request.form.to_dict())
        values["newsletters"] = request.form.getlist("newsletters")
        values["topics"] = request.form.getlist("topics")
    # "Verfahren verfolgen": the dossiers the office publishes
    today = d.now().astimezone(d.services.settings.tz).date()
    offered = d.store.dossiers.list(today=today, published=True)
    offered.sort(key=lambda x: x.reference)
    followed = [ref for ref, _, _ in d.store.dossiers.reader_follows(subscriber.id)]
    if errors:
        followed = request.form.getlist("dossiers")
    return _page(
        "preferences.html",
        400 if errors else 200,
        token=token,
        subscriber=subscriber,
        values=values,
        errors=errors,
        suppressed=suppressed,
        dossiers=offered,
        followed_dossiers=followed,
        **_choices(),
    )


@bp.route("/abo/einstellungen/<token>/abmelden", methods=["POST"])
def manage_unsubscribe(token: str) -> ResponseReturnValue:
    d = desk()
    subscriber = _subscriber(token)
    which = request.form.get("newsletter", "all")
    newsletter = None if which == "all" else d.office.newsletter(which)
    if which != "all" and newsletter is None:
        raise InvalidInput("Diesen Newsletter gibt es nicht.")
    unsubscribe(d.store, subscriber, newsletter.id if newsletter else None, now=d.now())
    flash(
        f"Sie sind vom {newsletter.name} abgemeldet."
        if newsletter
        else "Sie sind von allen Newslettern abgemeldet.",
        "success",
    )
    return redirect(url_for("public.manage", token=token), code=303)


@bp.route("/abo/einstellungen/<token>/daten", methods=["POST"])
def manage_data(token: str) -> ResponseReturnValue:
    d = desk()
    subscriber = _subscriber(token)
    data = gdpr.subscriber_data(d.store, subscriber, d.office, d.taxonomy, now=d.now())
    return json_download(data, "meine-newsletter-daten.json")


def json_download(data: object, filename: str) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/abo/einstellungen/<token>/loeschen", methods=["GET", "POST"])
def manage_erase(token: str) -> ResponseReturnValue:
    d = desk()
    subscriber = _subscriber(token)
    if request.method == "GET":
        return _page("erase.html", token=token, subscriber=subscriber)
    gdpr.erase(d.store, subscriber.id, now=d.now())
    return _message(
        "Daten gelöscht",
        "Ihre Daten sind gelöscht. Wir haben nur eine nicht umkehrbare Prüfsumme Ihrer "
        "Adresse behalten, damit Sie keine E-Mails mehr von uns erhalten. Wenn Sie sich "
        "später neu anmelden und bestätigen, wird sie aufgehoben.",
        signup_link=True,
    )


# ---------------------------------------------------------------- one-click unsubscribe


@bp.route("/abo/abmelden/<token>", methods=["GET"])
def unsubscribe_page(token: str) -> ResponseReturnValue:
    subscriber = _subscriber(token)
    return _page("unsubscribe.html", token=token, subscriber=subscriber)


@bp.route("/abo/abmelden/<token>", methods=["POST"])
def one_click(token: str) -> ResponseReturnValue:
    """RFC 8058: a POST unsubscribes from all, without cookies, CSRF token or questions."""
    d = desk()
    subscriber = _subscriber(token)
    if subscriber.newsletters:
        unsubscribe(d.store, subscriber, None, now=d.now())
    return _message(
        "Abgemeldet",
        "Sie sind von allen Newslettern abgemeldet und erhalten keine weiteren Ausgaben.",
        manage_url=url_for("public.manage", token=token),
    )


# ---------------------------------------------------------------- link by mail


@bp.route("/abo/link", methods=["GET", "POST"])
def request_link() -> ResponseReturnValue:
    d = desk()
    if request.method == "GET":
        return _page("link.html", errors={}, email="")
    links = _mail_links()
    if links is None:
        return _no_mail()
    try:
        preferences.request_link(
            d.store, d.services.mailer, d.office, d.taxonomy, links,
            request.form.get("email", ""), client=_client(), now=d.now(),
        )  # fmt: skip
    except InvalidForm as exc:
        return _page("link.html", 400, errors=exc.errors, email=request.form.get("email", ""))
    return _message(
        "E-Mail unterwegs",
        "Wenn diese Adresse bei uns eingetragen ist, erhalten Sie in wenigen Minuten eine "
        "E-Mail mit dem Link zu Ihren Einstellungen.",
    )
