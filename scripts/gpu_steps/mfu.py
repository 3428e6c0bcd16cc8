"""``mfu-compare``: MFU/MBU of a ``benchseal perf`` run (the same ``annotate`` as ``benchseal run``) against FlopCounterMode and the microbenchmark."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gpu_steps.common import _g, _r, _write


def _records(perf_dir: Path):
    from benchseal.schema import PerfReport, RequestRecord

    report = PerfReport.model_validate(json.loads((perf_dir / "perf" / "summary.json").read_text()))
    records = [RequestRecord.model_validate_json(line) for line in (perf_dir / "perf" / "requests.jsonl").read_text().splitlines()
               if line.strip()]
    return report, records


def cmd_mfu_compare(a: argparse.Namespace) -> int:
    from benchseal.bench.utilisation import FlopsModel, annotate  # the same names before and after the restructure
    from benchseal.schema import HardwareReport

    perf_dir = Path(a.perf)
    report, records = _records(perf_dir)
    hardware = HardwareReport.model_validate(json.loads(Path(a.hardware).read_text()))
    config = json.loads((Path(a.model) / "config.json").read_text())
    count = json.loads(Path(a.count).read_text())
    fc, fce = count.get("flopcounter") or {}, count.get("flopcounter_eager") or {}
    mb = hardware.microbench or {}
    short = {"bfloat16": "bf16", "float16": "fp16", "float32": "tf32"}.get(a.dtype, a.dtype)
    micro_tflops = ((mb.get("matmul") or {}).get(short) or {}).get("tflops")
    micro_gbs = (mb.get("memory_copy") or {}).get("gbs")
    fm = FlopsModel.from_config(config)

    # FlopCounterMode counted one generate at the workload's (p, o), with SDPA (what the hf backend
    # runs) and with eager attention (every matmul an aten op); counted / benchseal-dense at that
    # shape turns benchseal's dense count of every request into an independent count
    def scale(c: dict) -> float | None:
        return c["flopcounter"] / c["benchseal_dense_scores"] if c.get("flopcounter") and c.get("benchseal_dense_scores") else None

    scales = {"sdpa": scale(fc), "eager": scale(fce)}
    telemetry = perf_dir / "telemetry.csv"
    rows = []
    for lp in report.load_points:
        ann = annotate(lp, records, model_config=config, hardware=hardware, dtype=a.dtype,
                       telemetry_csv=telemetry if telemetry.exists() else None, num_gpus=1)
        u, e = ann.utilisation or {}, ann.energy or {}
        counted = [r for r in records if r.load_point == lp.load_point and not r.warmup and r.status == "ok"]
        shapes = sorted({(r.prompt_tokens, r.output_tokens) for r in counted})
        dense = sum(fm.request_flops(r.prompt_tokens, r.output_tokens, causal=False) for r in counted)
        peak, achieved = u.get("peak_tflops"), u.get("achieved_flops_per_s")
        row = {
            "load_point": lp.load_point, "requests": len(counted), "shapes_prompt_output": shapes[:4],
            "duration_s": _r(lp.duration_s), "output_tok_s": _r(lp.output_token_throughput, 1),
            "tpot_ms_mean": _r(lp.tpot_ms.mean, 2), "ttft_ms_mean": _r(lp.ttft_ms.mean, 1),
            "benchseal_mfu": _g(u.get("mfu")), "benchseal_mbu": _g(u.get("mbu")),
            "achieved_tflops": _g(u.get("achieved_tflops")), "achieved_bandwidth_gbs": _g(u.get("achieved_bandwidth_gbs")),
            "datasheet_peak_tflops": peak, "datasheet_peak_gbs": u.get("peak_bandwidth_gbs"),
            "mfu_vs_microbench": _g(achieved / (micro_tflops * 1e12)) if micro_tflops and achieved else None,
            "mbu_vs_microbench_copy": _g(u["achieved_bandwidth_gbs"] / micro_gbs) if micro_gbs and u.get("achieved_bandwidth_gbs") else None,
            "energy_j_per_output_token": _g(e.get("j_per_output_token")), "avg_power_w": _r(e.get("avg_power_w"), 1),
            "note": u.get("note"),
        }
        for kind, k in scales.items():
            counter_flops_s = dense * k / lp.duration_s if k and lp.duration_s > 0 else None
            row[f"mfu_from_flopcounter_{kind}"] = _g(counter_flops_s / (peak * 1e12)) if counter_flops_s and peak else None
            row[f"benchseal_over_flopcounter_{kind}"] = _g(achieved / counter_flops_s, 5) if counter_flops_s and achieved else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    keys = ("prompt_len", "output_len", "flopcounter", "benchseal_causal", "benchseal_dense_scores", "rel_err_vs_dense",
            "causal_over_counter", "note")
    out = {"method": "benchseal.bench.annotate (as `benchseal run` annotates each load point) on the records of "
                     "`benchseal perf --backend hf`; FlopCounterMode counts of one generate at the workload's (p, o) "
                     "from scripts/gpu_validate_mfu.py (SDPA and eager attention) scale benchseal's dense-score count "
                     "of every request; benchseal counts causal attention, so benchseal/FlopCounterMode is below 1 "
                     "by the causal/dense ratio",
           "flopcounter_sdpa": {k: fc.get(k) for k in keys}, "flopcounter_eager": {k: fce.get(k) for k in keys},
           "dtype": a.dtype, f"microbench_{short}_tflops": micro_tflops, "microbench_copy_gbs": micro_gbs,
           "load_points": rows}
    _write(Path(a.out), out)
    # no MFU on a machine whose hardware report has a GPU means a missing peak: a failure to look at
    return 0 if rows and (not hardware.gpus or all(r["benchseal_mfu"] is not None for r in rows)) else 1
