#!/usr/bin/env python3
"""benchseal's perf client against a minimal asyncio streaming client, side by side (issue 25).

Both clients run in this process, interleaved repeat by repeat (benchseal, lean, benchseal, lean,
...), against ONE benchseal test server process with zero delay on 127.0.0.1: ``--requests``
streamed requests of ``--tokens`` output tokens each at closed-loop concurrency
``--concurrency``. Reported: each client's requests/s (completed / first send to last end), the
median over ``--repeats``, and the ratio benchseal / lean. With ``--busy`` the same runs are
repeated while a separate busy-loop process occupies one core (the shared-machine condition).

- **benchseal**: what ``benchseal perf`` runs: ``OpenAIBackend`` through ``run_load_point`` (the
  load generator, garbage collector paused), every record written to a JSONL file as it completes.
- **lean**: ``asyncio.open_connection`` per worker, one pre-encoded HTTP/1.1 request written per
  turn, the chunked SSE response read to its last chunk with ``readuntil``; it keeps only the send,
  first-byte and end times of each request. No parsing of events, no records, no JSON.

Both send the same bytes: the lean client writes benchseal's own encoded requests (the same 64
prompts, in the same order, with the same headers and body fields), so the server does the same work
for each and the ratio is the clients' difference alone. (Until 2026-12-08 the lean client sent a
shorter body without ``stream_options.include_usage``; the test server then did less work per request
for it, which read as client speed: 22% quiet and 8% with a core busy in one A/B of the lean client
against itself, ``scripts/client_counts.py --lean-requests [--busy]``.)

    .venv/bin/python scripts/bench_lean.py --requests 4000 --repeats 5 --busy --out /tmp/bench_lean.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.loadgen import LoadPointPlan, run_load_point
from benchseal.io import JsonlWriter
from benchseal.testing.server import spawn


def _run(coro, loop: str):
    """``coro`` on a stock asyncio loop or on uvloop's."""
    factory = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


def run_benchseal(url: str, n: int, conc: int, tokens: int, out: Path, loop: str = "asyncio") -> float:
    reqs = _requests(tokens)

    async def main() -> float:
        be = OpenAIBackend(model="test-model", base_url=url, preflight=False)
        await be.start()
        ends, sends = [], []
        try:
            with JsonlWriter(out, per_loop_turn=True) as w:  # as run_perf opens it
                def on_record(rec):
                    w.write_model(rec)  # as run_perf writes it
                    if rec.status == "ok":
                        sends.append(rec.send_s)
                        ends.append(rec.end_s)
                plan = LoadPointPlan(load_point="c", requests=reqs, concurrency=conc, num_requests=n)
                await run_load_point(be, plan, on_record)
        finally:
            await be.close()
        return len(ends) / (max(ends) - min(sends))

    return _run(main(), loop)


def wire_requests(url: str, tokens: int) -> list[bytes]:
    """The HTTP requests benchseal's client sends for the benchmark's 64 prompts, byte for byte."""
    be = OpenAIBackend(model="test-model", base_url=url, preflight=False)
    return [be._payload(r) for r in _requests(tokens)]


def _requests(tokens: int) -> list[GenRequest]:
    return [GenRequest(request_id=i, prompt=f"prompt {i}", max_tokens=tokens) for i in range(64)]


def short_request(tokens: int) -> list[bytes]:
    """The lean client's request before 2026-12-08: one prompt, no usage asked, minimal headers."""
    body = json.dumps({"model": "test-model", "prompt": "prompt", "max_tokens": tokens, "stream": True}).encode()
    return [(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\n\r\n" % len(body)) + body]


def run_lean(url: str, n: int, conc: int, tokens: int, loop: str = "asyncio", reqs: list[bytes] | None = None) -> float:
    """The lean client's req/s; it sends ``reqs`` in turn (default: benchseal's own, ``wire_requests``)."""
    port = int(url.rsplit(":", 1)[1])
    reqs = reqs or wire_requests(url, tokens)

    async def main() -> float:
        seq = iter(range(n))
        sends: list[float] = []
        ends: list[float] = []

        async def worker() -> None:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            try:
                for i in seq:  # shared: request i goes to whichever worker is free, as in benchseal's closed loop
                    t = time.perf_counter()
                    w.write(reqs[i % len(reqs)])
                    await r.readuntil(b"\r\n\r\n")  # the response head
                    await r.readuntil(b"\r\n0\r\n\r\n")  # the last chunk
                    sends.append(t)
                    ends.append(time.perf_counter())
            finally:
                w.close()

        await asyncio.gather(*(worker() for _ in range(conc)))
        return len(ends) / (max(ends) - min(sends))

    return _run(main(), loop)


def _busy() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--busy", action="store_true", help="also run while a busy-loop process uses one core")
    ap.add_argument("--uvloop", action="store_true", help="also run both clients on uvloop's event loop (interleaved; "
                    "the ratios stay against the lean client on stock asyncio)")
    ap.add_argument("--out", help="write the results as JSON here")
    a = ap.parse_args()
    srv = spawn()
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
                     "python": platform.python_version(), "requests": a.requests, "concurrency": a.concurrency,
                     "tokens": a.tokens, "repeats": a.repeats, "conditions": {}}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for cond in (["quiet", "busy"] if a.busy else ["quiet"]):
                hog = _busy() if cond == "busy" else None
                try:
                    loops = ["asyncio", "uvloop"] if a.uvloop else ["asyncio"]
                    runs: dict[str, list[float]] = {}
                    load = [os.getloadavg()[0]]
                    for _ in range(a.repeats):
                        for loop in loops:
                            sfx = "" if loop == "asyncio" else "+uvloop"
                            runs.setdefault("benchseal" + sfx, []).append(
                                run_benchseal(srv.url, a.requests, a.concurrency, a.tokens, Path(tmp) / "r.jsonl", loop))
                            runs.setdefault("lean" + sfx, []).append(
                                run_lean(srv.url, a.requests, a.concurrency, a.tokens, loop))
                    load.append(os.getloadavg()[0])
                finally:
                    if hog is not None:
                        hog.kill()
                        hog.wait()
                b, le = statistics.median(runs["benchseal"]), statistics.median(runs["lean"])
                pairs = [x / y for x, y in zip(runs["benchseal"], runs["lean"])]
                results["conditions"][cond] = {**runs, "median_benchseal": b, "median_lean": le, "ratio_of_medians": b / le,
                                               "paired_ratios": pairs, "loadavg_1m": load}
                print(f"{cond}: benchseal {b:,.0f} req/s, lean {le:,.0f} req/s, ratio {b / le:.2f} "
                      f"(paired {', '.join(f'{p:.2f}' for p in pairs)}), load {load[0]:.2f}->{load[1]:.2f}", flush=True)
                if a.uvloop:
                    bu, lu = statistics.median(runs["benchseal+uvloop"]), statistics.median(runs["lean+uvloop"])
                    upairs = [x / y for x, y in zip(runs["benchseal+uvloop"], runs["lean"])]
                    results["conditions"][cond].update(median_benchseal_uvloop=bu, median_lean_uvloop=lu,
                                                       ratio_uvloop_to_lean=bu / le, paired_ratios_uvloop=upairs)
                    print(f"{cond}: on uvloop benchseal {bu:,.0f} req/s (ratio to the lean asyncio client {bu / le:.2f}, "
                          f"paired {', '.join(f'{p:.2f}' for p in upairs)}), lean {lu:,.0f} req/s", flush=True)
    finally:
        srv.stop()
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
