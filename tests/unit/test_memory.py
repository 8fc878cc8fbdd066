"""pipeline.memory: big freed buffers go back to the system (glibc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline.memory import fixed_mmap_threshold

# Twenty 2 MiB buffers, each followed by a 600 KiB one that stays (as a feed body is
# followed by what its parse keeps): how much stays resident once the big ones are freed.
PROBE = """
import json, os, sys
from pipeline.memory import fixed_mmap_threshold
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * page / 1e6
fixed = fixed_mmap_threshold()
x = bytes(4 << 20); del x  # a freed mmapped block: glibc raises its threshold
before = rss()
big, kept = [], []
for _ in range(20):
    big.append(b"b" * (2 << 20)); kept.append(b"k" * (600 << 10))
del big
print(json.dumps({"fixed": fixed, "resident_mb": rss() - before}))
"""


def probe(**env: str) -> dict[str, float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, float] = json.loads(out.stdout)
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_freed_big_buffers_do_not_stay_resident() -> None:
    tuned, untuned = probe(), probe(MALLOC_ARENA_TEST="1")  # any MALLOC_*: left alone
    assert tuned["fixed"] and not untuned["fixed"]
    assert untuned["resident_mb"] > 40  # glibc's default: the freed 40 MB stay
    assert tuned["resident_mb"] < 20  # only the 12 MB still in use


def test_ops_tunables_win() -> None:
    assert fixed_mmap_threshold({"MALLOC_ARENA_MAX": "2"}) is False
    assert fixed_mmap_threshold({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}) is False
