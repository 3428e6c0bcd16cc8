"""GPU microbenchmarks: achieved dense matmul TFLOPS per dtype and device-memory copy bandwidth.

Method (same idea as NVIDIA's cuBLAS/nvbench style measurements): random (not zero) operands sized
to fill the chip, warm-up iterations, then ``repeats`` timed samples with CUDA events, each sample
averaging ``inner`` back-to-back kernels; the reported value is the median of the samples.
Matmul FLOPs = 2·n³ per (n×n)·(n×n) product. Copy bandwidth counts bytes read plus bytes written
(2 × buffer size per copy), in GB/s with 1 GB = 10^9 bytes. Each figure is reported next to the
datasheet peak from configs/gpus.yaml and their ratio.
"""

from __future__ import annotations

import statistics
from typing import Any

from benchseal.errors import NoGpuError, require
from benchseal.schema import GpuInfo


def _time_ms(torch: Any, fn, *, warmup: int, repeats: int, inner: int) -> list[float]:
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            fn()
        end.record()
        end.synchronize()
        out.append(start.elapsed_time(end) / inner)
    return out


def _matmul(torch: Any, dtype_name: str, n: int, dev: Any, warmup: int, repeats: int, inner: int) -> dict:
    g = torch.Generator(device=dev).manual_seed(0)
    if dtype_name == "fp8":
        a = torch.randn(n, n, device=dev, generator=g).to(torch.float8_e4m3fn)
        b = torch.randn(n, n, device=dev, generator=g).to(torch.float8_e4m3fn).t()  # column-major operand
        one = torch.tensor(1.0, device=dev)

        def fn():
            return torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
    else:
        dt = {"bf16": torch.bfloat16, "fp16": torch.float16, "tf32": torch.float32}[dtype_name]
        a = torch.randn(n, n, device=dev, dtype=dt, generator=g)
        b = torch.randn(n, n, device=dev, dtype=dt, generator=g)
        c = torch.empty(n, n, device=dev, dtype=dt)

        def fn():
            return torch.matmul(a, b, out=c)
    ms = _time_ms(torch, fn, warmup=warmup, repeats=repeats, inner=inner)
    tflops = [2 * n**3 / (m / 1e3) / 1e12 for m in ms]
    return {"n": n, "median_ms": statistics.median(ms), "tflops": statistics.median(tflops),
            "tflops_min": min(tflops), "tflops_max": max(tflops), "repeats": repeats, "inner": inner}


def _copy(torch: Any, nbytes: int, dev: Any, warmup: int, repeats: int, inner: int) -> dict:
    g = torch.Generator(device=dev).manual_seed(1)
    src = torch.randn(nbytes // 4, device=dev, dtype=torch.float32, generator=g)
    dst = torch.empty_like(src)
    ms = _time_ms(torch, lambda: dst.copy_(src), warmup=warmup, repeats=repeats, inner=inner)
    moved = 2 * src.numel() * 4
    gbs = [moved / (m / 1e3) / 1e9 for m in ms]
    return {"buffer_bytes": src.numel() * 4, "bytes_moved_per_copy": moved, "median_ms": statistics.median(ms),
            "gbs": statistics.median(gbs), "gbs_min": min(gbs), "gbs_max": max(gbs), "repeats": repeats}


def run_microbench(gpus: list[GpuInfo], *, index: int = 0, n: int = 8192, copy_bytes: int = 1 << 30,
                   warmup: int = 5, repeats: int = 20, inner: int = 10) -> dict[str, Any]:
    """Run the microbenchmarks on GPU ``index`` (CUDA device order = NVML order unless
    CUDA_VISIBLE_DEVICES reorders; the device name is recorded so a mismatch is visible)."""
    torch = require("torch", "hf", "The GPU microbenchmark")
    if not torch.cuda.is_available():
        raise NoGpuError("--microbench needs CUDA, but torch reports no CUDA device",
                         hint="install a CUDA build of torch on the GPU server")
    dev = torch.device("cuda", index)
    info = next((g for g in gpus if g.index == index), None)
    peak = info.peak if info else None
    cap = torch.cuda.get_device_capability(dev)
    dtypes = ["bf16", "fp16", "tf32"]
    if cap >= (8, 9) and hasattr(torch, "float8_e4m3fn") and hasattr(torch, "_scaled_mm"):
        dtypes.append("fp8")
    free, _total = torch.cuda.mem_get_info(dev)
    copy_bytes = int(min(copy_bytes, free // 4))
    prev = torch.get_float32_matmul_precision()
    results: dict[str, Any] = {}
    try:
        for dt in dtypes:
            torch.set_float32_matmul_precision("high" if dt == "tf32" else prev)
            try:
                r = _matmul(torch, dt, n, dev, warmup, repeats, inner)
            except Exception as exc:  # noqa: BLE001 - one dtype failing must not lose the others
                r = {"error": f"{type(exc).__name__}: {exc}"}
            p = peak.tflops.get(dt) if peak else None
            r["peak_tflops"] = p
            r["ratio_to_peak"] = r["tflops"] / p if p and "tflops" in r else None
            results[dt] = r
    finally:
        torch.set_float32_matmul_precision(prev)
    bw = _copy(torch, copy_bytes, dev, warmup, repeats, inner)
    pbw = peak.memory_bandwidth_gbs if peak else None
    bw["peak_gbs"] = pbw
    bw["ratio_to_peak"] = bw["gbs"] / pbw if pbw else None
    return {
        "gpu_index": index,
        "device_name": torch.cuda.get_device_name(dev),
        "compute_capability": f"{cap[0]}.{cap[1]}",
        "torch": torch.__version__,
        "cuda_runtime": torch.version.cuda,
        "spec_id": peak.spec_id if peak else None,
        "method": "CUDA events; warm-up then median of repeats; random operands; matmul FLOPs = 2*n^3; "
                  "copy bytes = read + write",
        "matmul": results,
        "memory_copy": bw,
    }
