"""``benchseal plan``: fit / no-fit for published deployments (sources in
benchseal/testing/published_deployments.py), the KV-cache and weight-byte rules against hand-computed
ground truth, the checkpoint's own tensor dtypes, and the JSON the issue fixes."""

from __future__ import annotations

import json
import math

import pytest

from benchseal.bench.utilisation.memory import GIB, KvShape, weights_from_checkpoint, weights_from_config
from benchseal.bench.utilisation.plan import VLLM_GPU_MEMORY_UTILIZATION, cluster_from_spec, plan
from benchseal.errors import UsageError
from benchseal.testing.published_configs import DEEPSEEK_V3, LLAMA3_8B, MISTRAL_7B
from benchseal.testing.published_deployments import DEPLOYMENTS, LLAMA31_405B
from benchseal.testing.safetensors_files import write_sharded


@pytest.mark.parametrize("d", DEPLOYMENTS, ids=lambda d: d.name)
def test_published_deployments_fit_or_not(d):
    res = plan(d.config, weights_from_config(d.config, d.dtype), cluster_from_spec(d.gpu, d.gpus_per_node, d.nodes),
               max_model_len=d.max_model_len)
    assert res["fits"] is d.fits, f"{d.name}: {res['reason']} (source {d.source}: {d.says})"
    assert bool(res["layouts"]) is d.fits


def test_vllm_recipe_layouts_for_671b_on_8xh200_are_among_the_fits():
    """vLLM's DeepSeek-V3 recipe (8xH200 FP8) names TP8+EP and DP8+EP; both must be listed as fitting."""
    res = plan(DEEPSEEK_V3, weights_from_config(DEEPSEEK_V3), cluster_from_spec("h200-sxm-141gb", 8, 1))
    got = {(x["tensor_parallel_size"], x["data_parallel_size"], x["expert_parallel"]) for x in res["layouts"]}
    assert {(8, 1, True), (1, 8, True)} <= got
    dp8 = next(x for x in res["layouts"] if x["data_parallel_size"] == 8 and x["expert_parallel"])
    assert dp8["engine_args"][:6] == ["--tensor-parallel-size", "1", "--pipeline-parallel-size", "1",
                                      "--data-parallel-size", "8"] and "--enable-expert-parallel" in dp8["engine_args"]


def test_json_keys_are_the_issues():
    res = plan(LLAMA31_405B, weights_from_config(LLAMA31_405B, "fp8"), cluster_from_spec("h100-sxm5-80gb", 8, 2))
    assert {"fits", "reason", "layouts"} <= set(res)
    keys = {"tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "expert_parallel", "nodes", "gpus",
            "weights_gib_per_gpu", "kv_cache_gib_per_gpu", "engine_args"}
    assert all(keys <= set(x) for x in res["layouts"])
    assert res["layouts"][0]["nodes"] == 1  # ranked: one node before two
    assert json.loads(json.dumps(res)) == res


def test_kv_bytes_gqa_mla_and_sliding_window_match_hand_computation():
    # Llama-3-8B: 32 layers x 2 (K,V) x 8 KV heads x 128 x 2 bytes = 131072 bytes/token; TP2 holds 4 heads
    kv = KvShape.from_config(LLAMA3_8B)
    assert kv.bytes_per_gpu(tp=1, pp=1, seqs=1, max_model_len=1024, kv_bytes=2) == 131072 * 1024
    assert kv.bytes_per_gpu(tp=2, pp=1, seqs=3, max_model_len=1024, kv_bytes=2) == 131072 * 1024 * 3 / 2
    assert kv.bytes_per_gpu(tp=16, pp=1, seqs=1, max_model_len=1024, kv_bytes=2) == 131072 * 1024 / 8  # 1 head each
    assert kv.bytes_per_gpu(tp=1, pp=2, seqs=1, max_model_len=1024, kv_bytes=2) == 131072 * 1024 / 2
    # DeepSeek-V3 MLA: 61 layers x (kv_lora_rank 512 + rope 64) x 2 bytes, the same on every TP rank
    mla = KvShape.from_config(DEEPSEEK_V3)
    assert mla.kv_heads is None
    for tp in (1, 8):
        assert mla.bytes_per_gpu(tp=tp, pp=1, seqs=1, max_model_len=4096, kv_bytes=2) == 61 * 576 * 2 * 4096
    # Mistral-7B: sliding window 4096 on every layer: a 32k context keeps 4096 + one block of tokens
    sw = KvShape.from_config(MISTRAL_7B)
    assert sw.bytes_per_gpu(tp=1, pp=1, seqs=1, max_model_len=32768, kv_bytes=2) == 131072 * (4096 + 16)


def test_weight_bytes_from_config_keep_embedding_and_head_unquantised():
    bf16 = weights_from_config(LLAMA3_8B, "bf16")
    fp8 = weights_from_config(LLAMA3_8B, "fp8")
    emb = 128256 * 4096
    assert bf16.embedding == fp8.embedding == emb * 2 and bf16.lm_head == fp8.lm_head == emb * 2
    assert math.isclose(fp8.layers, bf16.layers / 2 * (1 + 4 / 16384), rel_tol=1e-4)  # + one fp32 scale per 128x128 block (norms stay 2 bytes)
    assert weights_from_config(DEEPSEEK_V3).dtype == "fp8"  # the config's quantization_config
    with pytest.raises(UsageError):
        weights_from_config(LLAMA3_8B, "fp7")


def test_weights_from_the_checkpoints_own_tensor_dtypes(tmp_path):
    cfg = {**LLAMA3_8B, "num_hidden_layers": 2, "vocab_size": 100, "hidden_size": 8, "intermediate_size": 16,
           "num_attention_heads": 2, "num_key_value_heads": 1, "num_nextn_predict_layers": 1}
    shards = [{"model.embed_tokens.weight": ("BF16", [100, 8]), "lm_head.weight": ("F32", [100, 8]),
               "model.layers.0.mlp.up_proj.weight": ("F8_E4M3", [16, 8]),
               "model.layers.0.mlp.up_proj.weight_scale_inv": ("F32", [1, 1]),
               "model.layers.1.mlp.experts.0.up_proj.weight": ("BF16", [16, 8])},
              {"model.layers.2.mlp.up_proj.weight": ("BF16", [16, 8])}]  # layer 2 >= num_hidden_layers: MTP
    root = write_sharded(tmp_path / "m", shards, cfg)
    w = weights_from_checkpoint(root, cfg)
    assert (w.embedding, w.lm_head, w.experts, w.layers) == (1600, 3200, 256, 128 + 4)
    assert w.method == "safetensors-header" and any("multi-token" in n for n in w.notes)


def test_budget_uses_nvml_total_and_vllm_default_utilization():
    c = cluster_from_spec("h200-sxm-141gb", 8, 1)
    assert c.memory_bytes == 143771 * 2**20
    res = plan(LLAMA3_8B, weights_from_config(LLAMA3_8B), c, max_model_len=8192)
    assert res["layouts"][0]["budget_gib_per_gpu"] == round(VLLM_GPU_MEMORY_UTILIZATION * 143771 / 1024, 3)
    assert cluster_from_spec("h20-96gb", 8, 1).memory_bytes == 96e9  # no NVML total cited: datasheet GB


def test_concurrency_and_context_can_break_a_fit():
    c = cluster_from_spec("h100-sxm5-80gb", 8, 1)
    w = weights_from_config(LLAMA31_405B, "fp8")
    assert plan(LLAMA31_405B, w, c)["fits"]
    assert not plan(LLAMA31_405B, w, c, concurrency=8)["fits"]  # 8 x 131072 tokens of KV do not fit beside 382 GiB


def test_cli_plan_json_and_exit_codes(tmp_path, run_cli):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(LLAMA31_405B))
    code, out, _ = run_cli("plan", cfg, "--gpu", "h100-sxm5-80gb", "--gpus-per-node", "8", "--dtype", "fp8", "--json")
    assert code == 0 and json.loads(out)["fits"] is True
    code, out, _ = run_cli("plan", cfg, "--gpu", "h100-sxm5-80gb", "--gpus-per-node", "8", "--dtype", "bf16", "--json")
    assert code == 1 and json.loads(out)["layouts"] == []
    code, _, err = run_cli("plan", cfg, "--gpu", "no-such-gpu", "--gpus-per-node", "8")
    assert code == 2 and "unknown GPU id" in err
    code, _, err = run_cli("plan", cfg, "--gpu", "h100-sxm5-80gb", "--gpus-per-node", "0")
    assert code == 2
    assert GIB == 2**30
