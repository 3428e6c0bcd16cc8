"""Where benchseal finds its data files (configs/)."""

from __future__ import annotations

import os
from pathlib import Path

from benchseal.errors import ConfigError

_PKG = Path(__file__).resolve().parent


def config_dir() -> Path:
    """The configs/ directory: $BENCHSEAL_CONFIG_DIR, else the source checkout's configs/."""
    env = os.environ.get("BENCHSEAL_CONFIG_DIR")
    candidates = [Path(env)] if env else []
    candidates += [_PKG.parent / "configs", _PKG / "_configs"]
    for c in candidates:
        if c.is_dir():
            return c
    raise ConfigError(
        "cannot find benchseal's configs/ directory",
        where=", ".join(str(c) for c in candidates),
        hint="set BENCHSEAL_CONFIG_DIR to the configs/ folder of a benchseal checkout",
    )


def config_path(*parts: str) -> Path:
    return config_dir().joinpath(*parts)
