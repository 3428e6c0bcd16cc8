"""One PNG writer for every report plot (matplotlib imported lazily; no pyplot global state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_PNG_META = {"Software": None}  # no tool version in the PNG: same data, same bytes


def figure(width: float = 7.0, height: float = 3.6):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def save_png(fig: Any, out: str | Path, *, dpi: float | None = None) -> Path:
    """Write ``fig`` as a PNG with no tool-version metadata (same data, same bytes)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", metadata=_PNG_META, dpi=dpi if dpi is not None else "figure")
    return out
