"""Parameter count from config.json by arithmetic, without torch or transformers (stdlib only).

:func:`analytic_items` lists the tensors (name, elements) that transformers' implementation of the
architecture would create on the meta device: the same names, the same shapes, tied weights once,
persistent buffers included. The caller (:mod:`benchseal.bench.model.params_config`) puts that list
through the same counting rules as the meta-device count, so both give the same total, active,
breakdown and per-convention counts; ``tests/integration/bench/model/test_analytic_parity.py``
checks this for every published config against transformers.

The rule is "understand everything or answer nothing": an architecture outside :data:`FAMILIES`, an
``architectures[0]`` other than the family's causal-LM class, any config key this module does not
know, a value of an unexpected type, or a shape key left to a default this module has not verified,
all return ``None`` ("unknown"), and the caller builds the model on the meta device instead. Never a guess.

Layout: :mod:`.common` (helpers, :class:`Family`), :mod:`.gqa` and :mod:`.moe` (one module per family group),
:mod:`.families` (the table), :mod:`.multimodal` (architectures with sub-configs), this module (the entry points).
"""

from __future__ import annotations

from typing import Any

from benchseal.bench.model.analytic.common import _FLAGS, _LISTS, _NEUTRAL, _OPTIONAL_INT, Family, Item, _int
from benchseal.bench.model.analytic.dense import internlm3_as_llama
from benchseal.bench.model.analytic.families import _CHECKED, ALIASES, FAMILIES, MLA_TYPES
from benchseal.bench.model.analytic.hybrid import KIMI_LINEAR_DEFAULTS, kimi_linear, llama4, minimax_m2
from benchseal.bench.model.analytic.kimi import KIMI_K25_DEFAULTS, KIMI_K25_VISION_DEFAULTS, kimi_k25
from benchseal.bench.model.analytic.nemotron import NEMOTRON_H_FLAGS, nemotron_h
from benchseal.bench.model.analytic.remote import REMOTE
from benchseal.bench.model.analytic.qwen35 import QWEN35_TEXT_DEFAULTS, QWEN35_VISION_DEFAULTS, qwen3_5_moe
from benchseal.bench.model.analytic.vl import glm4v_moe
from benchseal.bench.model.analytic.multimodal import (  # noqa: F401  (re-exported)
    GEMMA3_DEFAULTS, GEMMA3_TEXT_DEFAULTS, MULTIMODAL, SIGLIP_VISION_DEFAULTS,
)

__all__ = ["ALIASES", "FAMILIES", "KIMI_LINEAR_DEFAULTS", "REMOTE", "STANDALONE", "GEMMA3_DEFAULTS", "GEMMA3_TEXT_DEFAULTS", "KIMI_K25_DEFAULTS", "KIMI_K25_VISION_DEFAULTS",
           "MULTIMODAL", "NEMOTRON_H_FLAGS", "QWEN35_TEXT_DEFAULTS", "QWEN35_VISION_DEFAULTS", "SIGLIP_VISION_DEFAULTS", "Family", "Item", "analytic_items", "family_of"]


# architectures with a builder of their own (model_type -> (the one accepted architectures[0], builder))
STANDALONE = {
    "minimax_m2": ("MiniMaxM2ForCausalLM", minimax_m2),
    "llama4": ("Llama4ForConditionalGeneration", llama4),
    "kimi_linear": ("KimiLinearForCausalLM", kimi_linear),
    "glm4v_moe": ("Glm4vMoeForConditionalGeneration", glm4v_moe),
}


def family_of(config: dict[str, Any]) -> tuple[str, Family, bool] | None:
    """(model_type the count uses, its family, whether it is an alias through ``architectures``), or None."""
    mt = config.get("model_type")
    archs = config.get("architectures")
    arch = archs[0] if isinstance(archs, list) and len(archs) == 1 and isinstance(archs[0], str) else None
    if archs is not None and arch is None:
        return None
    if isinstance(mt, str) and mt in FAMILIES:
        fam = FAMILIES[mt]
        return (mt, fam, False) if arch in (None, fam.cls) else None
    # a model_type transformers does not know whose architectures name a built-in class: the meta-device
    # count builds that class, and so may this count, for the aliases listed (and checked against transformers)
    target = ALIASES.get(mt) if isinstance(mt, str) else None
    if target is not None and arch == FAMILIES[target].cls:
        return target, FAMILIES[target], True
    return None


def analytic_items(config: dict[str, Any]) -> tuple[list[Item], int, str] | None:
    """(tensors as (name, elements), elements of persistent buffers among them, the implementation's class
    name) of the architecture ``config`` describes, or None when this module does not fully understand it.

    ``config`` must already have passed :func:`benchseal.bench.model.params_config.check_sizes`."""
    if not isinstance(config, dict):
        return None
    mt = config.get("model_type")
    if mt == "kimi_k25":
        archs = config.get("architectures")
        if archs is not None and not (isinstance(archs, list) and len(archs) == 1 and isinstance(archs[0], str)
                                      and archs[0].replace("_", "").lower() == "kimik25forconditionalgeneration"):
            return None  # Moonshot's spelling (KimiK25...) or transformers' (Kimi_K25...) of the one class
        found_k = kimi_k25(config, analytic_items)
        return None if found_k is None else (found_k[0], found_k[1], "Kimi_K25ForConditionalGeneration")
    if mt == "internlm3":  # built by transformers as LlamaForCausalLM (analytic/dense.py)
        as_llama = internlm3_as_llama(config)
        found_l = None if as_llama is None else analytic_items(as_llama)
        return None if found_l is None else (found_l[0], found_l[1], "LlamaForCausalLM")
    if mt == "nemotron_h":
        if config.get("architectures", ["NemotronHForCausalLM"]) != ["NemotronHForCausalLM"]:
            return None
        found_n = nemotron_h(config)
        return None if found_n is None else (found_n[0], found_n[1], "NemotronHForCausalLM")
    if mt == "qwen3_5_moe":
        if config.get("architectures", ["Qwen3_5MoeForConditionalGeneration"]) != ["Qwen3_5MoeForConditionalGeneration"]:
            return None
        found_q = qwen3_5_moe(config)
        return None if found_q is None else (found_q[0], found_q[1], "Qwen3_5MoeForConditionalGeneration")
    if mt == "chatglm":  # the published files name ChatGLMModel; auto_map builds ChatGLMForConditionalGeneration
        found_g = REMOTE["chatglm"][1](config)  # checks architectures and auto_map itself
        return None if found_g is None else (found_g[0], found_g[1], REMOTE["chatglm"][0])
    sa = (STANDALONE.get(mt) or REMOTE.get(mt)) if isinstance(mt, str) else None
    if sa is not None:
        if config.get("architectures", [sa[0]]) != [sa[0]]:
            return None
        found_s = sa[1](config)
        return None if found_s is None else (found_s[0], found_s[1], sa[0])
    mm = MULTIMODAL.get(mt) if isinstance(mt, str) else None
    if mm is not None:
        archs = config.get("architectures")
        if archs is not None and archs != [mm[0]]:
            return None
        found_mm = mm[1](config)
        return None if found_mm is None else (found_mm, 0, mm[0])
    if "text_config" in config or "vision_config" in config:
        return None
    found = family_of(config)
    if found is None:
        return None
    mt, fam, alias = found
    checked, fields_match = _CHECKED.get(mt, (frozenset(), None))
    if fields_match is not None and not fields_match(config):
        return None
    c: dict[str, Any] = {}
    for key, value in config.items():
        if key in fam.keys:
            c[key] = value
        elif key not in _NEUTRAL and key not in checked:
            return None  # a key this module does not know may change the architecture
    if config.get("model_type") != mt and not alias:
        return None
    for key, default in fam.flags.items():
        v = config.get(key, default)
        if type(v) is not bool:
            return None
        c[key] = v
    for key in fam.keys - _FLAGS:
        if key == "layer_types":
            continue  # checked below (one per layer), and by the family's fields check
        if key in _LISTS:
            v = c.get(key, [])
            if not isinstance(v, list) or not all(_int(x) for x in v):
                return None
            c[key] = set(v)
        elif key == "head_dim":
            v = c.get("head_dim")
            if "head_dim" in c and v is None and not mt in MLA_TYPES:
                return None  # an explicit null: some implementations derive it, others fail; leave it to transformers
            if v is None and fam.derived_head_dim:
                h, nq = config.get("hidden_size"), config.get("num_attention_heads")
                if not (_int(h) and _int(nq) and nq > 0 and h % nq == 0):
                    return None
                c["head_dim"] = h // nq
            elif not _int(v) and not (mt in MLA_TYPES and v is None):
                return None
        elif key == "moe_layer_freq":
            if c.get(key, 1) != 1:  # transformers ignores it (MoE from first_k_dense_replace on); decline instead
                return None
        elif key == "num_key_value_heads" and mt in MLA_TYPES:
            if key in c and not _int(c[key]):
                return None  # MLA does not read it
        elif key in fam.defaults:
            v = c.get(key, fam.defaults[key])
            if not (_int(v) and v > 0):
                return None
            c[key] = v
        elif key in _OPTIONAL_INT:
            if key not in c or not (c[key] is None or _int(c[key])):
                return None
        elif key not in c or not _int(c[key]):
            return None  # a shape left to a default: let transformers decide
    if mt in MLA_TYPES and not _int(config.get("num_experts_per_tok")):
        return None
    lt = config.get("layer_types")
    if lt is not None and not (isinstance(lt, list) and len(lt) == c["num_hidden_layers"]):
        return None  # transformers' config validation refuses layer_types that are not one per layer
    h, n, v = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    items: list[Item] = [("model.embed_tokens.weight", v * h)]
    for i in range(n):
        layer = fam.layers(c, i, f"model.layers.{i}.")
        if layer is None:
            return None
        items += layer
    items.append(("model.norm.weight", h))
    if not c["tie_word_embeddings"]:
        items.append(("lm_head.weight", v * h))
    if fam.tail is not None:
        tail = fam.tail(c)
        if tail is None:
            return None
        items += tail
    # the router bias is a persistent buffer in DeepSeek-V3 / GLM-4.5 (mlp.gate.e_score_correction_bias); ERNIE 4.5
    # holds it as a parameter (mlp.gate.moe_statics.e_score_correction_bias)
    buffers = sum(k for name, k in items if name.endswith(".gate.e_score_correction_bias"))
    return items, buffers, fam.cls
