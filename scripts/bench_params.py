"""Self-benchmark of ``benchseal params`` (issue 12 targets, docs/PERFORMANCE.md).

1. A DeepSeek-V3-scale (671B) sharded checkpoint: ~163 safetensors shards with the real tensor names,
   dtypes (FP8 weights + FP32 block scales) and shapes of deepseek-ai/DeepSeek-V3 (incl. its MTP layer 61),
   sparse (truncate) so they take no disk. Times the in-process header count, the header parse (JSON parsers side by side) of
   it, ``benchseal params DIR --json`` end to end, and transformers building the same architecture.
2. The demo model (``benchseal.testing.tiny``, llama), end to end.
3. A 1T config alone (Kimi-K2), end to end including interpreter start: the analytic count (no torch),
   and the meta-device count (``--cross-check``) for comparison.
4. JSON parsers side by side on the checkpoint's headers: stdlib ``json.loads`` (what benchseal uses),
   and ``orjson`` / ``msgspec`` when they are importable (not dependencies of benchseal).

Usage (benchseal installed editable):

    .venv/bin/python scripts/bench_params.py [--dir /tmp/dsv3-synthetic] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import statistics
import subprocess
import sys
import time
from pathlib import Path


from benchseal.testing.published_configs import DEEPSEEK_V3 as CFG
from benchseal.testing.safetensors_files import write_st
from benchseal.testing.published_configs import KIMI_K2


def seconds(argv: list[str], repeat: int) -> tuple[float, float, int]:
    """(median, min) wall seconds of running ``argv`` to its end, and its exit code."""
    times, rc = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rc = subprocess.run(argv, capture_output=True, text=True).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), rc


def cli_seconds(*args: str, repeat: int) -> tuple[float, float, int]:
    """(median, min) seconds of ``python -m benchseal ARGS`` end to end, and its exit code."""
    return seconds([sys.executable, "-m", "benchseal", *args], repeat)


def dsv3_tensors(cfg: dict | None = None) -> list[tuple[str, tuple[str, list[int]]]]:
    """The tensors (name, (dtype, shape)) of a DeepSeek-V3 checkpoint with config ``cfg`` (default: the published one)."""
    c = cfg or CFG
    h, inter, moe, v = c["hidden_size"], c["intermediate_size"], c["moe_intermediate_size"], c["vocab_size"]
    heads, qr, kvr = c["num_attention_heads"], c["q_lora_rank"], c["kv_lora_rank"]
    nope, rope, vd = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]

    def lin(name, out, inp):  # FP8 weight + 128x128 block scale_inv, as in the published checkpoint
        return [(name + ".weight", ("F8_E4M3", [out, inp])), (name + ".weight_scale_inv", ("F32", [-(-out // 128), -(-inp // 128)]))]

    t = [("model.embed_tokens.weight", ("BF16", [v, h]))]
    for i in range(c["num_hidden_layers"] + c["num_nextn_predict_layers"]):
        p = f"model.layers.{i}."
        t += [(p + "input_layernorm.weight", ("BF16", [h])), (p + "post_attention_layernorm.weight", ("BF16", [h]))]
        t += lin(p + "self_attn.q_a_proj", qr, h) + [(p + "self_attn.q_a_layernorm.weight", ("BF16", [qr]))]
        t += lin(p + "self_attn.q_b_proj", heads * (nope + rope), qr)
        t += lin(p + "self_attn.kv_a_proj_with_mqa", kvr + rope, h) + [(p + "self_attn.kv_a_layernorm.weight", ("BF16", [kvr]))]
        t += lin(p + "self_attn.kv_b_proj", heads * (nope + vd), kvr) + lin(p + "self_attn.o_proj", h, heads * vd)
        if i < c["first_k_dense_replace"]:
            t += lin(p + "mlp.gate_proj", inter, h) + lin(p + "mlp.up_proj", inter, h) + lin(p + "mlp.down_proj", h, inter)
            continue
        t += [(p + "mlp.gate.weight", ("BF16", [c["n_routed_experts"], h])),
              (p + "mlp.gate.e_score_correction_bias", ("F32", [c["n_routed_experts"]]))]
        for e in range(c["n_routed_experts"]):
            q = p + f"mlp.experts.{e}."
            t += lin(q + "gate_proj", moe, h) + lin(q + "up_proj", moe, h) + lin(q + "down_proj", h, moe)
        s = p + "mlp.shared_experts."
        t += lin(s + "gate_proj", moe, h) + lin(s + "up_proj", moe, h) + lin(s + "down_proj", h, moe)
        if i >= c["num_hidden_layers"]:  # MTP extras
            t += [(p + "enorm.weight", ("BF16", [h])), (p + "hnorm.weight", ("BF16", [h])),
                  (p + "eh_proj.weight", ("BF16", [h, 2 * h])), (p + "shared_head.norm.weight", ("BF16", [h]))]
    t += [("model.norm.weight", ("BF16", [h])), ("lm_head.weight", ("BF16", [v, h]))]
    return t


def build(root: Path, shards: int = 163, cfg: dict | None = None) -> int:
    """Write the sparse checkpoint (shards, index, config.json) of :func:`dsv3_tensors` under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    tensors = dsv3_tensors(cfg)
    per = -(-len(tensors) // shards)
    weight_map = {}
    for i in range(shards):
        name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = dict(tensors[i * per:(i + 1) * per])
        write_st(root / name, part)
        weight_map.update({k: name for k in part})
    (root / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (root / "config.json").write_text(json.dumps(cfg or CFG))
    return len(tensors)


def ab(root: Path, other: Path, repeat: int) -> int:
    """Rounds of every case run by ``other``'s benchseal and then this one's, so both see the same load."""
    build(root)
    demo = Path(str(root) + "-demo")
    if not (demo / "model.safetensors").is_file():
        from benchseal.testing.tiny import build_tiny_model

        build_tiny_model(demo, arch="llama", seed=0)
    here = Path(__file__).resolve().parents[1]
    cases = {"params 671B --json": ["params", str(root), "--json"], "params demo --json": ["params", str(demo), "--json"],
             "--help": ["--help"]}
    times: dict[tuple[str, str], list[float]] = {}
    print(f"load average (1, 5, 15 min) before the runs: {os.getloadavg()}")
    for _ in range(repeat):
        for case, argv in cases.items():
            for label, tree in (("other", other), ("this", here)):
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-m", "benchseal", *argv], capture_output=True, check=True, cwd=tree,
                               env={**os.environ, "PYTHONPATH": str(tree)})
                times.setdefault((case, label), []).append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.setdefault(("python -c pass", ""), []).append(time.perf_counter() - t0)
    for (case, label), ts in times.items():
        print(f"{case} {label}: median {statistics.median(ts):.3f} s (min {min(ts):.3f})")
    print(f"load average (1, 5, 15 min) after the runs: {os.getloadavg()}")
    return 0


def _with_kda(cfg: dict) -> dict:
    """Kimi-Linear's config with linear_attn_config.kda_layers, the 1-based layers full_attn_layers leaves out (the
    public copy has full_attn_layers alone, which transformers ignores; the analytic count then declines)."""
    lac = dict(cfg["linear_attn_config"])
    lac["kda_layers"] = [i for i in range(1, cfg["num_hidden_layers"] + 1) if i not in lac["full_attn_layers"]]
    return {**cfg, "linear_attn_config": lac}


def configs(repeat: int, only: str | None = None, round4: bool = False) -> int:
    """`benchseal params config.json --json` end to end for one published config of every family issue 26 lists
    (with ``round4``: the held-out configs of benchseal/testing/published_configs_round4.py instead): the time, and
    whether it was counted analytically (no torch) or on the meta device."""
    import tempfile

    from benchseal.testing import published_configs as P
    from benchseal.testing import published_configs_current as C
    from benchseal.testing import published_configs_glm as G
    from benchseal.testing import published_configs_round4 as R4

    held_out = {
        "SmolLM3-3B (smollm3)": R4.SMOLLM3_3B, "Seed-OSS-36B (seed_oss)": R4.SEED_OSS_36B,
        "Hy-MT2-7B (hunyuan_v1_dense)": R4.HY_MT2_7B, "InternLM3-8B (internlm3)": R4.INTERNLM3_8B,
        "gemma-2-9b (gemma2)": R4.GEMMA2_9B, "MedGemma-27B-it (gemma3)": R4.MEDGEMMA_27B_IT,
        "Mistral-Small-3.2-24B (mistral3)": R4.MISTRAL_SMALL_32_24B, "Qwen3-VL-4B (qwen3_vl)": R4.QWEN3_VL_4B,
        "Qwen3-Coder-480B-A35B (qwen3_moe)": R4.QWEN3_CODER_480B_A35B, "Qwen2.5-72B (qwen2)": R4.QWEN25_72B,
        "GLM-4.5V (glm4v_moe)": R4.GLM45V, "Llama-4-Maverick (llama4)": R4.LLAMA4_MAVERICK,
        "Qwen3-VL-30B-A3B (qwen3_vl_moe)": R4.QWEN3_VL_30B_A3B,
    }
    chosen = held_out if round4 else {
        "Kimi-K2.5 (kimi_k25)": C.KIMI_K25, "Kimi-K2 (kimi_k2)": P.KIMI_K2, "DeepSeek-V3 (deepseek_v3)": P.DEEPSEEK_V3,
        "GLM-5 (glm_moe_dsa)": P.GLM5, "GLM-4.7-Flash (glm4_moe_lite)": P.GLM47_FLASH, "GLM-4.5 (glm4_moe)": P.GLM45,
        "Qwen3-235B-A22B (qwen3_moe)": P.QWEN3_235B_A22B, "Qwen2.5-VL-7B (qwen2_5_vl)": P.QWEN25_VL_7B,
        "ERNIE-4.5-21B-A3B (ernie4_5_moe)": P.ERNIE45_21B_A3B, "Hunyuan-A13B (hunyuan)": P.HUNYUAN_A13B,
        "gpt-oss-120b (gpt_oss)": P.GPT_OSS_120B, "Gemma-3-4b (gemma3)": P.GEMMA3_4B, "Llama-3-8B (llama)": P.LLAMA3_8B,
        "Mistral-7B (mistral)": P.MISTRAL_7B, "Qwen3-Next-80B-A3B (qwen3_next)": P.QWEN3_NEXT_80B_A3B,
        "Qwen3.5-397B-A17B (qwen3_5_moe)": C.QWEN35_397B_A17B, "Kimi-Linear-48B-A3B (kimi_linear)": C.KIMI_LINEAR_48B_A3B,
        "Nemotron 3 Nano 30B-A3B (nemotron_h)": C.NEMOTRON3_NANO_30B_A3B, "Llama-4-Scout (llama4)": P.LLAMA4_SCOUT,
        "MiniMax-M2 (minimax_m2)": C.MINIMAX_M2, "MiniMax-M1 (minimax_m1, remote code)": C.MINIMAX_M1,
        "InternLM2-Chat-7B (internlm2, remote code)": C.INTERNLM2_CHAT_7B,
        "Baichuan2-13B-Chat (baichuan, remote code)": C.BAICHUAN2_13B_CHAT,
        "ChatGLM3-6B (chatglm, remote code)": G.CHATGLM3_6B, "GLM-4-9B-Chat (chatglm, remote code)": G.GLM4_9B_CHAT,
        "Kimi-Linear-48B-A3B + kda_layers (kimi_linear; not a published file)": _with_kda(C.KIMI_LINEAR_48B_A3B),
    }
    if only:
        chosen = {k: v for k, v in chosen.items() if only in k}
    print(f"load average (1, 5, 15 min) before the runs: {os.getloadavg()}")
    med, mn, _ = seconds([sys.executable, "-c", "pass"], repeat=max(repeat, 3))
    print(f"floor: `python -c pass` median {med:.2f} s (min {mn:.2f})")
    med, mn, _ = cli_seconds("--help", repeat=max(repeat, 3))
    print(f"floor: `benchseal --help` median {med:.2f} s (min {mn:.2f})")
    print("| model (model_type) | method | total | median s (min) |\n| --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for label, cfg in chosen.items():
            path = Path(tmp) / (label.split()[0] + str(len(label)) + ".json")
            path.write_text(json.dumps(cfg))
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "benchseal", "params", str(path), "--json"],
                                 capture_output=True, text=True)
            first = time.perf_counter() - t0
            if out.returncode:
                print(f"| {label} | failed (exit {out.returncode}) | - | - |")
                continue
            doc = json.loads(out.stdout)
            if any("counted analytically" in n for n in doc["notes"]):
                med, mn, _ = cli_seconds("params", str(path), "--json", repeat=repeat)
                print(f"| {label} | analytic | {int(doc['total']):,} | {med:.2f} ({mn:.2f}) |")
            else:  # one run: tens of seconds each
                print(f"| {label} | meta-device (torch) | {int(doc['total']):,} | {first:.2f} (one run) |")
    print(f"load average after: {os.getloadavg()}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/benchseal-dsv3-synthetic")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ab", metavar="TREE", help="only compare end-to-end times against another checkout TREE of "
                    "benchseal (e.g. a `git worktree` of an older commit), interleaved so both see the same load")
    ap.add_argument("--round4", action="store_true", help="as --configs, for the held-out configs of "
                    "benchseal/testing/published_configs_round4.py (issue 26, round 4)")
    ap.add_argument("--configs", action="store_true", help="only time config-only counts of one published config per "
                    "family (analytic or meta-device) and print a Markdown table")
    ap.add_argument("--only", metavar="TEXT", help="with --configs: only the configs whose label contains TEXT "
                    "(e.g. 'chatglm')")
    args = ap.parse_args()
    if args.configs or args.round4:
        return configs(args.repeat, args.only, round4=args.round4)
    if args.ab:
        return ab(Path(args.dir), Path(args.ab), args.repeat)
    root = Path(args.dir)
    n = build(root)
    disk = sum(f.stat().st_blocks * 512 for f in root.iterdir())
    apparent = sum(f.stat().st_size for f in root.iterdir())
    print(f"synthetic checkpoint: {n:,} tensors in 163 shards, apparent size {apparent / 1e9:,.1f} GB, on disk {disk / 1e6:.1f} MB")

    from benchseal.bench.model.params import count_safetensors
    from benchseal.bench.model.files import resolve

    print(f"load average (1, 5, 15 min) before the runs: {os.getloadavg()}")
    # The floor, in the same run: the interpreter alone, and benchseal's parser with every subcommand.
    med, mn, _ = seconds([sys.executable, "-c", "pass"], repeat=max(args.repeat, 5))
    print(f"floor: `python -c pass` median {med:.3f} s (min {mn:.3f})")
    med, mn, _ = cli_seconds("--help", repeat=max(args.repeat, 5))
    print(f"floor: `benchseal --help` (imports every command module) median {med:.3f} s (min {mn:.3f})")
    raws = []
    for f in sorted(root.glob("*.safetensors")):
        with open(f, "rb") as fh:
            (hn,) = struct.unpack("<Q", fh.read(8))
            raws.append(fh.read(hn))
    parsers = {"stdlib json.loads": lambda r: json.loads(r.decode("utf-8"))}
    try:
        import orjson

        parsers["orjson.loads"] = orjson.loads
    except ImportError:
        print("orjson: not installed, not measured")
    try:
        import msgspec

        parsers["msgspec.json.Decoder().decode"] = msgspec.json.Decoder().decode
    except ImportError:
        print("msgspec: not installed, not measured")
    for label, fn in parsers.items():
        best = []
        for _ in range(max(args.repeat, 3)):
            t0 = time.perf_counter()
            for r in raws:
                fn(r)
            best.append(time.perf_counter() - t0)
        print(f"parse the {len(raws)} headers ({sum(map(len, raws)) / 1e6:.1f} MB) with {label}: "
              f"median {statistics.median(best):.3f} s (min {min(best):.3f})")

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        pc = count_safetensors(resolve(root))
        times.append(time.perf_counter() - t0)
    print(f"benchseal header count: total {pc.total:,} active {pc.active:,}; median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}) over {args.repeat} runs, in process")
    med, mn, rc = cli_seconds("params", str(root), "--json", repeat=args.repeat)
    print(f"`benchseal params DIR --json` end to end (interpreter start + header count, no torch): median {med:.2f} s "
          f"(min {mn:.2f}) over {args.repeat} runs, exit {rc}")
    med, mn, rc = cli_seconds("params", str(root), "--json", "--cross-check", repeat=1)
    print(f"`benchseal params DIR --json --cross-check` (adds the config-meta count): {med:.2f} s, exit {rc}")

    from benchseal.testing.tiny import build_tiny_model

    demo = Path(args.dir + "-demo")
    if not (demo / "model.safetensors").is_file():
        build_tiny_model(demo, arch="llama", seed=0)
    med, mn, rc = cli_seconds("params", str(demo), "--json", repeat=args.repeat)
    print(f"demo model (tiny llama): `benchseal params DIR --json` median {med:.2f} s (min {mn:.2f}), exit {rc}")

    k2 = Path(args.dir + "-kimi-k2")
    k2.mkdir(exist_ok=True)
    (k2 / "config.json").write_text(json.dumps(KIMI_K2))
    med, mn, rc = cli_seconds("params", str(k2 / "config.json"), "--json", repeat=args.repeat)
    print(f"1T config alone (Kimi-K2, analytic count): `benchseal params config.json --json` median {med:.2f} s "
          f"(min {mn:.2f}), exit {rc}")
    med, mn, rc = cli_seconds("params", str(k2 / "config.json"), "--json", "--cross-check", repeat=1)
    print(f"1T config alone with --cross-check (adds the meta-device count, imports torch/transformers): {med:.2f} s, "
          f"exit {rc}")
    print(f"load average (1, 5, 15 min) after the runs: {os.getloadavg()}")

    code = """
import json, sys, time
t = time.perf_counter()
import torch, transformers
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
c = json.load(open(sys.argv[1])); c.pop("quantization_config", None)
cfg = CONFIG_MAPPING[c["model_type"]].from_dict(c)
t1 = time.perf_counter()
with torch.device("meta"):
    m = transformers.AutoModelForCausalLM.from_config(cfg)
n = sum(p.numel() for p in m.parameters())  # + persistent buffers, which checkpoints store (router bias)
n += sum(b.numel() for mod in m.modules() for k, b in mod._buffers.items()
         if b is not None and k not in mod._non_persistent_buffers_set)
print(n, time.perf_counter() - t1, time.perf_counter() - t)
"""
    tf = subprocess.run([sys.executable, "-c", code, str(root / "config.json")], capture_output=True, text=True, check=True)
    tf_n, tf_build, tf_total = tf.stdout.split()
    print(f"transformers meta-device build + count: {int(tf_n):,} in {float(tf_build):.2f} s ({float(tf_total):.2f} s incl. import)")
    print(f"ratio transformers build / benchseal header count: {float(tf_build) / statistics.median(times):.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
