"""The hw stage: the inventory of the hardware that serves the model (hardware.json).

When benchseal starts the engine that is this machine; for an external endpoint it is the serving
hosts' own report (``--server-hardware FILE``) or nothing: the stage is then skipped with the reason,
so compute claims are INCONCLUSIVE and no report shows this client as the server (hw/serving.py).
run.json records where the inventory came from as ``serving_hardware``."""

from __future__ import annotations

from benchseal import bundle as layout
from benchseal.pipeline.base import RunContext, Stage


def external(ctx: RunContext) -> bool:
    """The model is served by an endpoint benchseal did not start (this machine is only the client)."""
    from benchseal.evaluators.identity import ENGINE_KINDS

    return ctx.spec.backend.kind not in ENGINE_KINDS


def _ray_address(ctx: RunContext) -> str | None:
    return getattr(ctx.spec, "ray_address", None) or getattr(ctx.spec.backend, "ray_address", None)


class HwStage(Stage):
    name = "hw"
    evidence = (layout.HARDWARE_JSON,)

    def before_bundle(self, ctx: RunContext) -> None:
        if ctx.spec.server_hardware:  # a wrong file or a contradiction is one sentence before anything runs
            from benchseal.hw.serving import serving_inventory

            serving_inventory(external=external(ctx), server_hardware=ctx.spec.server_hardware,
                              ray_address=_ray_address(ctx) if external(ctx) else None)

    def skip_reason(self, ctx: RunContext) -> str | None:
        if external(ctx) and not ctx.spec.server_hardware and not _ray_address(ctx):
            from benchseal.hw.serving import serving_inventory

            _, record = serving_inventory(external=True, endpoint=getattr(ctx.spec.backend, "base_url", None))
            ctx.manifest.serving_hardware = record
            return record["detail"]
        return None

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.hw.serving import serving_inventory, write_serving_hardware

        report, record = serving_inventory(external=external(ctx), endpoint=getattr(ctx.spec.backend, "base_url", None),
                                           ray_address=_ray_address(ctx), server_hardware=ctx.spec.server_hardware)
        ctx.manifest.serving_hardware = record
        return write_serving_hardware(ctx.out, report, record)
