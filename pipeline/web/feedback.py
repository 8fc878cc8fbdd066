"""The reader's feedback pages (German, public, issue 17).

    GET  /feedback/<item token>/<reader token>        the question with a button (or the
                                                      "Was fehlt Ihnen?" form); nothing counts
    POST /feedback/<item token>/<reader token>        counts the answer (or stores the text)
                                                      → 303 …/danke
    GET  /feedback/<item token>/<reader token>/danke  thanks, and a button that changes the
                                                      answer (a POST to the other answer)

A GET never records: mail scanners open every link in a mail. The POSTs take no CSRF
token and set no cookie: the two signed tokens in the URL are the proof (only the reader
has them, and nothing else is at stake in a forged cross-site POST). Views parse and
call subscribers.feedback; its errors become German pages here, with nothing recorded.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from pipeline.compose.render import headline
from pipeline.model.feedback import ANSWER_LABELS, MAX_SUGGESTION_CHARS, Answer
from pipeline.web.context import desk
from subscribers import feedback
from subscribers.feedback import Claim, FeedbackInvalid, FeedbackProblem, SuggestionInvalid
from subscribers.signup import RateLimited

bp = Blueprint("feedback", __name__)

_STATUS = {
    FeedbackProblem.FORGED: 400,
    FeedbackProblem.EXPIRED: 410,
    FeedbackProblem.GONE: 410,
    FeedbackProblem.REPLAYED: 409,
}


@bp.record_once
def _exempt(state: BlueprintSetupState) -> None:
    """The signed tokens are the proof: no CSRF cookie for readers (see the docstring)."""
    state.app.extensions["csrf"].exempt(answer)


@bp.after_request
def _private(response: Response) -> Response:
    response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
    response.headers["Referrer-Policy"] = "no-referrer"  # the tokens stay out of Referer
    return response


def _tokens() -> feedback.FeedbackTokens:
    return feedback.FeedbackTokens(desk().services.settings.secret_key or "")


def _message(title: str, message: str, status: int) -> ResponseReturnValue:
    page = render_template("web/public/message.html", title=title, message=message, status=status)
    return page, status


@bp.errorhandler(FeedbackInvalid)
def _invalid(exc: FeedbackInvalid) -> ResponseReturnValue:
    if exc.problem is FeedbackProblem.REPLAYED:
        return _message("Schon gezählt", str(exc), 409)
    return _message("Link nicht gültig", str(exc), _STATUS[exc.problem])


@bp.errorhandler(RateLimited)
def _too_many(exc: RateLimited) -> ResponseReturnValue:
    return _message("Zu viele Rückmeldungen", str(exc), 429)


def _page(template: str, claim: Claim, status: int = 200, **context: object) -> ResponseReturnValue:
    item = None
    if claim.item_id:
        found = desk().store.items.get_many([claim.item_id]).get(claim.item_id)
        item = headline(found) if found is not None else None
    edition = desk().store.editions.get(claim.edition_id)
    body = render_template(
        f"web/public/{template}",
        claim=claim,
        headline=item,
        edition_title=" ".join(edition.title.split()),
        labels=ANSWER_LABELS,
        max_chars=MAX_SUGGESTION_CHARS,
        **context,
    )
    return body, status


@bp.route("/feedback/<item_token>/<reader_token>", methods=["GET"])
def question(item_token: str, reader_token: str) -> ResponseReturnValue:
    d = desk()
    claim = feedback.check(d.store, _tokens(), item_token, reader_token, now=d.now())
    return _page("feedback.html", claim, item_token=item_token, reader_token=reader_token)


@bp.route("/feedback/<item_token>/<reader_token>", methods=["POST"])
def answer(item_token: str, reader_token: str) -> ResponseReturnValue:
    d = desk()
    client = request.remote_addr or "unknown"
    tokens = _tokens()
    if "text" in request.form:  # "Was fehlt Ihnen?"
        try:
            feedback.suggest(
                d.store, tokens, item_token, reader_token, request.form["text"],
                client=client, now=d.now(),
            )  # fmt: skip
        except SuggestionInvalid as exc:
            claim = feedback.check(d.store, tokens, item_token, reader_token, now=d.now())
            text = request.form["text"][:MAX_SUGGESTION_CHARS]
            return _page(
                "feedback.html", claim, 400, item_token=item_token,
                reader_token=reader_token, error=str(exc), text=text,
            )  # fmt: skip
    else:
        feedback.answer(d.store, tokens, item_token, reader_token, client=client, now=d.now())
    target = url_for("feedback.thanks", item_token=item_token, reader_token=reader_token)
    return redirect(target, code=303)


@bp.route("/feedback/<item_token>/<reader_token>/danke", methods=["GET"])
def thanks(item_token: str, reader_token: str) -> ResponseReturnValue:
    d = desk()
    tokens = _tokens()
    claim = feedback.check(d.store, tokens, item_token, reader_token, now=d.now())
    change = None
    if claim.answer is not Answer.WISH:
        other = claim.answer.other
        change = (
            url_for(
                "feedback.answer",
                item_token=tokens.item_token(claim.edition_id, claim.item_id, other),
                reader_token=reader_token,
            ),
            ANSWER_LABELS[other],
        )
    return _page("feedback_thanks.html", claim, change=change)
