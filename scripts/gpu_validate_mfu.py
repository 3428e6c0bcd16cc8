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

A published architecture (random weights, built directly on the GPU, no download), as
scripts/gpu_check.sh runs it (part A is then `benchseal perf --backend hf` on the saved model):

    python scripts/gpu_validate_mfu.py --config llama-3.1-8b --skip-hf-backend \
        --save-model /tmp/llama8b --hardware-json hw-microbench.json --out mfu-8b.json

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


KIT = Path(__file__).resolve().parent / "gpu_kit"


def load_published(name_or_path: str) -> dict:
    """A published config (scripts/gpu_kit/NAME.json: name, source, params_published, config)."""
    path = Path(name_or_path)
    if not path.is_file():  # a name such as "llama-3.1-8b" (its dots are no file suffix)
        path = KIT / f"{name_or_path}.json"
    return json.loads(path.read_text())


def build_published(out: Path, published: dict, dtype: str, device: str) -> tuple:
    """The published architecture with random weights, created directly on ``device`` (no hub).

    The config keeps its published vocabulary (so FLOPs and bytes are the real model's); the tiny
    local tokenizer's ids are a subset of it. Returns (model, tokenizer, config dict, timings);
    :func:`save_published` writes it."""
    import torch
    import transformers

    try:
        from benchseal.bench.tiny import build_tokenizer
    except ImportError:  # after the package restructure
        from benchseal.testing.tiny import build_tokenizer

    timings: dict[str, float] = {}
    t = time.perf_counter()
    tok = build_tokenizer(out, vocab_size=512)
    cfg_dict = dict(published["config"])
    assert len(tok) <= cfg_dict["vocab_size"]
    cfg_dict.update(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    cfg = transformers.AutoConfig.for_model(cfg_dict.pop("model_type"), **cfg_dict)
    torch.manual_seed(0)
    with torch.device(device):
        model = transformers.AutoModelForCausalLM.from_config(cfg, dtype=getattr(torch, dtype))
    model = model.to(device).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = tok.bos_token_id
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    timings["build_s"] = time.perf_counter() - t
    timings["params"] = sum(p.numel() for p in model.parameters())
    return model, tok, model.config.to_dict(), timings


def save_published(model, out: Path, timings: dict) -> dict:
    """save_pretrained as safetensors (the tokenizer is already there); returns config.json's dict."""
    t = time.perf_counter()
    model.save_pretrained(out, safe_serialization=True)
    timings["save_s"] = time.perf_counter() - t
    timings["saved_bytes"] = sum(f.stat().st_size for f in out.glob("*.safetensors"))
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


def part_b_flopcounter(backend_model, tokenizer, config: dict, prompt, output_len: int, device: str) -> dict:
    """FlopCounterMode over the same generate call the hf backend makes (same model, ids, kwargs).
    ``prompt`` is a text, or a list of token ids (the exact prompt length of a perf workload)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from benchseal.bench.utilisation.flops import FlopsModel

    if isinstance(prompt, str):
        enc = tokenizer(prompt, return_tensors="pt").to(device)
    else:
        ids = torch.tensor([list(prompt)], device=device)
        enc = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    p = int(enc["input_ids"].shape[-1])
    kwargs = dict(max_new_tokens=output_len, min_new_tokens=output_len, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    t = time.perf_counter()
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        out = backend_model.generate(**enc, **kwargs)
    elapsed = time.perf_counter() - t
    o = int(out.shape[-1]) - p
    fm = FlopsModel.from_config(config)
    counted = float(fc.get_total_flops())
    causal, dense = fm.request_flops(p, o), fm.request_flops(p, o, causal=False)
    return {"prompt_len": p, "output_len": o, "flopcounter": counted, "benchseal_causal": causal,
            "benchseal_dense_scores": dense, "rel_err_vs_dense": abs(counted - dense) / dense,
            "causal_over_counter": causal / counted, "counted_generate_s": elapsed,
            "by_op": {str(k): v for k, v in fc.get_flop_counts().get("Global", {}).items()}}


def part_b_sdpa(model, tokenizer, config: dict, prompt, output_len: int, device: str) -> dict:
    """Part B with SDPA attention. A torch whose FlopCounterMode cannot count SDPA with grouped
    KV heads (enable_gqa) gets a second try with transformers' GQA-in-SDPA switched off (KV heads
    repeated first: the same FLOPs for the dense score matrix)."""
    try:
        return part_b_flopcounter(model, tokenizer, config, prompt, output_len, device)
    except Exception as exc:  # noqa: BLE001 - recorded, then retried once
        first = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    from transformers.integrations import sdpa_attention

    saved = sdpa_attention.use_gqa_in_sdpa
    sdpa_attention.use_gqa_in_sdpa = lambda *a, **k: False
    try:
        out = part_b_flopcounter(model, tokenizer, config, prompt, output_len, device)
    finally:
        sdpa_attention.use_gqa_in_sdpa = saved
    return {**out, "note": f"GQA inside SDPA disabled after: {first}"}


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
    ap.add_argument("--config", metavar="NAME|PATH",
                    help="a published architecture (scripts/gpu_kit/NAME.json), built with random weights on --device")
    ap.add_argument("--save-model", type=Path, metavar="DIR", help="with --config: keep the saved model (and tokenizer) here")
    ap.add_argument("--build-only", action="store_true", help="with --config: build and save the model, then stop")
    ap.add_argument("--skip-hf-backend", action="store_true", help="skip part A (run `benchseal perf --backend hf` instead)")
    ap.add_argument("--count-prompt-len", type=int, default=512,
                    help="with --skip-hf-backend: prompt tokens of the counted generate (the perf workload's input_len)")
    ap.add_argument("--hardware-json", type=Path, metavar="FILE",
                    help="a `benchseal hw --microbench --json` report to use instead of probing again")
    args = ap.parse_args(argv)

    import torch

    from benchseal.hw.probe import probe

    on_gpu = args.device.startswith("cuda")
    if on_gpu and not torch.cuda.is_available():
        print("no CUDA device: run with --device cpu --small for a smoke test", file=sys.stderr)
        return 3
    if args.hardware_json:
        from benchseal.schema import HardwareReport

        hardware = HardwareReport.model_validate(json.loads(args.hardware_json.read_text()))
    else:
        hardware = probe(microbench=on_gpu and not args.no_microbench and not args.build_only) if on_gpu else None
    gpu = hardware.gpus[0] if hardware and hardware.gpus else None
    short = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(args.dtype, args.dtype)
    peak = gpu.peak.tflops.get(short) if gpu and gpu.peak else None
    micro = ((hardware.microbench or {}).get("matmul") or {}).get(short, {}).get("tflops") if hardware else None

    result: dict[str, Any] = {"device": torch.cuda.get_device_name(0) if on_gpu else "cpu", "torch": torch.__version__,
                              "dtype": args.dtype, "datasheet_peak_tflops": peak, "microbench_tflops": micro,
                              "microbench": hardware.microbench if hardware else None}
    if args.config:
        return _published(args, result, hardware, peak, micro)
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
        result["flopcounter"] = part_b_sdpa(model, tok, config, requests[1].prompt, args.output_len, args.device)
        # eager attention makes every attention matmul a counted aten.bmm (CPU SDPA is not counted)
        model.set_attn_implementation("eager")
        result["flopcounter_eager"] = part_b_flopcounter(model, tok, config, requests[1].prompt, args.output_len, args.device)
        model.set_attn_implementation(result["attn_implementation"])
        result["batched"] = part_c_batched(model, config, peak, micro, args.batch, args.batch_prompt_len, args.output_len, args.device)
    _write(args, result)
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


def _write(args, result: dict) -> None:
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


def _published(args, result: dict, hardware, peak, micro) -> int:
    """--config: the published architecture, built on the device; parts B and C on the built model
    (part A too unless --skip-hf-backend, on the saved copy). Writes the JSON after each part."""
    import torch

    published = load_published(args.config)
    result.update(config_name=published.get("name"), config_source=published.get("source"),
                  params_published=published.get("params_published"))
    tmp = None
    if args.save_model:
        model_dir = args.save_model
        model_dir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory()
        model_dir = Path(tmp.name) / "model"
    try:
        model, tok, config, timings = build_published(model_dir, published, args.dtype, args.device)
        result.update(model_dir=str(model_dir), build=timings)
        print(f"built {published.get('name')} ({timings['params'] / 1e9:.2f} B parameters) on {args.device} "
              f"in {timings['build_s']:.1f} s", flush=True)
        if not args.build_only:  # counts first: a slow save must not lose them
            g = torch.Generator().manual_seed(0)
            ids = torch.randint(10, len(tok), (args.count_prompt_len,), generator=g).tolist()
            result["attn_implementation"] = "sdpa"
            model.set_attn_implementation("sdpa")
            result["flopcounter"] = part_b_sdpa(model, tok, config, ids, args.output_len, args.device)
            _write(args, result)
            model.set_attn_implementation("eager")
            result["flopcounter_eager"] = part_b_flopcounter(model, tok, config, ids, args.output_len, args.device)
            model.set_attn_implementation("sdpa")
            _write(args, result)
            result["batched"] = part_c_batched(model, config, peak, micro, args.batch, args.batch_prompt_len,
                                               args.output_len, args.device)
            _write(args, result)
        if args.build_only or args.save_model or not args.skip_hf_backend:
            config = save_published(model, model_dir, timings)
            result.update(build=timings, model_config=config)
            _write(args, result)
            print(f"saved {timings['saved_bytes'] / 1e9:.1f} GB in {timings['save_s']:.1f} s to {model_dir}", flush=True)
        if args.build_only:
            return 0
        if not args.skip_hf_backend:
            del model
            if args.device.startswith("cuda"):
                torch.cuda.empty_cache()
            a = part_a_hf_backend(model_dir, config, hardware, args.dtype, args.device, args, model_dir.parent)
            a.pop("requests")
            result["hf_backend"] = a
            _write(args, result)
    finally:
        if tmp is not None:
            tmp.cleanup()
    b, e, c = result["flopcounter"], result["flopcounter_eager"], result["batched"]
    print(f"| model | {published.get('name')} random weights, {args.dtype}, {args.device} |\n|---|---|")
    print(f"| datasheet / microbench peak | {peak} / {micro} TFLOP/s |")
    print(f"| FlopCounterMode vs benchseal dense (p={b['prompt_len']}, o={b['output_len']}), SDPA / eager | "
          f"{b['rel_err_vs_dense']:.4%} / {e['rel_err_vs_dense']:.4%} |")
    print(f"| benchseal causal / FlopCounterMode | {b['causal_over_counter']:.4f} |")
    print(f"| batched generate (B={c['batch']}): TFLOP/s, MFU datasheet / microbench | "
          f"{c['achieved_tflops']:.2f}, {c['mfu_vs_datasheet']} / {c['mfu_vs_microbench']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
