"""The perf stage: latency and throughput under the workload's load points (perf/), with MFU/MBU and
energy from model.json, hardware.json and the telemetry (bench.utilisation.annotate).

Its pre-flight builds the workload once (the tokenizer is loaded once for the whole run), and for a
server reached over HTTP sends one request shaped like the workload's and estimates the duration."""

from __future__ import annotations

from pathlib import Path

from benchseal import bundle as layout
from benchseal.bench.perf.metrics import mostly_failed
from benchseal.errors import ServerError, UsageError
from benchseal.pipeline.base import RunContext, Stage, StageFailed, fmt_duration
from benchseal.pipeline.spec import gpus_used


class PerfStage(Stage):
    name = "perf"
    evidence = (layout.PERF_REQUESTS, layout.PERF_SUMMARY, layout.PERF_AUDITS, layout.TELEMETRY_CSV)

    def preflight(self, ctx: RunContext) -> None:
        if ctx.workload is None:  # the server check (pre-flight stage) sends a request shaped like it
            ctx.workload = build_workload(ctx)

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.bench.perf.run import client_token_counter, run_perf

        workload, lspec = ctx.workload if ctx.workload is not None else build_workload(ctx)
        counter = client_token_counter(workload)
        if ctx.spec.backend.kind == "vllm-serve":
            backend = ctx.managed_server()
            backend.count_tokens = counter
        else:
            backend = ctx.spec.backend.build(ctx.out, count_tokens=counter)
        from benchseal.pipeline.scale import cluster_telemetry

        telemetry = cluster_telemetry(ctx)  # --ray-address: one sampler per GPU node (telemetry/<node>.csv)
        report = run_perf(backend, workload, lspec, ctx.out, annotate=annotator(ctx),
                          telemetry_csv=None if telemetry else ctx.out / layout.TELEMETRY_CSV, telemetry=telemetry,
                          ray_address=ctx.spec.ray_address, progress=True,
                          audits=audit_options(ctx))
        if telemetry is not None:  # the nodes' CSVs exist only now: energy per load point, summed over nodes
            report = reannotate(ctx, report)
        files = [layout.PERF_REQUESTS, layout.PERF_SUMMARY]
        files += [rel for rel in (layout.PERF_AUDITS, layout.PERF_SERVER_SCRAPES, layout.PERF_SERVER_METRICS,
                                  layout.TELEMETRY_CSV)
                  if ctx.bundle.has(rel)]
        tdir = ctx.out / layout.TELEMETRY_DIR
        if tdir.is_dir():
            files += sorted(f"{layout.TELEMETRY_DIR}/{p.name}" for p in tdir.iterdir() if p.is_file())
        from benchseal.pipeline.identity import record_identity

        record_identity(ctx)  # run.json: which model served these figures
        failed = mostly_failed(report, ctx.out / layout.PERF_REQUESTS)
        if failed:
            raise StageFailed(f"most requests failed: {failed}", files=files,
                              hint="the records are in perf/requests.jsonl; fix the cause and run again")
        return files


def audit_options(ctx: RunContext):
    """The audits of a claim-grade run (on unless --no-audits; docs/metrics.md, "Audits")."""
    if not getattr(ctx.spec, "audits", True):
        return None
    from benchseal.bench.perf.audits.probes import AuditOptions

    return AuditOptions(skip=dict(getattr(ctx.spec, "skip_audits", {}) or {}))


def reannotate(ctx: RunContext, report):
    """MFU/MBU and energy of every load point again, from the records and the telemetry now on disk."""
    ann = annotator(ctx)
    if ann is None or not report.load_points:
        return report
    from benchseal.io import iter_jsonl, write_json
    from benchseal.schema import RequestRecord

    records = [RequestRecord.model_validate(r) for r in iter_jsonl(ctx.out / layout.PERF_REQUESTS)]
    report = report.model_copy(update={"load_points": [ann(lp, records) for lp in report.load_points]})
    write_json(ctx.out / layout.PERF_SUMMARY, report)
    return report


def workload_file(ctx: RunContext) -> Path | None:
    name = ctx.spec.workload or (ctx.program.workload if ctx.program else None)
    if not name:
        return None
    from benchseal.config import config_path

    p = Path(name)
    return p if p.suffix in (".yaml", ".yml") and p.exists() else config_path("workloads", f"{name}.yaml")


def workload_specs(ctx: RunContext):
    from benchseal.bench.perf.run import LoadSpec, load_workload_file
    from benchseal.bench.perf.workload import WorkloadSpec

    wl_file = workload_file(ctx)
    if wl_file is not None:
        if not wl_file.is_file():
            raise UsageError("the workload file does not exist", where=str(wl_file),
                             hint="pass --workload with a name in configs/workloads/ or a YAML path")
        return load_workload_file(wl_file)
    return WorkloadSpec(), LoadSpec()


def resolve_endpoint(ctx: RunContext, chat_workload: bool) -> None:
    """A chat workload goes to the chat endpoint unless --endpoint said otherwise (then refused)."""
    backend = ctx.spec.backend
    if not backend.uses_server or not hasattr(backend, "endpoint"):
        return
    explicit = "endpoint" in backend.model_fields_set
    if chat_workload and backend.endpoint != "chat":
        if explicit:
            raise UsageError("the workload sends chat messages but --endpoint completions was given",
                             hint="drop --endpoint (the chat endpoint is chosen for a chat workload) or pass --endpoint chat")
        ctx.set_spec(ctx.spec.model_copy(update={"backend": backend.model_copy(update={"endpoint": "chat"})}))
        ctx.log("[preflight] the workload is chat: requests go to the chat endpoint (/v1/chat/completions)")


def build_workload(ctx: RunContext):
    """(Workload, LoadSpec): the program's (or --workload's) prompts with the tokenizer loaded once."""
    from benchseal.bench.perf.workload import build_workload as _build

    wspec, lspec = workload_specs(ctx)
    chat = wspec.chat or getattr(ctx.spec.backend, "endpoint", None) == "chat"
    resolve_endpoint(ctx, chat)
    wspec = wspec.model_copy(update={"chat": chat})
    if getattr(ctx.spec, "audits", True):
        from benchseal.bench.perf.audits import prompts_for_unique_load

        wspec = prompts_for_unique_load(wspec, lspec)
    return _build(wspec, model_path_or_tokenizer=wspec.tokenizer or ctx.spec.model_path), lspec


def check_server(ctx: RunContext) -> None:
    """Reach the server, check the model is served, send one test request; estimate the perf duration."""
    import asyncio
    import dataclasses
    import time

    backend = ctx.spec.backend.build(ctx.out)
    load = ctx.workload[1] if ctx.workload is not None else None
    limit = getattr(load, "request_timeout_s", None) or 120.0
    own = getattr(backend, "request_timeout_s", None)
    if isinstance(own, (int, float)):  # the backend's own test request honours the workload's timeout too
        backend.request_timeout_s = min(own, limit)

    async def probe():
        await backend.start()  # /v1/models, the served model, credentials, one tiny request
        try:
            if ctx.workload is None:
                return None
            first = ctx.workload[0].requests[0]
            n = max(1, min(16, first.max_tokens))
            req = dataclasses.replace(first, max_tokens=n, request_id=-1)
            t0 = time.perf_counter()
            rec = await backend.send(req, load_point="preflight", t0=t0, timeout_s=min(120.0, limit))
            return rec, n
        finally:
            await backend.close()

    got = asyncio.run(probe())
    if got is None:
        return
    rec, n = got
    if rec.status != "ok":
        code = rec.http_status or 0
        cls = UsageError if 400 <= code < 500 or (rec.error or "").startswith("bad-request") else ServerError
        raise cls(f"the server refused a test request shaped like the workload's: {rec.error}",
                  hint="check --endpoint, --server-ignore-eos and the server's accepted parameters")
    estimate(ctx, rec, n)


def estimate(ctx: RunContext, rec, n: int) -> None:
    """A lower bound on the perf stage's duration from the test request (no queueing assumed)."""
    wl, load = ctx.workload
    if rec.end_s is None or rec.send_s is None:
        return
    ttft = (rec.first_token_s - rec.send_s) if rec.first_token_s is not None else 0.0
    per_tok = max(0.0, (rec.end_s - rec.send_s - ttft) / max(1, n - 1))
    reqs = wl.requests
    mean_out = sum(r.max_tokens for r in reqs) / len(reqs)
    one = ttft + per_tok * mean_out
    total = 0.0
    for _, mode, conc, rate in load.points():
        count = (load.num_requests or len(reqs)) + load.warmup_requests
        if load.duration_s is not None:
            total += load.duration_s
        elif mode == "rate" and rate and rate != float("inf"):
            total += count / rate + one
        else:
            total += count / max(1, conc or 1) * one
    ctx.log(f"[preflight] estimated perf duration at least {fmt_duration(total)} "
            f"({len(load.points())} load points; one request of ~{mean_out:.0f} tokens took about {one:.1f} s)")


def annotator(ctx: RunContext):
    """Adds MFU/MBU/energy per load point from model.json and hardware.json (when present)."""
    card = ctx.bundle.model()
    if card is None or not card.config:
        return None
    from benchseal.bench.utilisation.mfu import annotate

    config = card.config
    num_gpus = gpus_used(ctx.spec)
    hardware = ctx.bundle.hardware()
    dtype = ctx.spec.backend.weights_dtype()
    dtype = dtype if dtype != "auto" else (card.dtype or "bf16")
    telemetry = ctx.bundle.path(layout.TELEMETRY_CSV)
    if ctx.spec.ray_address:  # telemetry/<node>.csv, written when the samplers stop; energy summed over nodes
        telemetry = ctx.bundle.path(layout.TELEMETRY_DIR)

    def _annotate(summary, records):
        return annotate(summary, records, model_config=config, hardware=hardware, dtype=dtype,
                        telemetry_csv=telemetry if telemetry.exists() else None, num_gpus=num_gpus)

    return _annotate
