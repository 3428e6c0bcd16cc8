"""Render a bundle's human and CI reports: report.html, report.md, junit.xml (and plots/).

``write_reports`` reads only bundle files (never environment variables) and writes each report
atomically. Verdicts come from claims.json; with ``program`` given and no matching claims.json,
they are computed in memory by :func:`benchseal.claims.check` (claims.json is not written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from benchseal import bundle as layout
from benchseal.errors import UsageError
from benchseal.io import write_text

from .sections import Sections
from .view import load_view

REPORT_FORMATS = ("html", "md", "junit")


def _html(s: Sections, out: Path) -> Path:
    from .html import render_html
    from .plots import make_plots

    plots, skipped = make_plots(s.view, out)
    return write_text(out / layout.REPORT_HTML, render_html(s, plots, skipped))


def _md(s: Sections, out: Path) -> Path:
    from .markdown import render_markdown

    plots_dir = out / layout.PLOTS_DIR
    plots = {p.stem: p for p in sorted(plots_dir.glob("*.png"))} if plots_dir.is_dir() else {}
    return write_text(out / layout.REPORT_MD, render_markdown(s, plots, {}))


def _junit(s: Sections, out: Path) -> Path:
    from .junit import render_junit

    return write_text(out / layout.JUNIT_XML, render_junit(s))


WRITERS: dict[str, Callable[[Sections, Path], Path]] = {"html": _html, "md": _md, "junit": _junit}


def write_reports(bundle_dir: str | Path, *, formats: set[str] | frozenset[str] = frozenset({"html", "md", "junit"}),
                  program: Any = None, out_dir: str | Path | None = None) -> list[Path]:
    """Write the requested reports into ``out_dir`` (default: the bundle itself); return their paths.

    HTML is written first so that report.md can link the plots it drew.
    """
    unknown = set(formats) - set(WRITERS)
    if unknown:
        raise UsageError(f"unknown report format {sorted(unknown)[0]!r}", hint="use html, md or junit")
    view = load_view(bundle_dir, program)
    out = Path(out_dir) if out_dir is not None else view.root
    out.mkdir(parents=True, exist_ok=True)
    sections = Sections(view)
    return [WRITERS[f](sections, out) for f in REPORT_FORMATS if f in formats]
