"""``perf --backend vllm``: vLLM's offline engine (``vllm.LLM``) in the vLLM environment, its real request
metrics mapped to records (benchseal runs there as ``<vllm env python> -m benchseal``)."""

from __future__ import annotations

import json
from pathlib import Path

from benchseal import bundle as layout
from tests.fixtures.vllm import ENGINE_ARGS


def test_engine_perf_maps_real_request_metrics(run_in_vllm_env, tiny_llama_vllm: Path, tmp_path: Path):
    out = tmp_path / "b"
    res = run_in_vllm_env("-m", "benchseal", "perf", "--backend", "vllm", "--model", tiny_llama_vllm, *ENGINE_ARGS,
                          "--input-len", "32", "--output-len", "16", "--num-prompts", "8", "--num-requests", "8",
                          "--out", out, "--no-progress", "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout)  # only JSON on stdout: vLLM's own logging goes to stderr
    assert report["status"] == "complete" and report["backend"] == "vllm"
    assert "vLLM" in res.stderr or "vllm" in res.stderr  # its log lines went to stderr instead
    records = [json.loads(x) for x in (out / layout.PERF_REQUESTS).read_text().splitlines()]
    measured = [r for r in records if not r["warmup"]]
    assert len(measured) == 8
    for r in measured:
        assert r["status"] == "ok" and r["load_point"] == "offline" and r["finish_reason"] == "length"
        assert r["prompt_tokens_server"] == 32 and r["output_tokens_server"] == 16  # ignore_eos + min_tokens
        # RequestStateStats: arrival (wall clock) and first/last token (engine-core monotonic) are all set
        assert r["first_token_s"] is not None and 0 <= r["send_s"] < r["first_token_s"] < r["end_s"]
        assert r["chunk_s"] == []  # the offline engine gives no per-token times
    # all submitted together: every arrival precedes every finish (requests prefilled in the same engine
    # step share one first-token time)
    assert max(r["send_s"] for r in measured) < min(r["end_s"] for r in measured)
    point = report["load_points"][0]
    assert point["load_point"] == "offline" and point["completed"] == 8 and point["failed"] == 0
    assert point["ttft_ms"]["n"] == 8 and point["ttft_ms"]["p50"] > 0 and point["tpot_ms"]["n"] == 8
