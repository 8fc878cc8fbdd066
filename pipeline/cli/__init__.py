"""`eudigest`: the command line (pipeline/cli/main.py draws it)."""

from pipeline.cli.main import main

__all__ = ["main"]
