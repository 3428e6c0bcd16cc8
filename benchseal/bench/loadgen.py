"""Load generation: closed-loop concurrency and open-loop (Poisson / gamma) arrivals.

The load generator decides *when* requests are sent; backends only measure. Precise timing uses
:class:`PreciseTimer`: an ordinary event-loop timer wakes it ``margin_s`` early (asyncio wakes
0.3–2 ms late on Linux), then it polls through the event loop (``call_soon``) until the due time,
so socket reads keep being served while it waits: no blocking spin that would delay the
timestamps of other requests' chunks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from benchseal.bench.backends.base import GenRequest
from benchseal.schema import RequestRecord

perf_counter = time.perf_counter
CONNECTION_FAILURES = ("connect:", "disconnected:")


class PreciseTimer:
    """Calls functions at ``perf_counter`` times with ~10 µs precision (see module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, *, margin_s: float = 0.0015) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.margin_s = margin_s
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
            self._schedule(perf_counter())
        else:
            self._polling = False
            self._armed_for = None

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


@dataclass
class LoadPointResult:
    records: list[RequestRecord] = field(default_factory=list)
    interrupted: bool = False
    reason: str | None = None
    t0: float = 0.0


@dataclass
class LoadPointPlan:
    load_point: str
    requests: list[GenRequest]  # the workload, cycled in order
    concurrency: int | None = None  # closed loop (or a cap on in-flight requests in open loop)
    rate: float | None = None  # open loop when set
    burstiness: float = 1.0
    num_requests: int | None = None  # counted requests (warm-up not included)
    duration_s: float | None = None  # stop sending this long after the first counted send
    warmup: int = 0
    timeout_s: float | None = None
    seed: int = 0
    max_connection_failures: int | None = None  # consecutive connect/disconnect failures = server dead

    def total(self) -> int | None:
        if self.num_requests is not None:
            return self.warmup + self.num_requests
        if self.duration_s is not None:
            return None  # bounded by time
        return self.warmup + len(self.requests)


class _Run:
    def __init__(self, backend, plan: LoadPointPlan, on_record: Callable[[RequestRecord], None]) -> None:
        self.backend, self.plan, self.on_record = backend, plan, on_record
        self.result = LoadPointResult()
        self.stop = asyncio.Event()
        self.deadline: float | None = None
        self.total = plan.total()
        self.inflight: dict[int, tuple[GenRequest, float, float | None]] = {}
        self.failures_in_row = 0
        cap = plan.concurrency if plan.concurrency else 8
        self.max_failures = plan.max_connection_failures or max(3, min(cap, 64))

    def done_sending(self, seq: int) -> bool:
        if self.stop.is_set():
            return True
        if self.total is not None and seq >= self.total:
            return True
        return self.deadline is not None and perf_counter() >= self.deadline

    async def one(self, seq: int, scheduled: float | None) -> None:
        plan = self.plan
        src = plan.requests[seq % len(plan.requests)]
        req = dataclasses.replace(src, request_id=seq)
        t0 = self.result.t0
        now = perf_counter()
        if seq == plan.warmup and plan.duration_s is not None:
            self.deadline = now + plan.duration_s
        self.inflight[seq] = (src, now, scheduled)
        try:
            rec = await self.backend.send(req, load_point=plan.load_point, t0=t0, timeout_s=plan.timeout_s)
        except asyncio.CancelledError:
            self.inflight.pop(seq, None)
            self._emit(self._cancelled(seq, src, now, scheduled, "cancelled: the run was interrupted"))
            raise
        except Exception as exc:  # a backend bug must not lose the request
            rec = RequestRecord(load_point=plan.load_point, request_id=seq, send_s=now - t0,
                                end_s=perf_counter() - t0, status="error",
                                error=f"client: {type(exc).__name__}: {exc}", max_tokens=src.max_tokens)
        self.inflight.pop(seq, None)
        rec.request_id = seq
        rec.prompt_id = src.request_id
        rec.warmup = seq < plan.warmup
        rec.scheduled_s = None if scheduled is None else scheduled - t0
        self._emit(rec)

    def _cancelled(self, seq: int, src: GenRequest, sent: float, scheduled: float | None, why: str) -> RequestRecord:
        t0 = self.result.t0
        return RequestRecord(load_point=self.plan.load_point, request_id=seq, prompt_id=src.request_id,
                             warmup=seq < self.plan.warmup, scheduled_s=None if scheduled is None else scheduled - t0,
                             send_s=sent - t0, end_s=perf_counter() - t0, status="cancelled", error=why,
                             max_tokens=src.max_tokens, prompt_tokens_client=src.prompt_tokens)

    def _emit(self, rec: RequestRecord) -> None:
        self.result.records.append(rec)
        if rec.status != "ok" and rec.error and rec.error.startswith(CONNECTION_FAILURES):
            self.failures_in_row += 1
            if self.failures_in_row >= self.max_failures and not self.stop.is_set():
                self.result.interrupted = True
                self.result.reason = (f"the server stopped answering ({self.failures_in_row} connection failures "
                                      f"in a row, last: {rec.error})")
                self.stop.set()
        elif rec.status == "ok":
            self.failures_in_row = 0
        self.on_record(rec)

    async def closed_loop(self) -> None:
        counter = itertools.count()

        async def worker() -> None:
            while True:
                seq = next(counter)
                if self.done_sending(seq):
                    return
                await self.one(seq, None)

        await self._supervise([asyncio.ensure_future(worker()) for _ in range(self.plan.concurrency or 1)])

    async def open_loop(self) -> None:
        plan = self.plan
        timer = PreciseTimer()
        sem = asyncio.Semaphore(plan.concurrency) if plan.concurrency else None
        tasks: set[asyncio.Task] = set()

        async def guarded(seq: int, at: float) -> None:
            try:
                await self.one(seq, at)
            finally:
                if sem is not None:
                    sem.release()

        async def dispatcher() -> None:
            offsets = arrival_offsets(plan.rate or float("inf"), plan.burstiness, seed=plan.seed)
            start = self.result.t0
            for seq in itertools.count():
                if self.done_sending(seq):
                    break
                at = start + next(offsets)
                await timer.sleep_until(at)
                if self.done_sending(seq):
                    break
                if sem is not None:
                    await sem.acquire()
                task = asyncio.ensure_future(guarded(seq, at))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(list(tasks))

        try:
            await self._supervise([asyncio.ensure_future(dispatcher())], extra=tasks)
        finally:
            timer.cancel_all()

    async def _supervise(self, tasks: list[asyncio.Task], extra: set[asyncio.Task] | None = None) -> None:
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
            while not all(t.done() for t in tasks) and not self.stop.is_set():
                await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Interrupted (server dead or Ctrl-C): cancel what is in flight; each gets a record.
            pending = [t for t in [*tasks, *(extra or ())] if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            stopper.cancel()
        for t in tasks:
            if not t.cancelled() and t.exception() is not None:
                raise t.exception()  # type: ignore[misc]


async def run_load_point(backend, plan: LoadPointPlan, on_record: Callable[[RequestRecord], None]) -> LoadPointResult:
    """Send the load point's requests through ``backend.send``; every request sent yields exactly one
    record (passed to ``on_record`` as it completes). Returns early, ``interrupted``, when the server
    stops accepting connections; on cancellation (Ctrl-C) in-flight requests are recorded as
    ``cancelled`` before the cancellation propagates."""
    if not plan.requests:
        raise ValueError("the workload has no requests")
    run = _Run(backend, plan, on_record)
    run.result.t0 = perf_counter()
    if plan.rate is not None:
        await run.open_loop()
    else:
        await run.closed_loop()
    return run.result
