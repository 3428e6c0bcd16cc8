"""benchseal.bench: the model and its speed.

Public face (heavy libraries — torch, transformers, vllm, pandas — load inside the functions):

- model identity: :func:`inspect_model` (model.json), :func:`count_params`, :func:`digest_model`,
  :func:`model_digest` (pure), :func:`check_digests`
- FLOPs: :class:`FlopsModel`; utilisation and energy per load point: :func:`annotate` (pure)
- performance: :func:`run_perf`, :class:`LoadSpec`, :func:`load_workload_file`,
  :class:`WorkloadSpec`, :func:`build_workload`, :func:`get_backend`,
  :func:`summarize_load_point` and :func:`recompute_perf_report` (pure, re-derivable)
- tests and the demo: :func:`build_tiny_model`
"""

from benchseal.bench.backends import get_backend
from benchseal.bench.digest import check_digests, digest_model, model_digest
from benchseal.bench.flops import FlopsModel
from benchseal.bench.inspect import inspect_model
from benchseal.bench.metrics import recompute_perf_report, summarize_load_point
from benchseal.bench.params import count_params
from benchseal.bench.perf import LoadSpec, load_workload_file, run_perf
from benchseal.bench.tiny import build_tiny_model
from benchseal.bench.utilisation import annotate
from benchseal.bench.workload import WorkloadSpec, build_workload

__all__ = [
    "FlopsModel", "LoadSpec", "WorkloadSpec", "annotate", "build_tiny_model", "build_workload", "check_digests",
    "count_params", "digest_model", "get_backend", "inspect_model", "load_workload_file", "model_digest",
    "recompute_perf_report", "run_perf", "summarize_load_point",
]
