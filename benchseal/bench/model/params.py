"""Parameter counting: from safetensors headers, GGUF headers, pickles (opt-in), or config alone.

Every count goes through :func:`tally`, so the component rules (embedding, lm_head, attention, mlp,
experts, shared_experts, router, norms, other), the tied-embedding rule, the MoE active rule and the
quantisation rules are the same whatever the source. Definitions: docs/metrics.md.
"""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

from benchseal.bench.model import quant as quantmod
from benchseal.bench.model.files import CONVERT_HINT, ModelFiles, read_config, resolve
from benchseal.errors import ModelFormatError, UsageError
from benchseal.schema import ParamCount

COMPONENTS = ("embedding", "lm_head", "attention", "mlp", "experts", "shared_experts", "router", "norms", "other")
_EMB = ("embed_tokens", "word_embeddings", "wte.", "wpe.", "tok_embeddings", "embed_in.", "token_embd", "position_embd",
        "embed_positions", "position_embeddings")
_EMB_RE = re.compile("|".join(map(re.escape, _EMB)))
_ROUTER_END = (".gate.weight", ".gate.bias", "e_score_correction_bias", "ffn_gate_inp.weight", "exp_probs_b.bias")
E_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts", "num_routed_experts")
K_KEYS = ("num_experts_per_tok", "moe_topk", "num_selected_experts", "top_k", "moe_k")
DTYPE_NAMES = {"BF16": "bfloat16", "F16": "float16", "F32": "float32", "F64": "float64", "F8_E4M3": "float8_e4m3fn",
               "F8_E5M2": "float8_e5m2", "I8": "int8", "U8": "uint8", "I32": "int32", "I64": "int64", "BOOL": "bool"}


def classify(name: str) -> str:
    """The component a tensor belongs to, from its name (Hugging Face or GGUF naming)."""
    if ".experts." in name and "norm" not in name and not name.endswith(_ROUTER_END):
        return "experts"  # fast path: most tensors of a MoE checkpoint
    if "lm_head" in name or name.startswith("embed_out") or name == "output.weight":
        return "lm_head"
    if _EMB_RE.search(name):
        return "embedding"
    if "norm" in name or ".ln_" in name or name.startswith("ln_"):
        return "norms"
    if name.endswith(_ROUTER_END) or ".router." in name or "shared_expert_gate" in name:
        return "router"
    if "shared_expert" in name or "_shexp" in name:
        return "shared_experts"
    if ".experts" in name or "_exps" in name:
        return "experts"
    if "attn" in name or "attention" in name:
        return "attention"
    if "mlp" in name or "feed_forward" in name or "ffn" in name:
        return "mlp"
    return "other"


def text_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """The language-model part of a config (multimodal configs nest it under text_config)."""
    config = config or {}
    tc = config.get("text_config")
    return {**config, **tc} if isinstance(tc, dict) else config


def moe_shape(config: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """(routed experts per MoE layer, routed experts per token) from a config, or (None, None)."""
    c = text_config(config)
    e = next((c[k] for k in E_KEYS if isinstance(c.get(k), int) and c[k] > 0), None)
    k = next((c[k] for k in K_KEYS if isinstance(c.get(k), int) and c[k] > 0), None)
    return e, k


def finish(breakdown: dict[str, int], *, method: str, architecture: str | None, dtype: str | None,
           experts: int | None, experts_per_token: int | None, notes: list[str], excluded: dict[str, int] | None = None,
           quantization: str | None = None, tensors: int | None = None) -> ParamCount:
    """Totals from a per-component breakdown: active (MoE rule) and embedding / non-embedding."""
    bd = {c: int(breakdown.get(c, 0)) for c in COMPONENTS if breakdown.get(c)}
    total = sum(bd.values())
    routed = bd.get("experts", 0)
    active = total
    if routed and experts and experts_per_token:
        if experts_per_token > experts:
            raise ModelFormatError(f"experts per token ({experts_per_token}) exceeds experts ({experts})", where=architecture or method)
        active_routed = Fraction(routed * experts_per_token, experts)
        active = total - routed + round(active_routed)
        notes.append(f"MoE: active = total - routed experts x (1 - {experts_per_token}/{experts}); shared experts, "
                     "router, attention, norms and embeddings count fully")
    elif routed:
        notes.append("MoE experts found but experts per token is unknown (no config): active is reported as total")
    emb = bd.get("embedding", 0) + bd.get("lm_head", 0)
    return ParamCount(total=total, active=active, embedding=emb, non_embedding=total - emb, method=method,  # type: ignore[arg-type]
                      architecture=architecture, dtype=dtype, breakdown=bd, notes=notes, excluded=dict(excluded or {}),
                      quantization=quantization, experts=experts if routed else None,
                      experts_per_token=experts_per_token if routed else None, tensors=tensors)


def tally(items: Iterable[tuple[str, str, int]], config: dict[str, Any] | None, *, method: str, where: str,
          architecture: str | None, names: list[str], quant_config: dict[str, Any] | None = None,
          dtype_names: dict[str, str] = DTYPE_NAMES) -> ParamCount:
    """Count stored tensors (name, storage dtype, elements), applying the tie, MTP and quantisation rules."""
    c = text_config(config)
    notes: list[str] = []
    q = quantmod.detect(config, names, where=where, extra_config=quant_config)
    bnb4 = quantmod.bnb4_weights(names) if q and q.rule.method == "bitsandbytes" else set()
    if q:
        notes.append(q.note)
    n_layers = c.get("num_hidden_layers") if isinstance(c.get("num_hidden_layers"), int) else None
    tied = c.get("tie_word_embeddings") is True
    has_embed = any(classify(n) == "embedding" and "embed_tokens" in n for n in names) if tied else False
    bd: dict[str, int] = dict.fromkeys(COMPONENTS, 0)
    excluded: dict[str, int] = {}
    by_dtype: dict[str, int] = {}
    counted = 0
    for name, dtype, numel in items:
        if n_layers is not None and name.startswith("model.layers."):
            dot = name.find(".", 13)
            idx = name[13:dot]
            if idx.isdigit() and int(idx) >= n_layers:
                excluded["layers_beyond_num_hidden_layers"] = excluded.get("layers_beyond_num_hidden_layers", 0) + numel
                continue
        if q is not None:
            logical, reason = q.count(name, dtype, numel, bnb4)
            if reason:
                excluded[reason] = excluded.get(reason, 0) + numel
                continue
            if logical != numel:
                dtype = f"int{q.bits or 4}"
            numel = logical
        comp = classify(name)
        if comp == "lm_head" and tied and has_embed:
            excluded["lm_head_tied_to_embedding"] = excluded.get("lm_head_tied_to_embedding", 0) + numel
            continue
        bd[comp] += numel
        by_dtype[dtype] = by_dtype.get(dtype, 0) + numel
        counted += 1
    if "layers_beyond_num_hidden_layers" in excluded:
        mtp = c.get("num_nextn_predict_layers") or c.get("num_mtp_layers")
        why = (f"multi-token-prediction layers (num_nextn_predict_layers={mtp}) stored in the checkpoint but not part of "
               "the model's forward pass") if mtp else "layers with an index >= num_hidden_layers"
        notes.append(f"not counted: {excluded['layers_beyond_num_hidden_layers']:,} elements of {why}")
    if "lm_head_tied_to_embedding" in excluded:
        notes.append("tied embeddings: lm_head is stored but shares the input embedding; counted once")
    elif tied:
        notes.append("tied embeddings (tie_word_embeddings=true): the output projection shares the input embedding, counted once")
    if "quantisation metadata" in excluded:
        notes.append(f"not counted: {excluded['quantisation metadata']:,} elements of quantisation scales/zero points/indices")
    main = max(by_dtype, key=by_dtype.__getitem__) if by_dtype else None
    dtype = dtype_names.get(main, main) if main else None
    if q and main and main.startswith("int") and q.rule.packed:
        dtype = f"{main} ({q.rule.method})"
    e, k = moe_shape(config)
    return finish(bd, method=method, architecture=architecture, dtype=dtype, experts=e, experts_per_token=k,
                  notes=notes, excluded=excluded, quantization=q.rule.method if q else None, tensors=counted)


def _arch(config: dict[str, Any] | None, fallback: str | None = None) -> str | None:
    archs = (config or {}).get("architectures")
    if isinstance(archs, list) and archs and isinstance(archs[0], str):
        return archs[0]
    return (config or {}).get("model_type") or fallback


def _extra_quant_config(mf: ModelFiles) -> dict[str, Any] | None:
    p = mf.root / "quantize_config.json"  # AutoGPTQ's file
    return read_config(p) if p.is_file() else None


def count_safetensors(mf: ModelFiles) -> ParamCount:
    from benchseal.bench.model.safetensors_io import read_checkpoint

    files = read_checkpoint(mf.root, mf.safetensors, mf.safetensors_index)
    names = [t.name for f in files for t in f.tensors]
    items = ((t.name, t.dtype, t.numel) for f in files for t in f.tensors)
    where = str(mf.root / (mf.safetensors_index or (mf.safetensors[0] if mf.safetensors else "")))
    pc = tally(items, mf.config, method="safetensors-header", where=where, architecture=_arch(mf.config),
               names=names, quant_config=_extra_quant_config(mf))
    pc.notes.insert(0, f"counted from the headers of {len(files)} safetensors file(s); no tensor data read")
    return pc


def count_gguf(mf: ModelFiles) -> ParamCount:
    from benchseal.bench.model.gguf_io import read_gguf

    g = read_gguf(mf.root / mf.gguf)  # type: ignore[operator]
    arch = g.architecture
    cfg: dict[str, Any] = {}
    for key, field in (("expert_count", "num_local_experts"), ("expert_used_count", "num_experts_per_tok")):
        v = g.metadata.get(f"{arch}.{key}")
        if isinstance(v, int) and v > 0:
            cfg[field] = v
    items = [(t.name, t.ggml_type, t.numel) for t in g.tensors]
    pc = tally(items, cfg, method="gguf", where=str(g.path), architecture=arch, names=[t.name for t in g.tensors],
               dtype_names={})
    ftype = g.metadata.get("general.file_type")
    pc.notes.insert(0, f"counted from the GGUF v{g.version} header: logical elements of {len(g.tensors)} tensors "
                       f"(quantised blocks expand to their element count){'; general.file_type=' + str(ftype) if ftype is not None else ''}")
    return pc


def count_pickle(mf: ModelFiles, *, allow_pickle: bool) -> ParamCount:
    first = mf.root / mf.pickles[0]
    if not allow_pickle:
        raise UsageError("the weights are pickled PyTorch files, which benchseal does not unpickle by default",
                         where=str(first), hint=CONVERT_HINT)
    from benchseal.errors import require

    torch = require("torch", "hf", "reading pickled weights")
    items: list[tuple[str, str, int]] = []
    seen: set[int] = set()
    for f in mf.pickles:
        try:
            sd = torch.load(mf.root / f, map_location="meta", weights_only=True, mmap=True)
        except Exception as exc:  # torch raises many types for corrupt or unsafe pickles
            raise ModelFormatError(f"cannot read pickled weights with torch.load(weights_only=True): {str(exc).splitlines()[0]}",
                                   where=str(mf.root / f), hint=CONVERT_HINT) from None
        if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
            sd = sd["state_dict"]
        if not isinstance(sd, dict):
            raise ModelFormatError("pickled file is not a state dict (name -> tensor)", where=str(mf.root / f))
        for name, t in sd.items():
            if not isinstance(t, torch.Tensor) or id(t) in seen:
                continue
            seen.add(id(t))
            items.append((str(name), str(t.dtype).removeprefix("torch."), t.numel()))
    pc = tally(items, mf.config, method="pickle", where=str(first), architecture=_arch(mf.config),
               names=[i[0] for i in items], dtype_names={})
    pc.notes.insert(0, f"counted from {len(mf.pickles)} pickled file(s) loaded with torch.load(weights_only=True) onto the meta device")
    return pc


def count_all(mf: ModelFiles, *, trust_remote_code: bool = False, allow_pickle: bool = False) -> tuple[dict[str, ParamCount], list[str]]:
    """Every count that the files allow, by method, plus notes on counts that could not be made."""
    from benchseal.bench.model.params_config import RemoteCodeRefused, count_from_config

    counts: dict[str, ParamCount] = {}
    skipped: list[str] = []
    if mf.safetensors or mf.safetensors_index:
        counts["safetensors-header"] = count_safetensors(mf)
    elif mf.gguf:
        counts["gguf"] = count_gguf(mf)
    elif mf.pickles:
        counts["pickle"] = count_pickle(mf, allow_pickle=allow_pickle)
    if mf.config is not None:
        try:
            counts["config-meta"] = count_from_config(mf.config, root=mf.root, trust_remote_code=trust_remote_code)
        except (RemoteCodeRefused, ModelFormatError) as exc:
            if not counts:
                raise
            skipped.append(f"config-meta count not made: {exc.message}")
    return counts, skipped


def headline(counts: dict[str, ParamCount]) -> ParamCount:
    for method in ("safetensors-header", "gguf", "pickle", "config-meta"):
        if method in counts:
            return counts[method]
    raise ModelFormatError("no parameter count could be made")  # pragma: no cover - resolve() guarantees a source


def count_params(path: str | os.PathLike, *, trust_remote_code: bool = False, allow_pickle: bool = False) -> ParamCount:
    """The headline parameter count of a model (header count when weights exist, else config-meta)."""
    mf = resolve(Path(path))
    counts, skipped = count_all(mf, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    pc = headline(counts)
    pc.notes.extend(mf.notes + skipped)
    return pc
