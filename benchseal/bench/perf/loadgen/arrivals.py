"""When requests are sent: the open-loop arrival schedule and the precise timer that fires it.

Precise timing uses :class:`PreciseTimer`: an ordinary event-loop timer wakes it ``margin_s`` early
(asyncio rounds its sleeps up to the next millisecond and wakes 0.3–2 ms late on a loaded host), then,
while no other callback is waiting, it blocks in ``select()`` on the event loop's own epoll descriptor
with a microsecond timeout until 0.3 ms before the due time, and polls through the loop
(``call_soon``) for the rest. The ``select()`` returns as soon as any socket of the loop is readable,
so chunk timestamps of other requests are not delayed, and the wait costs no CPU (no busy spin).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import select
import time
from typing import Callable, Iterator

perf_counter = time.perf_counter


# Stop blocking this long before the due time and poll through the loop instead: a process that
# sleeps can come back late on a loaded host (kernel timer slack, CPU taken by others). In an A/B
# run on the 2-core build machine at 200 req/s, 0.3 ms of polling gave arrival p99 0.4-0.5 ms
# against 0.8-1.4 ms with 0.08 ms. Waits shorter than _MIN_BLOCK_S are polled, not slept, so a
# timer with a small margin (the test server's 0.5 ms) only polls.
_SLACK_S = 300e-6
_MIN_BLOCK_S = 300e-6


class PreciseTimer:
    """Calls functions at ``perf_counter`` times with ~10-100 µs precision (see module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, *, margin_s: float = 0.003) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.margin_s = margin_s
        # The selector loop's epoll descriptor, ready queue and timer heap (CPython's
        # SelectorEventLoop); with another loop (uvloop) the timer polls instead of blocking.
        self._ready = getattr(self.loop, "_ready", None)
        self._loop_timers = getattr(self.loop, "_scheduled", None)
        try:
            fd = self.loop._selector.fileno()  # type: ignore[attr-defined]
        except (AttributeError, OSError, ValueError):
            fd = -1
        self._fd = fd if 0 <= fd < 1024 and self._ready is not None and self._loop_timers is not None else None
        self._heap: list[tuple[float, int, Callable, tuple]] = []
        self._seq = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._polling = False

    def call_at(self, t: float, fn: Callable, *args) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), fn, args))
        if self._polling:
            return
        if self._armed_for is None or t < self._armed_for:
            if self._handle is not None:
                self._handle.cancel()
            self._schedule(perf_counter())

    def _schedule(self, now: float) -> None:
        t = self._heap[0][0]
        self._armed_for = t
        if t - now > self.margin_s:
            self._polling = False
            self._handle = self.loop.call_later(t - now - self.margin_s, self._tick)
        else:
            self._polling = True
            self._handle = None
            self.loop.call_soon(self._tick)

    def _tick(self) -> None:
        self._handle = None
        heap = self._heap
        now = perf_counter()
        while heap and heap[0][0] <= now:
            _, _, fn, args = heapq.heappop(heap)
            fn(*args)
        if heap:
            if self._polling and self._fd is not None:
                self._idle_wait(heap[0][0] - perf_counter())
            self._schedule(perf_counter())
        else:
            self._polling = False
            self._armed_for = None

    def _idle_wait(self, remaining: float) -> None:
        """Block until ``_SLACK_S`` before the due time, unless other callbacks are waiting, a loop
        timer is due sooner, or a socket of the loop becomes readable (epoll fd readable)."""
        wait = min(remaining, self.margin_s) - _SLACK_S
        if wait < _MIN_BLOCK_S or self._ready:
            return  # too short to be worth a sleep (a timer with a small margin only polls)
        if self._loop_timers:
            wait = min(wait, self._loop_timers[0].when() - self.loop.time())
            if wait <= 0:
                return
        try:
            select.select((self._fd,), (), (), wait)
        except (OSError, ValueError):
            self._fd = None  # fall back to polling

    async def sleep_until(self, t: float) -> None:
        if perf_counter() >= t:
            return
        fut = self.loop.create_future()
        self.call_at(t, _set_result, fut)
        await fut

    def cancel_all(self) -> None:
        self._heap.clear()
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._armed_for = None
        self._polling = False


async def _wait_for(fut: asyncio.Future) -> None:
    await fut


def _set_result(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


def arrival_offsets(rate: float, burstiness: float = 1.0, *, seed: int = 0) -> Iterator[float]:
    """Arrival times (seconds from the start) of an open-loop schedule: gamma-distributed gaps with
    shape ``burstiness`` and mean ``1/rate`` (burstiness 1 = Poisson; < 1 burstier; > 1 more
    regular), the definition used by vLLM ``bench serve``. ``rate = inf`` sends everything at t=0."""
    if rate <= 0:
        raise ValueError("rate must be > 0")
    if burstiness <= 0:
        raise ValueError("burstiness must be > 0")
    rng = random.Random(seed)
    t = 0.0
    scale = 1.0 / (rate * burstiness)
    while True:
        yield t
        if rate != float("inf"):
            t += rng.gammavariate(burstiness, scale)
