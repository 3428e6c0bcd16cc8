"""benchseal.claims: funding-program profiles and the pure function evidence -> verdicts.

Public face::

    load_program(name_or_path, *, thresholds=None) -> Program   # configs/programs/<id>.yaml or a path
    list_programs() -> list[Program]
    load_evidence(bundle_dir) -> Evidence                         # the only function that reads files
    check(program, evidence) -> ClaimsReport                      # pure
    resolve(path, data) -> Resolved / parse(path) -> MetricPath   # the metric-path language

Definitions (operators, margins, INCONCLUSIVE rules, metric paths): docs/claims.md.
"""

from benchseal.claims.check import OPERATORS, check, check_claim
from benchseal.claims.evidence import Evidence, evidence_from_dict, load_evidence
from benchseal.claims.paths import AGGREGATIONS, MetricPath, Resolved, parse, resolve
from benchseal.claims.program import OutOfScope, Program, list_programs, load_program, programs_dir

__all__ = [
    "AGGREGATIONS",
    "OPERATORS",
    "Evidence",
    "MetricPath",
    "OutOfScope",
    "Program",
    "Resolved",
    "check",
    "check_claim",
    "evidence_from_dict",
    "list_programs",
    "load_evidence",
    "load_program",
    "parse",
    "programs_dir",
    "resolve",
]
