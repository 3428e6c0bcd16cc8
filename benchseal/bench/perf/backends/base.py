"""The backend interface shared by every way of running the model (one Protocol, no if/elif).

A *streaming* backend sends one request and measures it, filling a :class:`RequestRecord` whose
times are seconds relative to the load point's start ``t0`` on the ``time.perf_counter`` clock.
The load generator decides *when* to call :meth:`StreamingBackend.send` (closed or open loop);
the backend only measures. An *offline* backend takes all requests at once (vLLM's ``LLM``).

Backends are built from their typed spec (:mod:`benchseal.bench.perf.backends.spec`), which imports
a backend's module, and so its heavy libraries, only when that backend is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from benchseal.schema import RequestRecord


@dataclass(frozen=True)
class GenRequest:
    """One generation request of a workload.

    ``prompt`` is a string (completions) or a list of chat messages ``[{"role", "content"}]``.
    ``prompt_tokens`` is the client tokenizer's count of the prompt as sent (None if unknown).
    ``ignore_eos`` asks the server to generate exactly ``max_tokens`` (vLLM ``ignore_eos``,
    ``min_tokens``); backends that cannot honour it say so in ``Backend.capabilities``.
    """

    request_id: int
    prompt: str | list[dict[str, str]]
    max_tokens: int
    prompt_tokens: int | None = None
    ignore_eos: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def renumbered(self, request_id: int) -> "GenRequest":
        """This request with another ``request_id`` (the load generator's sequence number): the same
        as ``dataclasses.replace(self, request_id=...)`` without its per-call field walk (the perf
        hot path; the prompt and extra objects are shared, as replace shares them)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        object.__setattr__(new, "request_id", request_id)
        return new


@runtime_checkable
class StreamingBackend(Protocol):
    name: str  # "openai", "vllm-serve", "hf"
    endpoint: str | None  # URL or model path shown in reports; never contains credentials

    async def start(self) -> None:
        """Open connections / start the server / load the model. Raises ServerError on failure."""

    async def send(self, request: GenRequest, *, load_point: str, t0: float, timeout_s: float | None) -> RequestRecord:
        """Send one request and return its record. Never raises for a per-request failure:
        errors, timeouts and malformed streams come back as a record with status != "ok"."""

    async def close(self) -> None:
        """Release everything (stop a managed server). Safe to call twice."""

    def capabilities(self) -> dict[str, Any]:
        """What this backend honours, e.g. {"ignore_eos": True, "usage": True, "chat": True}."""


@runtime_checkable
class OfflineBackend(Protocol):
    name: str  # "vllm"
    endpoint: str | None

    def run_batch(self, requests: list[GenRequest], *, load_point: str) -> list[RequestRecord]:
        """Run all requests at once and return one record per request (times relative to submit)."""

    def close(self) -> None: ...
