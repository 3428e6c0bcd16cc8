"""Recomputation checks: every summary and verdict in a bundle re-derived from its raw evidence.

Each check is a small object with a ``name`` and ``check(ctx)`` (the same policy interface as
:mod:`benchseal.reports.verify.policy`). A check is skipped only when its inputs are absent from the
bundle; a summary present without its raw records fails, because it cannot be re-derived. The
functions that derive the summaries in the first place are reused (plain imports, so a rename
breaks at import time and a type checker can follow every call):

- perf/summary.json      <- perf/requests.jsonl      benchseal.bench.perf.metrics.recompute_perf_report
- MFU/MBU, energy        <- records, model, hw, telemetry.csv  benchseal.bench.utilisation.mfu.annotate
- hardware.json compute  <- hardware.json gpus       benchseal.hw.compute_table
- model.json model_digest <- model.json files        benchseal.bench.model.digest.model_digest
- eval/<suite>/results.json <- lm_eval_results.json   benchseal.evaluators.results_from_lm_eval
- eval/<suite> extra.comparison <- results + samples + peers.json + peer_runs/  benchseal.evaluators.peers.comparison_from_dir
- eval/refusal rates     <- samples_refusal.jsonl + rules  benchseal.evaluators.refusal (reclassify, refusal_raw)
- eval/content-safety    <- samples_content.jsonl          benchseal.evaluators.content_safety (recheck, content_raw)
- eval/parity extra.parity <- eval/parity/reference/ + eval/<suite>  benchseal.evaluators.bundle_parity
- lightweight/lightweight.json <- lightweight/reference/ + model.json, perf/summary.json, eval/parity
                                                     benchseal.evaluators.lightweight.bundle_lightweight
- claims.json            <- the evidence + program   benchseal.claims.check / load_program / load_evidence

Numbers compare with a relative tolerance of 1e-9; every difference is reported with its field path.
"""

from __future__ import annotations

from benchseal.reports.verify.recompute.claims import ProgramCheck, VerdictsCheck, program_differences, trusted_programs
from benchseal.reports.verify.recompute.common import LM_EVAL_RAW, REL_TOL, _Recompute
from benchseal.reports.verify.recompute.eval import ComparisonCheck, EvalResultsCheck
from benchseal.reports.verify.recompute.hardware import ComputeTableCheck
from benchseal.reports.verify.recompute.model import ModelCountsCheck, ModelDigestCheck, ModelFilesCheck
from benchseal.reports.verify.recompute.parity import LightweightCheck, ParityCheck
from benchseal.reports.verify.recompute.perf import PerfSummaryCheck, UtilisationCheck
from benchseal.reports.verify.recompute.safety import ContentSafetyCheck, RefusalCheck
from benchseal.reports.verify.server_metrics import ServerMetricsCheck
from benchseal.reports.verify.audits import PerfAuditsCheck
from benchseal.reports.verify.binding import ModelIdentityCheck, ServingHardwareCheck  # issue 22: what figures are bound to
from benchseal.reports.verify.eval_items import EvalItemsCheck  # issue 22: samples are items of the manifest

__all__ = ["LM_EVAL_RAW", "RECOMPUTE_CHECKS", "REL_TOL", "ComparisonCheck", "ComputeTableCheck", "ContentSafetyCheck",
           "EvalResultsCheck", "LightweightCheck", "ModelCountsCheck", "ModelDigestCheck", "ModelFilesCheck",
           "ParityCheck", "PerfAuditsCheck", "PerfSummaryCheck", "ProgramCheck", "RefusalCheck", "ServerMetricsCheck", "UtilisationCheck",
           "VerdictsCheck", "program_differences", "trusted_programs"]


RECOMPUTE_CHECKS: tuple[_Recompute, ...] = (
    ProgramCheck(),
    ModelCountsCheck(),
    PerfSummaryCheck(),
    ServerMetricsCheck(),
    PerfAuditsCheck(),
    UtilisationCheck(),
    ComputeTableCheck(),
    ModelDigestCheck(),
    EvalResultsCheck(),
    EvalItemsCheck(),
    ModelIdentityCheck(),
    ServingHardwareCheck(),
    ComparisonCheck(),
    RefusalCheck(),
    ContentSafetyCheck(),
    ParityCheck(),
    LightweightCheck(),
    VerdictsCheck(),
)
