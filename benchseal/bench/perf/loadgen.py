"""Load generation: closed-loop concurrency and open-loop (Poisson / gamma) arrivals.

The load generator decides *when* requests are sent; backends only measure. Precise timing uses
:class:`PreciseTimer`: an ordinary event-loop timer wakes it ``margin_s`` early (asyncio rounds
its sleeps up to the next millisecond and wakes 0.3–2 ms late on a loaded host), then, while no
other callback is waiting, it blocks in ``select()`` on the event loop's own epoll descriptor with a
microsecond timeout until 0.3 ms before the due time, and polls through the loop (``call_soon``)
for the rest. The ``select()`` returns as soon as any socket of the loop is readable, so
chunk timestamps of other requests are not delayed, and the wait costs no CPU (no busy spin).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import gc
import heapq
import itertools
import random
import select
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.interrupts import blocked
from benchseal.schema import RequestRecord

perf_counter = time.perf_counter
CONNECTION_FAILURES = ("connect:", "disconnected:")


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


async def run_load_point(backend, plan: LoadPointPlan, on_record: Callable[[RequestRecord], None], *,
                         pause_gc: bool = True, workers: int = 1) -> LoadPointResult:
    """Send the load point's requests through ``backend.send``; every request sent yields exactly one
    record (passed to ``on_record`` as it completes). Returns early, ``interrupted``, when the server
    stops accepting connections; on cancellation (Ctrl-C) in-flight requests are recorded as
    ``cancelled`` before the cancellation propagates. Request bodies are prepared (``backend.prepare``)
    before ``t0``, and the garbage collector is paused during the point (:func:`gc_paused`).

    ``workers > 1`` sends from that many processes, each with its own event loop and its own copy
    of the backend (built from ``backend.clone_spec()``): request ``seq`` goes to process
    ``seq mod workers``, closed-loop concurrency (and the open-loop cap) is split between them, and
    open-loop arrivals follow the one schedule of ``plan.seed``. All clocks are the host's
    ``CLOCK_MONOTONIC`` (``perf_counter``), so records share this process's ``t0``."""
    if not plan.requests:
        raise ValueError("the workload has no requests")
    if workers > 1:
        return await _run_workers(backend, plan, on_record, workers, pause_gc)
    prepare_backend(backend, plan.requests)
    run = _Run(backend, plan, on_record)
    with gc_paused(pause_gc):
        run.result.t0 = perf_counter()
        if plan.rate is not None:
            await run.open_loop()
        else:
            await run.closed_loop()
    return run.result


# --- several sending processes ---------------------------------------------------------------------------

_READY_TIMEOUT_S = 120.0
_FLUSH_S = 0.02


def _split(n: int | None, workers: int) -> list[int | None]:
    if n is None:
        return [None] * workers
    return [n // workers + (1 if i < n % workers else 0) for i in range(workers)]


def _worker_plan(plan: LoadPointPlan, index: int, workers: int) -> LoadPointPlan:
    conc = _split(plan.concurrency, workers)[index]
    return dataclasses.replace(plan, concurrency=max(1, conc) if conc is not None else None,
                               max_connection_failures=plan.max_connection_failures
                               or max(3, min((plan.concurrency or 8), 64)))


def _worker_main(spec: tuple[str, dict], plan: LoadPointPlan, index: int, workers: int, out, ctl,
                 pause_gc: bool, want_text: bool) -> None:
    """Entry point of a sending process (``multiprocessing`` spawn)."""
    _follow_parent()
    try:
        asyncio.run(_worker_async(spec, plan, index, workers, out, ctl, pause_gc, want_text))
    except BaseException as exc:  # report, never hang the parent
        try:
            out.send(("failed", f"{type(exc).__name__}: {exc}"))
        except OSError:
            pass


def _follow_parent() -> None:
    """A sending process does not act on SIGINT, SIGTERM or SIGHUP (Ctrl-C reaches the whole process
    group; Slurm signals every process of a job step): the parent decides, tells it to stop over the
    control pipe, and collects the records of its cancelled requests. It was started with these
    signals blocked (so one arriving during start-up is not acted on either); they are ignored here
    and unblocked. If the parent dies without telling it (SIGKILL), the kernel kills it too
    (Linux ``PR_SET_PDEATHSIG``), and the closed control pipe stops it everywhere else."""
    import signal

    from benchseal.interrupts import SIGNALS

    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        pass


async def _worker_async(spec, plan, index, workers, out, ctl, pause_gc, want_text) -> None:
    from benchseal.bench.perf.backends.openai import OpenAIBackend

    name, options = spec
    if name != "openai":
        raise ValueError(f"only the openai client can be cloned into worker processes, not {name!r}")
    last_text: list[str | None] = [None]

    def capture(text: str) -> None:  # the parent counts output tokens with its client tokenizer
        last_text[0] = text

    backend = OpenAIBackend(**options, count_tokens=capture if want_text else None)
    await backend.start()
    prepare_backend(backend, plan.requests)
    batch: list[tuple[RequestRecord, str | None]] = []

    def on_record(rec: RequestRecord) -> None:
        batch.append((rec, last_text[0]))
        last_text[0] = None

    def flush() -> None:
        if batch:
            out.send(("records", batch[:]))
            batch.clear()

    out.send(("ready", None))
    msg = ctl.recv()  # ("go", t0) or ("stop", None)
    if msg[0] != "go":
        out.send(("done", (False, None)))
        return
    loop = asyncio.get_running_loop()
    run = _Run(backend, plan, on_record, shard=(index, workers))
    loop.add_reader(ctl.fileno(), run.stop.set)  # any message after "go" means stop

    def tick() -> None:
        flush()
        loop.call_later(_FLUSH_S, tick)

    loop.call_later(_FLUSH_S, tick)
    try:
        with gc_paused(pause_gc):
            run.result.t0 = msg[1]
            delay = msg[1] - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if plan.rate is not None:
                await run.open_loop()
            else:
                await run.closed_loop()
    finally:
        loop.remove_reader(ctl.fileno())
        flush()
        await backend.close()
    out.send(("done", (run.result.interrupted, run.result.reason)))


async def _run_workers(backend, plan: LoadPointPlan, on_record, workers: int, pause_gc: bool) -> LoadPointResult:
    import multiprocessing

    clone = getattr(backend, "clone_spec", None)
    if not callable(clone):
        raise ValueError(f"the {getattr(backend, 'name', type(backend).__name__)} backend cannot send from several "
                         "processes (it has no clone_spec); use workers=1")
    spec = clone()
    count_tokens = getattr(backend, "count_tokens", None)
    ctx = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    procs, outs, ctls = [], [], []
    for i in range(workers):
        r_out, w_out = ctx.Pipe(duplex=False)
        r_ctl, w_ctl = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker_main, name=f"benchseal-loadgen-{i}", daemon=True,
                           args=(spec, _worker_plan(plan, i, workers), i, workers, w_out, r_ctl, pause_gc,
                                 count_tokens is not None))
        with blocked():  # the child inherits the blocked signals: it follows the parent (_follow_parent)
            proc.start()
        w_out.close()
        r_ctl.close()
        procs.append(proc)
        outs.append(r_out)
        ctls.append(w_ctl)
    run = _Run(backend, plan, on_record)
    pending = set(range(workers))
    finished = loop.create_future()
    failures: list[str] = []

    def tell_all(msg) -> None:
        for c in ctls:
            try:
                c.send(msg)
            except OSError:
                pass

    def take(rec: RequestRecord, text: str | None) -> None:
        if text is not None and count_tokens is not None:
            n = count_tokens(text)
            rec.output_tokens_client = n
            if rec.output_tokens_server is None and n is not None:
                rec.output_tokens = n
        stopped = run.stop.is_set()
        run._emit(rec)
        if run.stop.is_set() and not stopped:
            tell_all(("stop", None))

    def readable(i: int) -> None:
        try:
            kind, payload = outs[i].recv()
        except (EOFError, OSError):
            kind, payload = "failed", f"worker {i} exited ({procs[i].exitcode})"
        if kind == "records":
            for rec, text in payload:
                take(rec, text)
            return
        if kind == "failed":
            failures.append(str(payload))
        elif kind == "done" and payload[0] and not run.result.interrupted:
            run.result.interrupted, run.result.reason = True, payload[1]
        loop.remove_reader(outs[i].fileno())
        pending.discard(i)
        if not pending and not finished.done():
            finished.set_result(None)

    try:
        for i in range(workers):  # before t0: start the clients (connect, /v1/models, prepare)
            ready_by = perf_counter() + _READY_TIMEOUT_S
            while not outs[i].poll(0):  # polled from the loop, so a signal's cancellation is not held up
                if perf_counter() > ready_by:
                    raise RuntimeError(f"load-generator worker {i} did not start within {_READY_TIMEOUT_S:g} s")
                await asyncio.sleep(0.02)
            kind, payload = outs[i].recv()
            if kind != "ready":
                raise RuntimeError(f"load-generator worker {i} failed to start: {payload}")
        run.result.t0 = t0 = perf_counter() + 0.05  # every worker starts at the same instant
        tell_all(("go", t0))
        for i in range(workers):
            loop.add_reader(outs[i].fileno(), readable, i)
        try:
            await asyncio.shield(finished)
        except asyncio.CancelledError:
            tell_all(("stop", None))  # workers cancel their in-flight requests and send those records
            deadline = perf_counter() + 10
            while pending and perf_counter() < deadline:
                await asyncio.wait([finished], timeout=0.1)
            raise
    finally:
        for i in range(workers):
            loop.remove_reader(outs[i].fileno())
        for c in (*outs, *ctls):
            c.close()
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
    if failures:
        raise RuntimeError("load-generator worker failed: " + "; ".join(failures))
    return run.result
