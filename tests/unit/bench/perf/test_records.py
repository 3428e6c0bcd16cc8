"""The records table loads and cites every record; a figure above the record for the same model and
GPU is flagged, one below or for another setup is not."""

from __future__ import annotations

from benchseal.bench.perf.records import load_records, records_flags


def test_every_record_is_cited_and_positive():
    table = load_records()
    assert len(table.records) >= 5
    for r in table.records:
        assert r.source.url.startswith("https://") and r.source.retrieved and r.value > 0


def _perf(tput, model="meta-llama/Llama-3.1-8B-Instruct"):
    return {"model": model, "load_points": [{"load_point": "concurrency=256", "output_token_throughput": tput}]}


H100 = {"gpus": [{"name": "NVIDIA H100 80GB HBM3"}]}


def test_above_the_record_is_flagged():
    (flag,) = records_flags(_perf(40000.0), H100, None)
    assert flag["record"] == "trtllm-0.17-llama-3.1-8b-h100-fp8-tp1-128x128" and flag["record_per_gpu"] == 28836.77
    assert "perf-overview.md" in flag["source"]


def test_below_or_another_setup_is_not():
    assert records_flags(_perf(20000.0), H100, None) == []
    assert records_flags(_perf(40000.0, model="qwen2-7b"), H100, None) == []
    assert records_flags(_perf(40000.0), {"gpus": [{"name": "NVIDIA A100-SXM4-80GB"}]}, None) == []
    two = {"gpus": [{"name": "NVIDIA H100 80GB HBM3"}] * 2}
    assert records_flags(_perf(40000.0), two, None) == []  # 20,000 per GPU
