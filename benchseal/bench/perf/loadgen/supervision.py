"""One load point in one event loop: the plan, the closed and open loops that send it, and the
supervisor that stops it (server dead, Ctrl-C) and gives every request sent exactly one record."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import itertools
import time
from dataclasses import dataclass, field
from typing import Callable

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.loadgen.arrivals import PreciseTimer, _wait_for, arrival_offsets
from benchseal.schema import RequestRecord

perf_counter = time.perf_counter
CONNECTION_FAILURES = ("connect:", "disconnected:")


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
    def __init__(self, backend, plan: LoadPointPlan, on_record: Callable[[RequestRecord], None],
                 shard: tuple[int, int] = (0, 1)) -> None:
        self.backend, self.plan, self.on_record = backend, plan, on_record
        self.shard = shard  # (index, count): this process sends the requests seq ≡ index (mod count)
        self.result = LoadPointResult()
        self.stop = asyncio.Event()
        self.drain: asyncio.Event | None = None  # set: send nothing more, let in-flight requests complete
        self.deadline: float | None = None
        self.total = plan.total()
        self.inflight: dict[int, tuple[GenRequest, float, float | None]] = {}
        self.failures_in_row = 0
        cap = plan.concurrency if plan.concurrency else 8
        self.max_failures = plan.max_connection_failures or max(3, min(cap, 64))

    def done_sending(self, seq: int) -> bool:
        if self.stop.is_set() or (self.drain is not None and self.drain.is_set()):
            return True
        if self.total is not None and seq >= self.total:
            return True
        return self.deadline is not None and perf_counter() >= self.deadline

    async def one(self, seq: int, scheduled: float | None) -> None:
        plan = self.plan
        src = plan.requests[seq % len(plan.requests)]
        req = src.renumbered(seq)
        t0 = self.result.t0
        now = perf_counter()
        if seq >= plan.warmup and plan.duration_s is not None and self.deadline is None:
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
        # The load generator's own fields; each set only where the backend's record differs (an
        # assignment to a pydantic field is a Python call: the perf hot path).
        if rec.request_id != seq:
            rec.request_id = seq
        rec.prompt_id = src.request_id
        warmup = seq < plan.warmup
        if rec.warmup is not warmup:
            rec.warmup = warmup
        if scheduled is not None or rec.scheduled_s is not None:
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
        counter = itertools.count(*self.shard)

        async def worker() -> None:
            while True:
                seq = next(counter)
                if self.done_sending(seq):
                    return
                await self.one(seq, None)

        await self._supervise([asyncio.ensure_future(worker()) for _ in range(self.plan.concurrency or 1)])

    async def open_loop(self) -> None:
        """Arrivals are timer callbacks: at its due time a callback creates the request's task
        directly (one event-loop hop between the timer and the send, no dispatcher coroutine to
        wake), then arms the next arrival. With a cap on in-flight requests, arrivals that find
        every slot taken wait in FIFO order (their lag counts in ``schedule_lag_ms``)."""
        plan = self.plan
        loop = asyncio.get_running_loop()
        timer = PreciseTimer(loop)
        cap = plan.concurrency or 0
        tasks: set[asyncio.Task] = set()
        waiting: collections.deque[tuple[int, float]] = collections.deque()
        finished = loop.create_future()
        offsets = arrival_offsets(plan.rate or float("inf"), plan.burstiness, seed=plan.seed)
        first, stride = self.shard
        for _ in range(first):  # several processes: each takes every stride-th arrival of one schedule
            next(offsets)
        start = self.result.t0
        state = {"sending": True, "burst": 0}

        def launch(seq: int, at: float) -> None:
            task = loop.create_task(self.one(seq, at))
            tasks.add(task)
            task.add_done_callback(done)

        def done(task: asyncio.Task) -> None:
            tasks.discard(task)
            while waiting and (not cap or len(tasks) < cap) and not self.stop.is_set():
                launch(*waiting.popleft())
            maybe_finished()

        def maybe_finished() -> None:
            if not state["sending"] and not tasks and not finished.done():
                finished.set_result(None)

        def arrive(seq: int, at: float) -> None:
            if self.done_sending(seq):
                state["sending"] = False
                if self.stop.is_set():
                    waiting.clear()
                maybe_finished()
                return
            if seq >= plan.warmup and plan.duration_s is not None and self.deadline is None:
                self.deadline = perf_counter() + plan.duration_s
            if cap and (len(tasks) >= cap or waiting):
                waiting.append((seq, at))
            else:
                launch(seq, at)
            for _ in range(stride - 1):
                next(offsets)
            nxt = start + next(offsets)
            state["burst"] += 1
            if nxt <= at and state["burst"] >= 256:  # a burst (rate=inf): let the loop breathe
                state["burst"] = 0
                loop.call_soon(arrive, seq + stride, nxt)
            else:
                if nxt > at:
                    state["burst"] = 0
                timer.call_at(nxt, arrive, seq + stride, nxt)

        at0 = start + next(offsets)
        timer.call_at(at0, arrive, first, at0)
        waiter = asyncio.ensure_future(_wait_for(finished))
        try:
            await self._supervise([waiter], extra=tasks)
        finally:
            timer.cancel_all()
            waiting.clear()
            state["sending"] = False

    async def _supervise(self, tasks: list[asyncio.Task], extra: set[asyncio.Task] | None = None) -> None:
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            # Wait on the tasks still running only: asyncio.wait(FIRST_COMPLETED) returns at once
            # when a task it is given is already done, so waiting on all of them again after the
            # first finished spun the event loop (100 % CPU, holding the GIL) until the last one
            # ended: in the tail of every closed-loop point that slowed what was still running
            # (the hf backend's generate thread: 16x longer TPOT at concurrency 4 on an H200).
            running = [t for t in tasks if not t.done()]
            while running and not self.stop.is_set():
                await asyncio.wait([*running, stopper], return_when=asyncio.FIRST_COMPLETED)
                running = [t for t in running if not t.done()]
        finally:
            # Interrupted (server dead or Ctrl-C): cancel what is in flight; each gets a record.
            pending = [t for t in [*tasks, *(extra or ())] if not t.done()]
            if pending:
                self.stop.set()  # nothing new starts while in-flight requests are cancelled
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            stopper.cancel()
        for t in tasks:
            if not t.cancelled() and t.exception() is not None:
                raise t.exception()  # type: ignore[misc]


@contextlib.contextmanager
def gc_paused(enabled: bool = True):
    """Pause Python's cyclic garbage collector for the duration of a load point.

    A collection pass is a stop-the-world pause of the event loop (measured here: gen-0/1 passes
    of 1-18 ms and a gen-2 pass of 70 ms while records accumulate), which delays every send and
    every chunk timestamp behind it. Reference counting still frees nearly everything a request
    creates; what is left (cycles, if any) is collected when the load point ends. Objects alive
    at the start are frozen (``gc.freeze``) so the final collection does not walk them."""
    if not enabled or not gc.isenabled():
        yield
        return
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect(1)


def prepare_backend(backend, requests: list[GenRequest]) -> None:
    """Let a backend do its per-prompt work (e.g. JSON-encode request bodies) before the clock starts."""
    prepare = getattr(backend, "prepare", None)
    if callable(prepare):
        prepare(requests)
