#!/usr/bin/env python3
"""Counts of the perf client's work that do not move with the host's load (issue 25): Python bytecodes
executed per request, and instructions executed in user space per request (valgrind's callgrind).
Timings on a shared machine vary by 10-30% between identical runs; these counts do not.

    .venv/bin/python scripts/client_counts.py --opcodes                # bytecodes per request, whole client
    .venv/bin/python scripts/client_counts.py --instructions client    # instructions per request (valgrind)
    .venv/bin/python scripts/client_counts.py --instructions whole     # parsing one 16-token response, one read
    .venv/bin/python scripts/client_counts.py --instructions three     # the same response in three reads
    .venv/bin/python scripts/client_counts.py --cpu --busy              # user CPU per request, benchseal and lean
    .venv/bin/python scripts/client_counts.py --lean-requests           # the lean client: its old request against benchseal's

- **Whole client**: ``scripts/bench_lean.py``'s ``run_benchseal`` (benchseal's client through the load
  generator on uvloop, concurrency 64, 16 tokens, every record written) against one zero-delay test
  server process.
- **Bytecodes**: ``sys.settrace`` opcode events over a run of ``--requests`` requests (after 50 to warm
  up), divided by the requests.
- **CPU** (a timing, so it moves with the host): user time (``getrusage``) per request of benchseal's
  client (uvloop) and of the lean asyncio client, 5 alternating runs of ``--requests`` each, medians;
  benchseal's includes the collections ``gc_paused`` runs before and after its load point. ``--busy``
  adds a busy-loop process on one core.
- **Lean requests** (a timing): the lean client's req/s sending benchseal's requests and sending its
  request from before 2026-12-08 (``bench_lean.short_request``: no usage asked), 5 alternating runs of
  ``--requests`` each, medians; ``--busy`` as above.
- **Instructions**: valgrind ``--tool=callgrind`` runs the work N and 3N times (``PYTHONHASHSEED=0``);
  (I(3N) - I(N)) / 2N is the work per request or per parse, start-up and imports cancelled out. The
  server runs outside valgrind. Under valgrind the client is slow, so a response is mostly read whole.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lean  # noqa: E402  (scripts/bench_lean.py: the same client run)

from benchseal.testing.server import spawn  # noqa: E402

TOKENS, CONCURRENCY = 16, 64


def _response() -> bytes:
    """One streamed 16-token completion as the test server sends it (head, chunked events, usage, [DONE])."""
    def chunk(b: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(b), b)

    def event(payload: str) -> bytes:
        return chunk(b"data: " + payload.encode() + b"\n\n")

    prefix = '{"id":"cmpl-1","object":"text_completion","model":"test-model","choices":[{"index":0,'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    events = [event(prefix + '"text":%s,"finish_reason":null}]}' % json.dumps(f"w{i} ")) for i in range(TOKENS)]
    events.append(event(prefix + '"text":"","finish_reason":"length"}],"usage":{"prompt_tokens":3,'
                        '"completion_tokens":16,"total_tokens":19}}'))
    return head + b"".join(events) + event("[DONE]") + b"0\r\n\r\n"


def _parse(reads: int, n: int) -> None:
    from benchseal.bench.perf.backends.stream import StreamExchange
    from benchseal.bench.perf.backends.transport import ResponseParser

    data = _response()
    step = -(-len(data) // reads)
    pieces = [data[i:i + step] for i in range(0, len(data), step)]
    loop = asyncio.new_event_loop()
    for _ in range(n):
        ex = StreamExchange(loop, False)
        p = ResponseParser(lambda s, h: ex.head(s, h, 1.0), lambda d: ex.body(d, 1.0), lambda: ex.end(1.0))
        for piece in pieces:
            p.feed(piece)
        assert ex.done.done() and len(ex.chunks) == TOKENS and ex.cause is None


def _work(kind: str, n: int, url: str | None) -> None:
    """The measured work, ``n`` times (run inside valgrind)."""
    import gc

    gc.disable()  # as during a load point (gc_paused)
    if kind == "client":
        with tempfile.TemporaryDirectory() as tmp:
            bench_lean.run_benchseal(url, n, CONCURRENCY, TOKENS, Path(tmp) / "r.jsonl", "uvloop")
    else:
        _parse({"whole": 1, "three": 3}[kind], n)


def instructions(kind: str, n: int) -> float:
    srv = spawn() if kind == "client" else None
    try:
        counts = []
        for k in (n, 3 * n):
            cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
                   "--work", kind, str(k), srv.url if srv else ""]
            out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"},
                                 check=True)
            counts.append(int(re.search(r"Collected : (\d+)", out.stderr).group(1)))
        return (counts[1] - counts[0]) / (2 * n)
    finally:
        if srv:
            srv.stop()


def cpu(n: int, busy: bool) -> dict[str, float]:
    import resource
    import statistics

    def user() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_utime

    srv = spawn()
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    runs: dict[str, list[float]] = {"benchseal (uvloop)": [], "lean (asyncio)": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(5):
                for name in runs:
                    u = user()
                    if name.startswith("benchseal"):
                        bench_lean.run_benchseal(srv.url, n, CONCURRENCY, TOKENS, Path(tmp) / "r.jsonl", "uvloop")
                    else:
                        bench_lean.run_lean(srv.url, n, CONCURRENCY, TOKENS, "asyncio")
                    runs[name].append((user() - u) / n * 1e6)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
        srv.stop()
    return {name: statistics.median(v) for name, v in runs.items()}


def lean_requests(n: int, busy: bool) -> dict[str, float]:
    import statistics

    srv = spawn()
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    sent = {"benchseal's requests": bench_lean.wire_requests(srv.url, TOKENS), "the short request": bench_lean.short_request(TOKENS)}
    runs: dict[str, list[float]] = {name: [] for name in sent}
    try:
        for _ in range(5):
            for name, reqs in sent.items():
                runs[name].append(bench_lean.run_lean(srv.url, n, CONCURRENCY, TOKENS, "asyncio", reqs))
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
        srv.stop()
    return {name: statistics.median(v) for name, v in runs.items()}


def opcodes(n: int) -> float:
    srv = spawn()
    counts: collections.Counter = collections.Counter()

    def tracer(frame, event, arg):
        if event == "call":
            frame.f_trace_opcodes, frame.f_trace_lines = True, False
        elif event == "opcode":
            counts[0] += 1
        return tracer

    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "r.jsonl"
            bench_lean.run_benchseal(srv.url, 50, CONCURRENCY, TOKENS, out, "uvloop")  # warm up
            sys.settrace(tracer)
            try:
                bench_lean.run_benchseal(srv.url, n, CONCURRENCY, TOKENS, out, "uvloop")
            finally:
                sys.settrace(None)
    finally:
        srv.stop()
    return counts[0] / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--opcodes", action="store_true", help="Python bytecodes per request, whole client")
    g.add_argument("--instructions", choices=["client", "whole", "three"], help="instructions per request or parse")
    g.add_argument("--cpu", action="store_true", help="user CPU per request of benchseal and of the lean client")
    g.add_argument("--lean-requests", action="store_true", help="the lean client's req/s with its old and new requests")
    g.add_argument("--work", nargs=3, metavar=("KIND", "N", "URL"), help=argparse.SUPPRESS)  # inside valgrind
    ap.add_argument("--requests", type=int, help="requests (or parses) counted (default 1000 for --opcodes, "
                    "300 for --instructions client, 200 for a parse, 3000 for --cpu, 4000 for --lean-requests)")
    ap.add_argument("--busy", action="store_true", help="--cpu, --lean-requests: a busy-loop process on one core meanwhile")
    a = ap.parse_args()
    if a.work:
        _work(a.work[0], int(a.work[1]), a.work[2] or None)
    elif a.cpu:
        for name, us in cpu(a.requests or 3000, a.busy).items():
            print(f"user CPU per request, {name}: {us:.0f} us")
    elif a.lean_requests:
        for name, rps in lean_requests(a.requests or 4000, a.busy).items():
            print(f"lean client sending {name}: {rps:,.0f} req/s")
    elif a.opcodes:
        print(f"Python bytecodes per request: {opcodes(a.requests or 1000):,.0f}")
    else:
        n = a.requests or (300 if a.instructions == "client" else 200)
        print(f"instructions per {'request' if a.instructions == 'client' else 'parse'} ({a.instructions}): "
              f"{instructions(a.instructions, n):,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
