"""``benchseal report BUNDLE --format html|md|junit|pdf|form|csv|parquet``: render reports and export tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchseal.commands._common import add_json_flag, print_json
from benchseal.errors import ExitCode, UsageError

FORMATS = ("html", "md", "junit", "pdf", "form", "csv", "parquet")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="render report.html / report.md / junit.xml / report.pdf / form figures, or export the tables as CSV / Parquet",
        description="Render a bundle's reports (HTML and Markdown in Chinese and English, JUnit XML with one "
        "test case per claim, the HTML report printed to an A4 PDF with the bundle digest and verify command in "
        "every page footer, the form-ready figures as form.md and form.json) or export its tables (claims, "
        "load_points, eval, hardware, compute, requests) as one CSV or Parquet file each. "
        "Exit code 1 when a required claim did not pass.",
    )
    p.add_argument("bundle", type=Path, help="the bundle folder a run wrote")
    p.add_argument("--format", "-f", action="append", dest="formats", metavar="FMT",
                   help="html, md, junit, pdf, form, csv or parquet; repeat or comma-separate (default: html,md,junit)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: the bundle for html/md/junit; required for csv/parquet and for signed bundles)")
    p.add_argument("--program", default=None, help="check the claims of this program (id or YAML) instead of the bundle's claims.json")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _formats(raw: list[str] | None) -> list[str]:
    out: list[str] = []
    for item in raw or ["html,md,junit"]:
        for f in item.split(","):
            f = f.strip().lower()
            if f not in FORMATS:
                raise UsageError(f"unknown report format {f!r}", hint="use " + ", ".join(FORMATS))
            if f not in out:
                out.append(f)
    return out


def _run(args: argparse.Namespace) -> int:
    from benchseal import bundle as layout
    from benchseal.reports.render.write import write_reports
    from benchseal.reports.render.tables import EXPORT_FORMATS, export_tables
    from benchseal.reports.render.view import load_view

    formats = _formats(args.formats)
    view = load_view(args.bundle, args.program)
    tables = [f for f in formats if f in EXPORT_FORMATS]
    reports = {f for f in formats if f not in EXPORT_FORMATS}
    if tables and args.out is None:
        raise UsageError(f"--format {tables[0]} writes one file per table and needs --out DIR")
    if reports and args.out is None and (args.bundle / layout.STATEMENT_DSSE).is_file():
        raise UsageError("the bundle is signed and rewriting its reports would break verification",
                         where=str(args.bundle), hint="pass --out DIR to write the reports elsewhere")
    written = []
    if reports:
        written += write_reports(args.bundle, formats=reports, program=view.program, out_dir=args.out)
    for fmt in tables:
        written += export_tables(view, args.out / fmt if len(tables) > 1 else args.out, fmt)
    claims = view.claims or {}
    if args.json:
        print_json({"bundle": str(args.bundle), "written": [str(p) for p in written], "program": view.program_id,
                    "run_status": view.run.get("status"), "passed": claims.get("passed") if claims else None})
    else:
        if "form" in formats:
            _print_form(view)
        for path in written:
            print(path)
    if claims and not claims.get("passed"):
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)


def _print_form(view) -> None:
    from rich.table import Table

    from benchseal.commands._common import console
    from benchseal.reports.render.form import FORM_HEADERS, form_rows

    table = Table(title="申报表填写数据 / Form-ready figures", show_lines=False)
    for h in FORM_HEADERS:
        table.add_column(h, overflow="fold")
    for row in form_rows(view):
        table.add_row(*[str(c) for c in row])
    console().print(table)
