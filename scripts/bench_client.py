#!/usr/bin/env python3
"""Self-benchmark of benchseal's perf client (the instrument, not a model).

Against benchseal's zero-delay test server on 127.0.0.1 it measures:

1. the maximum sustained streamed requests per second of the client (closed loop, high concurrency);
2. the client's CPU time per request (its per-request overhead), from getrusage;
3. arrival-time accuracy in open loop: send time minus scheduled time, p50/p99/max;
4. optionally, a peer client (GuideLLM or `vllm bench serve`, installed in their own venvs) run
   against the same server in the same run, with the throughput ratio.

    .venv/bin/python scripts/bench_client.py --requests 5000 --out /tmp/bench_client.json
    .venv/bin/python scripts/bench_client.py --peer-cmd "/tmp/vllm-venv/bin/vllm bench serve --base-url {url} --model test-model --tokenizer TOKDIR --dataset-name random --random-input-len 8 --random-output-len 8 --num-prompts 2000 --max-concurrency 64 --ignore-eos"
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchseal.bench.backends import get_backend
from benchseal.bench.backends.base import GenRequest
from benchseal.bench.perf import LoadSpec, run_perf
from benchseal.bench.testserver import spawn


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _run(url: str, load: LoadSpec, tokens: int, out: Path):
    be = get_backend("openai", model="test-model", base_url=url)
    reqs = [GenRequest(request_id=i, prompt="a b c d e f g h", max_tokens=tokens) for i in range(64)]
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    report = run_perf(be, reqs, load, out, progress=False)
    return report.load_points[0], _cpu_s() - cpu0, time.perf_counter() - wall0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=8, help="streamed tokens per request")
    ap.add_argument("--rates", default="200,1000", help="open-loop rates for the arrival-accuracy check")
    ap.add_argument("--peer-cmd", help="a peer client command line; {url} is replaced by the server URL")
    ap.add_argument("--out", help="write the results as JSON here")
    a = ap.parse_args()
    results: dict = {"host": {"python": platform.python_version(), "machine": platform.machine()},
                     "command": " ".join(shlex.quote(x) for x in sys.argv)}
    srv = spawn()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lp, cpu, wall = _run(srv.url, LoadSpec(concurrency=[a.concurrency], num_requests=a.requests,
                                                   warmup_requests=a.concurrency), a.tokens, Path(tmp) / "tput")
            results["throughput"] = {
                "concurrency": a.concurrency, "requests": lp.completed, "failed": lp.failed, "tokens_per_request": a.tokens,
                "streamed_requests_per_s": round(lp.request_throughput, 1),
                "streamed_chunks_per_s": round(lp.request_throughput * a.tokens, 1),
                "client_cpu_us_per_request": round(cpu / (lp.completed + lp.failed + a.concurrency) * 1e6, 1),
                "wall_s": round(wall, 2),
            }
            results["arrival"] = []
            for rate in [float(x) for x in a.rates.split(",") if x]:
                n = int(min(a.requests, rate * 5))
                lp, cpu, wall = _run(srv.url, LoadSpec(rates=[rate], num_requests=n), a.tokens, Path(tmp) / f"r{rate:g}")
                lag = lp.schedule_lag_ms
                results["arrival"].append({"rate": rate, "requests": lp.completed, "failed": lp.failed,
                                           "achieved_rate": round(lp.request_throughput, 1),
                                           "lag_ms_p50": round(lag.p50, 4), "lag_ms_p99": round(lag.p99, 4),
                                           "lag_ms_max": round(lag.max, 4)})
            if a.peer_cmd:
                cmd = a.peer_cmd.replace("{url}", srv.url)
                t0 = time.perf_counter()
                proc = subprocess.run(shlex.split(cmd), capture_output=True, text=True)
                results["peer"] = {"command": cmd, "exit": proc.returncode, "wall_s": round(time.perf_counter() - t0, 2),
                                   "output_tail": proc.stdout[-3000:] + proc.stderr[-1000:]}
    finally:
        srv.stop()
    text = json.dumps(results, indent=2)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
