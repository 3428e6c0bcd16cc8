"""Re-derived hardware figures: the 算力 (compute) table from hardware.json's GPUs."""

from __future__ import annotations

from typing import Iterable

from benchseal import bundle as layout
from benchseal.hw.compute import compute_table, merge_compute_tables
from benchseal.reports.verify.policy import BundleContext, CheckResult, skipped
from benchseal.reports.verify.recompute.common import _compare, _Recompute


class ComputeTableCheck(_Recompute):
    """The 算力 table in hardware.json recomputed from its GPU inventory."""

    name = "recompute:hardware"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:

        if not ctx.path(layout.HARDWARE_JSON).is_file():
            yield skipped(self.name, f"no {layout.HARDWARE_JSON} in the bundle")
            return
        hw = ctx.bundle.hardware()
        if hw.nodes:  # multi-server inventory: one table per node (repeated host names numbered), merged
            merge = merge_compute_tables
            seen: dict[str, int] = {}
            tables = []
            for node in hw.nodes:
                host = node.host.hostname
                seen[host] = seen.get(host, 0) + 1
                tables.append(compute_table(node.gpus, host if seen[host] == 1 else f"{host}#{seen[host]}"))
            fresh = merge(tables)
        else:
            fresh = compute_table(hw.gpus, hw.host.hostname)
        yield _compare(self.name, f"{layout.HARDWARE_JSON}: compute", hw.compute, fresh, f"compute table matches {len(hw.gpus)} GPU(s)")
        if hw.topology is not None:  # multi-node: nodes, GPUs per node, interconnect, NICs from the inventory
            from benchseal.hw.probe import topology_of

            yield _compare("recompute:topology", f"{layout.HARDWARE_JSON}: topology", hw.topology,
                           topology_of(hw.nodes, hw.gpus), f"topology matches {len(hw.nodes)} node(s)")
