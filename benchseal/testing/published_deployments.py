"""Published deployment facts for the planner (``benchseal plan``): which model ran (or is said to run) on
which GPUs at which precision, from the serving engines' own documentation. Each entry is a fact a
planner must reproduce: ``fits`` True where the source says the deployment runs, False where the
source (or plain arithmetic on the source's figures) says it does not.

Configs come from :mod:`benchseal.testing.published_configs`; the one missing there (Llama 3.1 405B)
is here, copied from its published config.json."""

from __future__ import annotations

from dataclasses import dataclass

from benchseal.testing.published_configs import DEEPSEEK_V3, QWEN3_235B_A22B

# meta-llama/Llama-3.1-405B config.json (https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json),
# architecture keys; the Llama 3 paper (arXiv:2407.21783, Table 3) gives the same shape: 126 layers, model
# dimension 16,384, FFN dimension 53,248, 128 attention heads, 8 KV heads; 405B parameters.
LLAMA31_405B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16384, "intermediate_size": 53248,
    "num_attention_heads": 128, "num_hidden_layers": 126, "num_key_value_heads": 8, "vocab_size": 128256,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16",
}

VLLM_LLAMA31_BLOG = "https://blog.vllm.ai/2024/07/23/llama31.html"
SGLANG_DSV3_DOC = "https://docs.sglang.io/docs/basic_usage/deepseek_v3.md"
VLLM_DSV3_RECIPE = "https://docs.vllm.ai/projects/recipes/en/latest/DeepSeek/DeepSeek-V3.html"
GPUSTACK_QWEN3_A100 = "https://docs.gpustack.ai/2.3/zh/performance-lab/qwen3-235b-a22b/a100/"
VLLM_ASCEND_QWEN3 = "https://docs.vllm.ai/projects/ascend/en/latest/tutorials/models/Qwen3-235B-A22B.html"
GPUSTACK_QWEN3_H100 = "https://docs.gpustack.ai/2.3/ru/performance-lab/qwen3-235b-a22b/h100/"


@dataclass(frozen=True)
class Deployment:
    name: str
    config: dict
    dtype: str  # weight dtype of the linear layers
    gpu: str  # configs/gpus.yaml id
    gpus_per_node: int
    nodes: int
    fits: bool
    source: str
    says: str  # what the source says, in a few words
    max_model_len: int | None = None  # None: the config's own context length (vLLM's default)


DEPLOYMENTS: tuple[Deployment, ...] = (
    Deployment("DeepSeek-V3 FP8 on 8xH200", DEEPSEEK_V3, "fp8", "h200-sxm-141gb", 8, 1, True, SGLANG_DSV3_DOC,
               "FP8 (recommended): 8 x H200; vLLM recipe: 8xH200 with fp8, TP8+EP or DP8+EP (" + VLLM_DSV3_RECIPE + ")"),
    Deployment("DeepSeek-V3 FP8 on 2x8 H100", DEEPSEEK_V3, "fp8", "h100-sxm5-80gb", 8, 2, True, SGLANG_DSV3_DOC,
               "FP8: 2 x 8 x H100/800/20"),
    Deployment("DeepSeek-V3 FP8 on 1x8 H100", DEEPSEEK_V3, "fp8", "h100-sxm5-80gb", 8, 1, False, SGLANG_DSV3_DOC,
               "FP8 needs 2 x 8 x H100 (not one node); 671B x 1 byte > 8 x 80 GB x 0.92"),
    Deployment("DeepSeek-V3 BF16 on 2x8 H200", DEEPSEEK_V3, "bf16", "h200-sxm-141gb", 8, 2, True, SGLANG_DSV3_DOC,
               "BF16 (upcast from FP8): 2 x 8 x H200"),
    Deployment("DeepSeek-V3 BF16 on 2x8 H100", DEEPSEEK_V3, "bf16", "h100-sxm5-80gb", 8, 2, False, SGLANG_DSV3_DOC,
               "BF16 needs 4 x 8 x H100/800/20"),
    Deployment("DeepSeek-V3 BF16 on 4x8 H100", DEEPSEEK_V3, "bf16", "h100-sxm5-80gb", 8, 4, True, SGLANG_DSV3_DOC,
               "BF16: 4 x 8 x H100/800/20"),
    Deployment("DeepSeek-V3 BF16 on 4x8 A800", DEEPSEEK_V3, "bf16", "a800-sxm4-80gb", 8, 4, True, SGLANG_DSV3_DOC,
               "BF16: 4 x 8 x A100/A800"),
    Deployment("Llama-3.1-405B FP8 on 8xH100", LLAMA31_405B, "fp8", "h100-sxm5-80gb", 8, 1, True, VLLM_LLAMA31_BLOG,
               "FP8: vLLM runs the official FP8 quantized model natively on 8xA100 or 8xH100"),
    Deployment("Llama-3.1-405B FP8 on 8xA100", LLAMA31_405B, "fp8", "a100-sxm4-80gb", 8, 1, True, VLLM_LLAMA31_BLOG,
               "FP8: natively on 8xA100 or 8xH100"),
    Deployment("Llama-3.1-405B BF16 on 8xH100", LLAMA31_405B, "bf16", "h100-sxm5-80gb", 8, 1, False, VLLM_LLAMA31_BLOG,
               "BF16 runs on multiple nodes (pipeline parallel) or on one 8xH200/8xMI300x node; 405B x 2 bytes > 8 x 80 GB"),
    Deployment("Llama-3.1-405B BF16 on 2x8 H100", LLAMA31_405B, "bf16", "h100-sxm5-80gb", 8, 2, True, VLLM_LLAMA31_BLOG,
               "Pipeline parallelism: the official BF16 version on multiple nodes"),
    Deployment("Llama-3.1-405B BF16 on 8xH200", LLAMA31_405B, "bf16", "h200-sxm-141gb", 8, 1, True, VLLM_LLAMA31_BLOG,
               "a single 8xMI300x or 8xH200 machine"),
    Deployment("Qwen3-235B-A22B FP8 on 4xA100", QWEN3_235B_A22B, "fp8", "a100-sxm4-80gb", 4, 1, True, GPUSTACK_QWEN3_A100,
               "vllm serve Qwen/Qwen3-235B-A22B-Instruct-2507-FP8 -tp 4 on A100 80GB"),
    Deployment("Qwen3-235B-A22B FP8 on 4xH100", QWEN3_235B_A22B, "fp8", "h100-sxm5-80gb", 4, 1, True, GPUSTACK_QWEN3_H100,
               "vllm serve Qwen/Qwen3-235B-A22B-Instruct-2507-FP8 -tp 4 on H100"),
    Deployment("Qwen3-235B-A22B BF16 on 4xH100", QWEN3_235B_A22B, "bf16", "h100-sxm5-80gb", 4, 1, False, GPUSTACK_QWEN3_H100,
               "the page serves the FP8 checkpoint on 4 GPUs; BF16 is 235B x 2 bytes = 470 GB > 4 x 80 GB"),
    Deployment("Qwen3-235B-A22B BF16 on 8xH100", QWEN3_235B_A22B, "bf16", "h100-sxm5-80gb", 8, 1, True, VLLM_ASCEND_QWEN3,
               "BF16 needs one 8 x 64 GB node (Atlas 800 A2); 8 x 80 GB H100 has more memory"),
)
