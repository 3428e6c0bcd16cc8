"""Scraping: ``GET`` the metrics URL around and during every load point, bounded in size and time,
every attempt written with its body to ``perf/server_scrapes.jsonl`` as it happens."""

from __future__ import annotations

import asyncio
import datetime as _dt
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchseal.bench.perf.server_metrics.derive import _finished_between, derive_load_point
from benchseal.bundle import PERF_SERVER_METRICS, PERF_SERVER_SCRAPES
from benchseal.schema import RequestRecord, ServerMetricsReport

MAX_BYTES = 4 << 20  # a larger response is not stored and counts as a failed scrape
TIMEOUT_S = 5.0  # the whole exchange (connect, headers, body)
END_SETTLE_S = 2.0  # at a load point's end, rescrape until the server has counted every request (at most this long)
DEFAULT_INTERVAL_S = 2.0
MIN_INTERVAL_S, MAX_INTERVAL_S = 0.01, 3600.0  # --server-metrics-interval


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

    def __post_init__(self) -> None:
        import math

        if not (isinstance(self.interval_s, (int, float)) and math.isfinite(self.interval_s)
                and MIN_INTERVAL_S <= self.interval_s <= MAX_INTERVAL_S):
            raise ValueError(f"the server-metrics interval must be {MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g} s")
        if self.url is not None and not self.url.strip():
            raise ValueError("the server-metrics URL is empty")


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
           headers: dict[str, str] | None = None, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """One bounded ``GET url`` (:func:`benchseal.io.http_request`: ``timeout_s`` for the whole
    exchange, however slowly the head or body drips; no redirect followed). Never raises: returns
    ``{ok, http_status, error, bytes, elapsed_ms, body}`` (body only when ok). The body and the error
    are scrubbed of ``secrets`` and every registered secret (benchseal.redact) before anything keeps them."""
    import http.client

    from benchseal.io import http_request, redirect_refusal
    from benchseal.redact import scrub, scrub_bytes

    t0 = time.monotonic()
    out: dict[str, Any] = {"ok": False, "http_status": None, "error": None, "bytes": 0, "elapsed_ms": None, "body": None}
    try:
        reply = http_request(url, headers={"Accept": "text/plain;version=0.0.4;q=1.0, */*;q=0.1",
                                           "Accept-Encoding": "identity", **(headers or {})},
                             timeout_s=timeout_s, limit=max_bytes, what="the metrics response")
        out["http_status"] = reply.status
        out["bytes"] = len(reply.body)
        enc = reply.headers.get("content-encoding", "identity")
        refused = redirect_refusal(reply, url, "the metrics URL")
        if refused:
            out["error"] = refused
        elif reply.status == 404:
            out["error"] = "HTTP 404: the server exposes no metrics at this URL"
        elif reply.status != 200:
            out["error"] = f"HTTP {reply.status}"
        elif enc.lower() not in ("identity", ""):
            out["error"] = f"unrequested Content-Encoding {enc[:40]!r}"
        else:
            out["ok"] = True
            out["body"] = scrub_bytes(reply.body, secrets).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    if out["error"]:
        out["error"] = scrub(str(out["error"]), secrets)[:300]
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
        self._secrets: tuple[str, ...] = (key,) if key else ()
        if key:
            from benchseal.redact import register_secret

            register_secret(key)
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
        res = scrape(self.url, headers=self.headers, secrets=self._secrets) if self.url else {"ok": False, "error": self.dead_reason}
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


__all__ = ["Collector", "DEFAULT_INTERVAL_S", "MAX_BYTES", "ServerMetricsOptions", "TIMEOUT_S", "discover_url",
           "scrape"]
