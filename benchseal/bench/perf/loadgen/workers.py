"""Several sending processes on this host (``workers > 1``): each runs its shard of the load point in
its own event loop with its own copy of the backend and streams its records back to the parent."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from benchseal.bench.perf.loadgen.supervision import LoadPointPlan, LoadPointResult, _Run, gc_paused, prepare_backend
from benchseal.interrupts import blocked
from benchseal.schema import RequestRecord

perf_counter = time.perf_counter

_READY_TIMEOUT_S = 120.0
_FLUSH_S = 0.02


def worker_spec(backend, where: str, hint: str) -> tuple[str, dict]:
    """The backend's ``clone_spec()``, from which each worker (a process or a Ray actor) builds its own
    client; ValueError naming ``where`` and ``hint`` for a backend that cannot be cloned."""
    clone = getattr(backend, "clone_spec", None)
    if not callable(clone):
        raise ValueError(f"the {getattr(backend, 'name', type(backend).__name__)} backend cannot send from {where} "
                         f"(it has no clone_spec); {hint}")
    return clone()


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
        from benchseal.bench.perf.loadgen import eventloop

        eventloop.run(_worker_async(spec, plan, index, workers, out, ctl, pause_gc, want_text))
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

    spec = worker_spec(backend, "several processes", "use workers=1")
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
                rec.worker = i
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
