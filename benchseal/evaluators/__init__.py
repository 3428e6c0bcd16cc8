"""benchseal.evaluators: standard suites through lm-eval, peer score tables, parity and refusal checks.

Public face (each module imports lm_eval / torch / transformers only inside its functions):

- :func:`run_suite`, :func:`results_from_lm_eval` (runner)
- :func:`load_suite`, :func:`list_suites` (suites as data, configs/suites)
- :func:`verify_suite_data`, :func:`prepare_suite_data` (hermetic data with sha256 manifests)
- :func:`load_peers`, :func:`compare`, :func:`domestic_leading` (configs/peers)
- :func:`parity` (migrated or quantised model vs reference)
- :func:`run_refusal`, :func:`load_rules`, :func:`is_refusal` (refusal banks)
"""

from benchseal.evaluators.datasets import prepare_suite_data, verify_suite_data
from benchseal.evaluators.parity import parity
from benchseal.evaluators.peers import ComparisonTable, compare, domestic_leading, load_peers
from benchseal.evaluators.refusal import is_refusal, load_rules, run_refusal
from benchseal.evaluators.runner import results_from_lm_eval, run_suite
from benchseal.evaluators.suites import list_suites, load_suite

__all__ = [
    "ComparisonTable",
    "compare",
    "domestic_leading",
    "is_refusal",
    "list_suites",
    "load_peers",
    "load_rules",
    "load_suite",
    "parity",
    "prepare_suite_data",
    "results_from_lm_eval",
    "run_refusal",
    "run_suite",
    "verify_suite_data",
]
