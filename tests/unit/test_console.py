"""Console output keeps data brackets (stage names, load points, metric paths) and rounds numbers."""

from __future__ import annotations

import io

import pytest

from benchseal.commands._common import console, escape_data_tags, fmt_num


def _printed(*items) -> str:
    c = console()
    c.file = io.StringIO()
    for it in items:
        c.print(it)
    return c.file.getvalue()


@pytest.mark.parametrize("text", ["[hw] running", "[concurrency=1] 9/9 ok", "perf.load_points[concurrency=1].ttft_ms.p99",
                                  "[params-scale] FAIL", "already \\[escaped]"])
def test_data_brackets_survive(text):
    assert _printed(text).rstrip("\n") == text.replace("\\[", "[")


def test_style_markup_still_applies():
    assert _printed("[bold]benchseal demo[/] → out", "verify: [green]OK[/]") == "benchseal demo → out\nverify: OK\n"


def test_table_cells_keep_brackets():
    from rich.table import Table

    t = Table()
    t.add_column("metric")
    t.add_row("perf.load_points[concurrency=1].ttft_ms.p99")
    t.add_row("[red]FAIL[/]")
    out = _printed(t)
    assert "perf.load_points[concurrency=1].ttft_ms.p99" in out and "FAIL" in out and "[red]" not in out


def test_escape_is_idempotent_for_markup():
    assert escape_data_tags("[bold]x[/bold] [hw]") == "[bold]x[/bold] \\[hw]"


def test_numbers_for_people():
    assert fmt_num(518.2902145599791) == "518.3"
    assert fmt_num(139584) == "139,584"
    assert fmt_num(None) == "" and fmt_num(0.000123456) == "0.0001235" and fmt_num(True) == "true"
