"""The openai backend against the controllable test server: records, faults, bad input. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import asyncio
import pytest
from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.backends.base import GenRequest, StreamingBackend
from benchseal.errors import ServerError, UsageError
from tests.unit.bench.perf.test_openai_backend import _send, req  # noqa: F401

pytestmark = pytest.mark.serial  # timing measurements: alone under pytest-xdist (tests/conftest.py)


@pytest.mark.parametrize("kind", ["completions", "chat"])
def test_streamed_records_are_complete(test_server, kind):
    be = OpenAIBackend(model="test-model", base_url=test_server.url + "/v1", endpoint_kind=kind)
    assert isinstance(be, StreamingBackend)
    (r,) = _send(be, [req(n=6, x_ttft_ms=5, x_itl_ms=2)])
    assert r.status == "ok" and r.error is None and r.http_status == 200 and r.finish_reason == "length"
    assert len(r.chunk_s) == 6 and r.first_token_s == r.chunk_s[0]  # role-only chunk is not a token
    assert r.send_s < r.first_token_s <= r.chunk_s[-1] <= r.end_s
    assert r.chunk_s == sorted(r.chunk_s)
    assert (r.output_tokens, r.output_tokens_server, r.prompt_tokens_server, r.prompt_tokens_client) == (6, 6, 3, 3)
    assert be.endpoint == test_server.url + ("/v1/chat/completions" if kind == "chat" else "/v1/completions")


def test_client_token_count_cross_check(test_server):
    be = OpenAIBackend(model="test-model", base_url=test_server.url)
    be.count_tokens = lambda text: len(text.split())  # the server sends one word per token
    a, b = _send(be, [req(n=4), req(n=4, x_usage_offset=2)])
    assert (a.output_tokens_server, a.output_tokens_client) == (4, 4)
    assert (b.output_tokens_server, b.output_tokens_client, b.output_tokens) == (6, 4, 6)


@pytest.mark.parametrize("fault, status, prefix", [
    ("http_error", "error", "http-500"),
    ("error_midstream", "error", "stream-error"),
    ("malformed", "error", "malformed-event"),
    ("disconnect", "error", "truncated"),
    ("stall", "timeout", "timeout"),
])
def test_faults_become_error_records(test_server, fault, status, prefix):
    be = OpenAIBackend(model="test-model", base_url=test_server.url)
    bad, good = _send(be, [req(n=6, x_fault=fault, x_fault_at=2), req(n=3)], timeout_s=0.5)
    assert bad.status == status and bad.error.startswith(prefix), bad.error
    if fault in ("error_midstream", "malformed", "disconnect", "stall"):
        assert len(bad.chunk_s) == 2  # what arrived before the fault is kept
    assert good.status == "ok" and len(good.chunk_s) == 3  # the next request is unaffected


def test_wrong_model_name_is_a_usage_error(test_server):
    be = OpenAIBackend(model="no-such-model", base_url=test_server.url)
    with pytest.raises(UsageError, match="not served.*test-model"):
        asyncio.run(be.start())
