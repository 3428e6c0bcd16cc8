"""Render a bundle's human and CI reports: report.html, report.md, junit.xml (and plots/), and on
request report.pdf and the form-ready figures (form.md, form.json).

``write_reports`` reads only bundle files (never environment variables) and writes each report
atomically. Verdicts come from claims.json; with ``program`` given and no matching claims.json,
they are computed in memory by :func:`benchseal.claims.check` (claims.json is not written).
Rendering is deterministic: no time of rendering, no random ids, floats formatted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from benchseal import bundle as layout
from benchseal.errors import UsageError
from benchseal.io import write_json, write_text

from .sections import Sections, bundle_digest
from .view import load_view

REPORT_FORMATS = ("html", "md", "junit", "pdf", "form")
DEFAULT_FORMATS = frozenset({"html", "md", "junit"})
REPORT_PDF = "report.pdf"
FORM_MD = "form.md"
FORM_JSON = "form.json"


@dataclass
class _Job:
    sections: Sections
    out: Path
    signing_key_id: str | None = None
    _plots: tuple[dict[str, Path], dict[str, str]] | None = field(default=None, repr=False)

    def plots(self) -> tuple[dict[str, Path], dict[str, str]]:
        """The plots, drawn once per render (HTML, Markdown and PDF share them)."""
        if self._plots is None:
            from .plots import make_plots

            self._plots = make_plots(self.sections.view, self.out)
        return self._plots


def _html(job: _Job) -> Path:
    from .html import render_html

    plots, skipped = job.plots()
    return write_text(job.out / layout.REPORT_HTML, render_html(job.sections, plots, skipped, signing_key_id=job.signing_key_id))


def _md(job: _Job) -> Path:
    from .markdown import render_markdown

    plots, skipped = job.plots()
    return write_text(job.out / layout.REPORT_MD, render_markdown(job.sections, plots, skipped, signing_key_id=job.signing_key_id))


def _junit(job: _Job) -> Path:
    from .junit import render_junit

    return write_text(job.out / layout.JUNIT_XML, render_junit(job.sections))


def _pdf(job: _Job) -> Path:
    from .html import render_html
    from .pdf import html_to_pdf

    plots, skipped = job.plots()
    html = render_html(job.sections, plots, skipped, signing_key_id=job.signing_key_id, bundle_digest=bundle_digest(job.sections.view))
    return html_to_pdf(html, job.out / REPORT_PDF)


def _form(job: _Job) -> Path:
    from .form import form_json, render_form_markdown

    view = job.sections.view
    write_json(job.out / FORM_JSON, form_json(view))
    head = "# 申报表填写数据 / Form-ready figures\n\n" + (f"Program: `{view.program_id}`\n\n" if view.program_id else "")
    return write_text(job.out / FORM_MD, head + render_form_markdown(view) + "\n")


# What rendering and signing write: never listed as evidence in a report's "files" section.
RENDERED = frozenset({layout.REPORT_HTML, layout.REPORT_MD, layout.JUNIT_XML, REPORT_PDF, FORM_MD, FORM_JSON,
                      layout.RUN_JSON, layout.STATEMENT_JSON, layout.STATEMENT_DSSE, layout.TEST_RESULT_DSSE})


def evidence_files(root: Path) -> list[str]:
    """The bundle's evidence files as a report lists them: every regular file on disk (no symlink
    followed) except what rendering and signing write, plots/ and dot-files (atomic-write temps).
    Read from disk, not from run.json, whose list a run saves again after rendering (it then
    names the reports), so the same evidence renders the same report before and after signing."""
    import os

    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(dirpath, d)))
        for name in files:
            full = os.path.join(dirpath, name)
            rel = Path(full).relative_to(root).as_posix()
            if name.startswith(".") or rel in RENDERED or rel.startswith(f"{layout.PLOTS_DIR}/") or not os.path.isfile(full) \
                    or os.path.islink(full):
                continue
            out.append(rel)
    return sorted(out)


WRITERS: dict[str, Callable[[_Job], Path]] = {"html": _html, "md": _md, "junit": _junit, "pdf": _pdf, "form": _form}


def write_reports(bundle_dir: str | Path, *, formats: set[str] | frozenset[str] = DEFAULT_FORMATS,
                  program: Any = None, out_dir: str | Path | None = None, signing_key_id: str | None = None) -> list[Path]:
    """Write the requested reports into ``out_dir`` (default: the bundle itself); return their paths.

    ``signing_key_id``: the id of the key that will sign the bundle (the report is written before
    the signature); without it, a signed bundle's statement.dsse.json supplies it.
    """
    unknown = set(formats) - set(WRITERS)
    if unknown:
        raise UsageError(f"unknown report format {sorted(unknown)[0]!r}", hint="use " + ", ".join(REPORT_FORMATS))
    view = load_view(bundle_dir, program)
    if view.run:  # deterministic: the evidence on disk, the same before and after signing (see evidence_files)
        view.run = {**view.run, "files": evidence_files(view.root)}
    out = Path(out_dir) if out_dir is not None else view.root
    out.mkdir(parents=True, exist_ok=True)
    job = _Job(Sections(view), out, signing_key_id)
    return [WRITERS[f](job) for f in REPORT_FORMATS if f in formats]
