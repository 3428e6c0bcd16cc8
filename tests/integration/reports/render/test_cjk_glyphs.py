"""Chinese in the PDF is drawn, not tofu: headless Chromium (Debian's `chromium`) with the fonts this machine
has. Skips without Chromium; without a font that has Chinese glyphs, the PDF must be refused (exit 3).

- text layer: report.pdf's text holds the clause 参数规模应达到8亿以上 and the verdict's Chinese words;
- rendered crop: the same characters drawn one per cell by the same browser are all different from one
  another and from the drawing of a character no font has (U+E000, private use), which is what a
  missing glyph looks like: tofu boxes are all alike.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from benchseal.errors import ExitCode
from benchseal.reports.render.pdf import chromium_args, cjk_font_available, find_chromium, run_chromium

CHROMIUM = find_chromium()
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)"),
              pytest.mark.slow]

CHARS = "参数规模应达到亿以上"
TOFU = "\ue000"
CELL = 96  # px


def _grid_page(chars: str) -> str:
    cells = "".join(
        f'<div style="position:absolute;left:{i * CELL}px;top:0;width:{CELL}px;height:{CELL}px;font-size:72px;'
        f'line-height:{CELL}px;text-align:center">{c}</div>' for i, c in enumerate(chars))
    return ('<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;background:#fff;color:#000;'
            'font-family:sans-serif}</style></head><body>' + cells + "</body></html>")


def _crops(png: Path, n: int) -> list[bytes]:
    from PIL import Image

    img = Image.open(png).convert("L")
    return [img.crop((i * CELL, 0, (i + 1) * CELL, CELL)).point(lambda v: 0 if v < 128 else 255).tobytes() for i in range(n)]


@pytest.mark.skipif(not cjk_font_available(), reason="no font with Chinese glyphs (see test_refused_without_a_cjk_font)")
def test_chinese_glyphs_are_drawn_not_tofu(tmp_path: Path):
    page = tmp_path / "glyphs.html"
    page.write_text(_grid_page(CHARS + TOFU), encoding="utf-8")
    shot = tmp_path / "glyphs.png"
    run_chromium(chromium_args(CHROMIUM, page, screenshot=shot, width=CELL * (len(CHARS) + 1), height=3 * CELL))  # a tiny window draws nothing
    crops = _crops(shot, len(CHARS) + 1)
    tofu = crops[-1]
    blank = bytes([255]) * (CELL * CELL)
    for c, crop in zip(CHARS, crops):
        assert crop != blank, f"{c} drew nothing"
        assert crop != tofu, f"{c} is drawn like a missing glyph (tofu)"
    assert len(set(crops[:-1])) == len(CHARS), "different characters drew the same box: the glyphs are missing"


@pytest.mark.skipif(not cjk_font_available(), reason="no font with Chinese glyphs (see test_refused_without_a_cjk_font)")
def test_pdf_text_layer_holds_the_chinese(sample_bundle, tmp_path: Path, run_cli):
    from pypdf import PdfReader

    code, _, err = run_cli("report", sample_bundle, "--format", "pdf", "--out", tmp_path)
    assert code in (ExitCode.OK, ExitCode.FAILED), err
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", "".join(p.extract_text() for p in PdfReader(tmp_path / "report.pdf").pages)))
    assert "参数规模应达到8亿以上" in text
    assert "湖南" in text


def test_refused_without_a_cjk_font(sample_bundle, tmp_path: Path, run_cli, monkeypatch):
    """What a machine without the font package gets (Debian's chromium brings none): one sentence, exit 3."""
    from benchseal.reports.render import pdf

    monkeypatch.setattr(pdf, "cjk_font_available", lambda: False)
    code, _, err = run_cli("report", sample_bundle, "--format", "pdf", "--out", tmp_path)
    assert code == ExitCode.ENVIRONMENT and "fonts-noto-cjk" in err and "Traceback" not in err
    assert not (tmp_path / "report.pdf").exists()
