"""Synthetic records, hardware and telemetry with hand-derived ground truth (tiny llama config)."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

from benchseal.schema import (ComputeTable, GpuInfo, GpuPeak, HardwareReport, HostInfo, LoadPointSummary,
                              RequestRecord, Stats)

T0 = 1_700_000_000.0  # unix seconds of the load point's t=0
STARTED_AT = datetime.fromtimestamp(T0, tz=timezone.utc).isoformat()
DURATION_S = 10.0
PROMPT, OUTPUT = 100, 11

# tiny llama (configs.TINY["llama"]) by hand: per layer attention 64*64*2 + 2*64*32 = 12288 and
# gated MLP 3*64*128 = 24576 weights; 2 layers; lm_head 64*256; attention 2*4*(16+16) = 256 FLOPs
# per key per layer.
LINEAR = 2 * 2 * (12288 + 24576)  # 147456
LM_HEAD = 2 * 64 * 256  # 32768
ATTN_PER_KEY = 2 * 256  # 512 over both layers
PREFILL = PROMPT * LINEAR + ATTN_PER_KEY * (PROMPT * (PROMPT + 1) // 2) + LM_HEAD
DECODE = (OUTPUT - 1) * (LINEAR + LM_HEAD) + ATTN_PER_KEY * sum(c + 1 for c in range(PROMPT, PROMPT + OUTPUT - 1))
REQUEST = PREFILL + DECODE  # 19_706_368
WEIGHT_BYTES_BF16 = 2 * (2 * (12288 + 24576) + 64 * 256)  # 180224
KV_BYTES_PER_TOKEN_BF16 = 2 * 2 * (2 * 2 * 16)  # 2 layers x K,V x 2 heads x 16 dims x 2 bytes = 256


def records(load_point: str = "concurrency=2") -> list[RequestRecord]:
    """Four counted requests (decode phase 5 s each, so 2 sequences decode on average over 10 s)
    plus a warmup, a failed one and one of another load point, which must all be ignored."""
    out = []
    for i, send in enumerate((0.0, 0.0, 4.5, 4.5)):
        out.append(RequestRecord(load_point=load_point, request_id=i, send_s=send, first_token_s=send + 0.5,
                                 end_s=send + 5.5, prompt_tokens=PROMPT, output_tokens=OUTPUT, status="ok"))
    out.append(RequestRecord(load_point=load_point, request_id=90, warmup=True, send_s=0, first_token_s=1,
                             end_s=9, prompt_tokens=PROMPT, output_tokens=OUTPUT, status="ok"))
    out.append(RequestRecord(load_point=load_point, request_id=91, send_s=0, status="error", error="boom",
                             prompt_tokens=PROMPT, output_tokens=0))
    out.append(RequestRecord(load_point="other", request_id=92, send_s=0, first_token_s=1, end_s=9,
                             prompt_tokens=PROMPT, output_tokens=OUTPUT, status="ok"))
    return out


def summary(load_point: str = "concurrency=2", started_at: str | None = STARTED_AT) -> LoadPointSummary:
    s = Stats(n=4, mean=500.0)  # 5 s of decode / 10 steps
    return LoadPointSummary(
        load_point=load_point, mode="concurrency", concurrency=2, started_at=started_at, duration_s=DURATION_S,
        completed=4, failed=1, ttft_ms=Stats(n=4, mean=500.0), tpot_ms=s, itl_ms=s, e2el_ms=Stats(n=4, mean=5500.0),
        request_throughput=0.4, output_token_throughput=4.4, total_token_throughput=44.4,
    )


def hardware(known: bool = True, gpus: int = 2) -> HardwareReport:
    peak = GpuPeak(spec_id="test-gpu", tflops={"bf16": 100.0, "fp16": 100.0, "fp32": 20.0}, memory_bandwidth_gbs=1000.0)
    return HardwareReport(
        host=HostInfo(hostname="test"),
        compute=ComputeTable(servers=1, gpus=gpus),
        gpus=[GpuInfo(index=i, name="Test GPU" if known else "Mystery GPU", peak=peak if known else None)
              for i in range(gpus)],
    )


def telemetry_csv(path: Path, *, gpus: int = 2, watts: float = 300.0) -> Path:
    """One sample per second from T0-2 to T0+12; each GPU's energy counter rises at ``watts``."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["t_wall", "t_mono", "gpu", "power_w", "energy_mj", "sm_clock_mhz", "gpu_util_pct"])
        for k in range(15):
            t = T0 - 2 + k
            for g in range(gpus):
                w.writerow([f"{t:.3f}", f"{100 + k:.3f}", g, watts, int(5_000_000 + watts * 1000 * (t - T0)),
                            1980 - 10 * g, 95])
    return path
