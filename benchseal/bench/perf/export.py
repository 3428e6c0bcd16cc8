"""``--export csv|parquet``: the request table and the summary table of a perf run, for analysis.

Writes ``perf/requests.<fmt>`` (one row per request: every RequestRecord field plus the derived
ttft_ms, tpot_ms, e2el_ms, schedule_lag_ms, n_chunks; ``chunk_s`` as a JSON list in CSV) and
``perf/summary.<fmt>`` (one row per load point; statistics flattened as ``ttft_ms.p99`` …).
Both are derived from ``perf/requests.jsonl`` and ``perf/summary.json``, never the other way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchseal.errors import UsageError
from benchseal.io import iter_jsonl, read_json
from benchseal.bundle import PERF_DIR, PERF_REQUESTS, PERF_SUMMARY
from benchseal.schema import RequestRecord

FORMATS = ("csv", "parquet")
_INT_COLS = ("prompt_tokens", "output_tokens", "prompt_tokens_server", "output_tokens_server",
             "prompt_tokens_client", "output_tokens_client", "max_tokens", "http_status", "prompt_id")


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, list):
            out[key] = json.dumps(v, ensure_ascii=False)
        else:
            out[key] = v
    return out


def tables(bundle_dir: str | Path):
    """(requests DataFrame, summary DataFrame) of the perf run in ``bundle_dir``."""
    import pandas as pd

    from benchseal.bench.perf.metrics import records_frame

    root = Path(bundle_dir)
    records = [RequestRecord.model_validate(r) for r in iter_jsonl(root / PERF_REQUESTS)]
    req = records_frame(records)
    for col in _INT_COLS:
        if col in req:
            req[col] = req[col].astype("Int64")
    summary = read_json(root / PERF_SUMMARY)
    rows = [_flatten(lp) for lp in summary.get("load_points", [])]
    summ = pd.DataFrame(rows)
    return req, summ


def export_tables(bundle_dir: str | Path, fmt: str) -> list[Path]:
    """Write perf/requests.<fmt> and perf/summary.<fmt>; returns the paths."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format '{fmt}'", hint=f"choose one of {', '.join(FORMATS)}")
    req, summ = tables(bundle_dir)
    out = Path(bundle_dir) / PERF_DIR
    paths = [out / f"requests.{fmt}", out / f"summary.{fmt}"]
    if fmt == "csv":
        req = req.copy()
        for col in ("chunk_s", "chunk_tokens"):
            req[col] = req[col].map(lambda v: json.dumps(v) if v is not None else "")
        req.to_csv(paths[0], index=False)
        summ.to_csv(paths[1], index=False)
    else:
        req.to_parquet(paths[0], index=False)
        summ.to_parquet(paths[1], index=False)
    return paths
