"""pipeline.memory: big freed buffers go back to the system (glibc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline.memory import tune_malloc

# Twenty 2 MiB buffers, each followed by a 600 KiB one that stays (as a feed body is
# followed by what its parse keeps): how much stays resident once the big ones are freed.
PROBE = """
import json, os, sys
from pipeline.memory import tune_malloc
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * page / 1e6
fixed = tune_malloc() if sys.argv[1] == "tuned" else False
x = bytes(4 << 20); del x  # a freed mmapped block: glibc raises its threshold
before = rss()
big, kept = [], []
for _ in range(20):
    big.append(b"b" * (2 << 20)); kept.append(b"k" * (600 << 10))
del big
print(json.dumps({"fixed": fixed, "resident_mb": rss() - before}))
"""


def probe(mode: str) -> dict[str, float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], env=clean, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, float] = json.loads(out.stdout)
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_freed_big_buffers_do_not_stay_resident() -> None:
    tuned, untuned = probe("tuned"), probe("glibc's default")
    assert tuned["fixed"] and not untuned["fixed"]
    assert untuned["resident_mb"] > 40  # glibc's default: the freed 40 MB stay
    assert tuned["resident_mb"] < 20  # only the 12 MB still in use


def test_ops_thresholds_win() -> None:
    assert tune_malloc({"MALLOC_MMAP_THRESHOLD_": "65536"}) is False
    assert tune_malloc({"MALLOC_TRIM_THRESHOLD_": "65536"}) is False
    assert tune_malloc({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=65536"}) is False


# A 300 KiB block at the top of the heap, freed (zlib's working memory for each token
# itsdangerous signs is ~256 KiB): is the heap given back to the system at every free?
TOP = """
import ctypes, json
from pipeline.memory import tune_malloc
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
import sys
if sys.argv[1] == "tuned":
    assert tune_malloc()
else:
    libc.mallopt(-3, 1 << 20)  # the mmap threshold alone (the default trim: 128 KiB)
block = ctypes.create_string_buffer(300 << 10)
held = libc.mallinfo2().arena
del block
print(json.dumps({"given_back": held - libc.mallinfo2().arena}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_the_heap_top_is_kept_for_the_next_token() -> None:
    def given_back(mode: str) -> int:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        out = subprocess.run(
            [sys.executable, "-c", TOP, mode], env=clean, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return int(json.loads(out.stdout)["given_back"])

    assert given_back("mmap-threshold-only") > 200_000  # faulted in again next time
    assert given_back("tuned") == 0
