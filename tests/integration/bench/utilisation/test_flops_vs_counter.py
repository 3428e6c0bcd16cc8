"""The FLOPs model against torch.utils.flop_counter.FlopCounterMode on tiny models of each family.

What FlopCounterMode counts: matmul-like aten ops (mm, addmm's matmul, bmm, SDPA), at 2 FLOPs per
multiply-add, i.e. exactly the ops the FLOPs model counts (norms, activations, softmax, rotary and
bias adds are in neither). Models run with eager attention and eager experts so that every matmul
is a counted aten op (the grouped-mm expert kernels are not counted by FlopCounterMode). Two
differences are accounted for explicitly, never hidden in the tolerance:

- prefill: eager attention multiplies the whole score matrix and masks afterwards, so the counter
  sees ``causal=False`` attention (q_len x kv_len); our headline number is causal;
- MoE: the counter counts what ran: each token's ``experts_per_token`` routed experts (every token
  is routed to exactly k distinct experts), shared experts and the router - the same as ours;
- MLA (DeepSeek): HF caches the compressed latent and re-applies ``kv_b_proj`` to the whole cache
  at every decode step; that re-expansion is an implementation cost outside the model's FLOPs, so it
  is computed from the config and added to our number before comparing.
"""

from __future__ import annotations

import pytest

from benchseal.bench.utilisation.flops import FlopsModel

from tests.helpers.flops_configs import TINY, hf_config


PROMPT, OUTPUT = 24, 6
TOL = 0.02


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch


def _model(name: str):
    import transformers

    cfg = hf_config(name)
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", experts_implementation="eager")
    return model.eval(), cfg.to_dict()


def _count(torch, fn) -> tuple[float, dict[str, int]]:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        fn()
    per_module = {k: sum(v.values()) for k, v in fc.get_flop_counts().items()}
    return float(fc.get_total_flops()), per_module


def _mla_reexpansion(cfg: dict, contexts: range) -> float:
    """FLOPs of HF's per-step kv_b_proj over the cached latent tokens (not the new one)."""
    fm = FlopsModel.from_config(cfg)
    mla_layers = len(fm.layers)
    per_token = 2 * cfg["kv_lora_rank"] * cfg["num_attention_heads"] * (cfg["qk_nope_head_dim"] + cfg["v_head_dim"])
    return float(sum(per_token * c for c in contexts) * mla_layers)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / b


@pytest.mark.parametrize("name", sorted(TINY))
def test_prefill_decode_generate_match_flopcounter(torch, name):
    model, cfg = _model(name)
    fm = FlopsModel.from_config(cfg)
    ids = torch.randint(10, cfg["vocab_size"] - 10, (1, PROMPT))
    state = {}

    def prefill():
        state["out"] = model(ids, use_cache=True, logits_to_keep=1)

    counted, _ = _count(torch, prefill)
    assert _rel(counted, fm.prefill_flops(PROMPT, causal=False)) < TOL

    # one decode step: the new token attends to PROMPT cached tokens and itself (exact, no masking)
    nxt = ids[:, -1:]
    counted, per_module = _count(torch, lambda: model(nxt, past_key_values=state["out"].past_key_values, use_cache=True))
    expected = fm.decode_flops_per_token(PROMPT)
    if name == "deepseek_v3":
        expected += _mla_reexpansion(cfg, range(PROMPT, PROMPT + 1))
        kv_b = sum(v for k, v in per_module.items() if k.endswith("kv_b_proj"))
        assert kv_b == 2 * 16 * 4 * (16 + 16) * (PROMPT + 1) * 3  # kv_lora * heads * (nope + v) over the cache
    assert _rel(counted, expected) < TOL

    # a whole generate call: prefill (dense score matrix) + OUTPUT - 1 decode steps
    counted, _ = _count(torch, lambda: model.generate(ids, max_new_tokens=OUTPUT, min_new_tokens=OUTPUT, do_sample=False))
    expected = fm.request_flops(PROMPT, OUTPUT, causal=False)
    if name == "deepseek_v3":
        expected += _mla_reexpansion(cfg, range(PROMPT, PROMPT + OUTPUT - 1))
    assert _rel(counted, expected) < TOL


def test_causal_prefill_equals_token_by_token(torch):
    """The causal convention is what a token-by-token prefill executes (each step exact)."""
    model, cfg = _model("mistral-swa")
    fm = FlopsModel.from_config(cfg)
    ids = torch.randint(10, 200, (1, 16))
    total = 0.0
    past = None
    for i in range(16):
        with torch.no_grad():
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as fc:
                out = model(ids[:, i:i + 1], past_key_values=past, use_cache=True)
            past = out.past_key_values
        total += fc.get_total_flops()
    # 16 lm_heads ran; prefill_flops counts one
    expected = fm.prefill_flops(16) + 15 * fm.lm_head_flops()
    assert _rel(total, expected) < 1e-9
    assert fm.prefill_flops(16) < fm.prefill_flops(16, causal=False)
