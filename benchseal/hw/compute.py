"""The 算力规模 (compute capacity) table: per server and GPU model, count and total dense peak TFLOPS.

Both functions are PURE: they read only their arguments (the peaks are already in each
``GpuInfo.peak``), so a verifier can re-derive hardware.json's table from its ``gpus`` list.
"""

from __future__ import annotations

from benchseal.schema import ComputeRow, ComputeTable, GpuInfo

_ND = 6  # round sums to 6 decimals so re-derivation is bit-for-bit reproducible


def _sum_rows(rows: list[ComputeRow]) -> dict[str, float]:
    total: dict[str, float] = {}
    for row in rows:
        for k, v in row.tflops_total.items():
            total[k] = total.get(k, 0.0) + v
    return {k: round(v, _ND) for k, v in total.items()}


def _notes(rows: list[ComputeRow]) -> list[str]:
    known = [r for r in rows if r.spec_id]
    keys = {k for r in known for k in r.tflops_per_gpu}
    partial = sorted(k for k in keys if any(k not in r.tflops_per_gpu for r in known))
    if partial:
        return [f"totals for {', '.join(partial)} include only the GPUs whose datasheet defines that dtype"]
    return []


def compute_table(gpus: list[GpuInfo], server: str) -> ComputeTable:
    """One server's table: GPUs grouped by model (spec id, else NVML name) in order of first index."""
    groups: dict[tuple[str | None, str], list[GpuInfo]] = {}
    for g in sorted(gpus, key=lambda g: g.index):
        key = (g.peak.spec_id if g.peak else None, g.name)
        groups.setdefault(key, []).append(g)
    rows: list[ComputeRow] = []
    unknown: list[str] = []
    notes: list[str] = []
    for (spec_id, name), members in groups.items():
        n = len(members)
        peak = members[0].peak
        if peak is None:
            unknown.append(name)
            notes.append(f"{name} x{n} on {server}: no entry in configs/gpus.yaml, so no peak figures are given")
            rows.append(ComputeRow(server=server, vendor="NVIDIA", model=name, count=n))
            continue
        rows.append(
            ComputeRow(
                server=server,
                vendor="NVIDIA",
                model=peak.display_name or name,
                count=n,
                spec_id=spec_id,
                tflops_per_gpu=dict(peak.tflops),
                tflops_total={k: round(v * n, _ND) for k, v in peak.tflops.items()},
                memory_bandwidth_gbs_total=round(peak.memory_bandwidth_gbs * n, _ND),
            )
        )
    return ComputeTable(servers=1, gpus=len(gpus), rows=rows, total_tflops=_sum_rows(rows),
                        unknown_gpus=unknown, notes=notes + _notes(rows))


def merge_compute_tables(tables: list[ComputeTable]) -> ComputeTable:
    """Several servers' tables as one (rows kept per server; totals re-summed from the rows)."""
    rows = [r for t in tables for r in t.rows]
    unknown: list[str] = []
    for t in tables:
        unknown += [u for u in t.unknown_gpus if u not in unknown]
    notes = [n for t in tables for n in t.notes if not n.startswith("totals for ")]
    return ComputeTable(servers=sum(t.servers for t in tables), gpus=sum(t.gpus for t in tables), rows=rows,
                        total_tflops=_sum_rows(rows), unknown_gpus=unknown, notes=notes + _notes(rows))
