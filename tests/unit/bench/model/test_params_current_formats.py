"""Issue 26: checkpoint formats counted wrong as a new user met them, each from a published artefact
(benchseal/testing/published_configs_current.py names the sources). Header-only safetensors (sparse files: nothing
read but headers, torch never imported) with the tensor names, shapes and dtypes of the published checkpoints."""

from __future__ import annotations

import json
import math

import pytest

from benchseal.bench.model.files import resolve
from benchseal.bench.model.params import count_safetensors
from benchseal.bench.model.quant import detect, find_quant_config
from benchseal.errors import ModelFormatError
from benchseal.testing import published_configs_current as C
from benchseal.testing.safetensors_files import write_sharded

# --- Kimi-K2.5: compressed-tensors pack-quantized INT4 routed experts, quantization_config inside text_config ----
# The tensor listing of the real checkpoint (the model-information report of published_configs_current.KIMI_K25,
# stored-source file id 62530201892): every name pattern with its shape and dtype, as listed there.
K25_GLOBAL = {
    "language_model.lm_head.weight": ("BF16", [163840, 7168]),
    "language_model.model.embed_tokens.weight": ("BF16", [163840, 7168]),
    "language_model.model.norm.weight": ("BF16", [7168]),
}
K25_EVERY_LAYER = {  # layers 0-60
    "input_layernorm.weight": ("BF16", [7168]), "post_attention_layernorm.weight": ("BF16", [7168]),
    "self_attn.kv_a_layernorm.weight": ("BF16", [512]), "self_attn.kv_a_proj_with_mqa.weight": ("BF16", [576, 7168]),
    "self_attn.kv_b_proj.weight": ("BF16", [16384, 512]), "self_attn.o_proj.weight": ("BF16", [7168, 8192]),
    "self_attn.q_a_layernorm.weight": ("BF16", [1536]), "self_attn.q_a_proj.weight": ("BF16", [1536, 7168]),
    "self_attn.q_b_proj.weight": ("BF16", [12288, 1536]),
}
K25_DENSE = {  # layer 0
    "mlp.down_proj.weight": ("BF16", [7168, 18432]), "mlp.gate_proj.weight": ("BF16", [18432, 7168]),
    "mlp.up_proj.weight": ("BF16", [18432, 7168]),
}
K25_MOE = {  # layers 1-60
    "mlp.gate.e_score_correction_bias": ("F32", [384]), "mlp.gate.weight": ("BF16", [384, 7168]),
    "mlp.shared_experts.down_proj.weight": ("BF16", [7168, 2048]),
    "mlp.shared_experts.gate_proj.weight": ("BF16", [2048, 7168]),
    "mlp.shared_experts.up_proj.weight": ("BF16", [2048, 7168]),
}
K25_EXPERT = {  # layers 1-60, experts 0-383
    "down_proj.weight_packed": ("I32", [7168, 256]), "down_proj.weight_scale": ("BF16", [7168, 64]),
    "down_proj.weight_shape": ("I32", [2]),
    "gate_proj.weight_packed": ("I32", [2048, 896]), "gate_proj.weight_scale": ("BF16", [2048, 224]),
    "gate_proj.weight_shape": ("I32", [2]),
    "up_proj.weight_packed": ("I32", [2048, 896]), "up_proj.weight_scale": ("BF16", [2048, 224]),
    "up_proj.weight_shape": ("I32", [2]),
}
K25_VISION = {
    "mm_projector.pre_norm.bias": ("BF16", [1152]), "mm_projector.pre_norm.weight": ("BF16", [1152]),
    "mm_projector.proj.0.bias": ("BF16", [4608]), "mm_projector.proj.0.weight": ("BF16", [4608, 4608]),
    "mm_projector.proj.2.bias": ("BF16", [7168]), "mm_projector.proj.2.weight": ("BF16", [7168, 4608]),
    "vision_tower.encoder.final_layernorm.bias": ("BF16", [1152]),
    "vision_tower.encoder.final_layernorm.weight": ("BF16", [1152]),
    "vision_tower.patch_embed.pos_emb.weight": ("BF16", [64, 64, 1152]),
    "vision_tower.patch_embed.proj.bias": ("BF16", [1152]),
    "vision_tower.patch_embed.proj.weight": ("BF16", [1152, 3, 14, 14]),
}
K25_VISION_BLOCK = {  # blocks 0-26
    "mlp.fc0.bias": ("BF16", [4304]), "mlp.fc0.weight": ("BF16", [4304, 1152]), "mlp.fc1.bias": ("BF16", [1152]),
    "mlp.fc1.weight": ("BF16", [1152, 4304]), "norm0.bias": ("BF16", [1152]), "norm0.weight": ("BF16", [1152]),
    "norm1.bias": ("BF16", [1152]), "norm1.weight": ("BF16", [1152]), "wo.bias": ("BF16", [1152]),
    "wo.weight": ("BF16", [1152, 1152]), "wqkv.bias": ("BF16", [3456]), "wqkv.weight": ("BF16", [3456, 1152]),
}
# the count the config gives on the meta device (transformers' Kimi_K25ForConditionalGeneration, checked in
# tests/integration/bench/model/test_params_current_formats.py): Kimi-K2's text model plus the vision tower
K25_TOTAL, K25_VISION_TOTAL = 1_026_879_376_368, 471_143_920


def k25_shards() -> list[dict]:
    """The tensors in 64 shards, one per decoder layer or so, the vision tower in the last (as published)."""
    shards: list[dict] = []
    for i in range(61):
        p = f"language_model.model.layers.{i}."
        t = {p + k: v for k, v in K25_EVERY_LAYER.items()}
        t |= {p + k: v for k, v in (K25_DENSE if i == 0 else K25_MOE).items()}
        if i:
            t |= {f"{p}mlp.experts.{j}.{k}": v for j in range(384) for k, v in K25_EXPERT.items()}
        shards.append(t)
    shards += [dict(K25_GLOBAL), {k: v for k, v in K25_VISION.items() if k.startswith("mm_")}]
    shards.append({k: v for k, v in K25_VISION.items() if not k.startswith("mm_")}
                  | {f"vision_tower.encoder.blocks.{b}.{k}": v for b in range(27) for k, v in K25_VISION_BLOCK.items()})
    return shards


@pytest.fixture(scope="module")
def k25_dir(tmp_path_factory):
    return write_sharded(tmp_path_factory.mktemp("kimi-k25"), k25_shards(), C.KIMI_K25)


@pytest.fixture(scope="module")
def k25_count(k25_dir):
    return count_safetensors(resolve(k25_dir))


def _elements(tensors: dict) -> int:
    return sum(math.prod(s) for _, s in tensors.values())


def test_the_listing_is_the_published_one():
    shards = k25_shards()
    assert len(shards) == 64 and sum(map(len, shards)) == 208_550  # the report: 64 files, 208,550 tensors
    naive = sum(_elements(s) for s in shards)
    assert naive == 170_738_182_128  # the report's own sum: one element per packed int32, scales and shapes counted


def test_kimi_k25_packed_int4_counted_by_its_declared_bit_width(k25_count):
    """compressed-tensors pack-quantized under text_config: eight INT4 values per int32, weight_scale and
    weight_shape not parameters; the total equals the architecture's (1.03T), not 139B."""
    pc = k25_count
    assert pc.quantization == "compressed-tensors"
    assert pc.total == K25_TOTAL and pc.breakdown["vision"] == K25_VISION_TOTAL
    assert pc.breakdown["experts"] == 60 * 384 * 3 * 7168 * 2048
    assert pc.breakdown["lm_head"] == pc.breakdown["embedding"] == 163840 * 7168
    scales_and_shapes = 60 * 384 * (7168 * 64 + 2 * 2048 * 224 + 3 * 2)
    assert pc.excluded == {"quantisation metadata": scales_and_shapes}
    assert (pc.experts, pc.experts_per_token) == (384, 8)
    assert round(pc.total / 1e12, 2) == 1.03  # card: 1T total
    assert round((pc.active - pc.breakdown["vision"]) / 1e9) == 33  # card: 32B activated (text model, rounded)
    assert pc.dtype == "int4 (compressed-tensors)" and pc.not_built == []


def test_quantization_config_found_where_the_config_nests_it():
    assert find_quant_config(C.KIMI_K25)["format"] == "pack-quantized"
    assert find_quant_config(C.KIMI_K25_TOP_QUANT) is C.KIMI_K25_TOP_QUANT["quantization_config"]
    names = ["a.mlp.experts.0.down_proj.weight_packed", "a.mlp.experts.0.down_proj.weight_scale"]
    q = detect(C.KIMI_K25, names, where="x")
    assert q is not None and q.rule.method == "compressed-tensors" and q.bits == 4
    assert q.count("a.mlp.experts.0.down_proj.weight_packed", "I32", 7168 * 256, set()) == (7168 * 2048, None)
    assert q.count("a.mlp.experts.0.down_proj.weight_shape", "I32", 2, set())[1] == "quantisation metadata"


def test_packed_weights_without_a_bit_width_are_refused():
    """weight_packed without any quantization_config: the bit width is unknown, so no count (not an FP8 guess)."""
    cfg = {k: v for k, v in C.KIMI_K25.items() if k != "text_config"}
    with pytest.raises(ModelFormatError, match="weight_packed"):
        detect(cfg, ["x.weight_packed", "x.weight_scale"], where="x")


def test_kimi_k25_both_layouts_count_the_same(tmp_path):
    small = [{"language_model.model.layers.1.mlp.experts.0.up_proj.weight_packed": ("I32", [2048, 896]),
              "language_model.model.layers.1.mlp.experts.0.up_proj.weight_scale": ("BF16", [2048, 224]),
              "language_model.model.layers.1.mlp.experts.0.up_proj.weight_shape": ("I32", [2])}]
    a = count_safetensors(resolve(write_sharded(tmp_path / "a", small, C.KIMI_K25)))
    b = count_safetensors(resolve(write_sharded(tmp_path / "b", small, C.KIMI_K25_TOP_QUANT)))
    assert a.total == b.total == 2048 * 7168


# --- Nemotron 3 Nano 30B-A3B: "Infinity" in config.json, embeddings at backbone.embeddings.weight ---------------
def nemotron_h_tensors(c: dict) -> dict:
    """The checkpoint's names: transformers' NemotronH module tree under the checkpoint prefix "backbone."
    (transformers renames ^backbone. to model. on load; vLLM's loader and a public Rust loader both read
    backbone.layers.N..., backbone.embeddings.weight, backbone.norm_f.weight) with the routed experts stored one
    by one (mixer.experts.J.up_proj / down_proj, ReLU^2, no gate projection) as the published checkpoints do."""
    h, v = c["hidden_size"], c["vocab_size"]
    mh, md, g, s, k = c["mamba_num_heads"], c["mamba_head_dim"], c["n_groups"], c["ssm_state_size"], c["conv_kernel"]
    inner, conv = mh * md, mh * md + 2 * g * s
    e, f, fs = c["n_routed_experts"], c["moe_intermediate_size"], c["moe_shared_expert_intermediate_size"]
    qd, kvd = c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    t = {"backbone.embeddings.weight": ("BF16", [v, h])}
    for i, kind in enumerate(c["hybrid_override_pattern"]):
        p = f"backbone.layers.{i}."
        t[p + "norm.weight"] = ("BF16", [h])
        m = p + "mixer."
        if kind == "M":
            t |= {m + "dt_bias": ("F32", [mh]), m + "A_log": ("F32", [mh]), m + "D": ("F32", [mh]),
                  m + "conv1d.weight": ("BF16", [conv, 1, k]), m + "conv1d.bias": ("BF16", [conv]),
                  m + "in_proj.weight": ("BF16", [inner + conv + mh, h]), m + "norm.weight": ("BF16", [inner]),
                  m + "out_proj.weight": ("BF16", [h, inner])}
        elif kind == "E":
            t |= {m + "gate.weight": ("BF16", [e, h]), m + "gate.e_score_correction_bias": ("F32", [e]),
                  m + "shared_experts.up_proj.weight": ("BF16", [fs, h]),
                  m + "shared_experts.down_proj.weight": ("BF16", [h, fs])}
            for j in range(e):
                t |= {f"{m}experts.{j}.up_proj.weight": ("BF16", [f, h]), f"{m}experts.{j}.down_proj.weight": ("BF16", [h, f])}
        else:
            t |= {m + "q_proj.weight": ("BF16", [qd, h]), m + "k_proj.weight": ("BF16", [kvd, h]),
                  m + "v_proj.weight": ("BF16", [kvd, h]), m + "o_proj.weight": ("BF16", [h, qd])}
    return t | {"backbone.norm_f.weight": ("BF16", [h]), "lm_head.weight": ("BF16", [v, h])}


# transformers' NemotronHForCausalLM of the same config on the meta device (checked in the integration test)
NEMOTRON_TOTAL, NEMOTRON_ACTIVE = 31_577_940_288, 3_580_076_352


@pytest.fixture(scope="module")
def nemotron_dir(tmp_path_factory):
    t = nemotron_h_tensors(C.NEMOTRON3_NANO_30B_A3B)
    names = list(t)
    return write_sharded(tmp_path_factory.mktemp("nemotron"), [{k: t[k] for k in names[i::6]} for i in range(6)],
                         C.NEMOTRON3_NANO_30B_A3B)


def test_a_config_with_infinity_is_read_as_transformers_reads_it(nemotron_dir):
    raw = (nemotron_dir / "config.json").read_text()
    assert '"time_step_limit": [0.0, Infinity]' in raw  # the published spelling
    pc = count_safetensors(resolve(nemotron_dir))
    assert (pc.total, pc.active) == (NEMOTRON_TOTAL, NEMOTRON_ACTIVE)
    assert round(pc.total / 1e9, 1) == 31.6  # card: 31.6B total


def test_embeddings_outside_the_usual_names_are_the_embedding(nemotron_dir):
    pc = count_safetensors(resolve(nemotron_dir))
    emb = 131072 * 2688
    assert pc.breakdown["embedding"] == emb and pc.breakdown["lm_head"] == emb  # not in "other"
    assert pc.active_by_convention["no_input_embedding"] == pc.active - emb
    assert pc.active_by_convention["no_embedding_or_head"] == pc.active - 2 * emb


def test_model_json_stores_infinity_as_a_string(nemotron_dir):
    from benchseal.bench.model.inspect import inspect_model
    from benchseal.reports.seal.canonical import canonical_bytes

    card = inspect_model(nemotron_dir, with_digests=False, cross_check=False)
    assert card.config["time_step_limit"] == [0.0, "Infinity"]
    assert any("non-finite" in n and "time_step_limit[1]" in n for n in card.params.notes)
    json.dumps(card.model_dump(mode="json"), allow_nan=False)  # writable as strict JSON
    assert canonical_bytes(card.model_dump(mode="json"))  # and as the signed bundle's canonical JSON


def test_params_cli_accepts_the_published_config_alone(tmp_path, run_cli):
    (tmp_path / "config.json").write_text(json.dumps(C.NEMOTRON3_NANO_30B_A3B))
    from benchseal.bench.model.files import read_config

    assert read_config(tmp_path / "config.json")["time_step_limit"][1] == math.inf


# --- Kimi-Linear-48B-A3B: the top-k under its own name -----------------------------------------------------------
def test_top_k_under_a_vendor_name_is_read():
    from benchseal.bench.model.rules import moe_fields

    assert moe_fields(C.KIMI_LINEAR_48B_A3B) == (256, 8)  # num_experts, num_experts_per_token


# --- weights the architecture does not build -------------------------------------------------------------------
def test_an_undeclared_mtp_module_is_not_counted(tmp_path):
    """Qwen3.5-397B-A17B stores its MTP module as mtp.* (names as a public NeMo adapter maps them); with the
    config's mtp_num_hidden_layers left out (a copy that does not declare it), transformers'
    Qwen3_5MoeForConditionalGeneration still drops "^mtp.*" on load, and so does the count."""
    cfg = {**C.QWEN35_397B_A17B, "text_config": {k: v for k, v in C.QWEN35_397B_A17B["text_config"].items()
                                                 if k != "mtp_num_hidden_layers"}}
    h = 4096
    t = {"model.language_model.embed_tokens.weight": ("BF16", [248320, h]), "lm_head.weight": ("BF16", [248320, h]),
         "model.language_model.norm.weight": ("BF16", [h]),
         "mtp.fc.weight": ("BF16", [h, 2 * h]), "mtp.norm.weight": ("BF16", [h]),
         "mtp.pre_fc_norm_hidden.weight": ("BF16", [h]), "mtp.pre_fc_norm_embedding.weight": ("BF16", [h]),
         "mtp.layers.0.input_layernorm.weight": ("BF16", [h]), "mtp.layers.0.self_attn.o_proj.weight": ("BF16", [h, 8192])}
    pc = count_safetensors(resolve(write_sharded(tmp_path / "q", [t], cfg)))
    mtp = 2 * h * h + 3 * h + h + h * 8192
    assert pc.total == 2 * 248320 * h + h
    assert pc.excluded == {"not_built_by_architecture": mtp}
    assert {u.name for u in pc.not_built} == {n for n in t if n.startswith("mtp.")} - {"mtp.layers.0.input_layernorm.weight",
                                                                                         "mtp.layers.0.self_attn.o_proj.weight"} | {
        "mtp.layers.#.input_layernorm.weight", "mtp.layers.#.self_attn.o_proj.weight"}
    assert all("'^mtp.*'" in u.why and "Qwen3_5MoeForConditionalGeneration" in u.why for u in pc.not_built)
    assert sum(u.elements for u in pc.not_built) == mtp


def test_an_unused_tensor_in_an_extra_shard_is_not_counted(tmp_path):
    """Issue 21 (Hunan): one 8x10^8-element tensor in a shard of its own, which no module of the architecture
    takes, must not make the model 8亿. The model: Qwen2.5-0.5B's published config, its tensors as transformers
    names them; the extra tensor under a module the architecture does not have."""
    from benchseal.bench.model.params_config import count_analytic
    from benchseal.bench.model.analytic import analytic_items
    from benchseal.testing import published_configs as P

    cfg = P.QWEN25_05B
    items = analytic_items(cfg)[0]
    model = {n: ("BF16", [k]) for n, k in items}
    extra = {"model.extra_proj.weight": ("BF16", [800_000_000])}
    pc = count_safetensors(resolve(write_sharded(tmp_path / "m", [model, extra], cfg)))
    assert pc.total == count_analytic(cfg).total
    assert pc.excluded["not_built_by_architecture"] == 800_000_000
    [u] = pc.not_built
    assert (u.name, u.tensors, u.elements) == ("model.extra_proj.weight", 1, 800_000_000)
    assert "no module of the architecture" in u.why
    # model.json names them (params.not_built and a discrepancy line), so a claim can
    from benchseal.bench.model.inspect import inspect_model

    card = inspect_model(tmp_path / "m", with_digests=False, cross_check=False)
    assert card.params.not_built == pc.not_built
    assert any(d.startswith("not_built: 800,000,000 stored elements") and "model.extra_proj.weight" in d
               for d in card.discrepancies)
    # inside a real module, under a name the module does not have: not built either
    deep = {"model.layers.3.mlp.unused.weight": ("BF16", [1000])}
    pc = count_safetensors(resolve(write_sharded(tmp_path / "d", [model, deep], cfg)))
    assert pc.total == count_analytic(cfg).total and pc.not_built[0].name == "model.layers.#.mlp.unused.weight"


def test_a_layer_the_model_has_is_never_dropped_by_another_models_pattern():
    """Glm4MoeForCausalLM's ignore list names layer 46 (GLM-4.5-Air's MTP layer); layer 46 of the 92-layer
    GLM-4.5 is a real layer and is counted."""
    from benchseal.bench.model.unused import UnusedRule
    from benchseal.testing import published_configs as P

    rule = UnusedRule("Glm4MoeForCausalLM", None, P.GLM45["num_hidden_layers"])
    assert rule.why_unused("model.layers.46.mlp.gate.weight") is None
    air = UnusedRule("Glm4MoeForCausalLM", None, P.GLM45_AIR["num_hidden_layers"])
    assert "model\\\\.layers\\\\.46" in air.why_unused("model.layers.46.eh_proj.weight")


def test_extra_weights_that_cannot_be_told_apart_are_flagged_not_guessed(tmp_path):
    """More stored than the architecture has, but part of the model under a name transformers would rename
    (here the final norm): the module tree would remove real weights too, so it is not applied; the count
    says so, and model.json's discrepancies carry it."""
    from benchseal.bench.model.analytic import analytic_items
    from benchseal.bench.model.inspect import inspect_model
    from benchseal.bench.model.params_config import count_analytic
    from benchseal.testing import published_configs as P

    cfg = P.QWEN25_05B
    model = {("model.final_norm.weight" if n == "model.norm.weight" else n): ("BF16", [k])
             for n, k in analytic_items(cfg)[0]}
    extra = {"model.extra_proj.weight": ("BF16", [1000])}
    pc = count_safetensors(resolve(write_sharded(tmp_path / "m", [model, extra], cfg)))
    assert pc.total == count_analytic(cfg).total + 1000 and pc.not_built == []
    assert any(n.startswith("the stored total (") for n in pc.notes)
    card = inspect_model(tmp_path / "m", with_digests=False, cross_check=False)
    assert card.discrepancies and card.discrepancies[0].startswith("not_built: the stored total (")
