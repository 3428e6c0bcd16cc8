"""The hw stage: the hardware inventory of the machine the run measures on (hardware.json)."""

from __future__ import annotations

from benchseal import bundle as layout
from benchseal.io import write_json
from benchseal.pipeline.base import RunContext, Stage


class HwStage(Stage):
    name = "hw"
    evidence = (layout.HARDWARE_JSON,)

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.hw import probe, probe_cluster

        report = probe_cluster(ctx.spec.ray_address) if ctx.spec.ray_address else probe()  # every node, with --ray-address
        write_json(ctx.out / layout.HARDWARE_JSON, report)
        return [layout.HARDWARE_JSON]
