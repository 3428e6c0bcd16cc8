"""``workers``: requests per second of ``benchseal perf --workers N`` against the test server."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gpu_steps.common import _r, _write


def _proc_cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def cmd_workers(a: argparse.Namespace) -> int:
    try:
        from benchseal.bench.testserver import spawn
    except ImportError:  # after the package restructure
        from benchseal.testing.server import spawn

    prompts = Path("workers-prompts.jsonl")
    prompts.write_text("".join(json.dumps({"prompt": "a b c d e f g h", "max_tokens": a.tokens}) + "\n" for _ in range(64)))
    runs = []
    srv = spawn()
    try:
        for w in [int(x) for x in a.workers.split(",") if x.strip()]:
            cpu0, t0 = _proc_cpu_s(srv.proc.pid), time.perf_counter()
            cmd = [sys.executable, "-m", "benchseal", "perf", "--backend", "openai", "--model", "test-model",
                   "--base-url", srv.url, "--workers", str(w), "--concurrency", str(a.concurrency),
                   "--num-requests", str(a.requests), "--warmup", str(a.concurrency), "--prompts", str(prompts),
                   "--out", f"workers/w{w}", "--json", "--no-progress"]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.run_timeout)
            wall = time.perf_counter() - t0
            cpu1 = _proc_cpu_s(srv.proc.pid)
            row: dict[str, Any] = {"workers": w, "wall_s": _r(wall, 2), "exit": p.returncode}
            if p.returncode == 0:
                lp = json.loads(p.stdout)["load_points"][0]
                row.update(requests_per_s=_r(lp["request_throughput"], 1), completed=lp["completed"], failed=lp["failed"],
                           ttft_ms_p50=_r(lp["ttft_ms"]["p50"], 2), e2el_ms_p99=_r(lp["e2el_ms"]["p99"], 2))
            else:
                row["error"] = (p.stderr.strip().splitlines() or ["?"])[-1][:300]
            if cpu0 is not None and cpu1 is not None:
                row["server_cpu_s"] = _r(cpu1 - cpu0, 2)
                if row.get("requests_per_s"):  # near 100: the one-process server, not the client, is the limit
                    row["server_cpu_pct"] = _r(100 * (cpu1 - cpu0) / ((row["completed"] + a.concurrency) / row["requests_per_s"]), 1)
            runs.append(row)
            print(json.dumps(row), flush=True)
    finally:
        srv.stop()
    _write(Path(a.out), {"server": "benchseal test server (one process, zero delay)", "concurrency": a.concurrency,
                         "requests": a.requests, "tokens_per_request": a.tokens, "cpus": os.cpu_count(), "runs": runs})
    return 0 if runs and all(r["exit"] == 0 and not r.get("failed") for r in runs) else 1
