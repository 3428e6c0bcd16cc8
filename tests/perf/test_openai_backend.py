"""The openai backend against the controllable test server: records, faults, bad input."""

from __future__ import annotations

import asyncio

import pytest

from benchseal.bench.perf.backends import BACKENDS, get_backend
from benchseal.bench.perf.backends.base import GenRequest, StreamingBackend
from benchseal.errors import ServerError, UsageError


def _send(backend, reqs, timeout_s=5.0):
    async def main():
        await backend.start()
        try:
            import time

            t0 = time.perf_counter()
            return [await backend.send(r, load_point="lp", t0=t0, timeout_s=timeout_s) for r in reqs]
        finally:
            await backend.close()

    return asyncio.run(main())


def req(i=0, n=5, **extra):
    return GenRequest(request_id=i, prompt="one two three", max_tokens=n, prompt_tokens=3, extra=extra)


@pytest.mark.parametrize("kind", ["completions", "chat"])
def test_streamed_records_are_complete(test_server, kind):
    be = get_backend("openai", model="test-model", base_url=test_server.url + "/v1", endpoint_kind=kind)
    assert isinstance(be, StreamingBackend)
    (r,) = _send(be, [req(n=6, x_ttft_ms=5, x_itl_ms=2)])
    assert r.status == "ok" and r.error is None and r.http_status == 200 and r.finish_reason == "length"
    assert len(r.chunk_s) == 6 and r.first_token_s == r.chunk_s[0]  # role-only chunk is not a token
    assert r.send_s < r.first_token_s <= r.chunk_s[-1] <= r.end_s
    assert r.chunk_s == sorted(r.chunk_s)
    assert (r.output_tokens, r.output_tokens_server, r.prompt_tokens_server, r.prompt_tokens_client) == (6, 6, 3, 3)
    assert be.endpoint == test_server.url + ("/v1/chat/completions" if kind == "chat" else "/v1/completions")


def test_client_token_count_cross_check(test_server):
    be = get_backend("openai", model="test-model", base_url=test_server.url)
    be.count_tokens = lambda text: len(text.split())  # the server sends one word per token
    a, b = _send(be, [req(n=4), req(n=4, x_usage_offset=2)])
    assert (a.output_tokens_server, a.output_tokens_client) == (4, 4)
    assert (b.output_tokens_server, b.output_tokens_client, b.output_tokens) == (6, 4, 6)


@pytest.mark.parametrize("fault, status, prefix", [
    ("http_error", "error", "http-500"),
    ("error_midstream", "error", "stream-error"),
    ("malformed", "error", "malformed-sse"),
    ("disconnect", "error", "disconnected"),
    ("stall", "timeout", "timeout"),
])
def test_faults_become_error_records(test_server, fault, status, prefix):
    be = get_backend("openai", model="test-model", base_url=test_server.url)
    bad, good = _send(be, [req(n=6, x_fault=fault, x_fault_at=2), req(n=3)], timeout_s=0.5)
    assert bad.status == status and bad.error.startswith(prefix), bad.error
    if fault in ("error_midstream", "malformed", "disconnect", "stall"):
        assert len(bad.chunk_s) == 2  # what arrived before the fault is kept
    assert good.status == "ok" and len(good.chunk_s) == 3  # the next request is unaffected


def test_unreachable_server_is_a_server_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    be = get_backend("openai", model="m", base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ServerError, match="cannot connect"):
        asyncio.run(be.start())


def test_wrong_model_name_is_a_usage_error(test_server):
    be = get_backend("openai", model="no-such-model", base_url=test_server.url)
    with pytest.raises(UsageError, match="not served.*test-model"):
        asyncio.run(be.start())


def test_registry_and_options():
    assert set(BACKENDS) == {"openai", "vllm-serve", "hf", "vllm"}
    with pytest.raises(UsageError, match="choose one of openai"):
        get_backend("tgi", model="m")
    with pytest.raises(UsageError, match="BS_NO_SUCH_KEY"):
        get_backend("openai", model="m", api_key_env="BS_NO_SUCH_KEY")
    with pytest.raises(UsageError, match="http"):
        get_backend("openai", model="m", base_url="ftp://x")
    be = get_backend("openai", model="m", base_url="http://user:pw@127.0.0.1:9/v1")
    assert "pw" not in be.endpoint and "user" not in be.endpoint
