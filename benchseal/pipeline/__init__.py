"""``benchseal run``: a thin runner over stage objects (one module per stage).

    preflight -> hw -> model -> perf -> eval -> lightweight -> claims -> report -> seal

Each measurement stage writes its part of the bundle as soon as it has it and records its status in
run.json, so a crash or Ctrl-C loses nothing already measured and the bundle says it is partial.
Claims, reports and the signature are derived afterwards from what is on disk. The stage protocol is
in ``pipeline.base``; the runner and the stage list in ``pipeline.runner``.
"""

from __future__ import annotations

from benchseal.bench.perf.metrics import mostly_failed
from benchseal.pipeline.base import RunContext, Stage, StageFailed
from benchseal.pipeline.runner import FINISHING, MEASURING, Pipeline, RunResult
from benchseal.pipeline.spec import MEASUREMENT_STAGES, PREFLIGHT, RunSpec, gpus_used, public_spec

_public_spec = public_spec  # the name older callers use

__all__ = ["FINISHING", "MEASUREMENT_STAGES", "MEASURING", "PREFLIGHT", "Pipeline", "RunContext", "RunResult",
           "RunSpec", "Stage", "StageFailed", "gpus_used", "mostly_failed", "public_spec"]
