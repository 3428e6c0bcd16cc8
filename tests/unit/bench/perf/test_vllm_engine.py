"""The ``vllm`` (offline engine) backend: mapping vLLM outputs to records, on known values.

The real engine's metrics are mapped in tests/integration/vllm/test_engine.py (vLLM's CPU build, real
``RequestStateStats``). The stand-ins below stay for what a real run cannot give: exact arithmetic on
known timestamps, vLLM V0's ``RequestMetrics`` (vLLM 0.32 has only V1), a V1 record without engine-core
timestamps, and aborted, unfinished or metric-less outputs. They carry the attribute names of vLLM's
classes: ``vllm.outputs.RequestOutput`` / ``CompletionOutput``, V1 ``vllm.v1.metrics.stats.RequestStateStats``
and V0 ``vllm.sequence.RequestMetrics``.
"""

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


@dataclass
class RequestStateStats:  # vllm.v1.metrics.stats.RequestStateStats
    num_generation_tokens: int = 0
    arrival_time: float = 0.0  # front-end wall clock (time.time)
    queued_ts: float = 0.0  # engine-core monotonic
    scheduled_ts: float = 0.0
    first_token_ts: float = 0.0
    last_token_ts: float = 0.0
    first_token_latency: float = 0.0
    is_corrupted: bool = False


@dataclass
class RequestMetrics:  # vllm.sequence.RequestMetrics (V0), all wall clock
    arrival_time: float
    last_token_time: float
    first_scheduled_time: float | None
    first_token_time: float | None
    time_in_queue: float | None
    finished_time: float | None = None


@dataclass
class CompletionOutput:  # vllm.outputs.CompletionOutput
    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None = None
    logprobs: object = None
    finish_reason: str | None = None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:  # vllm.outputs.RequestOutput
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int] | None
    prompt_logprobs: object
    outputs: list[CompletionOutput]
    finished: bool
    metrics: object = None
    num_cached_tokens: int | None = None
    extra: dict = field(default_factory=dict)


WALL0, MONO0 = 1_700_000_000.0, 5_000.0  # the submit instant on both clocks


def _reqs(n: int) -> list[GenRequest]:
    return [GenRequest(i, f"prompt {i}", 4, prompt_tokens=3) for i in range(n)]


def test_v1_metrics_mapping():
    outs = [
        RequestOutput("0", "prompt 0", [1, 2, 3], None, [CompletionOutput(0, "a b c d", [5, 6, 7, 8], finish_reason="length")],
                      True, RequestStateStats(4, WALL0 + 0.010, MONO0 + 0.011, MONO0 + 0.012, MONO0 + 0.250, MONO0 + 0.400)),
        RequestOutput("1", "prompt 1", [1, 2, 3, 4], None, [CompletionOutput(0, "x", [9], finish_reason="stop")],
                      True, RequestStateStats(1, WALL0 + 0.020, MONO0 + 0.021, MONO0 + 0.300, MONO0 + 0.500, MONO0 + 0.500)),
    ]
    recs = records_from_outputs(_reqs(2), outs, load_point="offline", t0_wall=WALL0, t0_mono=MONO0,
                                t_end_mono=MONO0 + 0.6, count_tokens=lambda s: len(s.split()))
    r0, r1 = recs
    assert r0.send_s == pytest.approx(0.010) and r0.first_token_s == pytest.approx(0.250) and r0.end_s == pytest.approx(0.400)
    assert r0.prompt_tokens == r0.prompt_tokens_server == 3 and r0.output_tokens == r0.output_tokens_server == 4
    assert r0.prompt_tokens_client == 3 and r0.output_tokens_client == 4 and r0.max_tokens == 4
    assert r0.status == "ok" and r0.finish_reason == "length" and r0.chunk_s == [] and r0.load_point == "offline"
    assert r1.request_id == 1 and r1.prompt_tokens == 4 and r1.output_tokens == 1 and r1.finish_reason == "stop"
    assert r1.first_token_s == pytest.approx(0.5) and r1.end_s == pytest.approx(0.5)


def test_v1_falls_back_to_first_token_latency():
    m = RequestStateStats(arrival_time=WALL0 + 0.1, first_token_latency=0.2)  # no engine-core timestamps
    send_s, first_s, end_s = request_times(m, t0_wall=WALL0, t0_mono=MONO0)
    assert send_s == pytest.approx(0.1) and first_s == pytest.approx(0.3) and end_s is None


def test_v0_metrics_mapping():
    m = RequestMetrics(arrival_time=WALL0 + 0.05, last_token_time=WALL0 + 0.9, first_scheduled_time=WALL0 + 0.06,
                       first_token_time=WALL0 + 0.2, time_in_queue=0.01, finished_time=WALL0 + 0.91)
    assert request_times(m, t0_wall=WALL0, t0_mono=MONO0) == pytest.approx((0.05, 0.2, 0.9))


def test_missing_metrics_and_unfinished_outputs():
    outs = [
        RequestOutput("0", "p", [1], None, [CompletionOutput(0, "t", [2, 3], finish_reason="length")], True, None),
        RequestOutput("1", "p", [1], None, [CompletionOutput(0, "", [], finish_reason="abort")], True, None),
        RequestOutput("2", "p", [1], None, [], False, None),
    ]
    recs = records_from_outputs(_reqs(3), outs, load_point="lp", t0_wall=WALL0, t0_mono=MONO0, t_end_mono=MONO0 + 2.0)
    assert recs[0].status == "ok" and recs[0].send_s == 0.0 and recs[0].first_token_s is None
    assert recs[0].end_s == pytest.approx(2.0) and recs[0].output_tokens_client is None
    assert recs[1].status == "error" and "abort" in (recs[1].error or "")
    assert recs[2].status == "error" and recs[2].output_tokens is None


def test_output_count_mismatch_is_a_server_error():
    with pytest.raises(ServerError, match="1 outputs for 2 requests"):
        records_from_outputs(_reqs(2), [RequestOutput("0", "p", [1], None, [], True)], load_point="lp",
                             t0_wall=WALL0, t0_mono=MONO0, t_end_mono=MONO0)


def test_sampling_and_engine_arguments():
    assert sampling_kwargs(GenRequest(0, "p", 16)) == {"temperature": 0.0, "max_tokens": 16, "min_tokens": 16, "ignore_eos": True}
    assert sampling_kwargs(GenRequest(0, "p", 16, ignore_eos=False))["min_tokens"] == 0
    b = VLLMEngineBackend("/m", tensor_parallel_size=2, dtype="bfloat16",
                          extra_engine_args={"max_model_len": 2048, "disable_log_stats": True}, port=1)
    assert isinstance(b, OfflineBackend) and b.ignored_options == ["port"]
    kw = b.engine_kwargs()
    assert kw["tensor_parallel_size"] == 2 and kw["dtype"] == "bfloat16" and kw["max_model_len"] == 2048
    assert kw["disable_log_stats"] is False  # metrics are needed, whatever the extra args say
    b.close()  # nothing started: a no-op


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_missing_vllm_is_a_clear_error():
    with pytest.raises(MissingDependency, match=r"benchseal\[vllm\]"):
        VLLMEngineBackend("/m").run_batch(_reqs(1), load_point="lp")


