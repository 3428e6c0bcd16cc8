"""The hw stage: the hardware inventory of the machine the run measures on (hardware.json)."""

from __future__ import annotations

from benchseal import bundle as layout
from benchseal.io import write_json
from benchseal.pipeline.base import RunContext, Stage


class HwStage(Stage):
    name = "hw"
    evidence = (layout.HARDWARE_JSON,)

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.hw import probe

        write_json(ctx.out / layout.HARDWARE_JSON, probe())
        return [layout.HARDWARE_JSON]
