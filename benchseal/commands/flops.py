"""``benchseal flops MODEL --prompt-len N --output-len M``: forward FLOPs from config.json (no GPU)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from benchseal.commands._common import add_json_flag, print_json
from benchseal.errors import ModelFormatError, UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "flops",
        help="forward FLOPs per token and per request from a model's config.json (no GPU needed)",
        description=(
            "Prefill and decode FLOPs per token and per request, from config.json: 2 FLOPs per "
            "multiply-add, causal attention, lm_head once per generated token (see docs/metrics.md)."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="model directory (with config.json), a config.json, or a bundle's model.json")
    p.add_argument("--prompt-len", type=int, required=True, metavar="N", help="prompt tokens per request")
    p.add_argument("--output-len", type=int, required=True, metavar="M", help="generated tokens per request")
    p.add_argument("--batch", type=int, default=1, metavar="B", help="requests in the batch (default 1)")
    p.add_argument("--dtype", default="bf16", help="weight/KV dtype for the byte counts (default bf16)")
    p.add_argument("--mla", choices=("naive", "absorbed"), default="naive",
                   help="how MLA attention (DeepSeek) is counted (default naive, as the model defines it)")
    add_json_flag(p)
    p.set_defaults(func=run)


def load_model_config(path: str | Path) -> dict:
    """config.json from a model directory, a config.json file, or ``config`` of a model.json."""
    from benchseal.io import read_json

    path = Path(path)
    if path.is_dir():
        cfg_path = path / "config.json"
        if not cfg_path.is_file():
            raise ModelFormatError("no config.json in the model directory", where=str(path),
                                   hint="pass a Hugging Face model directory or its config.json")
        return _config(read_json(cfg_path, constants=False), cfg_path)
    from benchseal.bench.model.files import unusable_model_path

    problem = unusable_model_path(path)
    if problem:
        raise ModelFormatError(problem, where=str(path), hint="pass a model directory, a config.json or a bundle's model.json")
    data = read_json(path, constants=False)
    if isinstance(data, dict) and isinstance(data.get("config"), dict) and ("params" in data or "source" in data
                                                                            or "model_type" not in data):
        # a bundle's model.json: its architecture card, with the model_type recorded beside it
        card = data["config"]
        return _config({**card, "model_type": card.get("model_type") or data.get("model_type")}, path)
    return _config(data, path)


def _config(data: Any, path: Path) -> dict:
    if not isinstance(data, dict):
        raise ModelFormatError("the model config is not a JSON object", where=str(path),
                               hint="pass a model directory, a config.json or a bundle's model.json")
    return data


def compute(config: dict, *, prompt_len: int, output_len: int, batch: int = 1, dtype: str = "bf16",
            mla: str = "naive") -> dict[str, Any]:
    from benchseal.bench.utilisation.flops import DTYPE_BYTES, FlopsModel, normalize_dtype

    for name, value, minimum in (("--prompt-len", prompt_len, 1), ("--output-len", output_len, 1), ("--batch", batch, 1)):
        if value < minimum:
            raise UsageError(f"{name} must be at least {minimum}, got {value}")
    short = normalize_dtype(dtype)
    if short is None:
        raise UsageError(f"unknown dtype '{dtype}'", hint=f"use one of {', '.join(DTYPE_BYTES)}")
    model = FlopsModel.from_config(config, mla=mla)
    prefill = model.prefill_flops(prompt_len)
    decode = model.decode_flops(prompt_len, output_len)
    steps = output_len - 1
    request = prefill + decode
    elem = DTYPE_BYTES[short]
    return {
        "model_type": model.model_type,
        "prompt_len": prompt_len,
        "output_len": output_len,
        "batch": batch,
        "dtype": short,
        "prefill_flops": prefill,
        "prefill_flops_per_token": prefill / prompt_len,
        # mean over the decode steps (output tokens 2..M); the first output token comes from the prefill
        "decode_flops_per_token": decode / steps if steps else model.decode_flops_per_token(prompt_len),
        "decode_flops_per_token_at_prompt_len": model.decode_flops_per_token(prompt_len),
        "decode_flops": decode,
        "request_flops": request,
        "total_flops": request * batch,
        "flops_per_output_token": request / output_len,
        "weight_bytes_per_decode_step": model.weight_bytes(elem, batch=batch),
        "kv_cache_bytes_per_token": model.kv_cache_bytes_per_token(elem),
        "kv_cache_bytes_at_end": model.kv_cache_bytes_per_token(elem) * (prompt_len + output_len) * batch,
        "model": model.describe(),
    }


def _fmt(x: float) -> str:
    for unit, scale in (("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6)):
        if abs(x) >= scale:
            return f"{x / scale:.3f} {unit}"
    return f"{x:.0f} FLOP"


def run(args: argparse.Namespace) -> int:
    result = compute(load_model_config(args.model), prompt_len=args.prompt_len, output_len=args.output_len,
                     batch=args.batch, dtype=args.dtype, mla=args.mla)
    result = {"source": str(args.model), **result}
    if args.json:
        print_json(result)
        return 0
    m = result["model"]
    lines = [
        f"model            {args.model} ({m['model_type']}, {m['num_layers']} layers, attention {m['attention']})",
        f"active params    {m['active_matmul_params_per_token']:,} matmul weights per token + lm_head {m['lm_head_params']:,}",
        f"request          prompt {args.prompt_len} + output {args.output_len} tokens, batch {args.batch}",
        f"prefill          {_fmt(result['prefill_flops'])} ({_fmt(result['prefill_flops_per_token'])}/token)",
        f"decode           {_fmt(result['decode_flops_per_token'])}/token (mean over {args.output_len - 1} steps)",
        f"per request      {_fmt(result['request_flops'])}",
        f"total            {_fmt(result['total_flops'])}",
        f"weights/step     {result['weight_bytes_per_decode_step'] / 1e9:.3f} GB ({result['dtype']})",
        f"KV cache/token   {result['kv_cache_bytes_per_token'] / 1e3:.1f} kB",
        "conventions      2 FLOPs per multiply-add; causal attention; lm_head once per generated token",
    ]
    print("\n".join(lines))
    return 0
