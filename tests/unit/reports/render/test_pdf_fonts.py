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
