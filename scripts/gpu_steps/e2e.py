"""``e2e``: a whole ``benchseal run`` with wall time per stage."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import subprocess
import sys
import time
from pathlib import Path

from gpu_steps.common import _r, _read, _write


def _ts(s: str | None) -> float | None:
    if not s:
        return None
    try:
        return _dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def cmd_e2e(a: argparse.Namespace) -> int:
    """`benchseal run ARGS...` with wall time per stage; 0 when the bundle is complete."""
    args = a.run_args[1:] if a.run_args[:1] == ["--"] else a.run_args
    out = Path(args[args.index("--out") + 1])
    t0 = time.time()
    p = subprocess.run([sys.executable, "-m", "benchseal", "run", *args])
    wall = time.time() - t0
    run = _read(out / "run.json") or {}
    stages = {k: _r((_ts(v.get("ended_at")) or 0) - (_ts(v.get("started_at")) or 0), 1) if v.get("ended_at") else None
              for k, v in (run.get("stages") or {}).items()}
    ends = [_ts(v.get("ended_at")) for v in (run.get("stages") or {}).values() if v.get("ended_at")]
    claims = _read(out / "claims.json") or {}
    result = {
        "exit_code": p.returncode, "status": run.get("status"), "wall_s": _r(wall, 1),
        "stages_s": stages, "stage_status": {k: v.get("status") for k, v in (run.get("stages") or {}).items()},
        "stage_errors": {k: v.get("error") for k, v in (run.get("stages") or {}).items() if v.get("error")},
        "start_to_first_stage_s": _r(min((_ts(v.get("started_at")) or t0 + wall for v in (run.get("stages") or {}).values()),
                                         default=t0) - t0, 1),
        "after_stages_s": _r(t0 + wall - max(ends), 1) if ends else None,  # claims, report, signature, exit
        "claims": {v.get("claim_id"): v.get("status") for v in claims.get("verdicts", [])},
        "signed": (out / "statement.dsse.json").exists(),
    }
    _write(Path("e2e.json"), result)
    print(json.dumps(result, default=str))
    return 0 if result["status"] == "complete" and p.returncode in (0, 1) and result["signed"] else 1
