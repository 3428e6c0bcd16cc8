"""The roofline and telemetry plots produce PNGs from synthetic inputs (and None without data)."""

from __future__ import annotations

import pytest

from benchseal.bench.utilisation.mfu import annotate
from benchseal.reports.render.plots_utilisation import roofline_plot, telemetry_plot

from tests.helpers import flops_synthetic as syn
from tests.helpers.flops_configs import TINY

PNG = b"\x89PNG\r\n\x1a\n"


def _summaries():
    out = []
    for lp in ("concurrency=1", "concurrency=2"):
        out.append(annotate(syn.summary(lp), syn.records(lp), model_config=TINY["llama"], hardware=syn.hardware(), dtype="bf16"))
    return out


def test_roofline_png(tmp_path):
    path = roofline_plot(_summaries(), syn.hardware(), TINY["llama"], "bf16", tmp_path / "plots" / "roofline.png")
    assert path is not None and path.read_bytes()[:8] == PNG and path.stat().st_size > 5000
    unknown = roofline_plot(_summaries(), syn.hardware(known=False), TINY["llama"], "bf16", tmp_path / "r2.png")
    assert unknown is not None and unknown.read_bytes()[:8] == PNG
    # as the report renderer calls it for a bundle without dtype or a known architecture
    other = roofline_plot(_summaries(), syn.hardware(), {"model_type": "rwkv"}, None, tmp_path / "r3.png")
    assert other is not None and other.read_bytes()[:8] == PNG


def test_roofline_nothing_to_plot(tmp_path):
    assert roofline_plot([syn.summary()], syn.hardware(), TINY["llama"], "bf16", tmp_path / "r.png") is None
    assert not (tmp_path / "r.png").exists()


def test_telemetry_png(tmp_path):
    csv_path = syn.telemetry_csv(tmp_path / "telemetry.csv")
    path = telemetry_plot(csv_path, tmp_path / "telemetry.png")
    assert path is not None and path.read_bytes()[:8] == PNG and path.stat().st_size > 5000
    header_only = tmp_path / "empty.csv"
    header_only.write_text("t_wall,t_mono,gpu,power_w,energy_mj\n")
    assert telemetry_plot(header_only, tmp_path / "e.png") is None
    assert telemetry_plot(tmp_path / "missing.csv", tmp_path / "m.png") is None
