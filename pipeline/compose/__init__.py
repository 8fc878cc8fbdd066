"""Compose: from an approved edition to what each subscriber receives.

segments.py decides who gets which items (pure); rendering follows in render.py;
corrections.py makes a correction's German note and its short mail (ADR 0009).
"""

from pipeline.compose.segments import resolve_segments
from pipeline.model import Segment

__all__ = ["Segment", "resolve_segments"]
