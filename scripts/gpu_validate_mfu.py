#!/usr/bin/env python
"""Validate benchseal's FLOPs model, MFU, MBU and energy on a GPU (procedure: docs/gpu-validation.md).

Builds a random-weight Llama-style model locally (no hub), then:

A. hf backend: runs benchseal's ``hf`` backend through ``bench.perf.run_perf`` (telemetry on) and
   annotates the load point with ``bench.utilisation.annotate`` -> MFU, MBU, energy per token;
B. the same generate call under ``torch.utils.flop_counter.FlopCounterMode``: FLOPs counted by
   PyTorch vs ``FlopsModel.request_flops`` (causal, and dense score matrix as SDPA is counted);
C. a batched ``generate`` timed with CUDA synchronisation: MFU against the datasheet peak and
   against the ``benchseal hw --microbench`` matmul peak.

    python scripts/gpu_validate_mfu.py --out gpu-mfu.json            # on a GPU server
    python scripts/gpu_validate_mfu.py --device cpu --small          # smoke test without a GPU

Prints a Markdown summary (paste into docs/gpu-validation.md) and writes every number as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = {  # ~1.1B-parameter Llama (GQA) for the GPU; a tiny one for the CPU smoke test
    "gpu": dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=16,
                num_attention_heads=16, num_key_value_heads=4),
    "small": dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2),
}


def build_model(out: Path, size: str, dtype: str) -> dict:
    import torch
    import transformers

    from benchseal.testing.tiny import build_tokenizer

    tok = build_tokenizer(out, vocab_size=512)
    cfg = transformers.LlamaConfig(**{**SIZES[size], "vocab_size": max(SIZES[size]["vocab_size"], len(tok))},
                                   max_position_embeddings=4096, tie_word_embeddings=False,
                                   bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                   pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(cfg, dtype=getattr(torch, dtype))
    model.save_pretrained(out, safe_serialization=True)
    return json.loads((out / "config.json").read_text())


def prompt_text(n_words: int, seed: int) -> str:
    import random

    from benchseal.testing.tiny import corpus_lines

    words = " ".join(corpus_lines()).split()
    rng = random.Random(seed)
    return " ".join(rng.choice(words) for _ in range(n_words))


def part_a_hf_backend(model_dir: Path, config: dict, hardware, dtype: str, device: str, args, work: Path) -> dict:
    """benchseal's hf backend, measured and annotated exactly as `benchseal run` does."""
    from benchseal.bench.perf.backends.base import GenRequest
    from benchseal.bench.perf.backends.hf import HFBackend
    from benchseal.bench.perf.run import LoadSpec, run_perf
    from benchseal.bench.utilisation.mfu import annotate

    backend = HFBackend(str(model_dir), device=device, dtype=dtype)
    requests = [GenRequest(request_id=i, prompt=prompt_text(args.prompt_words, i), max_tokens=args.output_len)
                for i in range(args.requests + 1)]
    telemetry = work / "telemetry.csv" if device.startswith("cuda") else None

    def _annotate(summary, records):
        return annotate(summary, records, model_config=config, hardware=hardware, dtype=dtype,
                        telemetry_csv=telemetry, num_gpus=1 if hardware and hardware.gpus else None)

    # run_perf starts the backend, runs its own event loop and closes the backend
    report = run_perf(backend, requests, LoadSpec(concurrency=[1], num_requests=args.requests, warmup_requests=1),
                      work / "perf", annotate=_annotate, telemetry_csv=telemetry, progress=False)
    lp = report.load_points[0]
    return {"load_point": lp.load_point, "duration_s": lp.duration_s, "completed": lp.completed,
            "output_token_throughput": lp.output_token_throughput, "tpot_ms_mean": lp.tpot_ms.mean,
            "utilisation": lp.utilisation, "energy": lp.energy, "requests": requests}


def part_b_flopcounter(backend_model, tokenizer, config: dict, prompt: str, output_len: int, device: str) -> dict:
    """FlopCounterMode over the same generate call the hf backend makes (same model, ids, kwargs)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from benchseal.bench.utilisation.flops import FlopsModel

    enc = tokenizer(prompt, return_tensors="pt").to(device)
    p = int(enc["input_ids"].shape[-1])
    kwargs = dict(max_new_tokens=output_len, min_new_tokens=output_len, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        out = backend_model.generate(**enc, **kwargs)
    o = int(out.shape[-1]) - p
    fm = FlopsModel.from_config(config)
    counted = float(fc.get_total_flops())
    causal, dense = fm.request_flops(p, o), fm.request_flops(p, o, causal=False)
    return {"prompt_len": p, "output_len": o, "flopcounter": counted, "benchseal_causal": causal,
            "benchseal_dense_scores": dense, "rel_err_vs_dense": abs(counted - dense) / dense,
            "causal_over_counter": causal / counted,
            "by_op": {str(k): v for k, v in fc.get_flop_counts().get("Global", {}).items()}}


def part_c_batched(backend_model, config: dict, peak_tflops: float | None, micro_tflops: float | None,
                   batch: int, prompt_len: int, output_len: int, device: str) -> dict:
    """A batched generate (equal-length random prompts) timed with synchronisation."""
    import torch

    from benchseal.bench.utilisation.flops import FlopsModel

    ids = torch.randint(10, 500, (batch, prompt_len), device=device)
    kwargs = dict(max_new_tokens=output_len, min_new_tokens=output_len, do_sample=False)

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    with torch.inference_mode():
        backend_model.generate(ids, max_new_tokens=4, min_new_tokens=4, do_sample=False)  # warm-up
        sync()
        t = time.perf_counter()
        backend_model.generate(ids, **kwargs)
        sync()
        elapsed = time.perf_counter() - t
    fm = FlopsModel.from_config(config)
    flops = batch * fm.request_flops(prompt_len, output_len)
    achieved = flops / elapsed
    return {"batch": batch, "prompt_len": prompt_len, "output_len": output_len, "elapsed_s": elapsed,
            "achieved_tflops": achieved / 1e12,
            "mfu_vs_datasheet": achieved / (peak_tflops * 1e12) if peak_tflops else None,
            "mfu_vs_microbench": achieved / (micro_tflops * 1e12) if micro_tflops else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--small", action="store_true", help="tiny model (CPU smoke test)")
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--prompt-words", type=int, default=300)
    ap.add_argument("--output-len", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--batch-prompt-len", type=int, default=512)
    ap.add_argument("--no-microbench", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    import torch

    from benchseal.hw.probe import probe

    on_gpu = args.device.startswith("cuda")
    if on_gpu and not torch.cuda.is_available():
        print("no CUDA device: run with --device cpu --small for a smoke test", file=sys.stderr)
        return 3
    hardware = probe(microbench=on_gpu and not args.no_microbench) if on_gpu else None
    gpu = hardware.gpus[0] if hardware and hardware.gpus else None
    short = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(args.dtype, args.dtype)
    peak = gpu.peak.tflops.get(short) if gpu and gpu.peak else None
    micro = ((hardware.microbench or {}).get("matmul") or {}).get(short, {}).get("tflops") if hardware else None

    result: dict[str, Any] = {"device": torch.cuda.get_device_name(0) if on_gpu else "cpu", "torch": torch.__version__,
                              "dtype": args.dtype, "datasheet_peak_tflops": peak, "microbench_tflops": micro,
                              "microbench": hardware.microbench if hardware else None}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = build_model(work / "model", "small" if args.small else "gpu", args.dtype)
        a = part_a_hf_backend(work / "model", config, hardware, args.dtype, args.device, args, work)
        requests = a.pop("requests")
        result["hf_backend"] = a
        # reload for B and C (the backend released its model on close)
        import transformers

        result["attn_implementation"] = "sdpa"
        tok = transformers.AutoTokenizer.from_pretrained(work / "model")
        model = transformers.AutoModelForCausalLM.from_pretrained(work / "model", dtype=getattr(torch, args.dtype), attn_implementation="sdpa").to(args.device).eval()
        result["flopcounter"] = part_b_flopcounter(model, tok, config, requests[1].prompt, args.output_len, args.device)
        # eager attention makes every attention matmul a counted aten.bmm (CPU SDPA is not counted)
        model.set_attn_implementation("eager")
        result["flopcounter_eager"] = part_b_flopcounter(model, tok, config, requests[1].prompt, args.output_len, args.device)
        model.set_attn_implementation(result["attn_implementation"])
        result["batched"] = part_c_batched(model, config, peak, micro, args.batch, args.batch_prompt_len, args.output_len, args.device)
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    u, b, c = result["hf_backend"]["utilisation"] or {}, result["flopcounter"], result["batched"]
    e = result["hf_backend"]["energy"] or {}
    print(f"| device | {result['device']} ({args.dtype}) |\n|---|---|")
    print(f"| datasheet / microbench peak | {peak} / {micro} TFLOP/s |")
    print(f"| hf backend (batch 1): MFU / MBU | {u.get('mfu')} / {u.get('mbu')} |")
    print(f"| hf backend: J per output token, avg W | {e.get('j_per_output_token')} / {e.get('avg_power_w')} |")
    print(f"| FlopCounterMode vs benchseal (dense scores) rel. err, SDPA / eager | {b['rel_err_vs_dense']:.4%} / "
          f"{result['flopcounter_eager']['rel_err_vs_dense']:.4%} |")
    print(f"| benchseal causal / FlopCounterMode | {b['causal_over_counter']:.4f} |")
    print(f"| batched generate (B={c['batch']}): TFLOP/s, MFU datasheet / microbench | "
          f"{c['achieved_tflops']:.2f}, {c['mfu_vs_datasheet']} / {c['mfu_vs_microbench']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
