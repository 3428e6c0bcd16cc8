"""The lightweight step (Hunan's 轻量化部署): this light run compared with the full model's bundle
(lightweight/lightweight.json). It runs after the measurement stages, only with --lightweight-of."""

from __future__ import annotations

from pathlib import Path

from benchseal.errors import UsageError
from benchseal.pipeline.base import RunContext, Stage


class LightweightStage(Stage):
    name = "lightweight"

    def selected(self, spec) -> bool:
        return bool(spec.lightweight_of)

    def before_bundle(self, ctx: RunContext) -> None:
        """Refuse, before anything runs, a full bundle measured on another workload, load or suites."""
        from benchseal.evaluators.lightweight import check_reference
        from benchseal.pipeline.eval import eval_suites
        from benchseal.pipeline.perf import build_workload

        if "perf" not in ctx.spec.stages:
            raise UsageError("--lightweight-of needs the perf stage", hint="add perf to --stages")
        suites = None
        if "eval" in ctx.spec.stages:
            from benchseal.evaluators.suites import load_suite

            suites = [load_suite(s).name for s in eval_suites(ctx)] or None  # none: the eval runs the reference's
        if ctx.workload is None:
            ctx.workload = build_workload(ctx)
        workload, lspec = ctx.workload
        check_reference(Path(ctx.spec.lightweight_of), workload_sha256=workload.sha256,
                        load=lspec.model_dump(mode="json"), suites=suites)

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.evaluators.lightweight import write_lightweight

        return write_lightweight(ctx.out, Path(ctx.spec.lightweight_of), signature=ctx.extras.get("reference_signature"))[1]
