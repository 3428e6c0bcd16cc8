"""The counting rules every parameter count goes through, whatever its source (safetensors or GGUF
headers, pickles, or a model built from config.json): component classification, the tie rule, the
multi-token-prediction (MTP) rule, the quantisation rules, the MoE active rule (per layer when the
config gives per-layer values) and the active count under each vendor convention.

Both :mod:`benchseal.bench.model.params` (weights) and :mod:`benchseal.bench.model.params_config`
(config.json) import this module; it imports neither. Definitions: docs/metrics.md and
docs/model-inspection.md.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Iterable

from benchseal.bench.model import quant as quantmod
from benchseal.errors import ModelFormatError
from benchseal.schema import ParamCount, UnusedWeights

COMPONENTS = ("embedding", "lm_head", "attention", "mlp", "experts", "shared_experts", "router", "norms", "vision",
              "audio", "other")
_EMB = ("embed_tokens", "word_embeddings", "wte.", "wpe.", "tok_embeddings", "embed_in.", "token_embd", "position_embd",
        "embed_positions", "position_embeddings")
# ... and a module named ``embeddings`` holding one matrix (Mamba / Nemotron-H: backbone.embeddings.weight)
_EMB_RE = re.compile("|".join(map(re.escape, _EMB)) + r"|(?:^|\.)embeddings\.weight$")
_ROUTER_END = (".gate.weight", ".gate.bias", "e_score_correction_bias", "ffn_gate_inp.weight", "exp_probs_b.bias",
               ".gate.wg.weight")
# vision / audio towers and their projectors (Llama 4, Gemma 3, Qwen2.5-VL, LLaVA, Whisper-style encoders)
_VISION_RE = re.compile(r"(^|\.)(vision_tower|vision_model|visual|vision_encoder|multi_modal_projector|mm_projector|"
                        r"vision_embed_tokens|image_newline|vpm|resampler)(\.|$)")
_AUDIO_RE = re.compile(r"(^|\.)(audio_tower|audio_model|audio_encoder|audio_projector|speech_encoder|whisper_encoder)(\.|$)")
# experts stacked in one tensor per projection under ``moe`` (StepFun's Step 3: moe.gate_proj.weight is experts x
# moe_intermediate_size x hidden; its router is moe.gate.weight)
_STACKED_MOE_RE = re.compile(r"(^|\.)moe\.(gate|up|down)_proj\.weight$")
_MTP_PART_RE = re.compile(r"(^|\.)mtp[a-z_]*(\.|$)")
# The routed-expert count and top-k under every name a config may use. transformers' own spellings are
# checked by tests/integration/bench/model/test_moe_keys.py against its config classes: every
# attribute_map alias of num_local_experts / num_experts / n_routed_experts / num_experts_per_tok (e.g.
# Kimi-Linear's num_experts_per_token) and every top-k field read directly (e.g. Gemma 4's top_k_experts).
E_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts", "num_routed_experts")
K_KEYS = ("num_experts_per_tok", "moe_topk", "num_selected_experts", "top_k", "moe_k", "experts_per_token",
          "num_experts_per_token", "top_k_experts", "moe_top_k")
MTP_KEYS = ("num_nextn_predict_layers", "num_mtp_layers", "mtp_num_hidden_layers", "mtp_num_layers", "num_mtp_modules")
DTYPE_NAMES = {"BF16": "bfloat16", "F16": "float16", "F32": "float32", "F64": "float64", "F8_E4M3": "float8_e4m3fn",
               "F8_E5M2": "float8_e5m2", "I8": "int8", "U8": "uint8", "I32": "int32", "I64": "int64", "BOOL": "bool"}
NON_PARAMETER_BUFFERS = (".inv_freq", "._freqs_cis", ".rotary_emb.cos_cached", ".rotary_emb.sin_cached")

# Active-parameter conventions, by key: (label, what is left out). The headline ``active`` is "all".
CONVENTIONS = {
    "all": "all parameters (benchseal's headline rule; Mistral, Qwen, Moonshot)",
    "no_input_embedding": "without the input embedding (OpenAI gpt-oss, DeepSeek)",
    "no_embedding_or_head": "without the embedding and the output head (Zhipu GLM)",
    "no_vision_audio": "without vision/audio towers (Meta Llama 4)",
}


def classify(name: str) -> str:
    """The component a tensor belongs to, from its name (Hugging Face or GGUF naming)."""
    if ".experts." in name and "norm" not in name and not name.endswith(_ROUTER_END) and "vision" not in name:
        return "experts"  # fast path: most tensors of a MoE checkpoint
    if _VISION_RE.search(name):
        return "vision"
    if _AUDIO_RE.search(name):
        return "audio"
    if "lm_head" in name or name.startswith("embed_out") or name == "output.weight" or ".output_layer." in name:
        return "lm_head"
    if _EMB_RE.search(name):
        return "embedding"
    if "norm" in name or ".ln_" in name or name.startswith("ln_"):
        return "norms"
    if name.endswith(_ROUTER_END) or ".router." in name or "shared_expert_gate" in name:
        return "router"
    if "shared_expert" in name or "_shexp" in name or ".shared_mlp." in name or ".share_expert." in name:
        return "shared_experts"  # .share_expert.: StepFun's Step 3 (modeling_step3.py)
    if ".experts" in name or "_exps" in name or _STACKED_MOE_RE.search(name):
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


def architecture_name(config: dict[str, Any] | None, fallback: str | None = None) -> str | None:
    archs = (config or {}).get("architectures")
    if isinstance(archs, list) and archs and isinstance(archs[0], str):
        return archs[0]
    return (config or {}).get("model_type") or fallback


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def per_layer(value: Any) -> int | list[int] | None:
    """A MoE config field as an int (also for a uniform list) or a per-layer list of ints; None if unusable."""
    if _positive_int(value):
        return value
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        return value[0] if len(set(value)) == 1 else list(value)
    return None


def moe_fields(config: dict[str, Any] | None) -> tuple[int | list[int] | None, int | list[int] | None]:
    """(routed experts per MoE layer, routed experts per token), each an int or a per-layer list."""
    c = text_config(config)
    e = next((v for v in (per_layer(c.get(k)) for k in E_KEYS) if v), None)
    k = next((v for v in (per_layer(c.get(k)) for k in K_KEYS) if v), None)
    return e, k


def moe_shape(config: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """(routed experts, experts per token) when both are the same for every layer, else None for the varying one."""
    e, k = moe_fields(config)
    return (e if isinstance(e, int) else None), (k if isinstance(k, int) else None)


def mtp_declared(config: dict[str, Any] | None) -> str | None:
    """'key=value' of the config field that declares multi-token-prediction layers, or None."""
    c = text_config(config)
    for key in MTP_KEYS:
        if _positive_int(c.get(key)):
            return f"{key}={c[key]}"
    for key, v in c.items():
        if key.startswith("mtp_") and (_positive_int(v) or v is True):
            return f"{key}={v}"
    return None


PATTERN_CACHE = True  # tally's per-pattern cache (off only to check that it changes nothing)
_LAYER_RE = re.compile(r"(?:^|\.)(?:layers|h|blocks|blk|block)\.(\d+)\.")


def layer_index(name: str) -> int | None:
    m = _LAYER_RE.search(name)
    return int(m.group(1)) if m else None


def _layer_key(name: str) -> tuple[str, int | None]:
    """(the name with its layer index replaced by '#', the layer index) -- (name, None) without one."""
    m = _LAYER_RE.search(name)
    if m is None:
        return name, None
    return name[:m.start(1)] + "#" + name[m.end(1):], int(m.group(1))


def _at(v: int | list[int] | None, i: int | None) -> int | None:
    if isinstance(v, int):
        return v
    if isinstance(v, list) and i is not None and 0 <= i < len(v):
        return v[i]
    return None


def active_routed(routed_by_layer: dict[int | None, int], e: int | list[int] | None, k: int | list[int] | None,
                  where: str) -> tuple[Fraction | None, str]:
    """Active routed-expert elements (sum over layers of routed_i x k_i / e_i), or (None, why not)."""
    total = Fraction(0)
    for i, routed in routed_by_layer.items():
        ei, ki = _at(e, i), _at(k, i)
        if not ei or not ki:
            return None, ("experts per token is unknown (no config)" if e is None or k is None else
                          f"per-layer expert counts do not cover layer {i}")
        if ki > ei:
            raise ModelFormatError(f"experts per token ({ki}) exceeds experts ({ei})", where=where)
        total += Fraction(routed * ki, ei)
    return total, ""


def _fmt(v: int | list[int]) -> str:
    return str(v) if isinstance(v, int) else f"per layer {v}"


def finish(breakdown: dict[str, int], *, method: str, architecture: str | None, dtype: str | None,
           config: dict[str, Any] | None, notes: list[str], excluded: dict[str, int] | None = None,
           quantization: str | None = None, tensors: int | None = None,
           routed_by_layer: dict[int | None, int] | None = None, tied: bool = False) -> ParamCount:
    """Totals from a per-component breakdown: active (MoE rule, per layer when needed), embedding /
    non-embedding, and the active count under each convention."""
    bd = {c: int(breakdown.get(c, 0)) for c in COMPONENTS if breakdown.get(c)}
    total = sum(bd.values())
    routed = bd.get("experts", 0)
    e, k = moe_fields(config)
    active = total
    if routed:
        by_layer = routed_by_layer if routed_by_layer is not None else {None: routed}
        act, why = active_routed(by_layer, e, k, architecture or method)
        if act is not None:
            active = total - routed + round(act)
            notes.append(f"MoE: active = total - routed experts x (1 - k/E) with k={_fmt(k)} of E={_fmt(e)} "  # type: ignore[arg-type]
                         "(per layer when the config gives per-layer values); shared experts, router, attention, norms "
                         "and embeddings count fully")
        else:
            notes.append(f"MoE experts found but {why}: active is reported as total")
    emb = bd.get("embedding", 0) + bd.get("lm_head", 0)
    # tied: the one stored matrix is also the output head, so leaving out the *input* embedding leaves it in
    input_emb = 0 if tied and not bd.get("lm_head") else bd.get("embedding", 0)
    conventions = {
        "all": active,
        "no_input_embedding": active - input_emb,
        "no_embedding_or_head": active - emb,
        "no_vision_audio": active - bd.get("vision", 0) - bd.get("audio", 0),
    }
    se, sk = moe_shape(config)
    return ParamCount(total=total, active=active, embedding=emb, non_embedding=total - emb, method=method,  # type: ignore[arg-type]
                      architecture=architecture, dtype=dtype, breakdown=bd, notes=notes, excluded=dict(excluded or {}),
                      quantization=quantization, experts=se if routed else None,
                      experts_per_token=sk if routed else None, tensors=tensors, active_by_convention=conventions)


def tally(items: Iterable[tuple[str, str, int]], config: dict[str, Any] | None, *, method: str, where: str,
          architecture: str | None, names: list[str], quant_config: dict[str, Any] | None = None,
          dtype_names: dict[str, str] = DTYPE_NAMES, unused: Any = None) -> ParamCount:
    """Count stored tensors (name, storage dtype, elements), applying the tie, MTP and quantisation rules, and,
    with ``unused`` (a :class:`benchseal.bench.model.unused.UnusedRule`), leaving out the tensors the
    architecture does not build."""
    c = text_config(config)
    notes: list[str] = []
    if unused is not None:
        items = list(items)  # a second pass may be needed (below)
        why_not = unused.prepare(names, tree=unused.tree_checked)
        if why_not:
            notes.append(why_not)
    q = quantmod.detect(config, names, where=where, extra_config=quant_config)
    bnb4 = quantmod.bnb4_weights(names) if q and q.rule.method == "bitsandbytes" else set()
    if q:
        notes.append(q.note)
    n_layers = c.get("num_hidden_layers") if isinstance(c.get("num_hidden_layers"), int) else None
    mtp = mtp_declared(config)
    tied = c.get("tie_word_embeddings") is True
    has_embed = any(classify(n) == "embedding" and "embed_tokens" in n for n in names) if tied else False
    bd: dict[str, int] = dict.fromkeys(COMPONENTS, 0)
    excluded: dict[str, int] = {}
    by_dtype: dict[str, int] = {}
    routed_by_layer: dict[int | None, int] = {}
    counted = 0

    def outcome(name: str, dtype: str, numel: int) -> tuple[str | None, str, str, int]:
        """(exclusion reason or None, component, dtype counted, elements) of one tensor: every rule
        except the layer-index ones."""
        if mtp and "mtp" in name and _MTP_PART_RE.search(name):
            return "multi_token_prediction", "", dtype, numel
        if name.endswith(NON_PARAMETER_BUFFERS):
            return "rotary_buffers", "", dtype, numel
        if q is not None:
            logical, reason = q.count(name, dtype, numel, bnb4)
            if reason:
                return reason, "", dtype, numel
            if logical != numel:
                dtype = f"int{q.bits or 4}" if q.rule.method != "mxfp4" else "fp4"
            numel = logical
        comp = classify(name)
        if comp == "lm_head" and tied and has_embed:
            return "lm_head_tied_to_embedding", comp, dtype, numel
        return None, comp, dtype, numel

    # Per-pattern cache: a tensor's outcome depends on its name only through substrings and patterns
    # without digits, so the name with its layer index replaced by '#' (plus dtype and elements) has
    # the same outcome; the ~90,000 tensors of a large MoE checkpoint share a few thousand such keys.
    # Not used when the quantisation rule looks at exact names (bitsandbytes) or digits in names.
    cacheable = PATTERN_CACHE and (q is None or q.rule.method != "bitsandbytes" and not any(
        ch.isdigit() or ch == "#" for pat in (*q.rule.packed, *q.rule.metadata, *q.rule.metadata_contains) for ch in pat))
    cache: dict[tuple[str, str, int], tuple[str | None, str, str, int]] = {}
    for name, dtype, numel in items:
        li: int | None = None
        if name.startswith("model.layers."):
            dot = name.find(".", 13)
            idx = name[13:dot]
            if idx.isdigit():
                if n_layers is not None and int(idx) >= n_layers:
                    excluded["layers_beyond_num_hidden_layers"] = excluded.get("layers_beyond_num_hidden_layers", 0) + numel
                    continue
                if dot > 13 and idx.isascii():  # layer_index(name), without the regex
                    li = int(idx)
                    key = "model.layers.#" + name[dot:]
                else:
                    key, li = _layer_key(name)
            else:
                key, li = _layer_key(name)
        else:
            key, li = _layer_key(name)
        if cacheable:
            ck = (key, dtype, numel)
            hit = cache.get(ck)
            if hit is None:
                hit = cache[ck] = outcome(name, dtype, numel)
            reason, comp, dtype, numel = hit
        else:
            reason, comp, dtype, numel = outcome(name, dtype, numel)
        if reason is None and unused is not None and unused.unbuilt:
            why = unused.unbuilt.get(name)
            if why is not None:
                unused.record(name, numel, why)
                reason = "not_built_by_architecture"
        if reason is not None:
            excluded[reason] = excluded.get(reason, 0) + numel
            continue
        if comp == "experts":
            routed_by_layer[li] = routed_by_layer.get(li, 0) + numel
        bd[comp] += numel
        by_dtype[dtype] = by_dtype.get(dtype, 0) + numel
        counted += 1
    if "layers_beyond_num_hidden_layers" in excluded:
        why = (f"multi-token-prediction layers ({mtp}) stored in the checkpoint but not part of "
               "the model's forward pass") if mtp else "layers with an index >= num_hidden_layers"
        notes.append(f"not counted: {excluded['layers_beyond_num_hidden_layers']:,} elements of {why}")
    if "multi_token_prediction" in excluded:
        notes.append(f"not counted: {excluded['multi_token_prediction']:,} elements of multi-token-prediction weights "
                     f"(config declares {mtp}; tensors named mtp*) that are not part of the model's forward pass")
    if "rotary_buffers" in excluded:
        notes.append(f"not counted: {excluded['rotary_buffers']:,} elements of rotary-embedding buffers (inv_freq), "
                     "which are computed from the config, not learned")
    if "lm_head_tied_to_embedding" in excluded:
        notes.append("tied embeddings: lm_head is stored but shares the input embedding; counted once")
    elif tied:
        notes.append("tied embeddings (tie_word_embeddings=true): the output projection shares the input embedding, counted once")
    if "not_built_by_architecture" in excluded:
        notes.append(f"not counted: {excluded['not_built_by_architecture']:,} elements of {sum(g[0] for g in unused.groups.values()):,} "
                     "stored tensor(s) that the architecture does not build (listed in not_built with the reason)")
    if "quantisation metadata" in excluded:
        notes.append(f"not counted: {excluded['quantisation metadata']:,} elements of quantisation scales/zero points/indices")
    main = max(by_dtype, key=by_dtype.__getitem__) if by_dtype else None
    dtype = dtype_names.get(main, main) if main else None
    if q and main and (main.startswith("int") or main == "fp4") and q.rule.packed:
        dtype = f"{main} ({q.rule.method})"
    pc = finish(bd, method=method, architecture=architecture, dtype=dtype, config=config, notes=notes,
                excluded=excluded, quantization=q.rule.method if q else None, tensors=counted,
                routed_by_layer=routed_by_layer, tied=tied)
    if (unused is not None and not unused.tree_checked and unused.tree is not None
            and unused.expected_total is not None and pc.total > unused.expected_total):
        # more stored than the architecture creates: find what no module takes (module tree), and count again
        first_groups, first_unbuilt = unused.groups, unused.unbuilt
        unused.tree_checked = True
        unused.groups = {}
        again = tally(items, config, method=method, where=where, architecture=architecture, names=names,
                      quant_config=quant_config, dtype_names=dtype_names, unused=unused)
        if again.total >= unused.expected_total:
            return again
        # the tree would leave less than the architecture has: some stored names follow a layout transformers
        # renames on load, so the tree cannot tell built from unbuilt here; keep the first count and say so
        unused.groups, unused.unbuilt = first_groups, first_unbuilt
        pc.notes.append(f"the stored total ({pc.total:,}) exceeds the architecture's ({unused.expected_total:,}), but "
                        "the stored names do not follow its module tree closely enough to tell which tensors are extra; "
                        "compare with --cross-check")
    if unused is not None and unused.groups:
        pc.not_built = [UnusedWeights(name=k, tensors=g[0], elements=g[1], why=g[2]) for k, g in sorted(unused.groups.items())]
    return pc
