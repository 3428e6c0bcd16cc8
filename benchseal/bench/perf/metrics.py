"""Latency and throughput metrics of one load point, computed from the raw request records only.

Pure and deterministic: the same records give the same summary, so ``benchseal verify`` can
recompute every summary from ``perf/requests.jsonl``. Definitions (docs/metrics.md):

- counted requests: ``warmup == False``; completed: ``status == "ok"``; failed: every other status
- stopped early: completed requests whose stream carried no text (the model stopped at once); they
  have no TTFT (excluded from it), and count in E2EL and throughput with their output tokens
- failure causes: ``cause`` of each failed request (for records without one, the error message's
  prefix, else the status); the dominant failure is the most frequent cause
- TTFT = first_token_s − send_s; E2EL = end_s − send_s (completed requests)
- TTFC (time to first content) = first_content_s − send_s (first_token_s where not recorded)
- TPOT = (E2EL − TTFT) / (output_tokens − 1), per completed request with output_tokens ≥ 2
- ITL = every gap between consecutive text chunks of a completed request, pooled
- duration_s = max(end_s) − min(send_s) over counted requests
- throughputs = completed requests / output tokens / (prompt + output) tokens of completed
  requests, divided by duration_s; goodput = completed requests meeting every SLO / duration_s
- statistics: mean, population stdev (ddof 0), min, max, and percentiles with linear interpolation
  (numpy's default; the same as vLLM ``bench serve``)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from benchseal.redact import scrub as _scrub
from benchseal.schema import DominantFailure, LoadPointSummary, PerfReport, RequestRecord, Stats

SLO_KEYS = ("ttft_ms", "tpot_ms", "itl_ms", "e2el_ms")
_NUMERIC = ("scheduled_s", "send_s", "first_token_s", "first_content_s", "end_s", "prompt_tokens", "output_tokens",
            "prompt_tokens_server", "output_tokens_server", "prompt_tokens_client", "output_tokens_client", "max_tokens")
LENGTH_TOLERANCE = 0  # output tokens must equal max_tokens exactly when the length was enforced


def stats(values: Iterable[float], intervals: bool = False) -> Stats:
    """Stats of a sequence (pandas; linear-interpolated percentiles, population stdev); with
    ``intervals``, the 95% intervals of bench.perf.uncertainty in ``ci95``."""
    import pandas as pd

    s = pd.Series(list(values), dtype="float64").dropna()
    n = int(s.size)
    if n == 0:
        return Stats(n=0)
    q = s.quantile([0.5, 0.9, 0.95, 0.99], interpolation="linear")
    ci = None
    if intervals:
        from benchseal.bench.perf.uncertainty import stats_intervals

        ci = stats_intervals(s.to_numpy().tolist(), float(s.mean()), float(s.std(ddof=0)))
    return Stats(
        n=n,
        mean=float(s.mean()),
        stdev=float(s.std(ddof=0)),
        min=float(s.min()),
        p50=float(q.loc[0.5]),
        p90=float(q.loc[0.9]),
        p95=float(q.loc[0.95]),
        p99=float(q.loc[0.99]),
        max=float(s.max()),
        ci95=ci,
    )


def records_frame(records: list[RequestRecord]):
    """One row per record (the request table; also what ``--export`` writes)."""
    import pandas as pd

    rows = [r.model_dump() if isinstance(r, RequestRecord) else dict(r) for r in records]
    cols = list(RequestRecord.model_fields)
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return df
    for c in _NUMERIC:
        df[c] = pd.to_numeric(df[c]).astype("float64")
    df["ttft_ms"] = (df["first_token_s"] - df["send_s"]) * 1e3
    df["e2el_ms"] = (df["end_s"] - df["send_s"]) * 1e3
    df["ttfc_ms"] = (df["first_content_s"].fillna(df["first_token_s"]) - df["send_s"]) * 1e3
    out = df["output_tokens"].astype("float64")
    df["tpot_ms"] = (df["e2el_ms"] - df["ttft_ms"]).where(out >= 2) / (out - 1).where(out >= 2)
    df["schedule_lag_ms"] = (df["send_s"] - df["scheduled_s"]) * 1e3
    df["n_chunks"] = df["chunk_s"].map(len)
    return df


def _error_class(error: Any, status: str) -> str:
    if isinstance(error, str) and error:
        head = error.split(":", 1)[0].strip()
        if head and len(head) <= 40 and " " not in head:
            return head
    return status


_LEGACY_CAUSES = {"malformed-sse": "malformed-event", "protocol": "framing", "empty-stream": "truncated"}


def _legacy_cause(error_class: str, status: str) -> str:
    """The cause of a record written without one (other backends, older bundles): the error
    message's prefix, with HTTP statuses folded into ``http-status``."""
    if error_class.startswith("http-") and error_class[5:].isdigit():
        return "http-status"
    return _LEGACY_CAUSES.get(error_class, error_class)


MOSTLY_FAILED = 0.5  # a load point where more than this share of counted requests failed fails the run


def mostly_failed(report: PerfReport, requests_path: Path | None = None) -> str | None:
    """One sentence naming the dominant failure cause of every load point where most counted
    requests failed (``failed / counted > MOSTLY_FAILED``), or None. Uses the summary's
    ``dominant_failure`` when it has one, else its error classes and the first such record's error."""
    parts = []
    for lp in report.load_points:
        counted = lp.completed + lp.failed
        if not counted or lp.failed / counted <= MOSTLY_FAILED:
            continue
        dom = getattr(lp, "dominant_failure", None)
        if dom is not None:
            cause, count, example = dom.cause, dom.count, dom.example
        elif lp.errors:
            cause, count = max(lp.errors.items(), key=lambda kv: (kv[1], kv[0]))
            example = _first_error(requests_path, lp.load_point, cause)
        else:
            cause, count, example = "unknown", lp.failed, None
        ex = f" (e.g. {_scrub(example)[:200]})" if example else ""
        parts.append(f"load point {lp.load_point}: {lp.failed} of {counted} requests failed, "
                     f"most with cause {cause} ({count}){ex}")
    return "; ".join(parts) if parts else None


def _first_error(path: Path | None, load_point: str, cause: str) -> str | None:
    if path is None or not Path(path).exists():
        return None
    from benchseal.io import iter_jsonl

    for rec in iter_jsonl(path):
        err = rec.get("error") if isinstance(rec, dict) else None
        if rec.get("load_point") == load_point and not rec.get("warmup") and isinstance(err, str) and (
                err.startswith(cause) or rec.get("status") == cause):
            return err
    return None


def _token_accounting(ok) -> dict[str, Any]:
    """Server usage vs client tokenizer, and the output length vs the requested length (MLPerf TEST06-like)."""
    acc: dict[str, Any] = {"requests": int(len(ok))}
    if ok.empty:
        return acc
    srv, cli = ok["output_tokens_server"], ok["output_tokens_client"]
    both = srv.notna() & cli.notna()
    acc["output_server_reported"] = int(srv.notna().sum())
    acc["output_client_counted"] = int(cli.notna().sum())
    acc["output_compared"] = int(both.sum())
    acc["output_mismatch"] = int((both & (srv != cli)).sum())
    acc["output_mismatch_tokens"] = int((srv[both] - cli[both]).abs().sum())
    psrv, pcli = ok["prompt_tokens_server"], ok["prompt_tokens_client"]
    pboth = psrv.notna() & pcli.notna()
    acc["prompt_compared"] = int(pboth.sum())
    acc["prompt_mismatch"] = int((pboth & (psrv != pcli)).sum())
    acc["output_from_chunk_count"] = int((srv.isna() & cli.isna()).sum())
    has_max = ok["max_tokens"].notna() & ok["output_tokens"].notna()
    acc["length_checked"] = int(has_max.sum())
    acc["length_short"] = int((has_max & (ok["output_tokens"] < ok["max_tokens"] - LENGTH_TOLERANCE)).sum())
    acc["length_long"] = int((has_max & (ok["output_tokens"] > ok["max_tokens"] + LENGTH_TOLERANCE)).sum())
    flags = []
    if acc["output_mismatch"]:
        flags.append(f"{acc['output_mismatch']} of {acc['output_compared']} requests: server and client output token counts differ")
    if acc["prompt_mismatch"]:
        flags.append(f"{acc['prompt_mismatch']} of {acc['prompt_compared']} requests: server and client prompt token counts differ")
    if acc["length_long"]:
        flags.append(f"{acc['length_long']} requests returned more tokens than max_tokens")
    if acc["length_short"]:
        flags.append(f"{acc['length_short']} requests returned fewer tokens than max_tokens")
    if acc["output_from_chunk_count"]:
        flags.append(f"{acc['output_from_chunk_count']} requests have no token count (server or client); chunks counted")
    acc["flags"] = flags
    return acc


def summarize_load_point(
    records: list[RequestRecord],
    *,
    load_point: str,
    mode: str,
    concurrency: int | None = None,
    rate: float | None = None,
    burstiness: float | None = None,
    started_at: str | None = None,
    slo: dict[str, float] | None = None,
    ended_at: str | None = None,
    interrupted: bool = False,
    first_content: bool = True,
    intervals: bool = True,
    repeat: int | None = None,
    client_ceiling: dict[str, Any] | None = None,
) -> LoadPointSummary:
    """The summary of one load point from its records (pure; see the module docstring)."""
    import numpy as np

    slo = dict(slo or {})
    unknown = sorted(set(slo) - set(SLO_KEYS))
    if unknown:
        raise ValueError(f"unknown SLO keys {unknown}; use {', '.join(SLO_KEYS)}")
    mine = [r for r in records if r.load_point == load_point]
    df = records_frame(mine)
    if df.empty:
        counted = df
        warm = 0
    else:
        counted = df[~df["warmup"].astype(bool)]
        warm = int(df["warmup"].astype(bool).sum())
    ok = counted[counted["status"] == "ok"] if not counted.empty else counted
    failed = counted[counted["status"] != "ok"] if not counted.empty else counted

    if counted.empty:
        duration = 0.0
    else:
        ends = counted["end_s"].fillna(counted["send_s"])
        duration = float(ends.max() - counted["send_s"].min())

    itl: list[float] = []
    for chunks in ok["chunk_s"] if not ok.empty else ():
        if len(chunks) > 1:
            itl.extend((np.diff(np.asarray(chunks, dtype="float64")) * 1e3).tolist())

    def per_s(x: float) -> float:
        return float(x / duration) if duration > 0 else 0.0

    out_tokens = float(ok["output_tokens"].fillna(0).sum()) if not ok.empty else 0.0
    in_tokens = float(ok["prompt_tokens"].fillna(0).sum()) if not ok.empty else 0.0

    goodput = None
    if slo and not ok.empty:
        good = np.ones(len(ok), dtype=bool)
        for key, limit in slo.items():
            if key == "itl_ms":
                vals = ok["chunk_s"].map(lambda c: float(np.max(np.diff(c)) * 1e3) if len(c) > 1 else 0.0)
            else:
                vals = ok[key].fillna(0.0)  # TPOT is undefined for one-token outputs: counts as met
            good &= (vals <= limit).to_numpy()
        goodput = per_s(float(good.sum()))
    elif slo:
        goodput = 0.0

    errors: dict[str, int] = {}
    causes: dict[str, int] = {}
    examples: dict[str, str | None] = {}
    for err, status, cause in zip(failed["error"], failed["status"], failed["cause"]) if not failed.empty else ():
        k = _error_class(err, status)
        errors[k] = errors.get(k, 0) + 1
        c = cause if isinstance(cause, str) and cause else _legacy_cause(k, status)
        causes[c] = causes.get(c, 0) + 1
        examples.setdefault(c, err if isinstance(err, str) else None)
    dominant = None
    if causes:
        top = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        dominant = DominantFailure(cause=top, count=causes[top], share=causes[top] / len(counted), example=examples[top])
    stopped_early = int((ok["chunk_s"].map(len) == 0).sum()) if not ok.empty else 0

    lag = None
    if not counted.empty and counted["scheduled_s"].notna().any():
        lag = stats(counted["schedule_lag_ms"])

    def col(name: str) -> Stats:
        return stats(ok[name], intervals) if not ok.empty else Stats(n=0)

    tput_ci = None
    if intervals:
        from benchseal.bench.perf.uncertainty import throughput_intervals

        tput_ci = throughput_intervals(len(ok), duration, out_tokens, out_tokens + in_tokens)
    from benchseal.bench.perf.client_bound import client_bound

    bound = client_bound(per_s(len(ok)), client_ceiling)
    steady = None
    if intervals and not counted.empty:  # written with the intervals (summaries from before have neither)
        from benchseal.bench.perf.repeats import steady_state

        steady = steady_state(ok["send_s"].tolist(), ok["end_s"].tolist(), ok["output_tokens"].fillna(0).tolist(),
                              counted["send_s"].tolist())

    return LoadPointSummary(
        load_point=load_point,
        mode=mode,  # type: ignore[arg-type]
        concurrency=concurrency,
        rate=rate,
        burstiness=burstiness,
        started_at=started_at,
        ended_at=ended_at,
        duration_s=duration,
        completed=int(len(ok)),
        failed=int(len(failed)),
        warmup_excluded=warm,
        ttft_ms=col("ttft_ms"),
        tpot_ms=col("tpot_ms"),
        itl_ms=stats(itl, intervals),
        e2el_ms=col("e2el_ms"),
        request_throughput=per_s(len(ok)),
        output_token_throughput=per_s(out_tokens),
        total_token_throughput=per_s(out_tokens + in_tokens),
        goodput=goodput,
        slo=slo,
        token_accounting=_token_accounting(ok),
        errors=dict(sorted(errors.items())),
        stopped_early=stopped_early,
        failure_causes=dict(sorted(causes.items())),
        dominant_failure=dominant,
        schedule_lag_ms=lag,
        interrupted=interrupted,
        ttfc_ms=col("ttfc_ms") if first_content else None,
        throughput_ci95=tput_ci,
        repeat=repeat,
        steady_state=steady,
        client_ceiling=client_ceiling,
        client_bound_fraction=bound[0],
        client_bound=bound[1],
    )


def summarize_like(previous: LoadPointSummary | dict, records: list[RequestRecord]) -> LoadPointSummary:
    """Recompute one load point with the spec fields of an existing summary; utilisation and energy
    (computed elsewhere from telemetry) are carried over unchanged."""
    p = previous if isinstance(previous, dict) else previous.model_dump(mode="json")
    s = summarize_load_point(
        records,
        load_point=p["load_point"],
        mode=p["mode"],
        concurrency=p.get("concurrency"),
        rate=p.get("rate"),
        burstiness=p.get("burstiness"),
        started_at=p.get("started_at"),
        ended_at=p.get("ended_at"),
        slo=p.get("slo") or None,
        interrupted=bool(p.get("interrupted", False)),
        first_content=p.get("ttfc_ms") is not None,  # a summary written before TTFC was recorded has none
        intervals=(p.get("throughput_ci95") is not None or p.get("steady_state") is not None
                   or bool((p.get("ttft_ms") or {}).get("ci95"))),
        repeat=p.get("repeat"),
        client_ceiling=p.get("client_ceiling"),
    )
    return s.model_copy(update={"utilisation": p.get("utilisation"), "energy": p.get("energy")})


def recompute_perf_report(summary: dict, records: list[RequestRecord]) -> PerfReport:
    """Rebuild the whole report from summary.json's spec fields and the raw records."""
    recs = [r if isinstance(r, RequestRecord) else RequestRecord.model_validate(r) for r in records]
    lps = [summarize_like(lp, recs) for lp in summary.get("load_points", [])]
    top = {k: v for k, v in summary.items() if k != "load_points"}
    fresh = [lp.model_dump(mode="json") for lp in lps]
    if top.get("repeat_spread") is not None:
        from benchseal.bench.perf.repeats import repeat_spread

        top["repeat_spread"] = repeat_spread(fresh)
    if isinstance(top.get("search"), dict) and isinstance(top["search"].get("spec"), dict):
        from benchseal.bench.perf.search import SearchSpec, evaluate

        top["search"] = evaluate(SearchSpec.model_validate(top["search"]["spec"]), fresh)
    return PerfReport.model_validate({**top, "load_points": fresh})
