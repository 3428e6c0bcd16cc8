"""What a run on many GPUs or nodes adds to the stages: the layout check of ``run --plan GPU_ID`` (in the
pre-flight, before any GPU time is spent) and the cluster-wide telemetry of ``run --ray-address``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchseal.errors import UsageError
from benchseal.pipeline.base import RunContext


def _engine_value(spec, key: str) -> Any:
    """A value given to vLLM through --engine-arg (``--key=V``, ``--key V`` or ``key=V``), else None."""
    args = spec.engine_args
    if isinstance(args, dict):
        return args.get(key.replace("-", "_"))
    for i, a in enumerate(args):
        a = str(a)
        name, sep, val = a.lstrip("-").partition("=")
        if name.replace("_", "-") == key:
            if sep:
                return val
            if i + 1 < len(args) and not str(args[i + 1]).startswith("-"):
                return args[i + 1]
    return None


def check_plan(ctx: RunContext) -> dict[str, Any]:
    """Refuse (exit 2) a vLLM layout that cannot fit on ``--plan``'s GPU model, before anything starts.

    The layout is the backend spec's (TP, PP, DP, EP); the context length, memory fraction and KV-cache
    dtype are the ones given to vLLM (its defaults otherwise); one sequence of max_model_len tokens is
    what vLLM needs to start. The rule: docs/scale-out.md."""
    from benchseal.bench.utilisation.memory import weights_from_checkpoint, weights_from_config
    from benchseal.bench.utilisation.plan import VLLM_GPU_MEMORY_UTILIZATION, cluster_from_spec, evaluate_layout
    from benchseal.bench.model.files import read_config

    s = ctx.spec
    b = s.backend
    if b.kind not in ("vllm", "vllm-serve"):
        raise UsageError(f"--plan checks a vLLM layout; --backend {b.kind} has none",
                         hint="use --backend vllm-serve (or vllm) with --tensor-parallel-size etc., or drop --plan")
    root = Path(s.model_path or b.model)
    if not (root / "config.json").is_file():
        raise UsageError("--plan needs the model's config.json", where=str(root), hint="pass --model-path with the model directory")
    config = read_config(root / "config.json")
    has_weights = any(root.glob("*.safetensors")) or (root / "model.safetensors.index.json").is_file()
    dtype = getattr(b, "dtype", "auto")
    weights = weights_from_checkpoint(root, config) if has_weights else \
        weights_from_config(config, None if dtype == "auto" else dtype)
    cluster = cluster_from_spec(s.plan_gpu, 1, 1)
    mml = _engine_value(b, "max-model-len")
    util = _engine_value(b, "gpu-memory-utilization")
    kvd = _engine_value(b, "kv-cache-dtype") or "auto"
    try:
        lay = evaluate_layout(config, weights, cluster.memory_bytes, tensor_parallel_size=b.tensor_parallel_size,
                              pipeline_parallel_size=b.pipeline_parallel_size, data_parallel_size=b.data_parallel_size,
                              expert_parallel=b.enable_expert_parallel, max_model_len=int(mml) if mml else None,
                              utilization=float(util) if util else VLLM_GPU_MEMORY_UTILIZATION,
                              kv_cache_dtype={"bfloat16": "bf16", "float16": "fp16", "fp8_e4m3": "fp8"}.get(str(kvd), str(kvd)))
    except ValueError as exc:
        raise UsageError(f"--plan: cannot read the engine arguments: {exc}") from None
    what = (f"{lay.label().split(' on ')[0]} on {s.plan_gpu} needs {lay.need_gib:.1f} GiB per GPU (weights "
            f"{lay.weights_gib_per_gpu:.1f}, KV cache {lay.kv_cache_gib_per_gpu:.1f}, runtime {lay.runtime_gib_per_gpu:.1f}) "
            f"of {lay.budget_gib_per_gpu:.1f} GiB")
    if not lay.fits:
        raise UsageError(f"--plan: the layout does not fit: {what}",
                         hint=f"run `benchseal plan {root} --gpu {s.plan_gpu} --gpus-per-node N --nodes M` for the layouts that fit")
    ctx.log(f"[preflight] plan: {what}; fits")
    return lay.to_dict()


def cluster_telemetry(ctx: RunContext):
    """One NVML sampler per GPU node of the run's Ray cluster (telemetry/<node>.csv), or None."""
    if not ctx.spec.ray_address:
        return None
    from benchseal import bundle as layout
    from benchseal.hw.cluster_telemetry import ClusterTelemetry

    return ClusterTelemetry(ctx.spec.ray_address, ctx.out / layout.TELEMETRY_DIR)
