"""run_perf and `benchseal perf`: files written, recomputation, server death, Ctrl-C, export, secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.metrics import recompute_perf_report
from benchseal.bench.perf.run import LoadSpec, load_workload_file, run_perf
from benchseal.errors import ConfigError, RunInterrupted
from benchseal.io import iter_jsonl, read_json
from benchseal.schema import RequestRecord

REQS = [GenRequest(request_id=i, prompt=f"word {i} more words", max_tokens=4 + i % 3, prompt_tokens=4,
                   extra={"x_itl_ms": 1}) for i in range(6)]


def _records(out: Path) -> list[RequestRecord]:
    return [RequestRecord.model_validate(r) for r in iter_jsonl(out / "perf" / "requests.jsonl")]






def _write_prompts(path: Path, n: int, max_tokens: int = 8) -> Path:
    path.write_text("".join(json.dumps({"prompt": f"hello number {i}", "max_tokens": max_tokens}) + "\n" for i in range(n)))
    return path








def test_workload_file(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("workload:\n  kind: synthetic\n  input_len: 16\n  output_len: 8\nload:\n  concurrency: [1, 2]\n"
                 "  rates: [inf]\n  warmup_requests: 1\n  slo: {ttft_ms: 100}\n")
    spec, load = load_workload_file(p)
    assert spec.input_len == 16 and load.concurrency == [1, 2] and load.rates == [float("inf")]
    p.write_text("workload: {}\nload:\n  concurrency: [0]\n")
    with pytest.raises(ConfigError, match="concurrency"):
        load_workload_file(p)
    p.write_text("load: {}\nextra: 1\n")
    with pytest.raises(ConfigError, match="top-level"):
        load_workload_file(p)
