"""The bundle as pandas DataFrames (claims, load_points, eval, hardware, compute, requests), and
their CSV / Parquet export for the applicant's own spreadsheets. pandas is imported lazily."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from benchseal.errors import UsageError

from .view import BundleView, load_view

STAT_KEYS = ("n", "mean", "p50", "p90", "p95", "p99", "max")
EXPORT_FORMATS = ("csv", "parquet")


def _text(v: Any) -> str | None:
    """A mixed-type value (bool / number / string) as text, so every column has one type."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _claims_rows(view: BundleView) -> list[dict[str, Any]]:
    rows = []
    for v in (view.claims or {}).get("verdicts", []):
        rows.append({
            "claim_id": v["claim_id"], "status": v["status"], "severity": v["severity"],
            "title_zh": v.get("title_zh"), "title_en": v.get("title_en"),
            "clause_zh": v.get("clause_zh"), "clause_en": v.get("clause_en"),
            "metric": v["metric"], "op": v["op"], "threshold": _text(v.get("threshold")), "unit": v.get("unit"),
            "observed": _text(v.get("observed")), "observed_value": _num(v.get("observed")), "margin": _num(v.get("margin")),
            "reason": v["reason"], "evidence": ";".join(v.get("evidence") or []),
        })
    return rows


def _load_point_rows(view: BundleView) -> list[dict[str, Any]]:
    rows = []
    for lp in (view.perf or {}).get("load_points", []):
        row = {k: lp.get(k) for k in ("load_point", "mode", "concurrency", "rate", "duration_s", "completed", "failed",
                                      "request_throughput", "output_token_throughput", "total_token_throughput", "goodput")}
        for metric in ("ttft_ms", "tpot_ms", "itl_ms", "e2el_ms"):
            stats = lp.get(metric) or {}
            for k in STAT_KEYS:
                row[f"{metric}_{k}"] = _num(stats.get(k))
        util, energy = lp.get("utilisation") or {}, lp.get("energy") or {}
        row.update({"output_tokens_per_s_per_gpu": _num(util.get("output_tokens_per_s_per_gpu")),
                    "mfu": _num(util.get("mfu")), "mbu": _num(util.get("mbu")),
                    "energy_j": _num(energy.get("energy_j")), "avg_power_w": _num(energy.get("avg_power_w"))})
        rows.append(row)
    return rows


def _eval_rows(view: BundleView) -> list[dict[str, Any]]:
    rows = []
    for suite, rep in view.evals.items():
        for r in rep.get("results", []):
            rows.append({"suite": suite, "task": r.get("task"), "metric": r.get("metric"), "filter": r.get("filter"),
                         "value": _num(r.get("value")), "stderr": _num(r.get("stderr")), "n": r.get("n"),
                         "num_fewshot": r.get("num_fewshot"), "claim_grade": bool(rep.get("claim_grade")),
                         "backend": rep.get("backend"), "lm_eval_version": rep.get("lm_eval_version")})
    return rows


def _hardware_rows(view: BundleView) -> list[dict[str, Any]]:
    hw = view.hardware or {}
    host = (hw.get("host") or {}).get("hostname")
    rows = []
    for g in hw.get("gpus", []):
        peak = g.get("peak") or {}
        mem = g.get("memory_total_bytes")
        rows.append({"host": host, "index": g.get("index"), "name": g.get("name"), "uuid": g.get("uuid"),
                     "memory_gib": _num(mem) / 2**30 if _num(mem) else None, "driver_version": g.get("driver_version"),
                     "cuda_driver_version": g.get("cuda_driver_version"), "compute_capability": g.get("compute_capability"),
                     "power_limit_w": _num(g.get("power_limit_w")), "ecc_enabled": _text(g.get("ecc_enabled")),
                     "mig_enabled": _text(g.get("mig_enabled")), "spec_id": peak.get("spec_id"),
                     "peak_bf16_tflops": _num((peak.get("tflops") or {}).get("bf16")),
                     "memory_bandwidth_gbs": _num(peak.get("memory_bandwidth_gbs"))})
    return rows


def _compute_rows(view: BundleView) -> list[dict[str, Any]]:
    rows = []
    for r in ((view.hardware or {}).get("compute") or {}).get("rows", []):
        row = {k: r.get(k) for k in ("server", "vendor", "model", "count", "spec_id")}
        for dtype, v in sorted((r.get("tflops_total") or {}).items()):
            row[f"tflops_total_{dtype}"] = _num(v)
        rows.append(row)
    return rows


_INT_COLS = ("prompt_tokens", "output_tokens", "prompt_tokens_server", "output_tokens_server",
             "prompt_tokens_client", "output_tokens_client", "max_tokens", "http_status", "prompt_id")


def requests_frame(view: BundleView):
    """The request table: :func:`benchseal.bench.perf.metrics.records_frame` of the bundle's records —
    the same frame (and so the same TTFT/TPOT/E2EL) the summary is computed from; plots and exports
    read this, never their own arithmetic. Integer columns stay integers (nullable)."""
    from benchseal.bench.perf.metrics import records_frame
    from benchseal.schema import RequestRecord

    df = records_frame([RequestRecord.model_validate(r) for r in view.requests()])
    for col in _INT_COLS:
        if col in df:
            df[col] = df[col].astype("Int64")
    return df


def _request_rows(view: BundleView):
    return requests_frame(view)


TABLES: dict[str, Callable[[BundleView], list[dict[str, Any]]]] = {
    "claims": _claims_rows,
    "load_points": _load_point_rows,
    "eval": _eval_rows,
    "hardware": _hardware_rows,
    "compute": _compute_rows,
    "requests": _request_rows,
}


# Columns of a table whose evidence is missing (so an empty export still has its header row).
EMPTY_COLUMNS: dict[str, list[str]] = {
    "claims": ["claim_id", "status", "severity", "metric", "op", "threshold", "unit", "observed", "margin", "reason"],
    "load_points": ["load_point", "mode", "concurrency", "completed", "failed", "output_token_throughput"],
    "eval": ["suite", "task", "metric", "value", "stderr", "n", "claim_grade"],
    "hardware": ["host", "index", "name", "uuid", "memory_gib"],
    "compute": ["server", "vendor", "model", "count", "spec_id"],
    "requests": ["load_point", "request_id", "status", "ttft_ms", "e2el_ms"],
}


def bundle_tables(bundle_dir: str | Path | BundleView) -> dict[str, Any]:
    """{table name: pandas.DataFrame}; a table whose evidence is missing is empty (header only)."""
    import pandas as pd

    view = bundle_dir if isinstance(bundle_dir, BundleView) else load_view(bundle_dir)
    out = {}
    for name, build in TABLES.items():
        rows = build(view)
        if isinstance(rows, pd.DataFrame):
            out[name] = rows if not rows.empty else pd.DataFrame(columns=EMPTY_COLUMNS[name])
        else:
            out[name] = pd.DataFrame(rows) if rows else pd.DataFrame(columns=EMPTY_COLUMNS[name])
    return out


def export_tables(bundle_dir: str | Path | BundleView, out_dir: str | Path, fmt: str, *,
                  only: dict[str, str] | None = None) -> list[Path]:
    """Write one file per table (``<out_dir>/<table>.csv`` or ``.parquet``); returns the paths.
    ``only`` = {table: file stem} writes just those tables under those names (``benchseal perf
    --export`` writes ``perf/requests`` and ``perf/summary``: the same tables, the same writer).

    CSV is UTF-8 with a byte-order mark so spreadsheet programs show the Chinese text correctly;
    list-valued cells (chunk times) are JSON.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown table format {fmt!r}", hint="use csv or parquet")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in bundle_tables(bundle_dir).items():
        if only is not None and name not in only:
            continue
        path = out / f"{(only or {}).get(name, name)}.{fmt}"
        tmp = path.with_name(f".{path.name}.tmp")
        if fmt == "csv":
            df = df.copy()
            for col in df.columns:
                if df[col].map(lambda v: isinstance(v, (list, dict))).any():
                    df[col] = df[col].map(lambda v: json.dumps(v) if isinstance(v, (list, dict)) else v)
            df.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            df.to_parquet(tmp, index=False)
        tmp.replace(path)
        paths.append(path)
    return paths
