"""``benchseal plan``: which vLLM layouts of a model fit a cluster of GPUs, before any GPU time is spent.

The rule (docs/scale-out.md states it with its sources):

- budget per GPU = ``gpu_memory_utilization`` x the GPU's total memory (vLLM's default 0.92 in
  vllm/config/cache.py; vLLM leaves the rest to other processes and allocations it does not track);
- need per GPU = weights on the busiest GPU + KV cache for ``concurrency`` sequences of ``max_model_len``
  tokens on the busiest GPU + a runtime reserve (activations of one ``max_num_batched_tokens`` forward
  pass, CUDA graphs, NCCL and cuBLAS buffers: 1.5 GiB + the activation estimate below);
- a layout fits when need <= budget on every GPU. vLLM itself refuses to start when the KV cache cannot
  hold one sequence of ``max_model_len`` tokens, so ``concurrency`` 1 is the least it needs.

Placement (how vLLM shards): tensor parallel (TP) ranks split attention heads, MLP columns, the vocab
(embedding, lm_head) and, without expert parallelism, every routed expert; pipeline parallel (PP) stages
take ceil(layers / PP) consecutive layers, the first stage holds the embedding and the last the lm_head;
data parallel (DP) ranks are replicas, except that with expert parallelism (EP) the routed experts are
split over all TP x DP ranks. TP stays within a node; PP and DP may cross nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from benchseal.bench.utilisation.memory import GIB, KvShape, WeightBytes

VLLM_GPU_MEMORY_UTILIZATION = 0.92  # vllm/config/cache.py CacheConfig.gpu_memory_utilization (see module docstring)
VLLM_MAX_NUM_BATCHED_TOKENS = 8192  # vLLM serve's chunked-prefill token budget on large GPUs (engine args default)
RUNTIME_FIXED_GIB = 1.5
KV_BYTES = {"auto": None, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0}


@dataclass(frozen=True)
class Layout:
    tensor_parallel_size: int
    pipeline_parallel_size: int
    data_parallel_size: int
    expert_parallel: bool
    nodes: int
    gpus: int
    weights_gib_per_gpu: float
    kv_cache_gib_per_gpu: float
    runtime_gib_per_gpu: float
    budget_gib_per_gpu: float
    engine_args: tuple[str, ...]

    @property
    def need_gib(self) -> float:
        return self.weights_gib_per_gpu + self.kv_cache_gib_per_gpu + self.runtime_gib_per_gpu

    @property
    def fits(self) -> bool:
        return self.need_gib <= self.budget_gib_per_gpu

    @property
    def headroom_gib(self) -> float:
        return self.budget_gib_per_gpu - self.need_gib

    def label(self) -> str:
        s = f"TP{self.tensor_parallel_size} PP{self.pipeline_parallel_size} DP{self.data_parallel_size}"
        return s + (" EP" if self.expert_parallel else "") + f" on {self.gpus} GPU(s), {self.nodes} node(s)"

    def to_dict(self) -> dict[str, Any]:
        return {"tensor_parallel_size": self.tensor_parallel_size, "pipeline_parallel_size": self.pipeline_parallel_size,
                "data_parallel_size": self.data_parallel_size, "expert_parallel": self.expert_parallel,
                "nodes": self.nodes, "gpus": self.gpus, "weights_gib_per_gpu": round(self.weights_gib_per_gpu, 3),
                "kv_cache_gib_per_gpu": round(self.kv_cache_gib_per_gpu, 3),
                "runtime_gib_per_gpu": round(self.runtime_gib_per_gpu, 3),
                "budget_gib_per_gpu": round(self.budget_gib_per_gpu, 3), "headroom_gib_per_gpu": round(self.headroom_gib, 3),
                "engine_args": list(self.engine_args)}


@dataclass(frozen=True)
class Cluster:
    gpu_id: str
    memory_bytes: float  # total memory of one GPU as the engine sees it
    memory_source: str
    gpus_per_node: int
    nodes: int


def cluster_from_spec(gpu_id: str, gpus_per_node: int, nodes: int) -> Cluster:
    """A cluster of ``nodes`` x ``gpus_per_node`` GPUs of configs/gpus.yaml entry ``gpu_id``."""
    from benchseal.errors import UsageError
    from benchseal.hw.specs import load_gpu_specs

    specs = load_gpu_specs()
    if gpu_id not in specs:
        raise UsageError(f"unknown GPU id '{gpu_id}'", where="configs/gpus.yaml", hint="use one of " + ", ".join(specs))
    if gpus_per_node < 1 or nodes < 1:
        raise UsageError(f"--gpus-per-node and --nodes must be at least 1, got {gpus_per_node} and {nodes}")
    e = specs[gpu_id]
    if e.memory_total_mib:
        return Cluster(gpu_id, e.memory_total_mib * 2**20, f"{e.memory_total_mib} MiB as NVML reports it", gpus_per_node, nodes)
    if e.memory_gb:
        return Cluster(gpu_id, e.memory_gb * 1e9, f"{e.memory_gb:g} GB (datasheet, 10^9 bytes; a lower bound of what "
                       "NVML reports)", gpus_per_node, nodes)
    raise UsageError(f"configs/gpus.yaml gives no memory size for '{gpu_id}'", hint="add memory_total_mib with a source")


def _divisors_pow2(n: int) -> list[int]:
    return [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= n and n % t == 0]


def _tp_ok(t: int, c: dict[str, Any], kv: KvShape) -> bool:
    heads = c.get("num_attention_heads")
    if isinstance(heads, int) and heads % t:
        return False  # vLLM: attention heads must divide by tensor_parallel_size
    k = kv.kv_heads
    return not k or k % t == 0 or t % k == 0


def _activation_bytes(c: dict[str, Any], t: int, tokens: int, act_bytes: float = 2.0) -> float:
    """Peak activations of one forward pass of ``tokens`` tokens on one TP rank: the residual stream and
    its normed copy, q/k/v/o outputs (4 x hidden) and the MLP's up/gate outputs (2 x its width / tp)."""
    hidden = int(c.get("hidden_size") or 0)
    k = c.get("num_experts_per_tok") or c.get("moe_topk") or 0
    k = k[0] if isinstance(k, list) else k
    moe_inter = c.get("moe_intermediate_size")
    moe_inter = moe_inter[0] if isinstance(moe_inter, list) else moe_inter
    width = int(moe_inter) * int(k) if moe_inter and k else int(c.get("intermediate_size") or 4 * hidden)
    return tokens * act_bytes * (4 * hidden + 2 * width / t)


def engine_args(t: int, p: int, d: int, ep: bool, nodes: int, *, max_model_len: int, utilization: float,
                kv_cache_dtype: str) -> tuple[str, ...]:
    args = ["--tensor-parallel-size", str(t), "--pipeline-parallel-size", str(p), "--data-parallel-size", str(d)]
    if ep:
        args.append("--enable-expert-parallel")
    if nodes > 1:
        args += ["--distributed-executor-backend", "ray"]
        if d > 1:
            args += ["--data-parallel-backend", "ray"]
    elif t * p > 1:
        args += ["--distributed-executor-backend", "mp"]
    args += ["--max-model-len", str(max_model_len), "--gpu-memory-utilization", f"{utilization:g}"]
    if kv_cache_dtype != "auto":
        args += ["--kv-cache-dtype", kv_cache_dtype]
    return tuple(args)


class _Model:
    """What the placement arithmetic needs of one model, computed once."""

    def __init__(self, config: dict[str, Any], weights: WeightBytes, kv_cache_dtype: str) -> None:
        from benchseal.bench.model.rules import moe_shape, text_config
        from benchseal.bench.utilisation.flops import normalize_dtype
        from benchseal.errors import UsageError

        self.c = text_config(config)
        self.kv = KvShape.from_config(config)
        if kv_cache_dtype not in KV_BYTES:
            raise UsageError(f"unknown KV-cache dtype '{kv_cache_dtype}'", hint="use auto, bf16, fp16 or fp8")
        kv_b = KV_BYTES[kv_cache_dtype]
        if kv_b is None:  # vLLM's "auto": the model's activation dtype (bf16 for FP8 checkpoints)
            act = normalize_dtype(self.c.get("torch_dtype") or config.get("torch_dtype") or self.c.get("dtype")) or "bf16"
            kv_b = 4.0 if act == "fp32" else 2.0
        self.kv_bytes = kv_b
        experts, _ = moe_shape(config)
        self.moe = bool(experts and experts > 1 and weights.experts > 0)
        self.weights = weights
        self.n_layers = len(self.kv.per_layer)


def _evaluate(m: _Model, t: int, p: int, d: int, ep: bool, nodes: int, budget_gib: float, *, max_model_len: int,
              concurrency: int, utilization: float, kv_cache_dtype: str, max_num_batched_tokens: int) -> Layout:
    w_ = m.weights
    stage = math.ceil(m.n_layers / p) / m.n_layers
    layer_w = w_.layers * stage / t
    expert_w = w_.experts * stage / (t * d if ep else t)
    ends = (w_.embedding + w_.lm_head) if p == 1 else max(w_.embedding, w_.lm_head)
    w = (layer_w + expert_w + ends / t) / GIB
    kvg = m.kv.bytes_per_gpu(tp=t, pp=p, seqs=math.ceil(concurrency / d), max_model_len=max_model_len,
                             kv_bytes=m.kv_bytes) / GIB
    rt = RUNTIME_FIXED_GIB + _activation_bytes(m.c, t, max_num_batched_tokens) / GIB
    return Layout(t, p, d, ep, nodes, t * p * d, w, kvg, rt, budget_gib,
                  engine_args(t, p, d, ep, nodes, max_model_len=max_model_len, utilization=utilization,
                              kv_cache_dtype=kv_cache_dtype))


def evaluate_layout(config: dict[str, Any], weights: WeightBytes, memory_bytes: float, *, tensor_parallel_size: int,
                    pipeline_parallel_size: int = 1, data_parallel_size: int = 1, expert_parallel: bool = False,
                    max_model_len: int | None = None, concurrency: int = 1,
                    utilization: float = VLLM_GPU_MEMORY_UTILIZATION, kv_cache_dtype: str = "auto",
                    max_num_batched_tokens: int = VLLM_MAX_NUM_BATCHED_TOKENS) -> Layout:
    """One given layout (e.g. a run's backend spec) on GPUs of ``memory_bytes`` each: its per-GPU need
    against the budget (``Layout.fits``). Memory per GPU does not depend on how GPUs group into nodes."""
    m = _Model(config, weights, kv_cache_dtype)
    L = max_model_len or default_max_model_len(config)
    return _evaluate(m, tensor_parallel_size, pipeline_parallel_size, data_parallel_size, expert_parallel and m.moe, 1,
                     utilization * memory_bytes / GIB, max_model_len=L, concurrency=concurrency, utilization=utilization,
                     kv_cache_dtype=kv_cache_dtype, max_num_batched_tokens=max_num_batched_tokens)


def layouts(config: dict[str, Any], weights: WeightBytes, cluster: Cluster, *, max_model_len: int,
            concurrency: int = 1, utilization: float = VLLM_GPU_MEMORY_UTILIZATION, kv_cache_dtype: str = "auto",
            max_num_batched_tokens: int = VLLM_MAX_NUM_BATCHED_TOKENS) -> list[Layout]:
    """Every candidate layout on the cluster (fitting or not), ranked (see :func:`rank_key`)."""
    m = _Model(config, weights, kv_cache_dtype)
    G, N = cluster.gpus_per_node * cluster.nodes, cluster.gpus_per_node
    budget = utilization * cluster.memory_bytes / GIB
    out: list[Layout] = []
    for t in _divisors_pow2(N):
        if not _tp_ok(t, m.c, m.kv):
            continue
        for p in range(1, min(m.n_layers, G // t) + 1):
            for d in range(1, G // (t * p) + 1):
                if d > 1 and p > 1:
                    continue  # vLLM's data parallel is used with TP (and EP), not with PP
                gpus = t * p * d
                if gpus > N and gpus % N:
                    continue  # a layout across nodes uses whole nodes
                for ep in ((False, True) if m.moe and t * d > 1 else (False,)):
                    out.append(_evaluate(m, t, p, d, ep, math.ceil(gpus / N), budget, max_model_len=max_model_len,
                                         concurrency=concurrency, utilization=utilization,
                                         kv_cache_dtype=kv_cache_dtype, max_num_batched_tokens=max_num_batched_tokens))
    out.sort(key=rank_key)
    return out


def rank_key(lay: Layout) -> tuple:
    """Fitting layouts first; then fewest nodes (TP and EP traffic stays on NVLink), fewest pipeline
    stages (no pipeline bubbles), most GPUs in use (more memory bandwidth for decode), and largest headroom."""
    return (not lay.fits, lay.nodes, lay.pipeline_parallel_size, -lay.gpus, -lay.headroom_gib)


def default_max_model_len(config: dict[str, Any]) -> int:
    from benchseal.bench.model.rules import text_config

    c = text_config(config)
    v = c.get("max_position_embeddings") or c.get("seq_length") or c.get("max_sequence_length")
    if not isinstance(v, int) or v < 1:
        from benchseal.errors import UsageError

        raise UsageError("config.json gives no max_position_embeddings", hint="pass --max-model-len")
    return v


def plan(config: dict[str, Any], weights: WeightBytes, cluster: Cluster, *, max_model_len: int | None = None,
         concurrency: int = 1, utilization: float = VLLM_GPU_MEMORY_UTILIZATION, kv_cache_dtype: str = "auto",
         max_num_batched_tokens: int = VLLM_MAX_NUM_BATCHED_TOKENS) -> dict[str, Any]:
    """The plan as the issue fixes its JSON: ``fits``, ``reason``, ``layouts`` (those that fit, ranked),
    plus what it was computed from."""
    from benchseal.errors import UsageError

    if concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {concurrency}")
    if not 0 < utilization <= 1:
        raise UsageError(f"--gpu-memory-utilization must be in (0, 1], got {utilization}")
    L = max_model_len or default_max_model_len(config)
    if L < 1:
        raise UsageError(f"--max-model-len must be at least 1, got {L}")
    cand = layouts(config, weights, cluster, max_model_len=L, concurrency=concurrency, utilization=utilization,
                   kv_cache_dtype=kv_cache_dtype, max_num_batched_tokens=max_num_batched_tokens)
    fit = [x for x in cand if x.fits]
    where = f"{cluster.nodes} x {cluster.gpus_per_node} {cluster.gpu_id}"
    if fit:
        reason = (f"{len(fit)} layout(s) fit on {where} at max_model_len {L} x concurrency {concurrency}; "
                  f"best: {fit[0].label()} needs {fit[0].need_gib:.1f} of {fit[0].budget_gib_per_gpu:.1f} GiB per GPU")
    elif cand:
        best = min(cand, key=lambda x: x.need_gib - x.budget_gib_per_gpu)
        reason = (f"no layout fits on {where} at max_model_len {L} x concurrency {concurrency}: the closest, "
                  f"{best.label()}, needs {best.need_gib:.1f} GiB per GPU (weights {best.weights_gib_per_gpu:.1f}, "
                  f"KV cache {best.kv_cache_gib_per_gpu:.1f}, runtime {best.runtime_gib_per_gpu:.1f}) of "
                  f"{best.budget_gib_per_gpu:.1f} GiB")
    else:
        reason = f"no tensor-parallel size fits the model's attention heads on {cluster.gpus_per_node} GPU(s) per node"
    return {"fits": bool(fit), "reason": reason, "layouts": [x.to_dict() for x in fit],
            "inputs": {"gpu": cluster.gpu_id, "gpu_memory": cluster.memory_source, "gpus_per_node": cluster.gpus_per_node,
                       "nodes": cluster.nodes, "max_model_len": L, "concurrency": concurrency,
                       "gpu_memory_utilization": utilization, "kv_cache_dtype": kv_cache_dtype,
                       "max_num_batched_tokens": max_num_batched_tokens, "weights": weights.to_dict()}}
