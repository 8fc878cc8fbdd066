"""`python -m pipeline.cli`: the `eudigest` command (how `eudigest send` starts its helpers)."""

import sys

from pipeline.cli.main import main

sys.exit(main())
