"""The served-model identity probe against a real scorer: the test server answering echo + logprobs
with prompt logprobs computed from a tiny model's weights (issue 22)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchseal.evaluators.identity import probe_identity


@pytest.fixture
def scoring_server(scoring_test_server):
    return scoring_test_server


def test_the_served_weights_match(scoring_server, tiny_llama: Path):
    rec = probe_identity(f"http://127.0.0.1:{scoring_server.port}/v1", "served", tiny_llama, model_digest="ab" * 32)
    assert rec["status"] == "matched", rec
    assert rec["method"] == "probe:prompt-logprobs/1" and rec["tolerance"]["dtype"] == "float32"
    assert rec["max_abs_diff"] <= rec["tolerance"]["max_abs"] and rec["model_digest"] == "ab" * 32


def test_another_model_is_mismatched(scoring_server, tiny_qwen2: Path, tmp_path: Path):
    rec = probe_identity(f"http://127.0.0.1:{scoring_server.port}/v1", "served", tiny_qwen2)
    assert rec["status"] == "mismatched", rec
    assert "outside the float32 tolerance" in rec["detail"] or "different tokenizer" in rec["detail"]


def test_no_prompt_logprobs_or_no_model_path_is_not_established(test_server, tiny_llama: Path, monkeypatch):
    url = f"http://127.0.0.1:{test_server.port}/v1"
    rec = probe_identity(url, "test-model", tiny_llama)
    assert rec["status"] == "not-established" and "does not return prompt logprobs" in rec["detail"]
    assert probe_identity(url, "test-model", None)["status"] == "not-established"


def test_weights_too_large_for_this_machine_is_not_established(scoring_server, tiny_llama: Path, monkeypatch):
    import benchseal.evaluators.identity as ident

    monkeypatch.setattr(ident, "available_memory_bytes", lambda: 1024)
    rec = probe_identity(f"http://127.0.0.1:{scoring_server.port}/v1", "served", tiny_llama)
    assert rec["status"] == "not-established" and "do not fit this machine" in rec["detail"]
