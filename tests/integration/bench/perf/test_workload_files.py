"""JSONL and ShareGPT prompt files, and the shipped workload profiles in configs/workloads. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path
import pytest
from benchseal.bench.perf.workload import WorkloadSpec, build_workload
from benchseal.errors import ConfigError, ExitCode, UsageError
from benchseal.io import load_yaml, validate
from tests.unit.bench.perf.test_workload_files import REPO, _build_jsonl, _conv, _jsonl  # noqa: F401


def test_jsonl_prompts(tmp_path: Path, tiny_llama: Path):
    path = _jsonl(tmp_path, '{"prompt": "hello world", "max_tokens": 5}', "", '{"prompt": "你好", "max_tokens": 7}',
                  '{"prompt": "third", "max_tokens": 1}')
    w = _build_jsonl(path, ignore_eos=False)
    assert [(r.prompt, r.max_tokens, r.ignore_eos) for r in w.requests] == [
        ("hello world", 5, False), ("你好", 7, False), ("third", 1, False)]
    assert all(r.prompt_tokens is None for r in w.requests) and w.count_tokens("x") is None  # no tokenizer
    w2 = build_workload(WorkloadSpec(kind="jsonl", prompts_path=path, num_prompts=2, chat=True),
                        model_path_or_tokenizer=str(tiny_llama))
    assert len(w2.requests) == 2 and w2.requests[0].prompt == [{"role": "user", "content": "hello world"}]
    assert all(r.prompt_tokens and r.prompt_tokens > 2 for r in w2.requests)
    assert w2.sha256 != w.sha256 and w2.description["num_requests"] == 2


def test_sharegpt(tmp_path: Path, tiny_llama: Path):
    data = [_conv(f"question number {i}", "an answer " * (i + 1)) for i in range(6)]
    data.append({"conversations": [{"from": "gpt", "value": "starts with the model"}]})  # skipped
    p = tmp_path / "sg.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    spec = WorkloadSpec(kind="sharegpt", sharegpt_path=str(p), num_prompts=4, seed=3)
    w = build_workload(spec, model_path_or_tokenizer=str(tiny_llama))
    assert len(w.requests) == 4
    replies = {c["conversations"][0]["value"]: c["conversations"][1]["value"] for c in data[:6]}
    for r in w.requests:
        assert r.max_tokens == w.count_tokens(replies[r.prompt])  # output length = the reply's tokens
    again = build_workload(spec, model_path_or_tokenizer=str(tiny_llama))
    assert again.sha256 == w.sha256
    # JSONL form of the same data gives the same prompt set
    pl = tmp_path / "sg.jsonl"
    pl.write_text("\n".join(json.dumps(c) for c in data), encoding="utf-8")
    w3 = build_workload(spec.model_copy(update={"sharegpt_path": str(pl)}), model_path_or_tokenizer=str(tiny_llama))
    assert w3.sha256 == w.sha256


def test_sharegpt_errors(tmp_path: Path, tiny_llama: Path):
    def build(content: str, tokenizer: str | None = str(tiny_llama)):
        p = tmp_path / "sg.json"
        p.write_text(content, encoding="utf-8")
        return build_workload(WorkloadSpec(kind="sharegpt", sharegpt_path=str(p)), model_path_or_tokenizer=tokenizer)

    with pytest.raises(ConfigError, match="entry 1"):
        build(json.dumps([_conv("a", "b"), {"no": "conversations"}]))
    with pytest.raises(ConfigError, match=r"turn must be"):
        build(json.dumps([{"conversations": [{"from": "human"}]}]))
    with pytest.raises(ConfigError, match="invalid JSON"):
        build("[{")
    with pytest.raises(ConfigError, match="no conversation starts with a human turn"):
        build(json.dumps([{"conversations": [{"from": "gpt", "value": "x"}]}]))
    with pytest.raises(ConfigError, match="ShareGPT file is empty"):
        build("")
    with pytest.raises(UsageError, match="need a tokenizer"):
        build(json.dumps([_conv("a", "b")]), tokenizer=None)


def test_shipped_workload_profiles(tiny_llama: Path):
    files = sorted((REPO / "benchseal" / "configs" / "workloads").glob("*.yaml"))
    names = {f.stem for f in files}
    assert {"demo-cpu", "chat-interactive", "offline-throughput", "hunan-deployment"} <= names
    for f in files:
        data = load_yaml(f)
        assert isinstance(data, dict) and set(data) == {"workload", "load"}, f
        assert isinstance(data["load"], dict)
        validate(WorkloadSpec, data["workload"], where=str(f))
    hunan = load_yaml(REPO / "benchseal/configs/workloads/hunan-deployment.yaml")
    assert hunan["load"]["concurrency"] == [1, 8, 32] and hunan["load"]["slo"] == {"ttft_ms": 2000, "tpot_ms": 100}
    assert (hunan["workload"]["input_len"], hunan["workload"]["output_len"]) == (512, 128)
    demo = validate(WorkloadSpec, load_yaml(REPO / "benchseal/configs/workloads/demo-cpu.yaml")["workload"], where="demo")
    w = build_workload(demo, model_path_or_tokenizer=str(tiny_llama))
    assert [r.prompt_tokens for r in w.requests] == [32] * 8 and {r.max_tokens for r in w.requests} == {16}
