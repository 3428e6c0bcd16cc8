"""``benchseal perf``: inference latency and throughput under defined load (推理延迟、吞吐量)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from benchseal.bench.perf.backends.spec import add_backend_args, spec_from_args
from benchseal.commands._common import HelpFormatter, add_json_flag, console, print_json


def _csv(kind: type, flag: str) -> Callable[[str], list]:
    def parse(text: str) -> list:
        try:
            return [kind(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a comma-separated list of numbers, got '{text}'") from None

    return parse


def _slo(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        key, sep, val = part.partition("=")
        try:
            out[key.strip()] = float(val)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--slo takes KEY=MS pairs such as ttft_ms=500,tpot_ms=50, got '{text}'") from None
        if not sep:
            raise argparse.ArgumentTypeError(f"--slo takes KEY=MS pairs such as ttft_ms=500,tpot_ms=50, got '{text}'")
    return out


def register(subparsers) -> None:
    p = subparsers.add_parser("perf", help="measure latency (TTFT, TPOT, ITL, E2EL) and throughput under load",
                              description=__doc__, formatter_class=HelpFormatter)
    add_backend_args(p, default="openai", model_required=False)
    w = p.add_argument_group("workload")
    w.add_argument("--workload", metavar="NAME|PATH", help="workload YAML (configs/workloads/NAME.yaml); flags override it")
    w.add_argument("--tokenizer", help="client tokenizer path (default: --model when it is a directory)")
    w.add_argument("--input-len", type=int)
    w.add_argument("--output-len", type=int)
    w.add_argument("--spread", type=float, help="relative ± spread of input and output lengths")
    w.add_argument("--num-prompts", type=int)
    w.add_argument("--prompts", metavar="FILE.jsonl", help="prompt file, one JSON object per line")
    w.add_argument("--sharegpt", metavar="FILE", help="ShareGPT-format JSON")
    w.add_argument("--seed", type=int)
    ld = p.add_argument_group("load")
    ld.add_argument("--concurrency", type=_csv(int, "--concurrency"), help="closed-loop levels, e.g. 1,4,16,64")
    ld.add_argument("--rate", type=_csv(float, "--rate"), help="open-loop request rates per second, e.g. 2,8 (inf = all at once)")
    ld.add_argument("--burstiness", type=float, help="gamma shape of inter-arrival times (1 = Poisson)")
    ld.add_argument("--max-concurrency", type=int, help="cap on in-flight requests in open loop")
    ld.add_argument("--num-requests", type=int, help="counted requests per load point")
    ld.add_argument("--duration", type=float, metavar="S", help="seconds per load point")
    ld.add_argument("--warmup", type=int, metavar="N", help="warm-up requests per load point (excluded)")
    ld.add_argument("--workers", type=int, metavar="N", help="sending processes, each with its own event loop (default 1; "
                    "for many-core hosts); with --ray-address, Ray actors spread over the cluster's nodes")
    ld.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster (benchseal never starts one): load "
                    "workers run as Ray actors over its nodes, telemetry is sampled on every GPU node "
                    "(telemetry/<node>.csv), and vllm-serve's Ray executor joins it")
    ld.add_argument("--repeats", type=int, metavar="N", help="run every load point N times in a row and report the run-to-run spread")
    ld.add_argument("--timeout", type=float, metavar="S", help="per-request timeout")
    ld.add_argument("--slo", type=_slo, help="goodput SLOs, e.g. ttft_ms=500,tpot_ms=50")
    se = p.add_argument_group("SLA search (docs/metrics.md, SLA search)")
    se.add_argument("--search", choices=("rate", "concurrency"),
                    help="find the highest load meeting --slo instead of measuring listed load points; every probed point is kept")
    se.add_argument("--search-start", type=float, metavar="X", help="first load probed (default 1)")
    se.add_argument("--search-max", type=float, metavar="X", help="highest load probed (default 1024)")
    se.add_argument("--slo-attainment", type=float, metavar="F",
                    help="share of completed requests that must meet every SLO (default 0.99)")
    au = p.add_argument_group("audits (docs/metrics.md, Audits)")
    au.add_argument("--no-audits", action="store_true",
                    help="make no audits (no probe requests; prompts may repeat across load points); claims then rest on unaudited figures")
    au.add_argument("--no-certificate", action="store_true",
                    help="do not measure the client's own ceiling on a null server before each load point")
    au.add_argument("--skip-audit", action="append", metavar="NAME[:REASON]",
                    help="skip one audit, recording the reason (first-content, output-consistency, prompt-reuse, cache, "
                         "accuracy-under-load); repeatable")
    o = p.add_argument_group("output")
    o.add_argument("--out", required=True, metavar="DIR", help="bundle directory (writes perf/requests.jsonl, perf/summary.json)")
    o.add_argument("--export", choices=("csv", "parquet"), help="also write the request and summary tables")
    o.add_argument("--no-progress", action="store_true", help="no live progress bar")
    add_json_flag(p)
    p.set_defaults(func=run)


# --- resolving flags ---------------------------------------------------------------------------
def _load_specs(a: argparse.Namespace):
    from benchseal.bench.perf.run import LoadSpec, load_workload_file
    from benchseal.bench.perf.workload import WorkloadSpec
    from benchseal.io import validate

    wspec, lspec = load_workload_file(a.workload) if a.workload else (WorkloadSpec(), LoadSpec())
    w = wspec.model_dump()
    if a.prompts:
        w.update(kind="jsonl", prompts_path=a.prompts)
        if a.num_prompts is None:
            w["num_prompts"] = 10**9  # every prompt of the file
    if a.sharegpt:
        w.update(kind="sharegpt", sharegpt_path=a.sharegpt)
    for flag, key in (("input_len", "input_len"), ("output_len", "output_len"), ("spread", "spread"),
                      ("num_prompts", "num_prompts"), ("seed", "seed"), ("tokenizer", "tokenizer")):
        if getattr(a, flag) is not None:
            w[key] = getattr(a, flag)
    if a.endpoint == "chat":
        w["chat"] = True
    load = lspec.model_dump()
    for flag, key in (("concurrency", "concurrency"), ("rate", "rates"), ("burstiness", "burstiness"),
                      ("max_concurrency", "max_concurrency"), ("num_requests", "num_requests"), ("duration", "duration_s"),
                      ("warmup", "warmup_requests"), ("timeout", "request_timeout_s"), ("slo", "slo"), ("seed", "seed"),
                      ("workers", "workers"), ("repeats", "repeats")):
        if getattr(a, flag) is not None:
            load[key] = getattr(a, flag)
    if getattr(a, "search", None):
        search = {"mode": a.search}
        for flag, key in (("search_start", "start"), ("search_max", "limit"), ("slo_attainment", "attainment")):
            if getattr(a, flag) is not None:
                search[key] = getattr(a, flag)
        load["search"] = search
    return validate(WorkloadSpec, w, where="command line"), validate(LoadSpec, load, where="command line")


def audit_options(a: argparse.Namespace):
    """The AuditOptions of ``--no-audits`` / ``--skip-audit`` (None: no audits)."""
    from benchseal.bench.perf.audits import AUDIT_NAMES
    from benchseal.bench.perf.audits.probes import AuditOptions
    from benchseal.errors import UsageError

    if getattr(a, "no_audits", False):
        return None
    skip: dict[str, str] = {}
    for item in getattr(a, "skip_audit", None) or []:
        name, _, why = item.partition(":")
        if name.strip() not in AUDIT_NAMES:
            raise UsageError(f"--skip-audit names an unknown audit '{name.strip()[:60]}'", hint=f"use one of {', '.join(AUDIT_NAMES)}")
        skip[name.strip()] = why.strip() or "skipped with --skip-audit"
    return AuditOptions(skip=skip, certificate=not getattr(a, "no_certificate", False))


def run(a: argparse.Namespace) -> int:
    from benchseal.bench.perf.run import client_token_counter, run_perf
    from benchseal.bench.perf.workload import build_workload
    from benchseal.bundle import TELEMETRY_CSV

    spec = spec_from_args(a)  # refuses a key given instead of a variable name, never echoing it
    out = Path(a.out)
    wspec, load = _load_specs(a)
    audits = audit_options(a)
    if audits is not None and a.num_prompts is None:
        from benchseal.bench.perf.audits import prompts_for_unique_load

        wspec = prompts_for_unique_load(wspec, load)
    elif audits is not None:
        import sys

        from benchseal.bench.perf.audits import fixed_prompts_note

        note = fixed_prompts_note(wspec, load)
        if note:
            print(note, file=sys.stderr)
    tok_source = a.tokenizer or (a.model if Path(a.model).is_dir() else None)
    workload = build_workload(wspec, model_path_or_tokenizer=tok_source)
    extra = {"ray_address": a.ray_address} if a.ray_address and spec.kind == "vllm-serve" else {}
    telemetry = None
    if a.ray_address:
        from benchseal.bundle import TELEMETRY_DIR
        from benchseal.hw.cluster import connect

        connect(a.ray_address, "Load workers and telemetry on a Ray cluster (--ray-address)")  # fails here, in one sentence
        from benchseal.hw.cluster_telemetry import ClusterTelemetry

        telemetry = ClusterTelemetry(a.ray_address, out / TELEMETRY_DIR)
    report = run_perf(spec.build(out, count_tokens=client_token_counter(workload), **extra), workload, load, out,
                      telemetry_csv=None if telemetry else out / TELEMETRY_CSV, telemetry=telemetry,
                      ray_address=a.ray_address, progress=not (a.no_progress or a.json), audits=audits)
    if a.export:
        from benchseal.reports.render.tables import export_tables
        from benchseal.reports.render.view import load_view

        export_tables(load_view(out, require_run=False), out / "perf", a.export,
                      only={"requests": "requests", "load_points": "summary"})
    if a.json:
        print_json(report)
    else:
        print_table(report)
    from benchseal.bench.perf.metrics import mostly_failed

    failed = mostly_failed(report, out / "perf" / "requests.jsonl")
    if failed:  # everything is written; the run still did not measure what it was asked to
        from benchseal.errors import ServerError

        raise ServerError(f"most requests failed: {failed}", where=str(out / "perf" / "summary.json"),
                          hint="the records are in perf/requests.jsonl; fix the cause and run again")
    return 0


def print_table(report) -> None:
    from rich.table import Table

    t = Table(title=f"benchseal perf: {report.model} ({report.backend})", title_justify="left")
    for col in ("load point", "ok", "failed", "req/s", "out tok/s", "TTFT p50/p99 ms", "TPOT p50/p99 ms",
                "ITL p50/p99 ms", "E2EL p50/p99 ms", "goodput"):
        t.add_column(col, justify="right", no_wrap=col in ("load point", "ok"))  # never "concurren cy=1"

    def pp(s) -> str:
        return "-" if s.n == 0 else f"{s.p50:.1f} / {s.p99:.1f}"

    for lp in report.load_points:
        t.add_row(lp.load_point, str(lp.completed), str(lp.failed), f"{lp.request_throughput:.2f}",
                  f"{lp.output_token_throughput:.1f}", pp(lp.ttft_ms), pp(lp.tpot_ms), pp(lp.itl_ms), pp(lp.e2el_ms),
                  "-" if lp.goodput is None else f"{lp.goodput:.2f}")
    c = console()
    c.print(t)
    for lp in report.load_points:
        for flag in lp.token_accounting.get("flags", []):
            c.print(f"[yellow]{lp.load_point}: {flag}[/yellow]")
    style = {"pass": "green", "fail": "red", "not-run": "yellow"}
    if report.search:
        c.print(f"SLA search ({report.search['spec']['mode']}): {report.search['outcome']}", highlight=False)
    for au in report.audits:
        c.print(f"audit {au.name}: [{style[au.status]}]{au.status}[/{style[au.status]}] ({au.detail})", highlight=False)
