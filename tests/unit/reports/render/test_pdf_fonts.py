"""report.pdf is refused (exit 3, one sentence naming the font package) before rendering when no installed
font has Chinese glyphs: the PDF would otherwise print every Chinese character as an empty box and exit 0."""

from __future__ import annotations

import subprocess

import pytest

from benchseal.errors import EnvironmentFailure, ExitCode
from benchseal.reports.render import pdf


def test_no_cjk_font_refuses_before_rendering(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "cjk_font_available", lambda: False)
    monkeypatch.setattr(pdf, "find_chromium", lambda: pytest.fail("must not start a renderer"))
    with pytest.raises(EnvironmentFailure) as e:
        pdf.html_to_pdf("<html><body>参数规模应达到8亿以上</body></html>", tmp_path / "report.pdf")
    assert e.value.exit_code == ExitCode.ENVIRONMENT and "fonts-noto-cjk" in e.value.message
    assert not list(tmp_path.iterdir())


def test_a_page_without_chinese_needs_no_cjk_font(monkeypatch):
    monkeypatch.setattr(pdf, "cjk_font_available", lambda: False)
    pdf.require_cjk_font("<html><body>latency 12 ms</body></html>")


def test_the_cli_says_it_in_one_line(monkeypatch, run_cli, sample_bundle_copy, tmp_path):
    monkeypatch.setattr(pdf, "cjk_font_available", lambda: False)
    code, out, err = run_cli("report", sample_bundle_copy, "--format", "pdf", "--out", tmp_path / "out")
    assert code == ExitCode.ENVIRONMENT and "Traceback" not in err
    assert "apt-get install fonts-noto-cjk" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "report.pdf").exists()


def test_fontconfig_is_asked_for_chinese(monkeypatch):
    calls = []

    def fake_run(args, **kw):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="Noto Sans CJK SC\n" if len(calls) == 1 else "", stderr="")

    monkeypatch.setattr(pdf.shutil, "which", lambda name: "/usr/bin/fc-list" if name == "fc-list" else None)
    monkeypatch.setattr(pdf.subprocess, "run", fake_run)
    assert pdf.cjk_font_available() is True
    monkeypatch.setattr(pdf, "_FONT_DIRS", ())
    assert pdf.cjk_font_available() is False
    assert calls[0][1:] == [":lang=zh", "family"]


# --- report formatting (issue 28) ---------------------------------------------------------------------
def test_one_number_format_per_column():
    from benchseal.reports.render.i18n import Num, fmt_value, format_columns

    rows = format_columns([["a", 16800.0, 8, 0.0625], ["b", 4352.5, 12, 0.125], ["c", None, 3, 0.0]])
    assert [r[1] for r in rows] == ["16,800", "4,352", None]  # never 1.68e+04 beside 4,352
    assert [r[3] for r in rows] == ["0.0625", "0.1250", "0.0000"] and isinstance(rows[0][3], Num)
    assert [r[2] for r in rows] == [8, 12, 3]  # integer columns keep their own form
    assert fmt_value(16800.5) == "16,800" and fmt_value(0.00001234) == "0.000012" and "e" not in fmt_value(1.5e-5)


def test_compute_total_row_evidence_list_and_relevant_settings(sample_bundle, tmp_path):
    import json

    from benchseal import bundle as layout
    from benchseal.reports.render.write import write_reports

    md = write_reports(sample_bundle, formats={"md"}, out_dir=tmp_path)[0].read_text(encoding="utf-8")
    assert "| total (1 server) | — | — |" in md and "server(s)" not in md.split("算力规模 (TFLOPS")[1].split("##")[0]
    tail = md.split("## 证据文件")[1]
    for name in ("run.json", "report.html", "report.md", "junit.xml", "statement.json"):
        assert f"`{name}" in tail
    spec = json.loads((sample_bundle / layout.RUN_JSON).read_text()).get("spec") or {}
    if "content_sample" in spec:  # a Hunan run lists no safety settings
        assert "content_sample" not in md
