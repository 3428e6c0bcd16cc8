"""The probes that send requests of their own (docs/metrics.md, "Audits"), written as rows of
``perf/audits.jsonl`` for :mod:`.verdicts`:

- **cache**: ``cache_requests`` unique prompts, then one prompt sent ``cache_requests + 1`` times
  (its first send fills any cache and is left out), one at a time, each asking for exactly
  ``max_tokens`` tokens;
- **accuracy under load**: ``accuracy_items`` fixed prompts answered greedily (temperature 0) at rest
  before the first load point, and again, one at a time, under the last load point's load sent
  again after its closing /metrics scrape (:mod:`.load`).

Probe prompts are the workload's first prompt behind a marker that holds a per-run nonce, so they
never collide with the measured prompts or with an earlier run's. Only backends that return the
streamed text (``send_text``: the openai backend) can run them; the others record ``not-run``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from benchseal.bench.perf.backends.base import GenRequest

PROBE_NAMES = ("cache", "accuracy-under-load")


@dataclass
class AuditOptions:
    """Which audits a run makes, and how big the probes are. ``skip``: audit name -> reason."""

    enabled: bool = True
    skip: dict[str, str] = field(default_factory=dict)
    cache_requests: int = 6
    accuracy_items: int = 4
    max_tokens: int = 16
    timeout_s: float = 120.0
    certificate: bool = True  # measure the client's ceiling before each load point (bench.perf.certificate)


def _marked(prompt: Any, marker: str) -> Any:
    if isinstance(prompt, str):
        return f"{marker} {prompt}"
    msgs = [dict(m) for m in prompt]
    for m in msgs:
        if m.get("role") == "user":
            m["content"] = f"{marker} {m.get('content', '')}"
            break
    return msgs


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Probes:
    """Sends the probes through ``backend`` and hands every row to ``emit``."""

    def __init__(self, backend: Any, workload: Any, options: AuditOptions, emit: Callable[[dict[str, Any]], None]) -> None:
        self.backend, self.options, self.emit = backend, options, emit
        self.nonce = os.urandom(6).hex()
        reqs = list(getattr(workload, "requests", None) or [])
        self.base = reqs[0].prompt if reqs else "Hello"
        self.max_tokens = max(2, min(options.max_tokens, reqs[0].max_tokens if reqs else options.max_tokens))
        self.unable = None if callable(getattr(backend, "send_text", None)) else \
            f"the {getattr(backend, 'name', 'this')} backend does not return the streamed text"

    def record_skips(self) -> None:
        """One ``skip`` row per audit that will not run (asked to skip, or the backend cannot probe)."""
        for name, why in sorted(self.options.skip.items()):
            self.emit({"skip": name, "reason": why})
        if self.unable:
            for name in PROBE_NAMES:
                if name not in self.options.skip:
                    self.emit({"skip": name, "reason": self.unable})

    def wants(self, name: str) -> bool:
        return self.unable is None and name not in self.options.skip

    async def _one(self, probe: str, phase: str, item: int, prompt: Any, *, ignore_eos: bool,
                   during: asyncio.Event | None = None) -> None:
        req = GenRequest(request_id=-1, prompt=prompt, max_tokens=self.max_tokens, ignore_eos=ignore_eos,
                         extra={"temperature": 0.0})
        t0 = time.perf_counter()
        before = during is not None and not during.is_set()
        rec, text = await self.backend.send_text(req, load_point=f"audit:{probe}", t0=t0, timeout_s=self.options.timeout_s)
        row: dict[str, Any] = {"probe": probe, "phase": phase, "item": item, "nonce": self.nonce,
                               "record": rec.model_dump(mode="json"), "text_sha256": _sha(text), "text": text[:200]}
        if during is not None:
            row["during_load"] = before and not during.is_set()
        self.emit(row)

    async def cache(self) -> None:
        if not self.wants("cache"):
            return
        n = self.options.cache_requests
        for i in range(n):
            await self._one("cache", "unique", i, _marked(self.base, f"[audit {self.nonce} cache u{i}]"), ignore_eos=True)
        same = _marked(self.base, f"[audit {self.nonce} cache r]")
        for i in range(n + 1):
            await self._one("cache", "repeated", i, same, ignore_eos=True)

    def _item(self, i: int) -> Any:
        return _marked(self.base, f"[audit {self.nonce} item {i}]")

    async def accuracy_at_rest(self) -> None:
        if not self.wants("accuracy-under-load"):
            return
        for i in range(self.options.accuracy_items):
            await self._one("accuracy", "rest", i, self._item(i), ignore_eos=False)

    async def accuracy_under_load(self, started: asyncio.Event, done: asyncio.Event) -> None:
        """Waits until the load point has completed a request (it is running), then sends the items
        one at a time; each row says whether the load point was still running from send to end."""
        if not self.wants("accuracy-under-load"):
            return
        waiter = asyncio.ensure_future(started.wait())
        ender = asyncio.ensure_future(done.wait())
        try:
            await asyncio.wait({waiter, ender}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            ender.cancel()
        for i in range(self.options.accuracy_items):
            await self._one("accuracy", "load", i, self._item(i), ignore_eos=False, during=done)
