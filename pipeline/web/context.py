"""What every view needs: the services, the office and the taxonomy, loaded once at start-up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from flask_login import current_user

from pipeline.bootstrap import Services
from pipeline.model import Office, StaffUser, Taxonomy
from pipeline.model.glossary import EMPTY_GLOSSARY, Glossary
from pipeline.store import Store

EXTENSION = "eudigest"
MAX_ID = 2**31 - 1  # the largest id a table holds (INTEGER on PostgreSQL)


def as_id(raw: str) -> int:
    """A form field's id; ValueError when it is no number or past any id the store holds
    (so that it never reaches the database, which would fail with a 500)."""
    value = int(raw)
    if not 0 <= value <= MAX_ID:
        raise ValueError(f"id out of range: {raw[:30]}")
    return value


@dataclass
class Desk:
    services: Services
    office: Office
    taxonomy: Taxonomy
    tz: ZoneInfo
    topic_labels: dict[str, str] = field(default_factory=dict)
    glossary: Glossary = EMPTY_GLOSSARY  # glossary.yaml (issue 17)

    def __post_init__(self) -> None:
        self.topic_labels = {t.id: t.label_de for t in self.taxonomy.topics}

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def topic_ids(self) -> frozenset[str]:
        return self.taxonomy.topic_ids()

    def now(self) -> dt.datetime:
        return self.services.clock()


def desk() -> Desk:
    value: Desk = current_app.extensions[EXTENSION]
    return value


def staff_user() -> StaffUser:
    """The signed-in staff member (views behind the login check only)."""
    user: StaffUser = current_user.staff
    return user
