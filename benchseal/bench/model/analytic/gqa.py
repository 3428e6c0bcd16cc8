"""Decoder-only families with grouped-query attention and dense or Mixtral/Qwen-style MoE MLPs: Llama,
Mistral, Qwen2, Qwen3, GLM, Mixtral, Qwen2-MoE, Qwen3-MoE."""

from __future__ import annotations

from typing import Any, Callable

from benchseal.bench.model.analytic.common import Item, _experts, _gqa, _int, _lin, _mlp, _norms


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



def _qwen3_next(c: dict[str, Any], i: int, p: str) -> list[Item] | None:
    """Qwen3NextDecoderLayer: a gated full-attention layer (q_proj twice the query width for the output gate,
    q/k RMSNorm of head_dim, attention_bias on q/k/v/o) where layer_types says "full_attention", else a Gated
    DeltaNet layer (linear_attn: in_proj_qkvz, in_proj_ba, a bias-free depthwise conv1d over q, k and v, dt_bias,
    A_log, an RMSNorm of the value head width, out_proj); layer_types defaults to a full-attention layer every
    full_attention_interval layers. The MLP as Qwen2-MoE's: routed experts + one shared expert with its sigmoid
    gate where (i + 1) % decoder_sparse_step == 0 and i is not in mlp_only_layers, else a dense MLP."""
    h, hd, b = c["hidden_size"], c["head_dim"], c["attention_bias"]
    lt = c.get("layer_types")
    fai = c["full_attention_interval"]
    kind = lt[i] if lt is not None else ("linear_attention" if (i + 1) % fai else "full_attention")
    if kind == "full_attention":
        nq, nkv, a = c["num_attention_heads"], c["num_key_value_heads"], p + "self_attn."
        att = (_lin(a + "q_proj", 2 * nq * hd, h, b) + _lin(a + "k_proj", nkv * hd, h, b) + _lin(a + "v_proj", nkv * hd, h, b)
               + _lin(a + "o_proj", h, nq * hd, b) + [(a + "q_norm.weight", hd), (a + "k_norm.weight", hd)])
    elif kind == "linear_attention":
        nk, nv, dk, dv = (c["linear_num_key_heads"], c["linear_num_value_heads"], c["linear_key_head_dim"],
                          c["linear_value_head_dim"])
        a = p + "linear_attn."
        conv = 2 * nk * dk + nv * dv
        att = [(a + "dt_bias", nv), (a + "A_log", nv), (a + "conv1d.weight", conv * c["linear_conv_kernel_dim"])]
        att += _lin(a + "in_proj_qkvz", 2 * nk * dk + 2 * nv * dv, h) + _lin(a + "in_proj_ba", 2 * nv, h)
        att += [(a + "norm.weight", dv)] + _lin(a + "out_proj", h, nv * dv)
    else:
        return None
    e = c["num_experts"]
    if i not in c["mlp_only_layers"] and e > 0 and (i + 1) % c["decoder_sparse_step"] == 0:
        m = p + "mlp."
        mlp = [(m + "gate.weight", e * h)] + _experts(m, e, h, c["moe_intermediate_size"])
        mlp += _mlp(m + "shared_expert.", h, c["shared_expert_intermediate_size"]) + [(m + "shared_expert_gate.weight", h)]
    else:
        mlp = _mlp(p + "mlp.", h, c["intermediate_size"])
    return att + mlp + _norms(p, h)


def qwen3_next_fields_match(config: dict[str, Any]) -> bool:
    """layer_types one of the two kinds per layer when given, full_attention_interval a positive int."""
    lt, n = config.get("layer_types"), config.get("num_hidden_layers")
    if lt is not None and not (isinstance(lt, list) and len(lt) == n
                               and all(x in ("linear_attention", "full_attention") for x in lt)):
        return False
    fai = config.get("full_attention_interval", 4)
    return _int(fai) and fai > 0
