"""MFU, MBU and energy of a load point, from its raw records (pure: a verifier recomputes it).

- **MFU** = achieved FLOP/s / dense peak FLOP/s of the GPUs used, for the run's dtype, where
  achieved FLOP/s = sum over counted requests of ``FlopsModel.request_flops(prompt, output)``
  divided by the load point's ``duration_s``.
- **MBU** (decode) = bytes read per decode step / time per output token / peak memory bandwidth,
  bytes per step = weights read for ``B`` sequences + ``B`` x the mean KV-cache bytes read per
  sequence, ``B`` = mean number of sequences in their decode phase (sum of decode times / duration).
- **Energy** from the NVML energy counter over the load point's wall-clock window, through
  :func:`benchseal.hw.telemetry.energy_between`.

Counted requests: status ``ok``, not warmup, of this load point, with prompt and output token counts.
Definitions and their comparison with PaLM / Megatron MFU: docs/metrics.md.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from benchseal.bench.utilisation.flops import DTYPE_BYTES, FlopsModel, normalize_dtype
from benchseal.errors import UsageError
from benchseal.schema import HardwareReport, LoadPointSummary, RequestRecord

NOTE_UNKNOWN_GPU = "GPU model not in configs/gpus.yaml"
NOTE_NO_GPU = "no GPU in the hardware report"


def counted_records(summary: LoadPointSummary, records: list[RequestRecord]) -> list[RequestRecord]:
    return [
        r for r in records
        if r.load_point == summary.load_point and not r.warmup and r.status == "ok"
        and r.prompt_tokens is not None and r.output_tokens is not None
    ]


def peak_of(hardware: HardwareReport | None, dtype: str | None, num_gpus: int | None) -> dict[str, Any]:
    """Summed dense peak TFLOPS (for ``dtype``) and memory bandwidth of the GPUs used, or a note."""
    gpus = list(hardware.gpus) if hardware is not None else []
    listed = len(gpus)
    if num_gpus is not None:
        gpus = sorted(gpus, key=lambda g: (g.hostname or "", g.index))[:num_gpus]
    out: dict[str, Any] = {"gpus": len(gpus), "gpu_names": sorted({g.name for g in gpus}),
                           "peak_tflops": None, "peak_bandwidth_gbs": None, "note": None}
    if not gpus:
        out["note"] = NOTE_NO_GPU
        return out
    if num_gpus is not None and num_gpus > listed:
        # a multi-node engine measured with one node's inventory: a smaller denominator would inflate MFU/MBU
        out["gpus"] = num_gpus
        out["note"] = (f"the engine uses {num_gpus} GPUs but hardware.json lists {listed}; no peak is summed "
                       "(inventory every node with --ray-address)")
        return out
    unknown = sorted({g.name for g in gpus if g.peak is None})
    if unknown:
        out["note"] = f"{NOTE_UNKNOWN_GPU}: {', '.join(unknown)}"
        return out
    out["peak_bandwidth_gbs"] = sum(g.peak.memory_bandwidth_gbs for g in gpus)  # type: ignore[union-attr]
    missing = sorted({g.peak.spec_id for g in gpus if dtype not in g.peak.tflops})  # type: ignore[union-attr]
    if dtype is None:
        out["note"] = "unknown dtype, so no dense peak can be chosen"
    elif missing:
        out["note"] = f"configs/gpus.yaml has no dense {dtype} peak for {', '.join(missing)}"
    else:
        out["peak_tflops"] = sum(g.peak.tflops[dtype] for g in gpus)  # type: ignore[union-attr]
    return out


def per_gpu_throughput(summary: LoadPointSummary, num_gpus: int | None) -> float | None:
    """Output tokens per second per GPU the engine uses (tensor x pipeline x data parallel), or None
    when that number is unknown (an external server without --num-gpus)."""
    if not num_gpus:
        return None
    return summary.output_token_throughput / num_gpus


def _decode_load(model: FlopsModel, records: list[RequestRecord], duration_s: float, elem_bytes: float) -> dict[str, Any] | None:
    """Mean decode batch B and mean per-sequence KV bytes and FLOPs per decode step."""
    decode_time = steps = 0.0
    kv_bytes = flops = 0.0
    for r in records:
        n = (r.output_tokens or 0) - 1
        if n < 1 or r.first_token_s is None or r.end_s is None:
            continue
        decode_time += max(r.end_s - r.first_token_s, 0.0)
        steps += n
        kv_bytes += model.kv_cache_bytes_read(r.prompt_tokens or 0, elem_bytes, steps=n)
        flops += model.decode_flops(r.prompt_tokens or 0, r.output_tokens or 0)
    if steps == 0 or duration_s <= 0:
        return None
    return {
        "batch": max(decode_time / duration_s, 1.0),
        "kv_bytes_per_seq_step": kv_bytes / steps,
        "flops_per_seq_step": flops / steps,
    }


def _utilisation(summary: LoadPointSummary, records: list[RequestRecord], model: FlopsModel,
                 hardware: HardwareReport | None, dtype: str, num_gpus: int | None) -> dict[str, Any]:
    short = normalize_dtype(dtype)
    counted = counted_records(summary, records)
    total_flops = sum(model.request_flops(r.prompt_tokens, r.output_tokens) for r in counted if r.prompt_tokens)  # type: ignore[arg-type]
    achieved = total_flops / summary.duration_s if summary.duration_s > 0 else 0.0
    peak = peak_of(hardware, short, num_gpus)
    notes = [peak["note"]] if peak["note"] else []
    mfu = achieved / (peak["peak_tflops"] * 1e12) if peak["peak_tflops"] else None

    mbu = bytes_per_step = achieved_bw = intensity = batch = None
    elem = DTYPE_BYTES.get(short or "")
    load = _decode_load(model, counted, summary.duration_s, elem) if elem else None
    tpot_ms = summary.tpot_ms.mean
    if elem is None:
        notes.append(f"unknown dtype '{dtype}', so weight and KV bytes are unknown")
    elif load is None or not tpot_ms:
        notes.append("no decode steps with timings (every request produced at most one token)")
    else:
        batch = load["batch"]
        bytes_per_step = model.weight_bytes(elem, batch=batch) + batch * load["kv_bytes_per_seq_step"]
        achieved_bw = bytes_per_step / (tpot_ms / 1000.0) / 1e9
        intensity = batch * load["flops_per_seq_step"] / bytes_per_step
        if peak["peak_bandwidth_gbs"]:
            mbu = achieved_bw / peak["peak_bandwidth_gbs"]
    return {
        "engine_gpus": num_gpus,
        "output_tokens_per_s_per_gpu": per_gpu_throughput(summary, num_gpus),
        "achieved_flops_per_s": achieved,
        "achieved_tflops": achieved / 1e12,
        "mfu": mfu,
        "mbu": mbu,
        "peak_tflops": peak["peak_tflops"],
        "peak_bandwidth_gbs": peak["peak_bandwidth_gbs"],
        "dtype": short or dtype,
        "gpus": peak["gpus"],
        "gpu_names": peak["gpu_names"],
        "total_flops": total_flops,
        "requests_counted": len(counted),
        "decode_batch_mean": batch,
        "decode_bytes_per_step": bytes_per_step,
        "achieved_bandwidth_gbs": achieved_bw,
        "decode_arithmetic_intensity_flop_per_byte": intensity,
        "note": "; ".join(notes) if notes else None,
        "conventions": "FLOPs: 2 per multiply-add, causal attention, lm_head once per output token (docs/metrics.md)",
    }


def window_of(summary: LoadPointSummary, records: list[RequestRecord] = ()) -> tuple[float, float] | None:
    """(t_wall_start, t_wall_end) in unix seconds of the measured window.

    ``started_at`` is the wall clock of the load point's t0; ``duration_s`` runs from the first
    counted (non-warm-up) send to the last end (bench.metrics), so the window starts at
    t0 + min(send_s) over the counted requests: warm-up time is not charged to the load point.
    """
    if not summary.started_at:
        return None
    try:
        t0 = datetime.fromisoformat(summary.started_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    sends = [r.send_s for r in records if r.load_point == summary.load_point and not r.warmup]
    start = t0 + (min(sends) if sends else 0.0)
    return start, start + summary.duration_s


def _energy(summary: LoadPointSummary, records: list[RequestRecord], telemetry_csv: Path | None) -> dict[str, Any] | None:
    if telemetry_csv is None:
        return None
    window = window_of(summary, records)
    if window is None or summary.duration_s <= 0:
        return None
    if Path(telemetry_csv).is_dir():  # telemetry/<node>.csv of a multi-node run: summed over nodes
        from benchseal.hw.cluster_telemetry import energy_between_nodes

        result = energy_between_nodes(Path(telemetry_csv), window[0], window[1])
    else:
        from benchseal.hw.telemetry import energy_between

        result = energy_between(Path(telemetry_csv), window[0], window[1])
    if not result or result.get("energy_j") is None:
        return None
    energy_j = float(result["energy_j"])
    counted = counted_records(summary, records)
    out_tokens = sum(r.output_tokens or 0 for r in counted)
    return {
        "energy_j": energy_j,
        "avg_power_w": energy_j / summary.duration_s,
        "j_per_output_token": energy_j / out_tokens if out_tokens else None,
        "j_per_request": energy_j / len(counted) if counted else None,
        "output_tokens_per_j": out_tokens / energy_j if energy_j > 0 else None,
        "samples": result.get("samples_in_window"),
        "energy_j_per_gpu": result.get("energy_j_per_gpu"),
        "complete": result.get("complete"),
        "notes": result.get("notes") or [],
        "window_unix_s": [window[0], window[1]],
        "method": result.get("method", "nvml-energy-counter"),
        **({"energy_j_per_node": result["energy_j_per_node"], "nodes": result.get("nodes")}
           if "energy_j_per_node" in result else {}),
    }


def annotate(
    summary: LoadPointSummary,
    records: list[RequestRecord],
    *,
    model_config: dict,
    hardware: HardwareReport | None,
    dtype: str,
    telemetry_csv: Path | None = None,
    num_gpus: int | None = None,
) -> LoadPointSummary:
    """A copy of ``summary`` with ``utilisation`` (MFU, MBU) and ``energy`` filled in."""
    try:
        model = FlopsModel.from_config(model_config)
    except UsageError as exc:  # an unsupported architecture must not lose the measured load point
        peak = peak_of(hardware, normalize_dtype(dtype), num_gpus)
        utilisation = {"achieved_flops_per_s": None, "mfu": None, "mbu": None, "peak_tflops": peak["peak_tflops"],
                       "peak_bandwidth_gbs": peak["peak_bandwidth_gbs"], "dtype": normalize_dtype(dtype) or dtype,
                       "gpus": peak["gpus"], "engine_gpus": num_gpus,
                       "output_tokens_per_s_per_gpu": per_gpu_throughput(summary, num_gpus),
                       "note": f"no FLOPs model: {exc.message}"}
    else:
        utilisation = _utilisation(summary, records, model, hardware, dtype, num_gpus)
    energy = _energy(summary, records, telemetry_csv)
    return summary.model_copy(update={"utilisation": utilisation, "energy": energy})
