"""Decoder-only families with grouped-query attention and dense or Mixtral/Qwen-style MoE MLPs: Llama,
Mistral, Qwen2, Qwen3, GLM, Mixtral, Qwen2-MoE, Qwen3-MoE."""

from __future__ import annotations

from typing import Any, Callable

from benchseal.bench.model.analytic.common import Item, _experts, _gqa, _mlp, _norms


def _dense(kind: str) -> Callable[[dict[str, Any], int, str], list[Item] | None]:
    def layer(c: dict[str, Any], i: int, p: str) -> list[Item]:
        h = c["hidden_size"]
        if kind == "qwen2":
            att = _gqa(p, c, qkv_bias=True, o_bias=False)
        elif kind == "glm":
            att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=False)
        elif kind == "qwen3":
            att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"], qk_norm="norm")
        elif kind == "mistral":
            att = _gqa(p, c, qkv_bias=False, o_bias=False)
        else:  # llama
            att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"])
        mlp = _mlp(p + "mlp.", h, c["intermediate_size"], bias=c.get("mlp_bias", False), fused=kind == "glm")
        return att + mlp + _norms(p, h)
    return layer


def _mixtral(c: dict[str, Any], i: int, p: str) -> list[Item]:
    h, e = c["hidden_size"], c["num_local_experts"]
    return (_gqa(p, c, qkv_bias=False, o_bias=False) + [(p + "mlp.gate.weight", e * h)]
            + _experts(p + "mlp.", e, h, c["intermediate_size"]) + _norms(p, h))


def _qwen_moe(v3: bool) -> Callable[[dict[str, Any], int, str], list[Item] | None]:
    def layer(c: dict[str, Any], i: int, p: str) -> list[Item] | None:
        h, e = c["hidden_size"], c["num_experts"]
        att = (_gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"], qk_norm="norm") if v3
               else _gqa(p, c, qkv_bias=c["qkv_bias"], o_bias=False))
        only = c["mlp_only_layers"]
        if i not in only and e > 0 and (i + 1) % c["decoder_sparse_step"] == 0:
            mlp = _experts(p + "mlp.", e, h, c["moe_intermediate_size"]) + [(p + "mlp.gate.weight", e * h)]
            if not v3:
                mlp += _mlp(p + "mlp.shared_expert.", h, c["shared_expert_intermediate_size"])
                mlp += [(p + "mlp.shared_expert_gate.weight", h)]
        else:
            mlp = _mlp(p + "mlp.", h, c["intermediate_size"])
        return att + mlp + _norms(p, h)
    return layer

