#!/usr/bin/env python3
"""How accurate benchseal's timestamps are: the figure behind docs/PERFORMANCE.md's accuracy table.

Against the controllable test server (its own process, 127.0.0.1) injecting TTFT and ITL, each run
measures a closed-loop load point with `benchseal.bench.perf.run.run_perf` and reports, per run:

- write-to-timestamp error: client chunk timestamp minus the moment the server handed that chunk to
  the kernel (same monotonic clock; `testserver.timestamp_errors_ms`): the instrument's own error;
- TTFT and ITL error against the injected delays: the instrument's error plus the server's lateness;
- the server's own send lateness (its `/stats`).

    .venv/bin/python scripts/bench_accuracy.py --runs 5 --out docs/perf/bench_accuracy.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.run import LoadSpec, run_perf
from benchseal.testing.server import spawn, timestamp_errors_ms
from benchseal.io import iter_jsonl


def _get(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url, timeout=5).read())


def _pct(a, q) -> float:
    return round(float(np.percentile(np.asarray(a), q)), 3)


def one_run(srv, args, out: Path) -> dict:
    _get(srv.url + "/writes"), _get(srv.url + "/stats")  # reset the server's logs
    reqs = [GenRequest(request_id=i, prompt="a b c", max_tokens=args.tokens) for i in range(8)]
    be = OpenAIBackend(model="test-model", base_url=srv.url, send_time_header=True)
    run_perf(be, reqs, LoadSpec(concurrency=[args.concurrency], num_requests=args.requests, warmup_requests=4),
             out, progress=False)
    writes, server = _get(srv.url + "/writes")["writes"], _get(srv.url + "/stats")
    recs = list(iter_jsonl(out / "perf" / "requests.jsonl"))
    w2t = timestamp_errors_ms(recs, writes)
    counted = [r for r in recs if not r["warmup"]]
    ttft = [abs((r["first_token_s"] - r["send_s"]) * 1e3 - args.ttft_ms) for r in counted]
    itl = [abs(g * 1e3 - args.itl_ms) for r in counted for g in np.diff(r["chunk_s"])]
    return {"write_to_timestamp_ms": {"p50": _pct(w2t, 50), "p99": _pct(w2t, 99), "max": round(max(w2t), 3),
                                      "min": round(min(w2t), 3), "n": len(w2t)},
            "ttft_abs_err_ms": {"p50": _pct(ttft, 50), "p99": _pct(ttft, 99)},
            "itl_abs_err_ms": {"p50": _pct(itl, 50), "p99": _pct(itl, 99)},
            "server_late_ms": {"p50": server["p50_ms"], "p99": server["p99_ms"]},
            "loadavg": round(os.getloadavg()[0], 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ttft-ms", type=float, default=30.0)
    ap.add_argument("--itl-ms", type=float, default=5.0)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    srv = spawn(ttft_ms=args.ttft_ms, itl_ms=args.itl_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs = [one_run(srv, args, Path(tmp) / str(i)) for i in range(args.runs)]
    finally:
        srv.stop()
    result = {"command": " ".join(["scripts/bench_accuracy.py", *sys.argv[1:]]),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(),
              "setup": {k: getattr(args, k) for k in ("ttft_ms", "itl_ms", "tokens", "concurrency", "requests")},
              "runs": runs}
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
