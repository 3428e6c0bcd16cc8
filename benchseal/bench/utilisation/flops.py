"""Forward-pass FLOPs model of a decoder-only transformer, from its ``config.json``.

Conventions (documented in docs/metrics.md, "Compute utilisation"):

- one multiply-add is **2 FLOPs**; only matrix multiplications are counted (projections, MLP /
  experts, router, lm_head, attention scores ``QK^T`` and values ``AV``). Norms, activations,
  softmax, rotary embeddings, biases and the embedding lookup are not counted (< 1 % for real
  models, and ``torch.utils.flop_counter.FlopCounterMode`` does not count them either);
- attention is **causal**: the token at position ``i`` (0-based) attends to ``min(i + 1, window)``
  keys (itself included). ``causal=False`` gives the dense score matrix that eager / SDPA
  kernels compute before masking (what ``FlopCounterMode`` reports);
- the **lm_head** runs once per generated token: ``prefill_flops`` includes one lm_head (the
  first output token), every decode step includes one (as HF ``generate`` and vLLM do);
- **MoE**: routed experts count ``experts_per_token`` times per token, plus shared experts and
  the router; **MLA** (DeepSeek-V2/V3) is counted in its non-absorbed form (as the model defines
  it and HF transformers runs it) unless ``mla="absorbed"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from benchseal.errors import ConfigError, UsageError

# bytes per element of the dtypes a run can use (keys: the short names used in configs/gpus.yaml)
DTYPE_BYTES: dict[str, float] = {"fp64": 8, "fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}
_DTYPE_ALIASES = {
    "float64": "fp64", "double": "fp64", "float32": "fp32", "float": "fp32", "bfloat16": "bf16",
    "float16": "fp16", "half": "fp16", "float8": "fp8", "float8_e4m3fn": "fp8", "float8_e5m2": "fp8",
    "fp8_e4m3": "fp8", "fp8_e5m2": "fp8", "e4m3": "fp8", "qint8": "int8", "w8a8": "int8",
}


def normalize_dtype(dtype: str | None) -> str | None:
    """``"torch.bfloat16"`` / ``"bfloat16"`` / ``"bf16"`` -> ``"bf16"``; None when not recognised."""
    if not dtype:
        return None
    d = str(dtype).strip().lower().removeprefix("torch.")
    d = _DTYPE_ALIASES.get(d, d)
    return d if d in DTYPE_BYTES else None


def _keys_sum(n: int, window: int | None) -> int:
    """sum_{i=1..n} min(i, window): keys attended by the first n causal positions."""
    if n <= 0:
        return 0
    if window is None or n <= window:
        return n * (n + 1) // 2
    return window * (window + 1) // 2 + (n - window) * window


@dataclass(frozen=True)
class LayerSpec:
    """Matmul parameters and attention shape of one decoder layer."""

    attn_params: int  # q/k/v/o (or MLA) projection weights
    dense_mlp_params: int  # dense MLP, or shared experts + router of a MoE layer (always run)
    expert_params: int = 0  # one routed expert
    num_experts: int = 0
    experts_per_token: int = 0
    q_heads: int = 1
    qk_dim: int = 1  # score dimension per head
    v_dim: int = 1  # value dimension per head
    kv_elems_per_token: int = 0  # KV-cache elements stored per token in this layer
    window: int | None = None  # sliding-window size (keys), None = full attention

    @property
    def active_params(self) -> int:
        return self.attn_params + self.dense_mlp_params + self.experts_per_token * self.expert_params

    @property
    def attn_flops_per_key(self) -> int:
        return 2 * self.q_heads * (self.qk_dim + self.v_dim)


@dataclass(frozen=True)
class FlopsModel:
    model_type: str
    hidden_size: int
    vocab_size: int
    layers: tuple[LayerSpec, ...]
    attention: str  # "mha" | "gqa" | "mqa" | "mla" | "mla-absorbed"
    info: dict[str, Any] = field(default_factory=dict)

    # ---- construction ---------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict, *, mla: str = "naive") -> "FlopsModel":
        """Build from a HF ``config.json`` dict (a nested ``text_config`` is used when present)."""
        if not isinstance(config, dict):
            raise ConfigError("model config is not a JSON object", hint="pass the contents of config.json")
        cfg = config
        if isinstance(config.get("text_config"), dict):
            cfg = {**config["text_config"]}
            cfg.setdefault("model_type", config.get("model_type"))
        from benchseal.bench.model.params_config import check_sizes

        check_sizes(config)  # positive integer sizes within bounds, before anything is computed
        model_type = str(cfg.get("model_type") or "")
        builder = FAMILIES.get(_TYPE_ALIASES.get(model_type, model_type))
        if builder is None:
            raise UsageError(
                f"the FLOPs model does not know model_type '{model_type or '(missing)'}'",
                where="config.json",
                hint=f"supported model types: {', '.join(sorted(set(FAMILIES) | set(_TYPE_ALIASES)))}",
            )
        if mla not in ("naive", "absorbed"):
            raise UsageError(f"unknown MLA counting mode '{mla}'", hint="use 'naive' or 'absorbed'")
        return builder(_Cfg(cfg, model_type), mla)

    # ---- FLOPs ----------------------------------------------------------------------------------
    @property
    def active_params(self) -> int:
        """Matmul weights used per token, lm_head excluded."""
        return sum(layer.active_params for layer in self.layers)

    @property
    def lm_head_params(self) -> int:
        return self.hidden_size * self.vocab_size

    def linear_flops_per_token(self) -> float:
        """2 x active matmul parameters (lm_head excluded)."""
        return 2.0 * self.active_params

    def lm_head_flops(self) -> float:
        return 2.0 * self.lm_head_params

    def attention_flops(self, q_len: int, past_len: int = 0, *, causal: bool = True) -> float:
        """Score + value FLOPs of ``q_len`` new tokens appended after ``past_len`` cached ones."""
        total = 0
        for layer in self.layers:
            if causal:
                keys = _keys_sum(past_len + q_len, layer.window) - _keys_sum(past_len, layer.window)
            else:  # dense score matrix, masked after the matmul
                keys = q_len * (past_len + q_len)
            total += layer.attn_flops_per_key * keys
        return float(total)

    def prefill_flops(self, prompt_len: int, *, causal: bool = True) -> float:
        """The whole prompt in one forward pass, with one lm_head row (the first output token)."""
        _check_len("prompt_len", prompt_len, 1)
        return prompt_len * self.linear_flops_per_token() + self.attention_flops(prompt_len, 0, causal=causal) + self.lm_head_flops()

    def prefill_flops_per_token(self, prompt_len: int, *, causal: bool = True) -> float:
        return self.prefill_flops(prompt_len, causal=causal) / prompt_len

    def decode_flops_per_token(self, context_len: int) -> float:
        """One new token attending to ``context_len`` cached tokens (and itself), with the lm_head."""
        _check_len("context_len", context_len, 0)
        return self.linear_flops_per_token() + self.attention_flops(1, context_len) + self.lm_head_flops()

    def decode_flops(self, prompt_len: int, output_len: int) -> float:
        """All decode steps of a request: output tokens 2..M (the first comes from the prefill)."""
        steps = max(output_len - 1, 0)
        return steps * (self.linear_flops_per_token() + self.lm_head_flops()) + self.attention_flops(steps, prompt_len)

    def request_flops(self, prompt_len: int, output_len: int, *, causal: bool = True) -> float:
        """Prefill of ``prompt_len`` tokens then ``output_len`` generated tokens."""
        _check_len("output_len", output_len, 0)
        return self.prefill_flops(prompt_len, causal=causal) + self.decode_flops(prompt_len, output_len)

    # ---- bytes (for MBU) ------------------------------------------------------------------------
    def weight_bytes(self, bytes_per_param: float, batch: float = 1) -> float:
        """Weights read by one decode step for ``batch`` sequences: every non-expert matmul weight,
        the lm_head, and the routed experts those sequences hit (uniform routing:
        ``E * (1 - (1 - k/E) ** batch)``; exactly ``k`` for one sequence)."""
        params = self.lm_head_params
        for layer in self.layers:
            params += layer.attn_params + layer.dense_mlp_params
            if layer.num_experts:
                hit = layer.num_experts * (1 - (1 - layer.experts_per_token / layer.num_experts) ** max(batch, 1))
                params += hit * layer.expert_params
        return float(params) * bytes_per_param

    def kv_cache_bytes_per_token(self, bytes_per_elem: float) -> float:
        """KV-cache bytes stored per token over all layers (MLA: the compressed latent + rope key)."""
        return float(sum(layer.kv_elems_per_token for layer in self.layers)) * bytes_per_elem

    def kv_cache_bytes_read(self, context_len: int, bytes_per_elem: float, steps: int = 1) -> float:
        """KV-cache bytes read by ``steps`` decode steps of one sequence starting at ``context_len``
        cached tokens (each step reads ``min(context + 1, window)`` tokens per layer)."""
        total = 0
        for layer in self.layers:
            total += layer.kv_elems_per_token * (_keys_sum(context_len + steps, layer.window) - _keys_sum(context_len, layer.window))
        return float(total) * bytes_per_elem

    def describe(self) -> dict[str, Any]:
        windows: dict[str, int] = {}
        for layer in self.layers:
            key = "full" if layer.window is None else str(layer.window)
            windows[key] = windows.get(key, 0) + 1
        return {
            "model_type": self.model_type,
            "num_layers": len(self.layers),
            "hidden_size": self.hidden_size,
            "vocab_size": self.vocab_size,
            "attention": self.attention,
            "attention_windows": windows,
            "active_matmul_params_per_token": self.active_params,
            "lm_head_params": self.lm_head_params,
            "linear_flops_per_token": self.linear_flops_per_token(),
            "lm_head_flops_per_token": self.lm_head_flops(),
            "kv_cache_elems_per_token": sum(layer.kv_elems_per_token for layer in self.layers),
            **self.info,
            "conventions": {
                "flop": "2 per multiply-add; matmuls only",
                "attention": "causal (token i attends to min(i+1, window) keys)",
                "lm_head": "once per generated token",
            },
        }


def _check_len(name: str, value: int, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise UsageError(f"{name} must be an integer >= {minimum}, got {value!r}")


# ================================================================================================
# config readers, one per family (a dict registry)
# ================================================================================================
class _Cfg:
    def __init__(self, cfg: dict, model_type: str) -> None:
        self.cfg = cfg
        self.model_type = model_type

    def get(self, *names: str, default: Any = None) -> Any:
        for name in names:
            value = self.cfg.get(name)
            if value is not None:
                return value
        return default

    def int(self, *names: str, default: int | None = None) -> int:
        value = self.get(*names, default=default)
        if value is None:
            raise ConfigError(
                f"config.json of model_type '{self.model_type}' has no '{names[0]}'",
                where="config.json",
                hint="pass the model's original config.json",
            )
        if type(value) is not int or not 0 <= value <= 1 << 40:
            raise ConfigError(f"'{names[0]}' in config.json is not a non-negative integer: {str(value)[:40]!r}",
                              where="config.json", hint="fix config.json (sizes and counts are whole numbers)")
        return value


    def positive(self, *names: str, default: int | None = None) -> int:
        """An integer >= 1 (a window, a step, a pattern period: 0 would divide by zero or erase a term)."""
        value = self.int(*names, default=default)
        if value < 1:
            raise ConfigError(f"'{names[0]}' in config.json must be at least 1, got {value}", where="config.json",
                              hint="fix config.json")
        return value


def _windows(c: _Cfg, n_layers: int) -> list[int | None]:
    """Per-layer sliding window from ``layer_types`` or the family's own keys."""
    window = c.get("sliding_window")
    types = c.get("layer_types")
    if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
        raise ConfigError(f"layer_types in config.json is not a list of layer-type names: {str(types)[:40]!r}",
                          where="config.json", hint="fix config.json (e.g. [\"sliding_attention\", \"full_attention\", …])")
    if types:
        if len(types) != n_layers:
            raise ConfigError(f"layer_types has {len(types)} entries for {n_layers} layers", where="config.json")
        out: list[int | None] = []
        for t in types:
            if t == "full_attention":
                out.append(None)
            elif t == "sliding_attention":
                out.append(c.positive("sliding_window"))
            else:
                raise UsageError(f"the FLOPs model does not support layer type '{t}'", where="config.json layer_types")
        return out
    mt = c.model_type
    if window is None:
        return [None] * n_layers
    if mt.startswith("gemma2"):
        window = c.positive("sliding_window")
        return [window if i % 2 == 0 else None for i in range(n_layers)]
    if mt.startswith("gemma3"):
        window = c.positive("sliding_window")
        pattern = c.positive("sliding_window_pattern", default=6)
        return [window if (i + 1) % pattern else None for i in range(n_layers)]
    if mt.startswith("qwen"):
        if not c.get("use_sliding_window", default=False):
            return [None] * n_layers
        window = c.positive("sliding_window")
        first = c.int("max_window_layers", default=0)
        return [window if i >= first else None for i in range(n_layers)]
    if mt.startswith(("mistral", "mixtral")):
        return [c.positive("sliding_window")] * n_layers
    return [None] * n_layers  # families whose HF implementation ignores sliding_window


def _attn_kind(heads: int, kv_heads: int) -> str:
    return "mha" if kv_heads == heads else ("mqa" if kv_heads == 1 else "gqa")


def _gqa_attention(c: _Cfg) -> dict[str, int]:
    d = c.int("hidden_size")
    heads = c.int("num_attention_heads")
    kv = c.int("num_key_value_heads", default=heads)
    hd = c.int("head_dim", default=d // heads)
    return dict(
        attn_params=d * heads * hd + 2 * d * kv * hd + heads * hd * d,
        q_heads=heads, qk_dim=hd, v_dim=hd, kv_elems_per_token=2 * kv * hd,
        _kv=kv,
    )


def _mla_attention(c: _Cfg, mla: str) -> dict[str, int]:
    d = c.int("hidden_size")
    heads = c.int("num_attention_heads")
    q_lora = c.get("q_lora_rank")
    kv_lora = c.int("kv_lora_rank")
    nope, rope, v = c.int("qk_nope_head_dim"), c.int("qk_rope_head_dim"), c.int("v_head_dim")
    q = d * heads * (nope + rope) if q_lora is None else d * int(q_lora) + int(q_lora) * heads * (nope + rope)
    params = q + d * (kv_lora + rope) + kv_lora * heads * (nope + v) + heads * v * d
    if mla == "absorbed":  # scores in the latent space: q·W_UK and the output's W_UV replace kv_b_proj
        qk_dim, v_dim = kv_lora + rope, kv_lora
    else:
        qk_dim, v_dim = nope + rope, v
    return dict(attn_params=params, q_heads=heads, qk_dim=qk_dim, v_dim=v_dim, kv_elems_per_token=kv_lora + rope)


def _dense_mlp(d: int, ff: int) -> int:
    return 3 * d * ff  # gated MLP (SwiGLU / GeGLU): gate, up, down


def _build(c: _Cfg, attn: dict[str, int], mlps: list[dict[str, int]], kind: str, info: dict[str, Any]) -> FlopsModel:
    n = len(mlps)
    attn = dict(attn)
    attn.pop("_kv", None)
    windows = _windows(c, n)
    layers = tuple(LayerSpec(**attn, **mlp, window=w) for mlp, w in zip(mlps, windows))
    return FlopsModel(
        model_type=c.model_type,
        hidden_size=c.int("hidden_size"),
        vocab_size=c.int("vocab_size", "padded_vocab_size"),
        layers=layers,
        attention=kind,
        info=info,
    )


def _dense(c: _Cfg, mla: str) -> FlopsModel:
    d, n = c.int("hidden_size"), c.int("num_hidden_layers")
    attn = _gqa_attention(c)
    mlp = {"dense_mlp_params": _dense_mlp(d, c.int("intermediate_size"))}
    info = {"num_attention_heads": attn["q_heads"], "num_key_value_heads": attn["_kv"], "head_dim": attn["qk_dim"]}
    return _build(c, attn, [mlp] * n, _attn_kind(attn["q_heads"], attn["_kv"]), info)


def _chatglm(c: _Cfg, mla: str) -> FlopsModel:
    """THUDM ChatGLM2/3 and GLM-4 (remote-code ``chatglm`` configs)."""
    d, n = c.int("hidden_size"), c.int("num_layers", "num_hidden_layers")
    heads = c.int("num_attention_heads")
    hd = c.int("kv_channels", default=d // heads)
    kv = c.int("multi_query_group_num", default=heads) if c.get("multi_query_attention", default=False) else heads
    attn = dict(
        attn_params=d * (heads * hd + 2 * kv * hd) + heads * hd * d,
        q_heads=heads, qk_dim=hd, v_dim=hd, kv_elems_per_token=2 * kv * hd,
    )
    mlp = {"dense_mlp_params": _dense_mlp(d, c.int("ffn_hidden_size", "intermediate_size"))}
    info = {"num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": hd}
    return _build(c, attn, [mlp] * n, _attn_kind(heads, kv), info)


def _moe_layers(c: _Cfg, *, experts: int, top_k: int, expert_ff: int, shared_ff: int, shared_gate: bool,
                is_moe: Callable[[int], bool]) -> tuple[list[dict[str, int]], dict[str, Any]]:
    d, n = c.int("hidden_size"), c.int("num_hidden_layers")
    dense_ff = c.get("intermediate_size")
    moe = {
        "dense_mlp_params": d * experts + (_dense_mlp(d, shared_ff) if shared_ff else 0) + (d if shared_gate else 0),
        "expert_params": _dense_mlp(d, expert_ff),
        "num_experts": experts,
        "experts_per_token": top_k,
    }
    if any(map(is_moe, range(n))):
        if experts < 1:
            raise ConfigError("config.json describes mixture-of-experts layers with 0 experts", where="config.json",
                              hint="fix the expert count (num_experts / num_local_experts / n_routed_experts)")
        if not 1 <= top_k <= experts:
            raise ConfigError(f"config.json routes each token to {top_k} of {experts} experts (num_experts_per_tok must be "
                              f"between 1 and the expert count)", where="config.json", hint="fix num_experts_per_tok")
    mlps = []
    for i in range(n):
        if is_moe(i):
            mlps.append(moe)
        else:
            if dense_ff is None:
                raise ConfigError(f"layer {i} is dense but config.json has no 'intermediate_size'", where="config.json")
            mlps.append({"dense_mlp_params": _dense_mlp(d, int(dense_ff))})
    info = {
        "num_experts": experts, "experts_per_token": top_k, "expert_intermediate_size": expert_ff,
        "shared_expert_intermediate_size": shared_ff, "moe_layers": sum(map(is_moe, range(n))),
    }
    return mlps, info


def _mixtral(c: _Cfg, mla: str) -> FlopsModel:
    attn = _gqa_attention(c)
    mlps, info = _moe_layers(
        c, experts=c.int("num_local_experts"), top_k=c.int("num_experts_per_tok"),
        expert_ff=c.int("intermediate_size"), shared_ff=0, shared_gate=False, is_moe=lambda i: True,
    )
    info.update(num_attention_heads=attn["q_heads"], num_key_value_heads=attn["_kv"], head_dim=attn["qk_dim"])
    return _build(c, attn, mlps, _attn_kind(attn["q_heads"], attn["_kv"]), info)


def _qwen_moe(c: _Cfg, mla: str) -> FlopsModel:
    attn = _gqa_attention(c)
    experts = c.int("num_experts", "num_local_experts")  # transformers 5 writes num_local_experts for qwen3_moe
    step = c.positive("decoder_sparse_step", default=1)
    dense_only = c.get("mlp_only_layers", default=[]) or []
    if not isinstance(dense_only, list) or not all(type(i) is int for i in dense_only):
        raise ConfigError(f"mlp_only_layers in config.json is not a list of layer indices: {str(dense_only)[:40]!r}",
                          where="config.json", hint="fix config.json (e.g. [] or [0, 1])")
    dense_only = set(dense_only)
    shared_ff = c.int("shared_expert_intermediate_size", default=0)
    mlps, info = _moe_layers(
        c, experts=experts, top_k=c.int("num_experts_per_tok"), expert_ff=c.int("moe_intermediate_size"),
        shared_ff=shared_ff, shared_gate=shared_ff > 0,
        is_moe=lambda i: i not in dense_only and experts > 0 and (i + 1) % step == 0,
    )
    info.update(num_attention_heads=attn["q_heads"], num_key_value_heads=attn["_kv"], head_dim=attn["qk_dim"])
    return _build(c, attn, mlps, _attn_kind(attn["q_heads"], attn["_kv"]), info)


def _deepseek_moe_layers(c: _Cfg) -> tuple[list[dict[str, int]], dict[str, Any]]:
    expert_ff = c.int("moe_intermediate_size")
    first_dense = c.int("first_k_dense_replace", default=0)
    freq = c.positive("moe_layer_freq", default=1)
    experts = c.int("n_routed_experts", default=0)
    if c.cfg.get("n_routed_experts") == 0 and "n_routed_experts" in c.cfg:  # absent/null: dense; an explicit 0 is a broken MoE
        raise ConfigError("config.json describes mixture-of-experts layers with 0 experts (n_routed_experts: 0)",
                          where="config.json", hint="fix n_routed_experts, or remove it for a dense model")
    return _moe_layers(
        c, experts=experts, top_k=c.int("num_experts_per_tok"), expert_ff=expert_ff,
        shared_ff=c.int("n_shared_experts", default=0) * expert_ff, shared_gate=False,
        is_moe=lambda i: experts > 0 and i >= first_dense and i % freq == 0,
    )


def _deepseek(c: _Cfg, mla: str) -> FlopsModel:
    attn = _mla_attention(c, mla)
    mlps, info = _deepseek_moe_layers(c)
    info.update(
        num_attention_heads=attn["q_heads"], kv_lora_rank=c.int("kv_lora_rank"), q_lora_rank=c.get("q_lora_rank"),
        qk_nope_head_dim=c.int("qk_nope_head_dim"), qk_rope_head_dim=c.int("qk_rope_head_dim"),
        v_head_dim=c.int("v_head_dim"), mla_counting=mla,
        mtp_layers_excluded=c.get("num_nextn_predict_layers", "num_mtp_layers", default=0),
    )
    return _build(c, attn, mlps, "mla" if mla == "naive" else "mla-absorbed", info)


def _glm4_moe(c: _Cfg, mla: str) -> FlopsModel:
    attn = _gqa_attention(c)
    mlps, info = _deepseek_moe_layers(c)
    info.update(num_attention_heads=attn["q_heads"], num_key_value_heads=attn["_kv"], head_dim=attn["qk_dim"])
    return _build(c, attn, mlps, _attn_kind(attn["q_heads"], attn["_kv"]), info)


FAMILIES: dict[str, Callable[[_Cfg, str], FlopsModel]] = {
    "llama": _dense,
    "mistral": _dense,
    "qwen2": _dense,
    "qwen3": _dense,
    "glm": _dense,
    "glm4": _dense,
    "gemma": _dense,
    "gemma2": _dense,
    "gemma3_text": _dense,
    "chatglm": _chatglm,
    "mixtral": _mixtral,
    "qwen2_moe": _qwen_moe,
    "qwen3_moe": _qwen_moe,
    "deepseek_v2": _deepseek,
    "deepseek_v3": _deepseek,
    "glm4_moe": _glm4_moe,
}
_TYPE_ALIASES = {"gemma3": "gemma3_text", "kimi_k2": "deepseek_v3"}
