"""Load workers as Ray actors spread over the nodes of an existing Ray cluster (``perf --ray-address ADDR
--workers N``), for endpoints one client host cannot saturate.

Worker ``i`` is an async Ray actor pinned to node ``i mod nodes`` (alive nodes, head first). It builds its
own OpenAI client from the backend's ``clone_spec()``, prepares the request bodies, and sends the shard of
the load point the local sending processes would send (request ``seq`` goes to worker ``seq mod N``;
closed-loop concurrency and the open-loop cap are split; open-loop arrivals follow the one schedule of the
plan's seed). Timing, and how the workers' records are merged:

- every time in a record is measured on the worker's own monotonic clock (``perf_counter``) relative to
  its own ``t0``; no clock is ever compared across hosts within a request;
- the driver picks one start instant as a wall-clock time (``time.time()`` + a lead); each worker maps it
  to its own monotonic clock (``t0 = perf_counter() + (start_wall - time.time())``), waits for it, and
  starts sending. The workers' ``t0`` are therefore the same instant up to the nodes' wall-clock
  synchronisation (NTP: about a millisecond), which is the only cross-host term in the merged timeline;
- the records come back when the worker's shard is done (or stopped) and are merged in completion order
  at the driver, each carrying ``worker`` and ``node_id``; summaries treat them like local records.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any, Callable

from benchseal.bench.perf.loadgen.supervision import LoadPointPlan, LoadPointResult, _Run, gc_paused, prepare_backend
from benchseal.bench.perf.loadgen.workers import _worker_plan, worker_spec
from benchseal.schema import RequestRecord

perf_counter = time.perf_counter
_LEAD_S = 0.5  # the start instant is this far after the last worker reported ready
_STOP_WAIT_S = 10.0


class LoadWorker:
    """The Ray actor (async: ``run`` and ``stop`` share its event loop)."""

    def __init__(self, spec: tuple[str, dict], index: int, workers: int, want_text: bool) -> None:
        import ray

        name, options = spec
        if name != "openai":
            raise ValueError(f"only the openai client can run as a Ray load worker, not {name!r}")
        self.options, self.index, self.workers, self.want_text = options, index, workers, want_text
        self.node_id = ray.get_runtime_context().get_node_id()
        self.run_obj: _Run | None = None
        self.backend: Any = None

    async def prepare(self, plan: LoadPointPlan) -> dict[str, Any]:
        from benchseal.bench.perf.backends.openai import OpenAIBackend

        self.texts: list[str | None] = []
        self.last_text: str | None = None

        def capture(text: str) -> None:  # the driver counts output tokens with its client tokenizer
            self.last_text = text

        self.backend = OpenAIBackend(**self.options, count_tokens=capture if self.want_text else None)
        await self.backend.start()
        prepare_backend(self.backend, plan.requests)
        self.plan = plan
        return {"node_id": self.node_id, "hostname": socket.gethostname()}

    async def run(self, start_wall: float, pause_gc: bool) -> dict[str, Any]:
        out: list[tuple[dict, str | None]] = []

        def on_record(rec: RequestRecord) -> None:
            out.append((rec.model_dump(mode="json"), self.last_text))
            self.last_text = None

        run = self.run_obj = _Run(self.backend, self.plan, on_record, shard=(self.index, self.workers))
        try:
            with gc_paused(pause_gc):
                run.result.t0 = t0 = perf_counter() + (start_wall - time.time())
                delay = t0 - perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self.plan.rate is not None:
                    await run.open_loop()
                else:
                    await run.closed_loop()
        finally:
            await self.backend.close()
        return {"records": out, "interrupted": run.result.interrupted, "reason": run.result.reason}

    async def stop(self) -> None:
        if self.run_obj is not None:
            self.run_obj.stop.set()


async def run_ray_workers(backend, plan: LoadPointPlan, on_record: Callable[[RequestRecord], None], workers: int,
                          pause_gc: bool, ray_address: str | None) -> LoadPointResult:
    """Send ``plan`` from ``workers`` Ray actors spread over the cluster's nodes (see module docstring)."""
    from benchseal.hw.cluster import alive_nodes, connect, pinned

    spec = worker_spec(backend, "Ray workers", "use the openai backend")
    count_tokens = getattr(backend, "count_tokens", None)
    ray, _ = connect(ray_address, "Load workers on a Ray cluster (--ray-address)")
    nodes = alive_nodes(ray)
    actor = ray.remote(num_cpus=0, max_restarts=0, max_concurrency=4)(LoadWorker)
    actors = [actor.options(scheduling_strategy=pinned(nodes[i % len(nodes)]["NodeID"])).remote(
        spec, i, workers, count_tokens is not None) for i in range(workers)]
    run = _Run(backend, plan, on_record)
    try:
        where = await asyncio.gather(*[a.prepare.remote(_worker_plan(plan, i, workers)) for i, a in enumerate(actors)])
        start_wall = time.time() + _LEAD_S
        run.result.t0 = perf_counter() + (start_wall - time.time())
        refs = [a.run.remote(start_wall, pause_gc) for a in actors]
        try:
            outs = await asyncio.gather(*refs)
        except asyncio.CancelledError:
            for a in actors:  # each worker cancels its in-flight requests and returns their records
                a.stop.remote()
            done, _ = ray.wait(refs, num_returns=len(refs), timeout=_STOP_WAIT_S)
            for i, ref in enumerate(refs):
                if ref in done:
                    _take(run, ray.get(ref), i, where[i]["node_id"], count_tokens)
            raise
        for i, o in enumerate(outs):
            _take(run, o, i, where[i]["node_id"], count_tokens)
            if o["interrupted"] and not run.result.interrupted:
                run.result.interrupted, run.result.reason = True, o["reason"]
    finally:
        for a in actors:
            try:
                ray.kill(a)
            except Exception:  # noqa: BLE001 - an actor already gone is fine
                pass
    return run.result


def _take(run: _Run, out: dict[str, Any], worker: int, node_id: str, count_tokens) -> None:
    for data, text in out["records"]:
        rec = RequestRecord.model_validate(data)
        rec.worker, rec.node_id = worker, node_id
        if text is not None and count_tokens is not None:
            n = count_tokens(text)
            rec.output_tokens_client = n
            if rec.output_tokens_server is None and n is not None:
                rec.output_tokens = n
        run._emit(rec)
