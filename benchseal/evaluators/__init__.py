"""benchseal.evaluators: standard suites through lm-eval, peer score tables, parity and refusal checks.

Public face (each module imports lm_eval / torch / transformers only inside its functions):

- :func:`run_suite`, :func:`results_from_lm_eval` (runner)
- :func:`load_suite`, :func:`list_suites` (suites as data, configs/suites)
- :func:`verify_suite_data`, :func:`prepare_suite_data` (hermetic data with sha256 manifests)
- :func:`load_peers`, :func:`compare`, :func:`domestic_leading` (configs/peers)
- :func:`attach_comparison`, :func:`comparison_from_snapshot` (the comparison stored in a bundle, with peers.json)
- :func:`parity` (migrated or quantised model vs reference), :func:`write_parity` (into a bundle)
- :func:`run_refusal`, :func:`load_rules`, :func:`is_refusal` (refusal banks)
- :func:`run_content_safety` (the generated-content safety assessment)
- :func:`run_eval_stage`, :class:`RefusalInputs` (the eval stage of ``benchseal run``; module ``stage``)
"""

from benchseal.evaluators.datasets import prepare_suite_data, verify_suite_data
from benchseal.evaluators.parity import parity, write_parity
from benchseal.evaluators.peers import (
    ComparisonTable,
    attach_comparison,
    compare,
    comparison_from_snapshot,
    domestic_leading,
    load_peers,
)
from benchseal.evaluators.content_safety import run_content_safety
from benchseal.evaluators.refusal import is_refusal, load_rules, run_refusal
from benchseal.evaluators.runner import results_from_lm_eval, run_suite
from benchseal.evaluators.stage import RefusalInputs, run_eval_stage
from benchseal.evaluators.suites import list_suites, load_suite

__all__ = [
    "ComparisonTable",
    "RefusalInputs",
    "attach_comparison",
    "compare",
    "comparison_from_snapshot",
    "domestic_leading",
    "is_refusal",
    "list_suites",
    "load_peers",
    "load_rules",
    "load_suite",
    "parity",
    "prepare_suite_data",
    "results_from_lm_eval",
    "run_eval_stage",
    "run_content_safety",
    "run_refusal",
    "run_suite",
    "verify_suite_data",
    "write_parity",
]
