"""The ``vllm`` (offline engine) backend: mapping vLLM outputs to records. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
import pytest
from benchseal.bench.perf.backends.base import GenRequest, OfflineBackend
from benchseal.bench.perf.backends.vllm_engine import (
    VLLMEngineBackend,
    records_from_outputs,
    request_times,
    sampling_kwargs,
)
from benchseal.errors import MissingDependency, ServerError
from tests.unit.bench.perf.test_vllm_engine import CompletionOutput, RequestMetrics, RequestOutput, RequestStateStats, _reqs  # noqa: F401


@pytest.mark.gpu
def test_real_engine_on_gpu(tiny_llama):
    pytest.importorskip("vllm")
    b = VLLMEngineBackend(str(tiny_llama), extra_engine_args={"gpu_memory_utilization": 0.3, "enforce_eager": True})
    try:
        reqs = [GenRequest(i, "hello world the", 8) for i in range(4)]
        recs = b.run_batch(reqs, load_point="offline")
    finally:
        b.close()
    assert [r.status for r in recs] == ["ok"] * 4
    for r in recs:
        assert r.output_tokens == 8 and r.first_token_s is not None and r.end_s is not None
        assert 0 <= r.send_s <= r.first_token_s <= r.end_s
