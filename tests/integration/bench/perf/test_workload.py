"""Synthetic workloads: exact token lengths, seeding, the prompt-set digest, tokenizer errors. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import pytest
from pydantic import ValidationError
from benchseal.bench.perf.workload import Workload, WorkloadSpec, build_workload, load_tokenizer, prompt_set_sha256
from benchseal.errors import ConfigError, ExitCode, UsageError
from tests.unit.bench.perf.test_workload import _server_count, tok  # noqa: F401


@pytest.mark.parametrize("chat", [False, True])
def test_synthetic_lengths_are_exact(tiny_llama: Path, tok, chat: bool):
    spec = WorkloadSpec(input_len=48, output_len=12, num_prompts=10, seed=5, chat=chat)
    w = build_workload(spec, model_path_or_tokenizer=str(tiny_llama))
    assert isinstance(w, Workload) and len(w.requests) == 10
    assert [r.request_id for r in w.requests] == list(range(10))
    for r in w.requests:
        assert isinstance(r.prompt, list) == chat
        assert r.prompt_tokens == 48 == _server_count(tok, r.prompt)  # re-encoded independently
        assert r.max_tokens == 12 and r.ignore_eos is True
    assert len({json.dumps(r.prompt) for r in w.requests}) == 10  # distinct prompts (no prefix-cache hits)


def test_spread_is_seeded_and_bounded(tiny_llama: Path, tok):
    spec = WorkloadSpec(input_len=40, output_len=20, spread=0.5, num_prompts=24, seed=11)
    a = build_workload(spec, model_path_or_tokenizer=str(tiny_llama))
    b = build_workload(spec, model_path_or_tokenizer=str(tiny_llama))
    c = build_workload(spec.model_copy(update={"seed": 12}), model_path_or_tokenizer=str(tiny_llama))
    assert a.sha256 == b.sha256 and a.requests == b.requests
    assert c.sha256 != a.sha256
    ins = [r.prompt_tokens for r in a.requests]
    outs = [r.max_tokens for r in a.requests]
    assert all(20 <= n <= 60 for n in ins) and all(10 <= n <= 30 for n in outs)
    assert len(set(ins)) > 1 and len(set(outs)) > 1
    assert all(_server_count(tok, r.prompt) == r.prompt_tokens for r in a.requests)
    d = a.description
    assert d["input_tokens"]["min"] == min(ins) and d["input_tokens"]["max"] == max(ins)
    assert d["spec"]["spread"] == 0.5 and d["sha256"] == a.sha256 and d["num_requests"] == 24
    assert d["tokenizer"] == str(tiny_llama)


def test_sha256_is_the_documented_canonical_serialisation(tiny_llama: Path):
    w = build_workload(WorkloadSpec(input_len=8, output_len=4, num_prompts=3), model_path_or_tokenizer=str(tiny_llama))
    items = [{"ignore_eos": r.ignore_eos, "max_tokens": r.max_tokens, "prompt": r.prompt} for r in w.requests]
    canonical = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert w.sha256 == hashlib.sha256(canonical).hexdigest() == prompt_set_sha256(w.requests)
    changed = [w.requests[0].__class__(0, w.requests[0].prompt, 5)] + w.requests[1:]
    assert prompt_set_sha256(changed) != w.sha256  # max_tokens is part of the prompt set


def test_count_tokens_and_spec_tokenizer_override(tiny_llama: Path, tok, tmp_path: Path):
    spec = WorkloadSpec(input_len=8, output_len=4, num_prompts=1, tokenizer=str(tiny_llama))
    w = build_workload(spec, model_path_or_tokenizer=str(tmp_path / "not-used"))
    assert w.count_tokens("hello world") == len(tok.encode("hello world", add_special_tokens=False)) > 0


def test_input_len_below_template_overhead(tiny_llama: Path):
    with pytest.raises(ConfigError, match="raise input_len"):
        build_workload(WorkloadSpec(input_len=3, chat=True, num_prompts=1), model_path_or_tokenizer=str(tiny_llama))
