"""The C allocator's large blocks go back to the system when they are freed.

glibc's malloc serves a block of 128 KiB or more with its own mmap, and returns it at
free, until the first such block is freed: from then on it raises that threshold to the
largest freed size (up to 32 MiB), and the big buffers of a run (a 1.6 MB feed body, the
document feedparser decodes from it, the JSON of a request) come from the heap, where a
freed block stays resident while anything allocated after it lives. A fixed threshold of
1 MiB keeps the first behaviour for the big buffers; the heap's top is given back only
beyond 2 MiB free (glibc's own rule would give twice the threshold), so that the 256 KiB
zlib allocates for each signed token (itsdangerous) is not given back and faulted in
again at every call (3.5 µs a compress instead of 36 µs).

Measured on `eudigest fetch` of the corpus (bench/ingest_bench.py): peak RSS 87 → 78 MB
at the same CPU.

`tune_malloc()` is called first thing in the command line and in the scheduler's
start-up server (whose runs inherit it). It leaves the thresholds alone when ops set
them (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES), and does
nothing where there is no glibc.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

M_TRIM_THRESHOLD = -1  # malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20  # 1 MiB
TRIM_THRESHOLD = 2 << 20  # 2 MiB


def tune_malloc(environ: Mapping[str, str] = os.environ) -> bool:
    """Fix glibc's mmap threshold at 1 MiB and its trim threshold at 2 MiB; whether it did."""
    tunables = environ.get("GLIBC_TUNABLES", "")
    for name in ("mmap_threshold", "trim_threshold"):
        if f"MALLOC_{name.upper()}_" in environ or f"glibc.malloc.{name}" in tunables:
            return False  # ops tune these themselves (MALLOC_ARENA_MAX and others are fine)
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no glibc (musl has a stub; macOS none)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
