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
DECLINES = {"HUNYUAN_A13B", "GPT_OSS_20B", "GPT_OSS_120B", "QWEN3_NEXT_80B_A3B", "LLAMA4_SCOUT", "CHATGLM3_6B",
            "ERNIE45_21B_A3B", "PHI35_MOE", "GEMMA3_4B"}


def test_the_registry_is_found():
    assert len(CONFIGS) >= 20 and "KIMI_K2" in CONFIGS and "DEEPSEEK_V3" in CONFIGS


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_analytic_equals_meta_or_declines(name):
    cfg = CONFIGS[name]
    a = count_analytic(cfg)
    if a is None:
        assert name in DECLINES, f"{name}: the analytic count declines; extend analytic.py or name it in DECLINES"
        return
    assert name not in DECLINES, f"{name} is counted analytically now: take it off DECLINES (and the docs)"
    m = count_meta(cfg)
    assert (a.total, a.active, a.embedding, a.non_embedding) == (m.total, m.active, m.embedding, m.non_embedding)
    assert a.active_by_convention == m.active_by_convention
    assert a.breakdown == m.breakdown and a.excluded == m.excluded
    assert a.model_dump(exclude={"notes"}) == m.model_dump(exclude={"notes"})  # every other field too
    assert any("counted analytically from config.json" in n for n in a.notes)
    crossed = count_from_config(cfg, meta=True)
    assert any("agrees with the meta-device count" in n for n in crossed.notes)


def test_declines_are_few():
    assert len(DECLINES) <= 9 and DECLINES <= set(CONFIGS) | DECLINES


@pytest.mark.parametrize("name", sorted(DECLINES & set(CONFIGS)))
def test_a_declined_config_falls_back_to_the_meta_count(name):
    cfg = CONFIGS[name]
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
    for key, default in fam.flags.items():
        assert getattr(cfg, key) == default, (model_type, key)
    assert fam.cls in {getattr(c, "__name__", "") for c in _causal_classes(model_type)}
    if fam.derived_head_dim and "num_key_value_heads" in fam.keys and not model_type.startswith("deepseek"):
        c = CONFIG_MAPPING[model_type](hidden_size=256, num_attention_heads=4)
        assert getattr(c, "head_dim", None) in (None, 64)


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
