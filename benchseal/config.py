"""Where benchseal finds its data files: the configs/ folder shipped inside the package
(programs, suites, workloads, peers, GPU specs), or $BENCHSEAL_CONFIG_DIR."""

from __future__ import annotations

import os
from pathlib import Path

from benchseal.errors import ConfigError

_PKG = Path(__file__).resolve().parent


def config_dir() -> Path:
    """The configs/ directory: $BENCHSEAL_CONFIG_DIR, else the package's own benchseal/configs/."""
    env = os.environ.get("BENCHSEAL_CONFIG_DIR")
    candidates = [Path(env)] if env else []
    candidates += [_PKG / "configs"]
    for c in candidates:
        if c.is_dir():
            return c
    raise ConfigError(
        "cannot find benchseal's configs/ directory",
        where=", ".join(str(c) for c in candidates),
        hint="reinstall benchseal (its configs/ are package data), or set BENCHSEAL_CONFIG_DIR to a configs/ folder",
    )


def config_path(*parts: str) -> Path:
    return config_dir().joinpath(*parts)
