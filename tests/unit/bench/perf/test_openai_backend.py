"""The openai backend against the controllable test server: records, faults, bad input."""

from __future__ import annotations

import asyncio

import pytest

from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.backends.spec import SPECS, parse_spec
from benchseal.bench.perf.backends.base import GenRequest, StreamingBackend
from benchseal.errors import ConfigError, ServerError, UsageError


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








def test_unreachable_server_is_a_server_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    be = OpenAIBackend(model="m", base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ServerError, match="cannot connect"):
        asyncio.run(be.start())




def test_registry_and_options():
    assert set(SPECS) == {"openai", "vllm-serve", "hf", "vllm"}
    with pytest.raises(ConfigError, match="invalid backend settings"):
        parse_spec({"kind": "tgi", "model": "m"})
    with pytest.raises(UsageError, match="BS_NO_SUCH_KEY"):
        OpenAIBackend(model="m", api_key_env="BS_NO_SUCH_KEY")
    with pytest.raises(UsageError, match="http"):
        OpenAIBackend(model="m", base_url="ftp://x")
    be = OpenAIBackend(model="m", base_url="http://user:pw@127.0.0.1:9/v1")
    assert "pw" not in be.endpoint and "user" not in be.endpoint
