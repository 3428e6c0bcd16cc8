"""`benchseal hw`: the hardware inventory and the 算力规模 (compute capacity) table."""

from __future__ import annotations

import argparse

from benchseal.commands._common import add_json_flag, console, print_json
from benchseal.errors import UsageError

DTYPE_ORDER = ("fp64", "fp64_tensor", "fp32", "tf32", "bf16", "fp16", "fp8", "int8")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hw",
        help="inventory GPUs and host, and the 算力规模 table of dense peak TFLOPS",
        description=(
            "Inventory this machine's NVIDIA GPUs (through NVML) and host, look up dense datasheet peaks "
            "in configs/gpus.yaml and print the 算力规模 table (per server: vendor, model, count, total "
            "peak TFLOPS per dtype). Without a GPU it prints the host inventory and exits 0."
        ),
    )
    add_json_flag(p)
    p.add_argument("--microbench", action="store_true",
                   help="also measure achieved matmul TFLOPS (bf16, fp16, tf32, fp8) and memory copy bandwidth "
                        "on GPU 0 (needs an NVIDIA GPU and CUDA torch; exits 3 without one)")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="inventory every node of an existing Ray cluster at ADDR ('auto' finds the local one)")
    p.add_argument("--out", metavar="FILE", help="also write the full report as JSON to FILE (e.g. hardware.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from benchseal.hw.specs import load_gpu_specs
    from benchseal.io import write_json

    load_gpu_specs()  # a gpus.yaml (shipped or from --config-dir) that fails its schema is an error here, GPU or not

    if args.ray_address and args.microbench:
        raise UsageError("--microbench runs on this machine only and cannot be combined with --ray-address",
                         hint="run `benchseal hw --microbench` on each GPU server")
    if args.ray_address:
        from benchseal.hw import probe_cluster

        report = probe_cluster(args.ray_address)
    else:
        from benchseal.hw import probe

        report = probe(microbench=args.microbench)
    if args.out:
        write_json(args.out, report)
    if args.json:
        print_json(report)
    else:
        render(report)
    return 0


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.1f}" if v >= 100 else f"{v:,.2f}"


def _gib(b: int | None) -> str:
    return f"{b / 2**30:.1f} GiB" if b else "-"


def render(report) -> None:
    from rich.table import Table

    c = console()  # wide when piped or captured (see commands._common.console)
    h = report.host
    pk = ", ".join(f"{k} {v}" for k, v in h.packages.items() if v)
    c.print(f"[bold]Host[/bold] {h.hostname}: {h.cpu_model or '?'} ({h.cpu_cores_physical or '?'} cores / "
            f"{h.cpu_cores_logical or '?'} threads), RAM {_gib(h.ram_bytes)}, {h.os}, kernel {h.kernel}, "
            f"Python {h.python}")
    if pk:
        c.print(f"[bold]Packages[/bold] {pk}")
    if not report.gpus:
        c.print(f"[yellow]No NVIDIA GPU found[/yellow]: {report.nvml_error or 'NVML reported no devices'}.")
    else:
        t = Table(title="GPUs")
        for col in ("server", "#", "name", "memory", "driver/CUDA", "CC", "SM MHz (max)", "power limit W",
                    "ECC", "MIG", "PCIe", "NVLink", "temp C", "peak spec"):
            t.add_column(col)
        for g in report.gpus:
            t.add_row(g.hostname or h.hostname, str(g.index), g.name, _gib(g.memory_total_bytes),
                      f"{g.driver_version or '?'}/{g.cuda_driver_version or '?'}", g.compute_capability or "-",
                      f"{g.sm_clock_mhz or '-'} ({g.sm_clock_max_mhz or '-'})", _fmt(g.power_limit_w),
                      _yn(g.ecc_enabled), _yn(g.mig_enabled),
                      f"gen{g.pcie_gen} x{g.pcie_width}" if g.pcie_gen else "-",
                      str(g.nvlink_active_links) if g.nvlink_active_links is not None else "-",
                      _fmt(g.temperature_c), g.peak.spec_id if g.peak else "[red]unknown[/red]")
        c.print(t)
    comp = report.compute
    if comp.rows:
        dtypes = [d for d in DTYPE_ORDER if d in comp.total_tflops]
        t = Table(title=f"算力规模 / compute capacity (dense peak TFLOPS; int8 in TOPS): "
                        f"{comp.servers} server(s), {comp.gpus} GPU(s)")
        for col in ("server", "vendor", "model", "count", *dtypes):
            t.add_column(col, justify="right" if col in dtypes or col == "count" else "left")
        for r in comp.rows:
            t.add_row(r.server, r.vendor, r.model, str(r.count), *[_fmt(r.tflops_total.get(d)) for d in dtypes])
        t.add_row("total", "", "", str(comp.gpus), *[_fmt(comp.total_tflops.get(d)) for d in dtypes], style="bold")
        c.print(t)
    for n in comp.notes:
        c.print(f"note: {n}")
    if report.microbench:
        _render_microbench(c, report.microbench)


def _yn(v: bool | None) -> str:
    return "-" if v is None else ("on" if v else "off")


def _render_microbench(c, mb: dict) -> None:
    from rich.table import Table

    t = Table(title=f"Microbenchmark on GPU {mb['gpu_index']} ({mb['device_name']})")
    for col in ("test", "achieved", "datasheet peak", "ratio"):
        t.add_column(col)
    for dt, r in mb["matmul"].items():
        if "error" in r:
            t.add_row(f"matmul {dt}", r["error"], _fmt(r.get("peak_tflops")), "-")
        else:
            ratio = f"{r['ratio_to_peak']:.1%}" if r.get("ratio_to_peak") else "-"
            t.add_row(f"matmul {dt} (n={r['n']})", f"{_fmt(r['tflops'])} TFLOPS", _fmt(r.get("peak_tflops")), ratio)
    bw = mb["memory_copy"]
    ratio = f"{bw['ratio_to_peak']:.1%}" if bw.get("ratio_to_peak") else "-"
    t.add_row("memory copy (read+write)", f"{_fmt(bw['gbs'])} GB/s", _fmt(bw.get("peak_gbs")), ratio)
    c.print(t)
