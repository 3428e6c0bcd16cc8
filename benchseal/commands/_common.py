"""Helpers shared by command modules."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from benchseal.io import dumps


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print only JSON on stdout")


def print_json(obj: Any) -> None:
    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()


def console(stderr: bool = False):
    """A rich Console (imported lazily). Use stderr=True for progress output next to --json.

    When the output is not a terminal (CI logs, pipes) rich would wrap tables at 80 columns;
    use 200 so rows stay readable and greppable.
    """
    from rich.console import Console

    c = Console(stderr=stderr, highlight=False)
    if not c.is_terminal:
        c.width = max(c.width, 200)
    return c
