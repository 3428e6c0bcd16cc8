"""Report plots as PNG files under plots/ (matplotlib, imported lazily; no pyplot global state).

Our own: latency CDF and throughput vs concurrency (perf), peer comparison (eval). Telemetry over
time and the roofline come from :mod:`benchseal.reports.render.plots_utilisation`.
Plot labels are English (the default fonts have no CJK glyphs); the HTML captions are bilingual.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from benchseal import bundle as layout

from .png import figure, save_png
from .plots_utilisation import roofline_plot, telemetry_plot
from .view import BundleView

def latency_cdf(view: BundleView, out: Path) -> Path | None:
    from .tables import requests_frame

    df = requests_frame(view)
    if df.empty:
        return None
    ok = df[(df["status"] == "ok") & ~df["warmup"].astype(bool) & df["ttft_ms"].notna() & df["e2el_ms"].notna()]
    series = {str(lp): {"ttft": g["ttft_ms"].tolist(), "e2el": g["e2el_ms"].tolist()}
              for lp, g in ok.groupby("load_point", sort=False)}
    if not series:
        return None
    fig = figure()
    axes = fig.subplots(1, 2)
    for ax, key, label in ((axes[0], "ttft", "TTFT (ms)"), (axes[1], "e2el", "End-to-end latency (ms)")):
        for lp, vals in series.items():
            xs = sorted(vals[key])
            ax.step(xs, [(i + 1) / len(xs) for i in range(len(xs))], where="post", label=lp)
        ax.set_xlabel(label)
        ax.set_ylabel("fraction of requests")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    return save_png(fig, out)


def throughput(view: BundleView, out: Path) -> Path | str | None:
    """Two panels on their own axes: requests/s and output tokens/s against the load."""
    points = [lp for lp in (view.perf or {}).get("load_points", []) if lp.get("concurrency") or lp.get("rate")]
    if not points:
        return None
    by_conc = all(lp.get("concurrency") for lp in points)
    key = "concurrency" if by_conc else "rate"
    points = sorted(points, key=lambda lp: lp.get(key) or 0)
    xs = [lp[key] for lp in points]
    fig = figure(8.0, 3.2)
    axes = fig.subplots(1, 2)
    for ax, field, label, colour in ((axes[0], "request_throughput", "requests/s", "tab:orange"),
                                     (axes[1], "output_token_throughput", "output tokens/s", "tab:blue")):
        ax.plot(xs, [lp.get(field) or 0 for lp in points], marker="o", color=colour)
        ax.set_xlabel("concurrency" if by_conc else "request rate (req/s)")
        ax.set_ylabel(label)
        ax.set_title(label, fontsize=9)
        ax.set_ylim(bottom=0)
        if by_conc:
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.minorticks_off()
        ax.grid(alpha=0.3)
    return save_png(fig, out)


def peers(view: BundleView, out: Path) -> Path | str | None:
    """Bars per benchmark: the candidate and every comparable peer row of each suite's
    ``extra.comparison`` (a benchseal.evaluators.peers.ComparisonTable; scores in percent)."""
    scores: dict[str, dict[str, float]] = {}  # benchmark label -> model -> score
    tables = {s: (rep.get("extra") or {}).get("comparison") for s, rep in view.evals.items()}
    tables = {s: t for s, t in tables.items() if isinstance(t, dict) and t.get("rows")}
    for suite, table in tables.items():
        for r in table["rows"]:
            if not isinstance(r, dict) or not r.get("comparable") or r.get("score") is None:
                continue
            label = (f"{suite}\n" if len(tables) > 1 else "") + str(r.get("benchmark"))
            name = "this model" if r.get("origin") == "candidate" else f"{r.get('model')} ({r.get('origin')})"
            scores.setdefault(label, {})[name] = float(r["score"])
    if not scores:
        return "no peer comparison in the bundle (no eval suite compared this model with peers)"
    if not any(n != "this model" for sc in scores.values() for n in sc):
        return "no comparable peer rows in the bundle (same protocol): nothing to compare this model with"
    names = ["this model"] + sorted({n for s in scores.values() for n in s} - {"this model"})
    fig = figure(max(5.0, 1.1 * len(scores) + 3), 3.8)
    ax = fig.subplots()
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        ax.bar([i + j * width for i in range(len(scores))], [s.get(name, 0.0) for s in scores.values()], width, label=name)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(scores))], list(scores), fontsize=7)
    ax.set_ylabel("score (%)")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return save_png(fig, out)


def telemetry(view: BundleView, out: Path) -> Path | None:
    if view.telemetry_path is None:
        return None
    telemetry_plot(view.telemetry_path, out)
    return out if out.is_file() else None


def _gpu_peak_known(hardware: dict[str, Any]) -> bool:
    return any(((g.get("peak") or {}).get("tflops") or {}) and (g.get("peak") or {}).get("memory_bandwidth_gbs")
               for g in hardware.get("gpus") or [])


def roofline(view: BundleView, out: Path) -> Path | str | None:
    if not view.perf or not view.hardware or not view.model:
        return None
    if not _gpu_peak_known(view.hardware):
        return ("no GPU peak in hardware.json (CPU-only run, or a GPU without a datasheet entry): a roofline needs the "
                "GPU's peak FLOP/s and memory bandwidth, so none is drawn")
    from benchseal.schema import HardwareReport, LoadPointSummary

    summaries = [LoadPointSummary.model_validate(lp) for lp in view.perf.get("load_points", [])]
    roofline_plot(summaries, HardwareReport.model_validate(view.hardware), view.model.get("config") or {}, view.model.get("dtype"), out)
    return out if out.is_file() else None


# name -> (function, i18n caption key); a function returns the PNG, or a reason (str) / None for no plot
PLOTS: dict[str, tuple[Callable[[BundleView, Path], Path | str | None], str]] = {
    "latency_cdf": (latency_cdf, "plot_latency_cdf"),
    "throughput": (throughput, "plot_throughput"),
    "telemetry": (telemetry, "plot_telemetry"),
    "peers": (peers, "plot_peers"),
    "roofline": (roofline, "plot_roofline"),
}


def make_plots(view: BundleView, out_dir: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Draw every plot that has evidence into ``out_dir/plots``. Returns (written, skipped-with-reason)."""
    written: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    for name, (fn, _) in PLOTS.items():
        try:
            path = fn(view, out_dir / layout.PLOTS_DIR / f"{name}.png")
        except Exception as exc:  # a plot must never sink the report; the reason is shown instead
            skipped[name] = f"{type(exc).__name__}: {exc}"
            path = None
        if isinstance(path, Path):
            written[name] = path
            continue
        if name not in skipped:
            skipped[name] = path if isinstance(path, str) else "no evidence for this plot in the bundle"
        (out_dir / layout.PLOTS_DIR / f"{name}.png").unlink(missing_ok=True)  # no stale plot from an earlier render
    return written, skipped
