"""benchseal.bench.perf: load generation and latency (``perf/requests.jsonl``, ``perf/summary.json``).

Public face: :class:`BackendSpec` (one typed spec per backend; builds the backend), :func:`run_perf`,
:class:`LoadSpec`, :func:`load_workload_file`, :class:`WorkloadSpec`, :func:`build_workload`,
:func:`summarize_load_point` and :func:`recompute_perf_report` (pure, re-derivable).
"""

from benchseal.bench.perf.metrics import recompute_perf_report, summarize_load_point
from benchseal.bench.perf.run import LoadSpec, load_workload_file, run_perf
from benchseal.bench.perf.workload import WorkloadSpec, build_workload

__all__ = ["LoadSpec", "WorkloadSpec", "build_workload", "load_workload_file", "recompute_perf_report", "run_perf",
           "summarize_load_point"]
