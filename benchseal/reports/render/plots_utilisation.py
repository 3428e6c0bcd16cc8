"""Roofline-style and telemetry-over-time plots (matplotlib Agg, imported lazily)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Iterable

from benchseal.errors import UsageError
from benchseal.reports.render.png import save_png
from benchseal.schema import HardwareReport, LoadPointSummary

# telemetry.csv columns that are not plotted as series
_NOT_SERIES = {"t_wall", "t_mono", "gpu", "energy_mj", "uuid", "name"}
_MAX_SERIES = 6


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def roofline_plot(
    summaries: Iterable[LoadPointSummary],
    hardware: HardwareReport | None,
    model_config: dict,
    dtype: str,
    out_png: str | Path,
) -> Path | None:
    """Achieved FLOP/s of each load point at its decode arithmetic intensity, under the roofs
    min(peak FLOP/s, intensity x peak bandwidth). None when no load point has utilisation data."""
    from benchseal.bench.utilisation.flops import DTYPE_BYTES, FlopsModel, normalize_dtype
    from benchseal.bench.utilisation.mfu import peak_of

    points = []
    gpus_used = None
    for s in summaries:
        u = s.utilisation or {}
        ai, achieved = u.get("decode_arithmetic_intensity_flop_per_byte"), u.get("achieved_flops_per_s")
        if ai and achieved:
            points.append((s.load_point, float(ai), float(achieved)))
            gpus_used = u.get("gpus") or gpus_used
    if not points:
        return None
    short = normalize_dtype(dtype)
    peak = peak_of(hardware, short, gpus_used)
    elem = DTYPE_BYTES.get(short or "", 2.0)
    try:  # batch-1 decode intensity at a short context: the lower end of what serving can reach
        model = FlopsModel.from_config(model_config or {})
        b1: float | None = model.decode_flops_per_token(1) / (model.weight_bytes(elem) + model.kv_cache_bytes_read(1, elem))
        arch = model.model_type
    except UsageError:
        b1, arch = None, (model_config or {}).get("model_type") or "unknown model"

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = [p[1] for p in points] + ([b1] if b1 else [])
    lo, hi = min(xs) / 4, max(xs) * 4
    if peak["peak_tflops"] and peak["peak_bandwidth_gbs"]:
        pf, bw = peak["peak_tflops"] * 1e12, peak["peak_bandwidth_gbs"] * 1e9
        ridge = pf / bw
        hi = max(hi, ridge * 4)
        grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
        ax.plot(grid, [min(pf, x * bw) for x in grid], color="black", label=f"roof: {peak['peak_tflops']:.0f} TFLOP/s, {peak['peak_bandwidth_gbs']:.0f} GB/s")
        ax.axvline(ridge, color="grey", ls=":", lw=1)
    else:
        ax.text(0.02, 0.95, f"no roof: {peak['note']}", transform=ax.transAxes, fontsize=8, va="top")
    if b1:
        ax.axvline(b1, color="tab:orange", ls="--", lw=1, label="batch-1 decode intensity")
    for name, ai, achieved in points:
        ax.scatter([ai], [achieved], zorder=3, label=name)
        ax.annotate(name, (ai, achieved), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity of a decode step (FLOP/byte)")
    ax.set_ylabel("achieved FLOP/s (whole load point)")
    ax.set_title(f"Roofline ({arch}, {short or dtype}, {peak['gpus']} GPU)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    try:
        return save_png(fig, out_png, dpi=110)
    finally:
        plt.close(fig)


def _read_telemetry(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def telemetry_plot(telemetry_csv: str | Path | None, out_png: str | Path) -> Path | None:
    """One panel per numeric telemetry column (power first), one line per GPU, over time.
    None when the file is missing or has no samples."""
    if telemetry_csv is None or not Path(telemetry_csv).is_file():
        return None
    fields, rows = _read_telemetry(Path(telemetry_csv))
    rows = [r for r in rows if _num(r.get("t_wall")) is not None]
    if not rows:
        return None
    series = [f for f in fields if f not in _NOT_SERIES and any(_num(r.get(f)) is not None for r in rows)]
    series.sort(key=lambda f: (f != "power_w", fields.index(f)))
    series = series[:_MAX_SERIES]
    if not series:
        return None
    t0 = min(_num(r["t_wall"]) for r in rows)  # type: ignore[type-var]
    by_gpu: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_gpu.setdefault(str(r.get("gpu", "0")), []).append(r)

    plt = _pyplot()
    fig, axes = plt.subplots(len(series), 1, figsize=(7, 1.9 * len(series) + 0.6), sharex=True, squeeze=False)
    for ax, col in zip(axes[:, 0], series):
        for gpu, gr in sorted(by_gpu.items()):
            pts = [(_num(r["t_wall"]) - t0, _num(r.get(col))) for r in gr]  # type: ignore[operator]
            pts = [(t, v) for t, v in pts if v is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1, label=f"GPU {gpu}")
        ax.set_ylabel(col, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time since first sample (s)")
    fig.suptitle("GPU telemetry (NVML)", fontsize=9)
    fig.tight_layout()
    try:
        return save_png(fig, out_png, dpi=110)
    finally:
        plt.close(fig)
