"""The analytic count from config.json (benchseal.bench.model.analytic, no torch) equals the meta-device
count (transformers builds the model on torch's meta device) for every config registered in
benchseal/testing/published_configs.py, or declines; it declines only for the configs named below
(docs/model-inspection.md lists them)."""

from __future__ import annotations

import pytest

from benchseal.bench.model import analytic
from benchseal.bench.model.params_config import count_analytic, count_from_config, count_meta
from benchseal.errors import ModelFormatError, UsageError
from benchseal.testing import published_configs as P


def registered_configs() -> dict[str, dict]:
    """Every config.json dict the module holds: module-level configs and those inside any registry
    (dict / tuple / list values), so configs added later are covered without editing this test."""
    found: dict[str, dict] = {}

    def visit(name: str, value, depth: int) -> None:
        if isinstance(value, dict) and isinstance(value.get("model_type"), str):
            if all(value is not v for v in found.values()):
                found[name] = value
        elif depth < 3 and isinstance(value, dict):
            for k, v in value.items():
                visit(f"{name}[{k!r}]", v, depth + 1)
        elif depth < 3 and isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                visit(f"{name}[{i}]", v, depth + 1)

    for name, value in vars(P).items():
        if not name.startswith("_"):
            visit(name, value, 0)
    return found


CONFIGS = registered_configs()
# the configs the analytic count declines (their architectures are not in analytic.FAMILIES); each is then
# counted on the meta device, or refused as the meta-device count refuses it
DECLINES: set[str] = set()


def test_the_registry_is_found():
    assert len(CONFIGS) >= 20 and "KIMI_K2" in CONFIGS and "DEEPSEEK_V3" in CONFIGS


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_analytic_equals_meta_or_declines(name):
    cfg = CONFIGS[name]
    a = count_analytic(cfg)
    if a is None:
        assert name in DECLINES, f"{name}: the analytic count declines; extend bench/model/analytic/ or name it in DECLINES"
        return
    assert name not in DECLINES, f"{name} is counted analytically now: take it off DECLINES (and the docs)"
    if cfg.get("model_type") in analytic.REMOTE:  # its meta-device build runs the vendor's code (--trust-remote-code);
        return  # checked against the published checkpoint index instead (test_analytic_remote.py, test_analytic_chatglm.py)
    m = count_meta(cfg)
    assert (a.total, a.active, a.embedding, a.non_embedding) == (m.total, m.active, m.embedding, m.non_embedding)
    assert a.active_by_convention == m.active_by_convention
    assert a.breakdown == m.breakdown and a.excluded == m.excluded
    assert a.model_dump(exclude={"notes"}) == m.model_dump(exclude={"notes"})  # every other field too
    assert any("counted analytically from config.json" in n for n in a.notes)
    crossed = count_from_config(cfg, meta=True)
    assert any("agrees with the meta-device count" in n for n in crossed.notes)


def test_declines_are_few():
    assert len(DECLINES) <= 9 and DECLINES <= set(CONFIGS)


def test_the_docs_list_what_is_covered_and_what_is_declined():
    """docs/model-inspection.md's analytic paragraph names every covered model_type, and exactly the
    model_types of DECLINES as declined."""
    import re
    from pathlib import Path

    text = (Path(__file__).parents[4] / "docs" / "model-inspection.md").read_text()
    covered = text[text.index("Covered:"):text.index("declines, by design, for:")]
    declined = text[text.index("declines, by design, for:"):text.index("These are counted on the meta device")]
    names = set(analytic.FAMILIES) | set(analytic.MULTIMODAL) | set(analytic.ALIASES)
    assert names <= set(re.findall(r"`([a-z0-9_]+)`", covered))
    assert set(re.findall(r"`([a-z0-9_]+)`", declined)) == {CONFIGS[n]["model_type"] for n in DECLINES}


def _declined_published() -> dict[str, dict]:
    """Published configs the analytic count declines by design (docs/model-inspection.md, "What still needs
    torch"): the Kimi-Linear copy that lists `full_attn_layers` alone, and ChatGLM-6B v1 (remote code)."""
    from benchseal.testing import published_configs_current as C, published_configs_glm as G

    return {"KIMI_LINEAR_48B_A3B (public copy)": C.KIMI_LINEAR_48B_A3B, "CHATGLM_6B_V1": G.CHATGLM_6B_V1}


DECLINED = {**{n: CONFIGS[n] for n in DECLINES & set(CONFIGS)}, **_declined_published()}


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_a_declined_config_falls_back_to_the_meta_count(name):
    cfg = DECLINED[name]
    assert count_analytic(cfg) is None
    try:
        pc = count_from_config(cfg)
    except (UsageError, ModelFormatError):  # refused as the meta-device count refuses it (e.g. remote code)
        with pytest.raises((UsageError, ModelFormatError)):
            count_meta(cfg)
        return
    assert pc.model_dump() == count_meta(cfg).model_dump()


@pytest.mark.parametrize("model_type", sorted(analytic.FAMILIES))
def test_flag_defaults_are_transformers_defaults(model_type):
    """A flag absent from config.json takes transformers' default: the analytic table must say the same."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    fam = analytic.FAMILIES[model_type]
    cfg = CONFIG_MAPPING[model_type]()
    for key, default in {**fam.flags, **fam.defaults}.items():
        if key == "full_attention_interval":  # not kept: Qwen3NextConfig turns it into layer_types
            lt = CONFIG_MAPPING[model_type](num_hidden_layers=2 * default).layer_types
            assert [i for i, t in enumerate(lt) if t == "full_attention"] == [default - 1, 2 * default - 1]
            continue
        assert getattr(cfg, key) == default, (model_type, key)
    assert fam.cls in {getattr(c, "__name__", "") for c in _causal_classes(model_type)}
    if fam.derived_head_dim and "num_key_value_heads" in fam.keys and not model_type.startswith("deepseek"):
        c = CONFIG_MAPPING[model_type](hidden_size=256, num_attention_heads=4)
        assert getattr(c, "head_dim", None) in (None, 64)


def test_gemma3_defaults_are_transformers_defaults():
    """The shapes Gemma 3's config.json leaves out take the defaults of transformers' config classes: the
    analytic tables must say the same."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    for model_type, table in (("gemma3_text", analytic.GEMMA3_TEXT_DEFAULTS),
                              ("siglip_vision_model", analytic.SIGLIP_VISION_DEFAULTS),
                              ("gemma3", analytic.GEMMA3_DEFAULTS)):
        cfg = CONFIG_MAPPING[model_type]()
        for key, default in table.items():
            assert getattr(cfg, key) == default, (model_type, key)


def _causal_classes(model_type):
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    import transformers

    return [getattr(transformers, MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type])]


@pytest.mark.parametrize("name", ["LLAMA3_8B", "QWEN3_30B_A3B", "DEEPSEEK_V3", "QWEN25_05B"])
def test_absent_defaults_and_variants_still_match(name):
    """Variants that exercise the defaults and branches: flags left out, head_dim null, sparse steps,
    mlp_only_layers, q_lora_rank null, tied embeddings. Each either matches the meta count or declines."""
    base = {k: v for k, v in CONFIGS[name].items() if k not in ("attention_bias", "tie_word_embeddings")}
    variants = [base, {**base, "tie_word_embeddings": True}, {**base, "num_hidden_layers": 4}]
    if "num_experts" in base:
        variants += [{**base, "num_hidden_layers": 6, "decoder_sparse_step": 2, "mlp_only_layers": [1]}]
    if "q_lora_rank" in base:
        variants += [{**base, "num_hidden_layers": 4, "q_lora_rank": None, "attention_bias": True}]
    if "q_lora_rank" in base:  # MLA does not read head_dim
        variants += [{**base, "num_hidden_layers": 4, "head_dim": None}]
    elif "head_dim" not in base:  # an explicit null head_dim: declined (implementations differ on it)
        assert count_analytic({**base, "head_dim": None}) is None
    for v in variants:
        a = count_analytic(v)
        assert a is not None, v
        assert a.model_dump(exclude={"notes"}) == count_meta(v).model_dump(exclude={"notes"}), v


_DROP = object()  # in a variant: remove the key from the published config
_VL_TEXT, _VL_VISION = CONFIGS["QWEN25_VL_7B"]["text_config"], CONFIGS["QWEN25_VL_7B"]["vision_config"]
_G3_TEXT, _G3_VISION = CONFIGS["GEMMA3_4B"]["text_config"], CONFIGS["GEMMA3_4B"]["vision_config"]


def _variant(name: str, change: dict) -> dict:
    cfg = {**CONFIGS[name], **change}
    return {k: v for k, v in cfg.items() if v is not _DROP}


# Variants of a published config (few layers, so the meta build is quick) that reach the branches and defaults
# of its family: each must match the meta-device count on every field.
VARIANTS: dict[str, list[dict]] = {
    "GLM45_AIR": [
        {"num_hidden_layers": 3},
        {"num_hidden_layers": 4, "use_qk_norm": True, "attention_bias": _DROP},  # attention_bias defaults to False
        {"num_hidden_layers": 3, "first_k_dense_replace": 0, "n_shared_experts": 2},
        {"num_hidden_layers": 2, "first_k_dense_replace": 5},  # every layer dense
        {"num_hidden_layers": 2, "tie_word_embeddings": True, "use_qk_norm": _DROP},
        {"num_hidden_layers": 2, "head_dim": _DROP, "num_attention_heads": 32},  # derived: 4096 // 32
        {"num_hidden_layers": 2, "num_nextn_predict_layers": 0, "n_shared_experts": 0},
        {"num_hidden_layers": 2, "num_nextn_predict_layers": _DROP, "num_experts_per_tok": _DROP},
    ],
    "QWEN25_VL_7B": [
        {"num_hidden_layers": 2, "text_config": {**_VL_TEXT, "num_hidden_layers": 2}},
        # the flat layout of files written before transformers 4.53: text keys at the top level only
        {"num_hidden_layers": 3, "text_config": _DROP, "tie_word_embeddings": True},
        {"num_hidden_layers": 2, "hidden_size": 1024, "num_attention_heads": 8, "num_key_value_heads": 2, "text_config": _DROP,
         "vision_config": {**_VL_VISION, "depth": 3, "spatial_merge_size": 1, "patch_size": 16, "spatial_patch_size": 16,
                           "in_channels": 1, "in_chans": 1, "out_hidden_size": 1024, "temporal_patch_size": 1}},
        {"num_hidden_layers": 2, "tie_word_embeddings": _DROP,
         "text_config": {**_VL_TEXT, "num_hidden_layers": 2, "tie_word_embeddings": True}},  # forwarded to the model
        {"num_hidden_layers": 2, "tie_word_embeddings": True, "text_config": {**_VL_TEXT, "num_hidden_layers": 2}},
    ],
    "PHI35_MOE": [
        # the published file's biases (the config copy here leaves them out)
        {"num_hidden_layers": 2, "attention_bias": True, "lm_head_bias": True, "input_jitter_noise": 0.01},
        {"num_hidden_layers": 2, "tie_word_embeddings": True, "lm_head_bias": True},  # the bias is not tied
        {"num_hidden_layers": 3, "tie_word_embeddings": _DROP, "head_dim": 64, "num_local_experts": 4},
    ],
    "ERNIE45_21B_A3B": [
        # MoE every second layer from layer 0 to the last (-1), biases everywhere, untied (lm_head.bias then)
        {"num_hidden_layers": 6, "moe_layer_interval": 2, "moe_layer_start_index": 0, "moe_layer_end_index": -1,
         "use_bias": True, "tie_word_embeddings": False},
        # MoE only up to layer 3, no shared experts, tied with biases (lm_head.bias is not tied)
        {"num_hidden_layers": 6, "moe_layer_end_index": 3, "moe_num_shared_experts": 0, "use_bias": True},
        # flags at their defaults (use_bias False, tied), head_dim derived: 2560 // 20
        {"num_hidden_layers": 3, "head_dim": _DROP, "use_bias": _DROP, "tie_word_embeddings": _DROP},
        {"num_hidden_layers": 4, "moe_layer_end_index": -2},  # only -1 means "the last layer": no MoE layer here
        {"num_hidden_layers": 4, "head_dim": 64, "moe_k": 2, "moe_norm_min": 1e-6},
    ],
    "GEMMA3_4B": [
        # untied, biased attention, MHA with head_dim 128, the SigLIP attention-pooling head
        {"tie_word_embeddings": False,
         "text_config": {**_G3_TEXT, "num_hidden_layers": 2, "attention_bias": True, "num_key_value_heads": 8, "head_dim": 128},
         "vision_config": {**_G3_VISION, "num_hidden_layers": 2, "vision_use_head": True}},
        # vision_use_head and num_hidden_layers of SigLIP left to their defaults (True, 12)
        {"text_config": {**_G3_TEXT, "num_hidden_layers": 2},
         "vision_config": {k: v for k, v in _G3_VISION.items() if k not in ("vision_use_head", "num_hidden_layers")}},
        # every text shape at Gemma3TextConfig's defaults, SigLIP at its defaults but for depth
        {"text_config": {"model_type": "gemma3_text"}, "vision_config": {"model_type": "siglip_vision_model", "num_hidden_layers": 2}},
        {"tie_word_embeddings": False, "text_config": {**_G3_TEXT, "num_hidden_layers": 2, "tie_word_embeddings": False}},
        # small widths, one input channel, mm_tokens_per_image at its default, numerics keys of Google's file
        {"mm_tokens_per_image": _DROP,
         "text_config": {**_G3_TEXT, "num_hidden_layers": 1, "vocab_size": 1000, "hidden_size": 512, "num_attention_heads": 4,
                         "query_pre_attn_scalar": 256, "final_logit_softcapping": None, "rope_local_base_freq": 10000.0},
         "vision_config": {**_G3_VISION, "num_hidden_layers": 1, "image_size": 224, "patch_size": 16, "num_channels": 1,
                           "layer_norm_eps": 1e-6}},
    ],
    "HUNYUAN_A13B": [
        # transformers' own model_type with head_dim under its own name (the published config, Tencent's "hunyuan"
        # with attention_head_dim, is counted through the alias): per-layer lists of a 3-layer model
        {"num_hidden_layers": 3, "model_type": "hunyuan_v1_moe", "attention_head_dim": _DROP, "head_dim": 64,
         "moe_topk": [2, 4, 8], "moe_intermediate_size": [3072] * 3, "num_shared_expert": [1] * 3},
        {"num_hidden_layers": 2, "model_type": "hunyuan_v1_moe", "attention_head_dim": _DROP, "head_dim": 128,
         "attention_bias": True, "tie_word_embeddings": False, "num_experts": 8, "moe_topk": 2,
         "moe_intermediate_size": 3072, "num_shared_expert": 1},
        # flags at their defaults; Tencent's fields left out (transformers does not read them)
        {"num_hidden_layers": 2, "model_type": "hunyuan_v1_moe", "attention_head_dim": _DROP, "head_dim": 128,
         "attention_bias": _DROP, "tie_word_embeddings": _DROP, "use_cla": _DROP, "use_qk_norm": _DROP,
         "use_mixed_mlp_moe": _DROP, "moe_intermediate_size": _DROP, "num_shared_expert": _DROP, "moe_topk": _DROP},
    ],
    "GLM5": [
        {"num_hidden_layers": 4},
        # DeepSeek-V3.2: the same layer and indexer under DeepSeek's class (its default indexer: 64 heads of 128)
        {"num_hidden_layers": 4, "model_type": "deepseek_v32", "architectures": ["DeepseekV32ForCausalLM"]},
        {"num_hidden_layers": 2, "index_n_heads": 16, "index_head_dim": 64, "first_k_dense_replace": 1,
         "head_dim": _DROP, "index_topk": 512},
    ],
    "QWEN3_NEXT_80B_A3B": [
        {"num_hidden_layers": 4},
        {"num_hidden_layers": 3, "layer_types": ["full_attention", "linear_attention", "full_attention"],
         "attention_bias": True, "decoder_sparse_step": 2, "mlp_only_layers": [0], "intermediate_size": 1024},
        {"num_hidden_layers": 6, "full_attention_interval": 3, "head_dim": 128, "tie_word_embeddings": True,
         "linear_num_value_heads": 16, "linear_conv_kernel_dim": 3, "mtp_num_hidden_layers": _DROP},
    ],
    "GLM47_FLASH": [
        {"num_hidden_layers": 3},
        {"num_hidden_layers": 2, "n_shared_experts": 2, "num_experts_per_tok": 8},
    ],
    "GLM45": [
        {"num_hidden_layers": 5},
        {"num_hidden_layers": 4, "use_qk_norm": False, "attention_bias": False, "head_dim": 64},
    ],
}
# Changes that the analytic count must decline (left to transformers).
DECLINED_VARIANTS: dict[str, list[dict]] = {
    "GLM5": [
        {"q_lora_rank": None},  # the indexer's wq_b reads the q LoRA rank
        {"index_n_heads": None},
        {"moe_layer_freq": 2},
        {"some_new_field": 1},
        {"mlp_bias": True},  # GlmMoeDsaMLP is bias-free whatever mlp_bias says
        {"index_topk_freq": 2},  # some layers would share another layer's indexer: not described here
    ],
    "QWEN3_NEXT_80B_A3B": [
        {"layer_types": ["sliding_attention"] * 48},
        {"layer_types": ["full_attention"] * 47},  # not one per layer
        {"head_dim": _DROP},  # Qwen3NextConfig's default (256): not verified here
        {"full_attention_interval": 0},
        {"num_hidden_layers": 4, "intermediate_size": None},
    ],
    "GLM47_FLASH": [
        {"mlp_bias": True},  # Glm4MoeLiteConfig has no mlp_bias: a key this count does not know for it
        {"num_key_value_heads": None},
        {"first_k_dense_replace": 0},  # transformers ignores it (layer 0 dense regardless): declined
        {"mlp_layer_types": ["dense"] * 47},
    ],
    "GLM45_AIR": [
        {"head_dim": None},  # getattr(config, "head_dim", ...) would read None
        {"head_dim": _DROP},  # 4096 / 96 heads is not whole: the derived width is not verified here
        {"num_local_experts": 64},  # an attribute_map alias of n_routed_experts
        {"num_mtp_layers": 1},  # an attribute_map alias of num_nextn_predict_layers
        {"first_k_dense_replace": _DROP},  # a shape left to a default
        {"use_qk_norm": 1},
        {"architectures": ["Glm4MoeModel"]},
    ],
    "ERNIE45_21B_A3B": [
        {"head_dim": None},  # getattr(config, "head_dim", ...) would read None
        {"num_experts": 64},  # an attribute_map alias of moe_num_experts
        {"moe_layer_end_index": None},  # transformers compares layer_idx <= None
        {"moe_layer_interval": 0},  # transformers divides by it
        {"moe_num_shared_experts": _DROP},  # a shape left to a default
        {"use_bias": 1},
        {"moe_use_aux_free": True},  # a key of Baidu's own config this module does not know
        {"architectures": ["Ernie4_5_MoeModel"]},
    ],
    "GEMMA3_4B": [
        {"text_config": _DROP},  # transformers' default text model: not checked here
        {"vision_config": _DROP},
        {"text_config": {**_G3_TEXT, "head_dim": None}},  # getattr would read None
        {"text_config": {**_G3_TEXT, "num_key_value_heads": None}},
        {"text_config": {**_G3_TEXT, "tie_word_embeddings": False}},  # disagrees with the top-level flag (default True)
        {"text_config": {**_G3_TEXT, "hidden_act": "gelu"}, "some_new_field": 1},
        {"text_config": {**_G3_TEXT, "num_experts": 8}},  # a key the text model does not read
        {"text_config": {**_G3_TEXT, "layer_types": ["full_attention"]}},  # not one per layer
        {"vision_config": {**_G3_VISION, "image_size": [896, 896]}},  # allowed by the type, not verified here
        {"vision_config": {**_G3_VISION, "num_attention_heads": 7}},  # 1152 / 7: SigLIP refuses it
        {"vision_config": {**_G3_VISION, "vision_use_head": 0}},
        {"vision_config": {**_G3_VISION, "model_type": "siglip2_vision_model"}},
        {"mm_tokens_per_image": 0},  # the projector divides by its square root
        {"architectures": ["Gemma3ForCausalLM"]},
    ],
    "HUNYUAN_A13B": [
        *({"model_type": "hunyuan_v1_moe", "attention_head_dim": _DROP, "head_dim": 128, **change} for change in (
            {"moe_intermediate_size": [1536] * 32},  # transformers builds experts of intermediate_size: not this model
            {"num_shared_expert": [2] * 32},  # transformers builds one shared MLP
            {"use_qk_norm": False},  # transformers builds the q/k norms anyway
            {"use_cla": True},  # cross-layer attention: not built by transformers
            {"use_mixed_mlp_moe": False},
            {"moe_topk": [8] * 31},  # not one per layer: transformers indexes it by layer
            {"num_experts": [64] * 32},  # a per-layer expert count: the experts tensor reads one int
            {"head_dim": _DROP},  # head_dim left to None: transformers fails
            {"attention_head_dim": 128},  # not read by the native implementation
            {"num_local_experts": 64},  # an attribute_map alias of num_experts
            {"architectures": ["HunYuanDenseV1ForCausalLM"]},
        )),
        {"head_dim": 64},  # Tencent's "hunyuan" with attention_head_dim 128 and a different head_dim: which width?
    ],
    "GPT_OSS_20B": [
        {"num_hidden_layers": 2},  # layer_types of 24 entries for 2 layers: transformers refuses the config
        {"head_dim": None},  # transformers derives hidden // heads (45): not verified here
        {"head_dim": _DROP},  # GptOssConfig's default (64): not verified here
        {"num_experts": 32},  # not a field transformers' gpt_oss reads
        {"attention_bias": 1},
        {"architectures": ["GptOssModel"]},
    ],
    "PHI35_MOE": [
        {"head_dim": None},
        {"num_key_value_heads": None},
        {"lm_head_bias": 1},
        {"num_local_experts": _DROP},
    ],
    "QWEN25_VL_7B": [
        {"vision_config": _DROP},  # transformers' default vision tower: not checked here
        {"hidden_size": 1024},  # differs from text_config's: which one is read is left to transformers
        {"text_config": {**_VL_TEXT, "head_dim": 64}},  # a key the text model does not read
        {"text_config": {**_VL_TEXT, "num_key_value_heads": None}},
        {"text_config": _DROP, "intermediate_size": _DROP},
        {"vision_config": {**_VL_VISION, "num_hidden_layers": 4}},  # an attribute_map alias of depth
        {"vision_config": {**_VL_VISION, "in_chans": 4}},  # disagrees with in_channels
        {"text_config": {**_VL_TEXT, "tie_word_embeddings": True}},  # disagrees with the top-level flag
        {"architectures": ["Qwen2_5_VLModel"]},
        {"tie_word_embeddings": "yes"},
    ],
}


@pytest.mark.parametrize("name,i", [(n, i) for n, vs in sorted(VARIANTS.items()) for i in range(len(vs))])
def test_family_variants_match(name, i):
    v = _variant(name, VARIANTS[name][i])
    a = count_analytic(v)
    assert a is not None, v
    assert a.model_dump(exclude={"notes"}) == count_meta(v).model_dump(exclude={"notes"}), v


@pytest.mark.parametrize("name,i", [(n, i) for n, vs in sorted(DECLINED_VARIANTS.items()) for i in range(len(vs))])
def test_family_variants_declined(name, i):
    assert count_analytic(_variant(name, DECLINED_VARIANTS[name][i])) is None
