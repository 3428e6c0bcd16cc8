#!/usr/bin/env python3
"""The Python half of the GPU validation kit (scripts/gpu_check.sh; procedure: docs/gpu-validation.md).

Subcommands (the shell script calls them; each writes JSON into the current folder or --out):

- ``init`` / ``record`` / ``summary``: the kit's bookkeeping: steps.jsonl, summary.json, summary.md,
  results.tar.gz and the fixture copy in the output folder (stdlib only, never imports benchseal);
- ``env``: Python, platform, torch/CUDA, the packages that matter, ``pip list``;
- ``fixture-check``: replay the recorded NVML fixture and compare the inventory with the live one;
- ``telemetry``: sampler overhead per sample and achieved rate at 10 and 100 Hz; the energy
  counter over a known matmul workload against power x time;
- ``mfu-compare``: MFU/MBU per load point of a ``benchseal perf`` run, computed by the same
  ``annotate`` that ``benchseal run`` uses, against a FlopCounterMode count of the same forward
  passes and against the microbenchmark's achieved peaks;
- ``workers``: requests per second of ``benchseal perf --workers N`` against the test server;
- ``e2e``: ``benchseal run`` with wall time per stage (exit 0 when the bundle is complete, whatever
  the verdicts).

benchseal is driven through its CLI (``python -m benchseal``) and its public faces only.
"""

from __future__ import annotations

import argparse

from gpu_steps.bookkeeping import cmd_init, cmd_record, cmd_summary
from gpu_steps.common import worktree_tree  # noqa: F401  (the code id; tests import it from here)
from gpu_steps.e2e import cmd_e2e
from gpu_steps.env import cmd_env, cmd_fixture_check
from gpu_steps.mfu import cmd_mfu_compare
from gpu_steps.telemetry import cmd_telemetry
from gpu_steps.workers import cmd_workers


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init")
    p.add_argument("--work", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--deadline", type=int, required=True)
    p.add_argument("--steps", default="all")
    p = sub.add_parser("record")
    for k in ("work", "id", "name", "status", "rc", "duration", "limit", "reason", "log"):
        p.add_argument(f"--{k}", required=k not in ("reason", "log"), default="")
    p = sub.add_parser("summary")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--deadline", type=int, default=0)
    p.add_argument("--elapsed", type=int, default=0)
    p.add_argument("--final", action="store_true")
    p = sub.add_parser("env")
    p.add_argument("--out", default="env.json")
    p = sub.add_parser("fixture-check")
    p.add_argument("--hardware", default="hw.json")
    p = sub.add_parser("telemetry")
    p.add_argument("--out", default="telemetry.json")
    p.add_argument("--idle-s", type=float, default=2.0)
    p.add_argument("--work-s", type=float, default=6.0)
    p.add_argument("--margin-s", type=float, default=1.5)
    p.add_argument("--interval-s", type=float, default=0.05)
    p = sub.add_parser("mfu-compare")
    p.add_argument("--perf", required=True, help="`benchseal perf --out` folder")
    p.add_argument("--model", required=True, help="model folder (config.json)")
    p.add_argument("--hardware", required=True, help="hardware report JSON (with microbench)")
    p.add_argument("--count", required=True, help="scripts/gpu_validate_mfu.py JSON")
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--out", default="mfu-compare.json")
    p = sub.add_parser("workers")
    p.add_argument("--workers", default="1,2,4,8")
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--tokens", type=int, default=8)
    p.add_argument("--run-timeout", type=float, default=60)
    p.add_argument("--out", default="workers.json")
    p = sub.add_parser("e2e")
    p.add_argument("run_args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    fn = {"init": cmd_init, "record": cmd_record, "summary": cmd_summary, "env": cmd_env,
          "fixture-check": cmd_fixture_check, "telemetry": cmd_telemetry, "mfu-compare": cmd_mfu_compare,
          "workers": cmd_workers, "e2e": cmd_e2e}[a.cmd]
    return fn(a)


if __name__ == "__main__":
    raise SystemExit(main())
