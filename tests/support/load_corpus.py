"""Load the shared corpus into the store on the embedded defaults, for trying the desk.

    python -m tests.support.load_corpus [--corpus ../shared/corpus]

Serves the corpus (real feeds as published) from a loopback server, registers its
files as sources and runs `eudigest fetch --sources-file` against it: the store then
holds about 1,240 real items to curate, without a network connection.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from pipeline.cli import main as eudigest
from tests.support.corpus import sources_yaml
from tests.support.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = ap.parse_args()
    if not (args.corpus / "MANIFEST.md").is_file():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, FeedServer(args.corpus) as server:
        path = Path(tmp) / "corpus-sources.yaml"
        path.write_text(sources_yaml(server.base_url), encoding="utf-8")
        code = eudigest(["init"]) or eudigest(["fetch", "--sources-file", str(path)])
        shutil.rmtree(tmp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
