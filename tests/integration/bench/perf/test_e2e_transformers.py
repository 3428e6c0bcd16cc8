"""End to end on CPU: `benchseal perf` against a real `transformers serve` with the tiny Llama, and
the hf backend directly."""

from __future__ import annotations

import json

import pytest

from benchseal.bench.perf.metrics import recompute_perf_report
from benchseal.io import iter_jsonl, read_json
from benchseal.schema import RequestRecord


def _check_bundle(out, n_expected):
    recs = [RequestRecord.model_validate(r) for r in iter_jsonl(out / "perf" / "requests.jsonl")]
    summary = read_json(out / "perf" / "summary.json")
    assert summary["status"] == "complete" and len(recs) == n_expected
    for r in recs:
        assert r.status == "ok", r.error
        assert r.send_s < r.first_token_s <= r.end_s and r.chunk_s and r.chunk_s == sorted(r.chunk_s)
        assert r.output_tokens and 1 <= r.output_tokens <= r.max_tokens
    for lp in summary["load_points"]:
        assert lp["failed"] == 0 and lp["request_throughput"] > 0 and lp["output_token_throughput"] > 0
        assert 0 < lp["ttft_ms"]["p50"] <= lp["e2el_ms"]["p50"] < 60_000
    assert recompute_perf_report(summary, recs).model_dump(mode="json") == summary
    return recs, summary


@pytest.mark.parametrize("endpoint", ["completions", "chat"])
def test_perf_openai_against_transformers_serve(transformers_server, tiny_llama, tmp_path, run_cli, endpoint):
    url, model = transformers_server
    out = tmp_path / "bundle"
    code, stdout, err = run_cli("perf", "--backend", "openai", "--base-url", url, "--model", model, "--endpoint", endpoint,
                                "--input-len", "24", "--output-len", "6", "--num-prompts", "4", "--concurrency", "1,2",
                                "--warmup", "1", "--num-requests", "4", "--timeout", "60", "--out", out, "--json")
    assert code == 0, err
    recs, summary = _check_bundle(out, 2 * 5)
    assert json.loads(stdout)["load_points"] == summary["load_points"]
    # transformers serve reports usage: server and client counts are both present and compared
    acc = summary["load_points"][0]["token_accounting"]
    assert acc["output_server_reported"] == 4 and acc["output_client_counted"] == 4 and acc["prompt_compared"] == 4
    assert all(r.prompt_tokens_server is not None for r in recs)


def test_perf_hf_backend(tiny_llama, tmp_path, run_cli):
    out = tmp_path / "bundle"
    code, _, err = run_cli("perf", "--backend", "hf", "--model", tiny_llama, "--device", "cpu", "--input-len", "8",
                           "--output-len", "4", "--num-prompts", "3", "--concurrency", "1", "--out", out, "--json")
    assert code == 0, err
    _check_bundle(out, 3)
