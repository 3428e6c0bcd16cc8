"""``run_perf``: drive a backend through the load points of a :class:`LoadSpec` and write
``perf/requests.jsonl`` (one line per request, as it completes) and ``perf/summary.json`` (after
every load point, so a crash loses nothing measured). See docs/metrics.md for definitions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable

from pydantic import Field, PlainSerializer, field_validator, model_validator

from benchseal.bench.perf.backends.base import GenRequest, OfflineBackend, StreamingBackend
from benchseal.bench.perf.loadgen import LoadPointPlan, run_load_point
from benchseal.bench.perf.metrics import SLO_KEYS, summarize_load_point
from benchseal.bench.perf.search import SearchSpec
from benchseal import interrupts
from benchseal.errors import ConfigError, RunInterrupted
from benchseal.io import JsonlWriter, load_yaml, validate, write_json
from benchseal.bundle import PERF_AUDITS, PERF_REQUESTS, PERF_SUMMARY
from benchseal.schema import LoadPointSummary, PerfReport, RequestRecord, Strict


Rate = Annotated[float, PlainSerializer(lambda v: "inf" if v == math.inf else v, when_used="json")]
"""Requests per second; ``inf`` (written "inf" in JSON) sends every request at t=0."""


class LoadSpec(Strict):
    """How hard and how long to drive the model. Empty ``concurrency`` and ``rates`` mean one
    closed-loop load point at concurrency 1."""

    concurrency: list[int] = Field(default_factory=list)
    rates: list[Rate] = Field(default_factory=list)  # requests per second; inf = all at once
    burstiness: float = Field(1.0, gt=0)  # gamma shape of inter-arrival times; 1 = Poisson
    max_concurrency: int | None = Field(None, ge=1)  # cap on in-flight requests in open loop
    num_requests: int | None = Field(None, ge=1)  # counted requests per load point
    duration_s: float | None = Field(None, gt=0)  # stop sending after this long (per load point)
    warmup_requests: int = Field(0, ge=0)  # sent first in each load point, excluded from the summary
    request_timeout_s: float | None = Field(600.0, gt=0)
    slo: dict[str, float] = Field(default_factory=dict)  # ttft_ms, tpot_ms, itl_ms, e2el_ms
    seed: int = 0
    workers: int = Field(1, ge=1)  # sending processes (each its own event loop); 1 = one event loop
    repeats: int = Field(1, ge=1)  # run every load point this many times in a row (bench.perf.repeats)
    search: SearchSpec | None = None  # SLA search instead of the listed load points (bench.perf.search)

    @field_validator("concurrency")
    @classmethod
    def _conc(cls, v: list[int]) -> list[int]:
        if any(c < 1 for c in v):
            raise ValueError("concurrency levels must be >= 1")
        return v

    @field_validator("rates")
    @classmethod
    def _rates(cls, v: list[float]) -> list[float]:
        if any(not r > 0 for r in v):
            raise ValueError("rates must be > 0 (use inf for all at once)")
        return v

    @field_validator("slo")
    @classmethod
    def _slo(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - set(SLO_KEYS))
        if bad:
            raise ValueError(f"unknown SLO keys {bad}; use {', '.join(SLO_KEYS)}")
        return v

    @model_validator(mode="after")
    def _search_needs_slo(self) -> "LoadSpec":
        if self.search is not None and not self.slo:
            raise ValueError("an SLA search needs SLOs to meet: pass --slo, e.g. ttft_ms=500,tpot_ms=50")
        return self

    def points(self) -> list[tuple[str, str, int | None, float | None]]:
        """(id, mode, concurrency, rate) of every load point, in order."""
        pts: list[tuple[str, str, int | None, float | None]] = [(f"concurrency={c}", "concurrency", c, None) for c in self.concurrency]
        pts += [(f"rate={r:g}", "rate", self.max_concurrency, r) for r in self.rates]
        pts = pts or [("concurrency=1", "concurrency", 1, None)]
        if self.repeats > 1:
            from benchseal.bench.perf.repeats import repeat_id

            pts = [(repeat_id(i, k), m, c, r) for i, m, c, r in pts for k in range(1, self.repeats + 1)]
        return pts


def load_workload_file(path: str | Path):
    """Read a workload YAML (``workload:`` = WorkloadSpec, ``load:`` = LoadSpec): a path, or a name
    in configs/workloads/. Returns (WorkloadSpec, LoadSpec)."""
    from benchseal.bench.perf.workload import WorkloadSpec

    p = Path(path)
    if not p.exists() and p.suffix == "" and "/" not in str(path):
        from benchseal.config import config_path

        p = config_path("workloads", f"{path}.yaml")
        if not p.exists():
            raise ConfigError(f"no workload named '{path}'", where=str(p), hint="pass a YAML path or a name in configs/workloads/")
    data = load_yaml(p)
    if not isinstance(data, dict) or set(data) - {"workload", "load"}:
        raise ConfigError("a workload file has two top-level keys, 'workload' and 'load'", where=str(p))
    spec = validate(WorkloadSpec, data.get("workload") or {}, where=f"{p}: workload")
    load = validate(LoadSpec, data.get("load") or {}, where=f"{p}: load")
    return spec, load


@dataclass
class _PlainWorkload:
    requests: list[GenRequest]
    sha256: str | None = None
    description: dict[str, Any] = field(default_factory=dict)

    def count_tokens(self, text: str) -> int | None:
        return None


def client_token_counter(workload: Any) -> Callable[[str], int | None] | None:
    """The workload's client tokenizer as a counter for backends (None when it has no tokenizer),
    passed to the backend when it is built (``BackendSpec.build(count_tokens=...)``)."""
    count = getattr(workload, "count_tokens", None)
    if count is None or count("a") is None:
        return None
    return count


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


class _Progress:
    """A rich progress bar on stderr (one task per load point); a no-op when disabled."""

    def __init__(self, enabled: bool) -> None:
        self._p = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                               TextColumn("ok {task.fields[ok]} failed {task.fields[failed]}"), TimeElapsedColumn(),
                               console=Console(stderr=True), transient=False)
            self._p.start()
        self._task = None

    def begin(self, name: str, total: int | None) -> None:
        if self._p is not None:
            self._task = self._p.add_task(name, total=total, ok=0, failed=0)
            self.ok = self.failed = 0

    def advance(self, rec: RequestRecord) -> None:
        if self._p is not None and self._task is not None:
            if rec.status == "ok":
                self.ok += 1
            else:
                self.failed += 1
            self._p.update(self._task, advance=1, ok=self.ok, failed=self.failed)

    def stop(self) -> None:
        if self._p is not None:
            self._p.stop()


def run_perf(
    backend,
    workload,
    load: LoadSpec,
    out_dir: Path,
    *,
    annotate: Callable[[LoadPointSummary, list[RequestRecord]], LoadPointSummary] | None = None,
    telemetry_csv: Path | None = None,
    telemetry=None,
    ray_address: str | None = None,
    progress: bool = True,
    server_metrics=None,
    audits=None,
) -> PerfReport:
    """Measure every load point of ``load`` (see module docstring). Raises RunInterrupted (exit 3)
    when the server dies or on Ctrl-C, after writing everything measured with status ``partial``.

    ``server_metrics`` (:class:`~benchseal.bench.perf.server_metrics.ServerMetricsOptions`; default:
    the ``server_metrics`` attribute a backend built by an HTTP spec carries) scrapes the server's
    /metrics around and during every load point (perf/server_scrapes.jsonl, perf/server_metrics.json).

    ``audits`` (:class:`~benchseal.bench.perf.audits.probes.AuditOptions`; None: no audits) sends the
    audit probes, gives each load point prompts no other load point sent, and writes the audits'
    verdicts into the summary (``audits``) with their raw rows in perf/audits.jsonl.


    ``telemetry`` replaces this host's NVML sampler on ``telemetry_csv`` by the caller's context manager
    (one sampler per Ray node: :class:`benchseal.hw.cluster_telemetry.ClusterTelemetry`)."""
    if isinstance(workload, list):
        workload = _PlainWorkload(workload)
    out_dir = Path(out_dir)
    report = PerfReport(
        backend=getattr(backend, "name", type(backend).__name__),
        model=str(getattr(backend, "model", "") or ""),
        endpoint=getattr(backend, "endpoint", None),
        workload={**dict(getattr(workload, "description", {}) or {}), "sha256": getattr(workload, "sha256", None)},
        load=load.model_dump(mode="json"),
        status="partial",
        notes=["in progress"],
    )
    runner = _Runner(backend, workload, load, out_dir, report, annotate, progress)
    runner.ray_address = ray_address if callable(getattr(backend, "clone_spec", None)) else None
    if ray_address and runner.ray_address is None:
        report.notes.append("load generated in this process: the backend runs in-process, so it cannot send from Ray "
                            "actors; telemetry still covers the cluster")
    if runner.ray_address:
        report.notes.append(f"load workers: {load.workers} Ray actor(s) spread over the nodes of the Ray cluster at "
                            f"{ray_address}; each record names its worker and node (docs/metrics.md, 'Load workers')")
    runner.metrics_options = server_metrics if server_metrics is not None else getattr(backend, "server_metrics", None)
    runner.audit_options = audits if audits is not None and getattr(audits, "enabled", False) else None
    sampler = _start_telemetry(telemetry_csv, report, telemetry)
    try:
        interrupts.check("before the measurement started")
        if isinstance(backend, OfflineBackend) and not isinstance(backend, StreamingBackend):
            runner.offline()
        else:
            from benchseal.bench.perf.loadgen import eventloop

            eventloop.run(_until_signal(runner.streaming()))
    except (KeyboardInterrupt, asyncio.CancelledError, RunInterrupted) as exc:
        if isinstance(exc, asyncio.CancelledError) and interrupts.requested() is None:
            raise
        why = interrupts.describe() if interrupts.requested() else "interrupted by the user (Ctrl-C)"
        with interrupts.deferred():  # a second signal must not cut the partial summary short
            runner.finish_partial(why)
        raise RunInterrupted(
            f"{why}; {runner.n_written} requests measured so far are kept in {out_dir / PERF_REQUESTS}",
            hint="the summary is marked partial; a load point cut short is summarised from its completed requests",
        ) from None
    except _ServerDied as exc:
        raise RunInterrupted(
            f"{exc}; {runner.n_written} requests measured so far are kept in {out_dir / PERF_REQUESTS}",
            hint="the summary is marked partial; restart the server and run again",
        ) from None
    finally:
        runner.progress.stop()
        runner.close()
        _stop_telemetry(sampler, report)
    report.status = "complete"
    report.notes = [n for n in report.notes if n != "in progress"]
    report.capabilities = {**_capabilities(backend), **runner.loop_info}
    runner.derive_audits()
    write_json(out_dir / PERF_SUMMARY, report)
    return report


def _repeat_of(load_point: str) -> int:
    head, _, k = load_point.partition("#")
    return int(k) if k.isdigit() else 1


class _ServerDied(Exception):
    pass


async def _until_signal(coro):
    """Run ``coro`` as this task; SIGINT, SIGTERM or SIGHUP cancel it (once), so in-flight requests
    are recorded as cancelled and the caller summarises what completed (benchseal.interrupts)."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    with interrupts.loop_handlers(loop, lambda: task.cancel() if task is not None and not task.done() else None):
        return await coro


def _capabilities(backend) -> dict[str, Any]:
    try:
        return dict(backend.capabilities())
    except Exception:
        return {}


def _start_telemetry(csv_path: Path | None, report: PerfReport, sampler=None):
    """This host's NVML sampler on ``csv_path``, or the caller's ``sampler`` (e.g. one actor per Ray node,
    :class:`benchseal.hw.cluster_telemetry.ClusterTelemetry`)."""
    if csv_path is None and sampler is None:
        return None
    try:
        from benchseal.hw import TelemetrySampler

        sampler = sampler if sampler is not None else TelemetrySampler(csv_path, 0.1)
        sampler.__enter__()
        return sampler
    except Exception as exc:  # telemetry must never stop a measurement
        report.notes.append(f"GPU telemetry not recorded: {type(exc).__name__}: {exc}")
        return None


def _stop_telemetry(sampler, report: PerfReport) -> None:
    if sampler is None:
        return
    try:
        sampler.__exit__(None, None, None)
        res = getattr(sampler, "result", None)
        if isinstance(res, dict):  # ClusterTelemetry: one entry per node
            if res.get("note") not in (None, "ok"):
                report.notes.append(f"GPU telemetry: {res['note']}")
        elif res is not None and not getattr(res, "available", True):
            report.notes.append(f"GPU telemetry: {getattr(res, 'note', 'not available')}")
    except Exception as exc:
        report.notes.append(f"GPU telemetry stopped with an error: {type(exc).__name__}: {exc}")


class _Runner:
    def __init__(self, backend, workload, load: LoadSpec, out_dir: Path, report: PerfReport, annotate, progress: bool):
        self.backend, self.workload, self.load, self.out_dir = backend, workload, load, out_dir
        self.report, self.annotate = report, annotate
        self.progress = _Progress(progress)
        self.writer: JsonlWriter | None = None
        self.n_written = 0
        self.current: tuple[str, str, int | None, float | None, str] | None = None
        self.lp_records: list[RequestRecord] = []
        self.metrics_options = None
        self.collector = None
        self.audit_options = None
        self.audit_writer: JsonlWriter | None = None
        self.probes = None
        self.loop_info: dict[str, str] = {}  # the event loop the load ran on (bench.perf.loadgen.eventloop)
        self.sent_total = 0  # requests sent so far (all load points): where the next load point's prompts start
        self.ceiling: dict[str, Any] | None = None  # the client-overhead certificate of the current load point
        self.ray_address: str | None = None  # load workers as Ray actors on this cluster

    def start_collector(self) -> None:
        """Server-side metrics (after backend.start(): a managed server's URL is known only then)."""
        opts = self.metrics_options
        if opts is None or not getattr(opts, "enabled", False):
            return
        from benchseal.bench.perf.server_metrics import Collector

        model = getattr(self.backend, "served_model_name", None) or getattr(self.backend, "model", None)
        try:
            self.collector = Collector(opts, self.out_dir, base_url=getattr(self.backend, "base_url", None),
                                       model=str(model) if model else None, warmup=self.load.warmup_requests)
        except Exception as exc:  # server metrics never stop a measurement
            self.report.notes.append(f"server metrics not collected: {type(exc).__name__}: {exc}")

    async def metrics_begin(self, lp: str) -> None:
        if self.collector is not None:
            try:
                await self.collector.begin(lp)
            except Exception as exc:
                self._metrics_failed(exc)

    async def metrics_end(self, lp: str) -> None:
        if self.collector is not None:
            try:
                await self.collector.end(lp, self.lp_records)
            except Exception as exc:
                self._metrics_failed(exc)

    async def metrics_close(self) -> None:
        if self.collector is not None:
            c, self.collector = self.collector, None
            try:
                await c.close()
            except Exception as exc:
                self.report.notes.append(f"server metrics stopped with an error: {type(exc).__name__}: {exc}")

    def _metrics_failed(self, exc: Exception) -> None:
        self.report.notes.append(f"server metrics stopped with an error: {type(exc).__name__}: {exc}")
        self.collector = None

    def open(self) -> None:
        self.writer = JsonlWriter(self.out_dir / PERF_REQUESTS, per_loop_turn=True)
        write_json(self.out_dir / PERF_SUMMARY, self.report)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.audit_writer is not None:
            self.audit_writer.close()

    # audits (bench.perf.audits) -----------------------------------------------------------------
    def open_audits(self) -> None:
        if self.audit_options is None:
            return
        from benchseal.bench.perf.audits.probes import Probes

        self.audit_writer = JsonlWriter(self.out_dir / PERF_AUDITS)
        self.probes = Probes(self.backend, self.workload, self.audit_options, self.audit_writer.write)
        self.probes.record_skips()

    def derive_audits(self) -> None:
        """The audits' verdicts from the files as written (what verify re-derives); never raises."""
        if self.audit_options is None or self.writer is None:
            return
        from benchseal.bench.perf.audits import derive_audits
        from benchseal.io import iter_jsonl

        try:
            if self.audit_writer is not None:
                self.audit_writer.close()
            self.writer.close()
            records = [RequestRecord.model_validate(r) for r in iter_jsonl(self.out_dir / PERF_REQUESTS)]
            rows = list(iter_jsonl(self.out_dir / PERF_AUDITS)) if (self.out_dir / PERF_AUDITS).exists() else []
            self.report.audits = derive_audits(self.report.model_dump(mode="json"), records, rows)
        except Exception as exc:  # an audit must never lose the measurement
            self.report.notes.append(f"audits not derived: {type(exc).__name__}: {exc}")

    def on_record(self, rec: RequestRecord) -> None:
        self.writer.write_model(rec)  # type: ignore[union-attr]
        self.n_written += 1
        self.lp_records.append(rec)
        self.progress.advance(rec)

    def summarize(self, interrupted: bool = False) -> None:
        lp, mode, conc, rate, started = self.current  # type: ignore[misc]
        s = summarize_load_point(self.lp_records, load_point=lp, mode=mode, concurrency=conc,
                                 rate=rate if rate is not None and math.isfinite(rate) else None,
                                 burstiness=self.load.burstiness if mode == "rate" else None,
                                 started_at=started, ended_at=_now_iso(), slo=self.load.slo or None,
                                 interrupted=interrupted, repeat=_repeat_of(lp) if self.load.repeats > 1 else None,
                                 client_ceiling=self.ceiling)
        if self.annotate is not None:
            s = self.annotate(s, self.lp_records)
        self.report.load_points.append(s)
        if self.load.repeats > 1:
            from benchseal.bench.perf.repeats import repeat_spread

            self.report.repeat_spread = repeat_spread([p.model_dump(mode="json") for p in self.report.load_points])
        write_json(self.out_dir / PERF_SUMMARY, self.report)
        self.current = None

    def finish_partial(self, why: str) -> None:
        if self.writer is None:
            return
        if self.current is not None:
            self.summarize(interrupted=True)
        self.report.status = "partial"
        self.report.notes = [n for n in self.report.notes if n != "in progress"] + [f"partial: {why}"]
        self.report.capabilities = {**_capabilities(self.backend), **self.loop_info}
        self.derive_audits()
        write_json(self.out_dir / PERF_SUMMARY, self.report)

    def plan(self, lp: str, conc: int | None, rate: float | None) -> LoadPointPlan:
        ld = self.load
        reqs = list(self.workload.requests)
        if self.audit_options is not None and reqs:  # unique prompts across load points: start where the last one ended
            k = self.sent_total % len(reqs)
            reqs = reqs[k:] + reqs[:k]
        return LoadPointPlan(load_point=lp, requests=reqs, concurrency=conc, rate=rate,
                             burstiness=ld.burstiness, num_requests=ld.num_requests, duration_s=ld.duration_s,
                             warmup=ld.warmup_requests, timeout_s=ld.request_timeout_s, seed=ld.seed)

    async def streaming(self) -> None:
        own = getattr(self.backend, "request_timeout_s", None)
        if self.load.request_timeout_s is not None and isinstance(own, (int, float)):
            # the pre-flight request honours --timeout too (it is a request like the measured ones)
            self.backend.request_timeout_s = min(own, self.load.request_timeout_s)
        from benchseal.bench.perf.loadgen.eventloop import loop_name

        self.loop_info = {"event_loop": loop_name(asyncio.get_running_loop())}
        await self.backend.start()
        try:
            self.open()
            self.open_audits()
            if self.probes is not None:
                await self.probes.cache()
                await self.probes.accuracy_at_rest()
            self.start_collector()
            if self.load.search is not None:
                await self.search(self.load.search)
                return
            points = self.load.points()
            for i, (lp, mode, conc, rate) in enumerate(points):
                await self.measure(lp, mode, conc, rate, probe=i == len(points) - 1)
        finally:
            await self.metrics_close()
            await self.backend.close()

    async def measure(self, lp: str, mode: str, conc: int | None, rate: float | None, *, probe: bool) -> None:
        """One load point: measured, summarised and written (``probe``: with the accuracy probes)."""
        self.lp_records = []
        plan = self.plan(lp, conc, rate)
        await self.certify(plan, conc)
        await self.metrics_begin(lp)
        self.current = (lp, mode, conc, rate, _now_iso())
        self.progress.begin(lp, plan.total())
        res = await run_load_point(self.backend, plan, self.on_record, workers=self.load.workers,
                                   ray_address=self.ray_address)
        self.sent_total += len(self.lp_records)
        if res.interrupted:
            reason = res.reason or "the server stopped answering"
            exit_note = getattr(self.backend, "exit_note", None)  # a managed server: did its process exit?
            if callable(exit_note):
                why = await asyncio.to_thread(exit_note)
                reason = f"{reason}: {why}" if why else reason
            await self.metrics_end(lp)
            self.finish_partial(reason)
            raise _ServerDied(f"{reason} during load point {lp}")
        await self.metrics_end(lp)
        self.summarize()
        if self.probes is not None and probe:
            await self._probe_under_load(plan, lp)

    async def certify(self, plan: LoadPointPlan, conc: int | None) -> None:
        """The client-overhead certificate of the next load point (bench.perf.certificate)."""
        self.ceiling = None
        opts = self.audit_options
        if opts is None or not getattr(opts, "certificate", False):
            return
        if self.load.workers > 1:
            self.ceiling = {"status": "not-run", "reason": "not measured with --workers above 1"}
            return
        from benchseal.bench.perf.certificate import OPEN_LOOP_CONCURRENCY, measure_ceiling

        try:
            self.ceiling = await measure_ceiling(self.backend, plan.requests, conc or OPEN_LOOP_CONCURRENCY)
        except Exception as exc:  # the certificate must never lose the measurement
            self.ceiling = {"status": "not-run", "reason": f"{type(exc).__name__}: {exc}"[:300]}

    async def search(self, spec) -> None:
        """SLA search (bench.perf.search): probe loads until the highest one meeting the SLOs is
        bracketed one step apart; every probed point is a load point; the accuracy probes run under
        every probed load."""
        from benchseal.bench.perf.search import evaluate, level_id, meets, next_level

        history: list[tuple[float, bool]] = []
        while True:
            level = next_level(spec, history)
            if level is None or any(level == h for h, _ in history):
                break
            conc = int(level) if spec.mode == "concurrency" else self.load.max_concurrency
            rate = level if spec.mode == "rate" else None
            lp = level_id(spec.mode, level)
            await self.measure(lp, spec.mode, conc, rate, probe=True)
            ok, _, _ = meets(self.report.load_points[-1].model_dump(mode="json"), spec)
            history.append((level, ok))
            self.report.search = evaluate(spec, [p.model_dump(mode="json") for p in self.report.load_points])
            write_json(self.out_dir / PERF_SUMMARY, self.report)

    async def _probe_under_load(self, plan: LoadPointPlan, lp: str) -> None:
        """The accuracy probes, under the load point's load sent again after its closing /metrics
        scrape (outside every load point's server-metrics window; bench.perf.audits.load)."""
        from benchseal.bench.perf.audits.load import accuracy_under_audit_load

        try:
            self.sent_total += await accuracy_under_audit_load(self.probes, self.backend, plan, after=lp,
                                                               offset=len(self.lp_records))
        except Exception as exc:  # a probe must never lose the measurement
            self.report.notes.append(f"accuracy probe under load failed: {type(exc).__name__}: {exc}")

    def offline(self) -> None:
        """An offline backend (vLLM ``LLM``): all requests of the load point submitted at once."""
        self.open()
        self.open_audits()
        ld = self.load
        reqs = list(self.workload.requests)
        n = ld.num_requests or len(reqs)
        batch = [dataclasses.replace(reqs[i % len(reqs)], request_id=i) for i in range(n)]
        self.current = ("offline", "offline", None, math.inf, _now_iso())
        self.lp_records = []
        self.progress.begin("offline", n)
        try:
            records = self.backend.run_batch(batch, load_point="offline")
        finally:
            self.backend.close()
        for rec, req in zip(records, batch):
            rec.prompt_id = reqs[req.request_id % len(reqs)].request_id
            self.on_record(rec)
        lp, mode, _, _, started = self.current
        self.current = (lp, mode, None, None, started)
        self.summarize()
