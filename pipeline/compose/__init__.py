"""Compose: from an approved edition to what each subscriber receives.

segments.py decides who gets which items (pure); rendering follows in render.py.
"""

from pipeline.compose.segments import resolve_segments
from pipeline.model import Segment

__all__ = ["Segment", "resolve_segments"]
