"""Topics of the taxonomy, mirrored into the store so queries and the desk can join them."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from pipeline.model import Taxonomy
from pipeline.store.base import wrap_errors
from pipeline.store.schema import topics


class TopicsStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def sync(self, taxonomy: Taxonomy) -> None:
        """Make the topics table equal to taxonomy.yaml (labels and order).

        Item topic assignments of a topic removed from the file stay on the items,
        so nothing staff confirmed is lost when a topic is renamed back.
        """
        rows = [
            {"id": t.id, "label_de": t.label_de, "label_en": t.label_en, "position": i}
            for i, t in enumerate(taxonomy.topics)
        ]
        with wrap_errors("loading the taxonomy"), self._engine.begin() as conn:
            have = [
                {"id": r.id, "label_de": r.label_de, "label_en": r.label_en, "position": r.position}
                for r in conn.execute(
                    select(
                        topics.c.id, topics.c.label_de, topics.c.label_en, topics.c.position
                    ).order_by(topics.c.position)
                )
            ]
            if have == rows:
                return  # unchanged: no write (a warm fetch writes only the sources' health)
            conn.execute(delete(topics))
            if rows:
                conn.execute(topics.insert(), rows)

    def labels(self) -> dict[str, tuple[str, str]]:
        with wrap_errors("reading topics"), self._engine.connect() as conn:
            rows = conn.execute(select(topics).order_by(topics.c.position))
            return {r.id: (r.label_de, r.label_en) for r in rows}
