"""GPU memory a vLLM deployment needs: weight bytes by placement class and KV-cache bytes per token.

Weights come from the checkpoint's own per-tensor dtypes when safetensors files are given (bytes =
elements x the stored dtype's size, packed quantised tensors and their scales included, exactly what is
loaded), else from the exact parameter count of config.json times a dtype. They are split into the
classes a parallel layout places differently: ``embedding`` and ``lm_head`` (vocab-parallel over tensor
parallel ranks, on the first / last pipeline stage), ``experts`` (routed experts: split over tensor
parallel ranks, or over TP x DP ranks with expert parallelism) and ``layers`` (everything else in the
decoder layers, split over tensor parallel ranks and pipeline stages). Multi-token-prediction layers are
left out: vLLM loads them only for speculative decoding. Definitions: docs/scale-out.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchseal.errors import UsageError

GIB = 2**30
# bytes per element of a weight dtype (the quantised linear layers' storage); int4 packs two per byte
WEIGHT_DTYPE_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
_UNQUANTISED = ("embedding", "lm_head", "norms", "router", "vision", "audio")


@dataclass(frozen=True)
class WeightBytes:
    embedding: float
    lm_head: float
    experts: float
    layers: float
    method: str  # "safetensors-header" (per-tensor dtypes) or "config x dtype"
    dtype: str | None = None  # the weight dtype assumed (config method) or the checkpoint's main dtype
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return self.embedding + self.lm_head + self.experts + self.layers

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "dtype": self.dtype, "total_gib": round(self.total / GIB, 3),
                "embedding_gib": round(self.embedding / GIB, 3), "lm_head_gib": round(self.lm_head / GIB, 3),
                "experts_gib": round(self.experts / GIB, 3), "layers_gib": round(self.layers / GIB, 3),
                "notes": list(self.notes)}


def _place(component: str) -> str:
    if component in ("embedding", "lm_head", "experts"):
        return component
    return "layers"


def weights_from_checkpoint(root: Path, config: dict[str, Any]) -> WeightBytes:
    """Bytes of every stored tensor (its own dtype) the engine loads, by placement class."""
    from benchseal.bench.model.files import resolve
    from benchseal.bench.model.rules import classify, mtp_declared, text_config
    from benchseal.bench.model.safetensors_io import DTYPE_BITS, read_checkpoint

    mf = resolve(root)
    if not (mf.safetensors or mf.safetensors_index):
        raise UsageError("planning from weights needs safetensors files", where=str(root),
                         hint="pass a model directory with *.safetensors, or plan from its config.json alone")
    files = read_checkpoint(mf.root, mf.safetensors, mf.safetensors_index)
    n_layers = text_config(config).get("num_hidden_layers")
    mtp = mtp_declared(config)
    sums = {"embedding": 0.0, "lm_head": 0.0, "experts": 0.0, "layers": 0.0}
    left_out = 0.0
    by_dtype: dict[str, float] = {}
    for f in files:
        for t in f.tensors:
            size = t.numel * DTYPE_BITS[t.dtype] / 8  # the reader accepts only known dtypes
            li = _layer_of(t.name)
            if (isinstance(n_layers, int) and li is not None and li >= n_layers) or (mtp and ".mtp" in t.name):
                left_out += size  # multi-token-prediction layers: loaded only for speculative decoding
                continue
            sums[_place(classify(t.name))] += size
            by_dtype[t.dtype] = by_dtype.get(t.dtype, 0) + size
    notes = [f"bytes of {sum(len(f.tensors) for f in files)} stored tensors at their own dtypes "
             f"({', '.join(f'{k} {v / GIB:.2f} GiB' for k, v in sorted(by_dtype.items(), key=lambda kv: -kv[1]))})"]
    if left_out:
        notes.append(f"{left_out / GIB:.2f} GiB of layers beyond num_hidden_layers (multi-token prediction) left out: "
                     "vLLM loads them only for speculative decoding")
    main = max(by_dtype, key=by_dtype.__getitem__) if by_dtype else None
    return WeightBytes(method="safetensors-header", dtype=main, notes=tuple(notes), **sums)


def _layer_of(name: str) -> int | None:
    from benchseal.bench.model.rules import layer_index

    return layer_index(name)


def config_weight_dtype(config: dict[str, Any]) -> str:
    """The weight dtype a config declares: its quantisation method, else torch_dtype (bf16 if neither)."""
    from benchseal.bench.utilisation.flops import normalize_dtype

    qc = config.get("quantization_config")
    if isinstance(qc, dict):
        method = str(qc.get("quant_method") or "").lower()
        bits = qc.get("bits") or qc.get("weight_bits")
        if method in ("fp8", "fbgemm_fp8", "finegrained_fp8", "modelopt") or str(qc.get("fmt", "")).startswith("e4m3"):
            return "fp8"
        if bits in (4, 8):
            return "int4" if bits == 4 else "int8"
    tc = config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    return normalize_dtype(config.get("torch_dtype") or config.get("dtype") or tc.get("torch_dtype")) or "bf16"


def weights_from_config(config: dict[str, Any], dtype: str | None = None) -> WeightBytes:
    """Exact parameter count of config.json (analytic, else meta device) times the weight dtype's size.

    With a quantised dtype (fp8, int8, int4) only the linear layers are quantised: embedding, lm_head,
    norms and routers stay at 2 bytes (bf16), as vLLM's fp8/int8/int4 methods keep them. FP8 adds one
    float32 scale per 128 x 128 block (DeepSeek-V3's weight_block_size)."""
    from benchseal.bench.model.params_config import count_from_config
    from benchseal.bench.utilisation.flops import normalize_dtype

    want = dtype or config_weight_dtype(config)
    short = normalize_dtype(want) if want not in WEIGHT_DTYPE_BYTES else want
    if short not in WEIGHT_DTYPE_BYTES:
        raise UsageError(f"unknown weight dtype '{want}'", hint=f"use one of {', '.join(WEIGHT_DTYPE_BYTES)}")
    pc = count_from_config(config)
    b = WEIGHT_DTYPE_BYTES[short]
    quantised = b < 2
    sums = {"embedding": 0.0, "lm_head": 0.0, "experts": 0.0, "layers": 0.0}
    for comp, n in pc.breakdown.items():
        n = int(n)
        per = 2.0 if quantised and comp in _UNQUANTISED else b
        if short == "fp8" and not (comp in _UNQUANTISED):
            per += 4 / (128 * 128)
        sums[_place(comp)] += n * per
    notes = [f"{int(pc.total):,} parameters ({pc.method}) x {short}"
             + (" for the linear layers; embedding, lm_head, norms and routers at 2 bytes" if quantised else "")]
    if pc.excluded:
        notes.append("left out as the count leaves them out: " + ", ".join(f"{k} {int(v):,}" for k, v in pc.excluded.items()))
    return WeightBytes(method="config x dtype", dtype=short, notes=tuple(notes), **sums)


@dataclass(frozen=True)
class KvShape:
    """KV-cache elements per token of each decoder layer and how tensor parallelism splits them."""

    per_layer: tuple[int, ...]  # elements per token, whole layer
    windows: tuple[int | None, ...]  # sliding window per layer (None = full attention)
    kv_heads: int | None  # None for MLA (one latent per token, replicated on every TP rank)
    attention: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "KvShape":
        from benchseal.bench.model.rules import text_config
        from benchseal.bench.utilisation.flops import FlopsModel

        c = text_config(config)
        types = c.get("layer_types")
        if isinstance(types, list) and any(t not in ("full_attention", "sliding_attention") for t in types):
            odd = sorted({str(t) for t in types} - {"full_attention", "sliding_attention"})
            raise UsageError(f"the planner does not model the cache of {', '.join(odd)} layers",
                             where="config.json", hint="plan this model by hand; its KV/state size is not established")
        fm = FlopsModel.from_config(config)
        mla = fm.attention.startswith("mla")
        kv = None if mla else int(c.get("num_key_value_heads") or c.get("num_attention_heads") or 1)
        return cls(per_layer=tuple(layer.kv_elems_per_token for layer in fm.layers),
                   windows=tuple(layer.window for layer in fm.layers), kv_heads=kv, attention=fm.attention)

    def bytes_per_gpu(self, *, tp: int, pp: int, seqs: int, max_model_len: int, kv_bytes: float,
                      block_size: int = 16) -> float:
        """KV bytes on the busiest GPU for ``seqs`` sequences of ``max_model_len`` tokens.

        GQA/MHA: each TP rank holds ceil(kv_heads / tp) heads (heads are replicated when tp > kv_heads);
        MLA: the latent is replicated on every TP rank. Pipeline stages take ceil(layers / pp) layers; the
        busiest stage is assumed to hold the full-attention layers first. Sliding-window layers keep
        min(max_model_len, window) tokens. Tokens are rounded up to whole blocks of ``block_size``."""
        n = len(self.per_layer)
        per_stage = math.ceil(n / pp)
        order = sorted(range(n), key=lambda i: self.windows[i] is not None)  # full layers first (worst case)
        total = 0.0
        for i in order[:per_stage]:
            elems = self.per_layer[i]
            if self.kv_heads:
                elems = elems / self.kv_heads * math.ceil(self.kv_heads / tp)
            w = self.windows[i]
            tokens = max_model_len if w is None else min(max_model_len, w + block_size)
            tokens = math.ceil(tokens / block_size) * block_size
            total += elems * kv_bytes * tokens
        return total * seqs
