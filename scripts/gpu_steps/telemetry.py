"""``telemetry``: sampler overhead and achieved rate; the energy counter against power x time over a known matmul load."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from gpu_steps.common import SKIP, _r, _write


def cmd_telemetry(a: argparse.Namespace) -> int:
    import csv

    import torch
    from benchseal.hw import TelemetrySampler, energy_between

    if not torch.cuda.is_available():
        print("SKIP: torch sees no CUDA device")
        return SKIP
    out: dict[str, Any] = {"rates": [], "device": torch.cuda.get_device_name(0)}
    for interval in (0.1, 0.01):  # idle: what one sampling pass costs, and the rate achieved
        with TelemetrySampler(f"telemetry-idle-{int(1 / interval)}hz.csv", interval_s=interval) as s:
            time.sleep(a.idle_s)
        r = s.result
        out["rates"].append({"target_hz": round(1 / interval), "achieved_hz": _r(r.achieved_hz, 2), "samples": r.samples,
                             "overhead_us_per_sample": _r((r.overhead_s_per_sample or 0) * 1e6, 1),
                             "overhead_fraction_of_interval": _r((r.overhead_s_per_sample or 0) / interval, 5),
                             "available": r.available, "note": r.note})
        print(json.dumps(out["rates"][-1]), flush=True)
    # a known workload: back-to-back bf16 8192^3 matmuls for --work-s seconds, idle margins around it
    n = 8192
    x = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    y = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    z = torch.empty_like(x)
    for _ in range(5):
        torch.matmul(x, y, out=z)
    torch.cuda.synchronize()
    path = Path("telemetry-workload.csv")
    count = 0
    with TelemetrySampler(path, interval_s=a.interval_s) as s:
        time.sleep(a.margin_s)
        torch.cuda.synchronize()
        t0 = time.time()
        while time.time() - t0 < a.work_s:
            for _ in range(20):
                torch.matmul(x, y, out=z)
            count += 20
            torch.cuda.synchronize()
        t1 = time.time()
        time.sleep(a.margin_s)
    r = s.result
    rows = list(csv.DictReader(path.open()))
    pts = [(float(row["t_wall"]), float(row["power_w"])) for row in rows if row.get("power_w")]

    def integral(lo: float, hi: float) -> float | None:  # trapezoid of power over [lo, hi]
        p = [(t, w) for t, w in pts if lo <= t <= hi]
        if len(p) < 2:
            return None
        return sum((t2 - t1_) * (w1 + w2) / 2 for (t1_, w1), (t2, w2) in zip(p, p[1:]))

    energies = [int(row["energy_mj"]) for row in rows if row.get("energy_mj")]
    changes = sum(1 for u, v in zip(energies, energies[1:]) if u != v)
    window = energy_between(path, t0, t1)
    p_all = integral(r.t_wall_start, r.t_wall_end)
    p_win = integral(t0, t1)
    flops = count * 2 * n**3
    out["energy"] = {
        "workload": f"{count} bf16 {n}^3 matmuls in {t1 - t0:.2f} s ({flops / (t1 - t0) / 1e12:.0f} TFLOP/s), "
                    f"{a.margin_s} s idle before and after, sampled every {a.interval_s} s",
        "samples": r.samples, "counter_value_changes": changes,
        "counter_j_whole": _r(r.energy_j, 1), "power_x_time_j_whole": _r(p_all, 1),
        "counter_over_power_x_time_whole": _r(r.energy_j / p_all, 4) if r.energy_j and p_all else None,
        "counter_j_workload": _r((window or {}).get("energy_j"), 1), "power_x_time_j_workload": _r(p_win, 1),
        "counter_over_power_x_time_workload": _r(window["energy_j"] / p_win, 4) if window and p_win else None,
        "avg_power_w_workload": _r((window or {}).get("avg_power_w"), 1),
        "j_per_tflop": _r(window["energy_j"] / (flops / 1e12), 4) if window else None,
        "max_power_w": max((w for _, w in pts), default=None), "note": r.note,
    }
    _write(Path(a.out), out)
    print(json.dumps(out["energy"]))
    return 0
