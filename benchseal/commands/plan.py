"""``benchseal plan MODEL --gpu GPU_ID --gpus-per-node N --nodes M``: the vLLM layouts that fit (no GPU needed)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchseal.commands._common import add_json_flag, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan",
        help="which vLLM layouts (tensor/pipeline/data/expert parallel) of a model fit a GPU cluster (no GPU needed)",
        description=(
            "Weight bytes (from the checkpoint's own tensor dtypes when safetensors files are given, else the exact "
            "count from config.json x --dtype), KV-cache bytes for --max-model-len x --concurrency, and a runtime "
            "reserve, against gpu_memory_utilization x each GPU's memory; prints every vLLM layout that fits, "
            "ranked, with its engine arguments. Exit 0 when one fits, 1 when none does (docs/scale-out.md)."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model directory (config.json, optionally safetensors) or a config.json")
    p.add_argument("--gpu", required=True, metavar="GPU_ID", help="GPU id from configs/gpus.yaml (e.g. h200-sxm-141gb)")
    p.add_argument("--gpus-per-node", type=int, required=True, metavar="N", help="GPUs in each node")
    p.add_argument("--nodes", type=int, default=1, metavar="M", help="nodes (default 1)")
    p.add_argument("--dtype", default=None, metavar="D",
                   help="weight dtype of the linear layers (bf16, fp16, fp8, int8, int4, fp32); default: the "
                        "checkpoint's own tensor dtypes, else the config's quantisation or torch_dtype")
    p.add_argument("--max-model-len", type=int, default=None, metavar="L",
                   help="context length to hold in the KV cache (default: the config's, as vLLM does)")
    p.add_argument("--concurrency", type=int, default=1, metavar="C", help="sequences of L tokens held at once (default 1)")
    p.add_argument("--kv-cache-dtype", default="auto", choices=("auto", "bf16", "fp16", "fp8"),
                   help="KV-cache dtype (default auto: the model's activation dtype, as vLLM)")
    p.add_argument("--gpu-memory-utilization", type=float, default=None, metavar="U",
                   help="fraction of each GPU's memory vLLM may use (default vLLM's 0.92)")
    add_json_flag(p)
    p.set_defaults(func=run)


def make_plan(model: str | Path, *, gpu: str, gpus_per_node: int, nodes: int = 1, dtype: str | None = None,
              max_model_len: int | None = None, concurrency: int = 1, kv_cache_dtype: str = "auto",
              gpu_memory_utilization: float | None = None) -> dict[str, Any]:
    """The plan for a model directory or config.json (the function ``run --plan`` calls too)."""
    from benchseal.bench.utilisation.memory import weights_from_checkpoint, weights_from_config
    from benchseal.bench.utilisation.plan import VLLM_GPU_MEMORY_UTILIZATION, cluster_from_spec, plan
    from benchseal.commands.flops import load_model_config

    config = load_model_config(model)
    cluster = cluster_from_spec(gpu, gpus_per_node, nodes)
    path = Path(model)
    has_weights = path.is_dir() and (any(path.glob("*.safetensors")) or (path / "model.safetensors.index.json").is_file())
    weights = weights_from_checkpoint(path, config) if has_weights and dtype is None else weights_from_config(config, dtype)
    out = plan(config, weights, cluster, max_model_len=max_model_len, concurrency=concurrency,
               utilization=gpu_memory_utilization or VLLM_GPU_MEMORY_UTILIZATION, kv_cache_dtype=kv_cache_dtype)
    return {**out, "model": str(model)}


def run(args: argparse.Namespace) -> int:
    result = make_plan(args.model, gpu=args.gpu, gpus_per_node=args.gpus_per_node, nodes=args.nodes, dtype=args.dtype,
                       max_model_len=args.max_model_len, concurrency=args.concurrency,
                       kv_cache_dtype=args.kv_cache_dtype, gpu_memory_utilization=args.gpu_memory_utilization)
    if args.json:
        print_json(result)
        return 0 if result["fits"] else 1
    w = result["inputs"]["weights"]
    print(f"model    {args.model}: weights {w['total_gib']:.1f} GiB ({w['method']}, {w['dtype']})")
    print(f"cluster  {args.nodes} x {args.gpus_per_node} {args.gpu} ({result['inputs']['gpu_memory']})")
    print(("FITS     " if result["fits"] else "NO FIT   ") + result["reason"])
    for i, lay in enumerate(result["layouts"][:10], 1):
        print(f"{i:>2}. TP{lay['tensor_parallel_size']} PP{lay['pipeline_parallel_size']} DP{lay['data_parallel_size']}"
              f"{' EP' if lay['expert_parallel'] else ''}  {lay['gpus']} GPU(s) on {lay['nodes']} node(s)  "
              f"weights {lay['weights_gib_per_gpu']:.1f} + KV {lay['kv_cache_gib_per_gpu']:.1f} + runtime "
              f"{lay['runtime_gib_per_gpu']:.1f} of {lay['budget_gib_per_gpu']:.1f} GiB per GPU")
        print("    vllm serve MODEL " + " ".join(lay["engine_args"]))
    if len(result["layouts"]) > 10:
        print(f"    ... {len(result['layouts']) - 10} more (--json lists all)")
    return 0 if result["fits"] else 1
