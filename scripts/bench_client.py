#!/usr/bin/env python3
"""Self-benchmark of benchseal's perf client (the instrument, not a model).

Against benchseal's zero-delay test server (its own process, 127.0.0.1) it measures:

1. the maximum sustained streamed requests per second of the client (closed loop, high
   concurrency), for each ``--workers`` count (1 = one event loop; N = N sending processes);
2. the client's CPU time per request (getrusage of this process and its finished children);
3. open-loop arrival accuracy: send time minus scheduled time (``schedule_lag_ms``) p50/p99/max.

``--parsers httptools,h11`` runs the throughput runs once per HTTP response parser, interleaved
(repeat 1 of each, then repeat 2 of each, ...): ``httptools`` is the transport's own (llhttp);
``h11`` is the same transport with the framing done by h11 instead (an adapter in this script),
the measurement behind the choice recorded in docs/PERFORMANCE.md.

Each figure is the median of ``--repeats`` runs; the 1-minute load average is recorded at every
run (the build machine is shared). Requests go through the same path as ``benchseal perf``: the
load generator (``run_load_point``), every record written to a JSONL file as it completes, and
the summary computed by ``summarize_load_point``. Peer clients are compared by
scripts/bench_peers.py.

    .venv/bin/python scripts/bench_client.py --requests 4000 --tokens 8,64 --workers 1,2 --out /tmp/bench_client.json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import json
import os
import platform
import resource
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.loadgen import LoadPointPlan, run_load_point
from benchseal.bench.perf.metrics import summarize_load_point
from benchseal.testing.server import spawn
from benchseal.io import JsonlWriter


class H11ResponseParser:
    """The transport's ResponseParser interface with h11 doing the framing (for the comparison only)."""

    def __init__(self, on_head, on_body, on_end) -> None:
        import h11

        self._h11 = h11
        self._c = h11.Connection(h11.CLIENT, max_incomplete_event_size=65536)
        self._c.send(h11.Request(method="POST", target="/", headers=[("Host", "x"), ("Content-Length", "0")]))
        self._c.send(h11.EndOfMessage())
        self._cb = (on_head, on_body, on_end)
        self.status, self.headers, self.keep_alive, self._ended = 0, {}, True, False

    def _drain(self) -> None:
        h11 = self._h11
        pending = []
        try:
            while True:
                ev = self._c.next_event()
                if ev is h11.NEED_DATA or ev is h11.PAUSED:
                    break
                if isinstance(ev, h11.Response):
                    self.status = ev.status_code
                    self.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in ev.headers}
                    self.keep_alive = self.headers.get("connection", "").lower() != "close"
                    self._cb[0](self.status, self.headers)
                elif isinstance(ev, h11.Data):
                    pending.append(ev.data)
                elif isinstance(ev, h11.EndOfMessage):
                    self._ended = True
                    break
        except h11.RemoteProtocolError as exc:
            from benchseal.bench.perf.backends.transport import HttpProtocolError

            raise HttpProtocolError(f"invalid HTTP response: {exc}") from None
        finally:
            if pending:
                self._cb[1](pending[0] if len(pending) == 1 else b"".join(pending))
        if self._ended:
            self._cb[2]()

    def feed(self, data: bytes) -> None:
        if self._ended:
            return
        self._c.receive_data(data)
        self._drain()

    def eof(self) -> bool:
        if self._ended:
            return True
        self.keep_alive = False
        self._c.receive_data(b"")
        self._drain()
        return self._ended


def _use_parser(name: str) -> None:
    from benchseal.bench.perf.backends import transport

    if not hasattr(_use_parser, "native"):
        _use_parser.native = transport.ResponseParser  # type: ignore[attr-defined]
    transport.ResponseParser = H11ResponseParser if name == "h11" else _use_parser.native  # type: ignore[attr-defined]


def _cpu_s() -> float:
    r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def one_point(url: str, plan: LoadPointPlan, workers: int, out: Path) -> tuple:
    """One load point through the load generator; returns (summary, client CPU s, wall s)."""
    records = []

    async def main():
        be = OpenAIBackend(model="test-model", base_url=url)
        await be.start()
        try:
            with JsonlWriter(out) as w:
                def on_record(rec):
                    w.write(rec)
                    records.append(rec)
                return await run_load_point(be, plan, on_record, **({"workers": workers} if workers != 1 else {}))
        finally:
            await be.close()

    cpu0, wall0 = _cpu_s(), time.perf_counter()
    res = asyncio.run(main())
    cpu, wall = _cpu_s() - cpu0, time.perf_counter() - wall0
    s = summarize_load_point(records, load_point=plan.load_point, mode="rate" if plan.rate else "concurrency",
                             concurrency=plan.concurrency, rate=plan.rate, interrupted=res.interrupted)
    return s, cpu, wall


def _med(xs):
    return round(statistics.median(xs), 4) if xs else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=4000, help="counted requests per throughput run")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--tokens", default="8,64", help="streamed tokens per request (comma list)")
    ap.add_argument("--workers", default="1", help="sending processes to compare, e.g. 1,2")
    ap.add_argument("--rates", default="50,200,1000", help="open-loop rates for the arrival-accuracy check")
    ap.add_argument("--arrival-s", type=float, default=5.0, help="seconds of arrivals per rate")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--server-nice", type=int, default=0)
    ap.add_argument("--parsers", default="httptools", help="HTTP response parsers to compare: httptools,h11")
    ap.add_argument("--skip-arrival", action="store_true", help="only the throughput runs")
    ap.add_argument("--out", help="write the results as JSON here")
    a = ap.parse_args()
    results: dict = {
        "command": " ".join(shlex.quote(x) for x in ["scripts/bench_client.py", *sys.argv[1:]]),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": {"cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()},
        "loadavg_start": round(os.getloadavg()[0], 2), "throughput": [], "arrival": []}
    srv = spawn(nice=a.server_nice)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            parsers = [x for x in a.parsers.split(",") if x]
            for tokens in [int(x) for x in a.tokens.split(",") if x]:
                reqs = [GenRequest(request_id=i, prompt="a b c d e f g h", max_tokens=tokens) for i in range(64)]
                for workers in [int(x) for x in a.workers.split(",") if x]:
                    runs: dict[str, list] = {p: [] for p in parsers}
                    for rep in range(a.repeats):
                        for parser in parsers:  # interleaved, so load drift hits every parser alike
                            _use_parser(parser)
                            load = round(os.getloadavg()[0], 2)
                            plan = LoadPointPlan(load_point="tput", requests=reqs, concurrency=a.concurrency,
                                                 num_requests=a.requests, warmup=a.concurrency)
                            s, cpu, wall = one_point(srv.url, plan, workers, Path(tmp) / "r.jsonl")
                            sent = s.completed + s.failed + a.concurrency
                            runs[parser].append({"req_s": s.request_throughput, "failed": s.failed,
                                                 "cpu_us_per_request": cpu / sent * 1e6, "wall_s": wall, "loadavg": load})
                            print(f"tokens {tokens} workers {workers} parser {parser} rep {rep}: "
                                  f"{s.request_throughput:.0f} req/s", file=sys.stderr)
                    for parser in parsers:
                        rr = runs[parser]
                        results["throughput"].append({
                            "parser": parser, "tokens_per_request": tokens, "workers": workers, "concurrency": a.concurrency,
                            "requests": a.requests,
                            "streamed_requests_per_s": round(_med([r["req_s"] for r in rr]), 1),
                            "streamed_chunks_per_s": round(_med([r["req_s"] for r in rr]) * tokens, 1),
                            "client_cpu_us_per_request": round(_med([r["cpu_us_per_request"] for r in rr]), 1),
                            "failed": sum(r["failed"] for r in rr), "runs": rr})
            _use_parser("httptools")
            reqs = [GenRequest(request_id=i, prompt="a b c d e f g h", max_tokens=8) for i in range(64)]
            for rate in [] if a.skip_arrival else [float(x) for x in a.rates.split(",") if x]:
                runs = []
                for rep in range(a.repeats):
                    load = round(os.getloadavg()[0], 2)
                    plan = LoadPointPlan(load_point=f"rate={rate:g}", requests=reqs, rate=rate,
                                         num_requests=int(rate * a.arrival_s), seed=rep)
                    s, _, _ = one_point(srv.url, plan, 1, Path(tmp) / "a.jsonl")
                    lag = s.schedule_lag_ms
                    runs.append({"achieved_rate": s.request_throughput, "failed": s.failed, "lag_ms_p50": lag.p50,
                                 "lag_ms_p99": lag.p99, "lag_ms_max": lag.max, "loadavg": load})
                    print(f"rate {rate:g} rep {rep}: lag p50 {lag.p50:.3f} p99 {lag.p99:.3f} ms", file=sys.stderr)
                results["arrival"].append({
                    "rate": rate, "requests": int(rate * a.arrival_s), "failed": sum(r["failed"] for r in runs),
                    **{k: _med([r[k] for r in runs]) for k in ("achieved_rate", "lag_ms_p50", "lag_ms_p99", "lag_ms_max")},
                    "runs": runs})
    finally:
        srv.stop()
    results["loadavg_end"] = round(os.getloadavg()[0], 2)
    text = json.dumps(results, indent=2)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
