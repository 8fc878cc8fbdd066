"""The desk's forms (Flask-WTF): field types, limits and German messages.

Choices that depend on configuration (topics, newsletters) are set by the view.
CSRF is checked for every POST by `CSRFProtect`; these forms carry the token too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import choices as wtforms_choices
from wtforms.validators import (
    URL,
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from pipeline.curate.staff import MAX_PASSWORD as PASSWORD_MAX
from pipeline.curate.staff import MIN_PASSWORD as PASSWORD_MIN
from pipeline.model import AUDIENCE_LABELS, PRIORITY_LABELS, Role
from pipeline.web.formatting import ROLE_LABELS

HEADLINE_MAX = 300
COMMENT_MAX = 10_000
TITLE_MAX = 300
INTRO_MAX = 5_000
REQUIRED = "Bitte ausfüllen."


def choices(pairs: Iterable[tuple[str, str]]) -> list[Any]:
    """Options of a select or checkbox field.

    WTForms ≥ 3.3 wants SelectChoice objects (tuples are deprecated there); older ones
    take (value, label) tuples.
    """
    make = getattr(wtforms_choices, "SelectChoice", None)
    return [make(value, text) for value, text in pairs] if make else list(pairs)


def _too_long(n: int) -> str:
    return f"Höchstens {n:,} Zeichen.".replace(",", ".")


class Form(FlaskForm):  # type: ignore[misc]
    """German messages for WTForms' own errors (dates, numbers, choices)."""

    class Meta:
        locales = ("de_DE", "de")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        values = {str(c[0]) for c in self.iter_choices()}
        for v in self.data or ():
            if str(v) not in values:
                raise ValueError(f"Unbekannte Auswahl: {v}")


class LoginForm(Form):
    name = StringField("Name", [DataRequired(REQUIRED), Length(max=100)])
    password = PasswordField("Passwort", [DataRequired(REQUIRED), Length(max=PASSWORD_MAX)])


class AnnotationForm(Form):
    headline = StringField(
        "Überschrift", [Optional(), Length(max=HEADLINE_MAX, message=_too_long(HEADLINE_MAX))]
    )
    comment = TextAreaField(
        "Einordnung für die Region",
        [Optional(), Length(max=COMMENT_MAX, message=_too_long(COMMENT_MAX))],
    )
    priority = RadioField(
        "Priorität",
        choices=choices((p.value, label) for p, label in PRIORITY_LABELS.items()),
        default="fyi",
    )
    audiences = MultiCheckboxField(
        "Zielgruppen", choices=choices((a.value, label) for a, label in AUDIENCE_LABELS.items())
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    save = SubmitField("Speichern")
    preview = SubmitField("Vorschau")


class TopicsForm(Form):
    topics = MultiCheckboxField("Themen")


class OwnItemForm(Form):
    title = StringField(
        "Titel", [DataRequired(REQUIRED), Length(max=TITLE_MAX, message=_too_long(TITLE_MAX))]
    )
    url = StringField(
        "Link (optional)",
        [
            Optional(),
            Length(max=2000),
            URL(require_tld=False, message="Bitte einen Link mit http:// oder https://."),
            Regexp(r"(?i)^https?://", message="Bitte einen Link mit http:// oder https://."),
        ],
    )
    text = TextAreaField(
        "Text (Markdown)", [Optional(), Length(max=COMMENT_MAX, message=_too_long(COMMENT_MAX))]
    )
    event_date = DateField("Datum/Termin", [Optional()])
    deadline = DateField("Frist", [Optional()])
    topics = MultiCheckboxField("Themen")


class EditionCreateForm(Form):
    newsletter = SelectField("Newsletter", [DataRequired(REQUIRED)])
    title = StringField(
        "Titel", [DataRequired(REQUIRED), Length(max=TITLE_MAX, message=_too_long(TITLE_MAX))]
    )
    intro = TextAreaField(
        "Einleitung", [Optional(), Length(max=INTRO_MAX, message=_too_long(INTRO_MAX))]
    )


class EditionForm(Form):
    title = StringField(
        "Titel", [DataRequired(REQUIRED), Length(max=TITLE_MAX, message=_too_long(TITLE_MAX))]
    )
    intro = TextAreaField(
        "Einleitung", [Optional(), Length(max=INTRO_MAX, message=_too_long(INTRO_MAX))]
    )
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class UserForm(Form):
    name = StringField(
        "Name",
        [
            DataRequired(REQUIRED),
            Length(max=50, message=_too_long(50)),
        ],
    )
    role = SelectField(
        "Rolle", choices=choices((r.value, ROLE_LABELS[r]) for r in Role), default=Role.EDITOR.value
    )
    password = PasswordField(
        "Erstes Passwort",
        [
            DataRequired(REQUIRED),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=f"Mindestens {PASSWORD_MIN} Zeichen.",
            ),
        ],
    )


class PasswordChangeForm(Form):
    current = PasswordField(
        "Bisheriges Passwort", [DataRequired(REQUIRED), Length(max=PASSWORD_MAX)]
    )
    new = PasswordField(
        "Neues Passwort",
        [
            DataRequired(REQUIRED),
            Length(
                min=PASSWORD_MIN, max=PASSWORD_MAX, message=f"Mindestens {PASSWORD_MIN} Zeichen."
            ),
        ],
    )
    repeat = PasswordField(
        "Neues Passwort wiederholen",
        [DataRequired(REQUIRED), EqualTo("new", message="Die beiden Eingaben sind verschieden.")],
    )
