"""`civic`: the command line (commands in main.py; what they print in plan, summary, display)."""

from orchestration.cli.main import main

__all__ = ["main"]
