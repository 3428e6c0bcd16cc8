"""benchseal.hw: GPUs and hosts.

NVML inventory (:func:`probe`), datasheet peaks (:func:`match_spec`, :func:`load_gpu_specs`), the
算力规模 table (:func:`compute_table`, :func:`merge_compute_tables`), telemetry
(:class:`TelemetrySampler`, :func:`energy_between`), microbenchmarks and multi-node inventory
over Ray (:func:`probe_cluster`). Importing this package imports no heavy library (no torch, no
ray, not even pynvml: that happens inside the functions).
"""

from benchseal.hw.compute import compute_table, merge_compute_tables
from benchseal.hw.probe import probe, probe_node, report_from_nodes
from benchseal.hw.specs import load_gpu_specs, match_spec
from benchseal.hw.telemetry import TelemetryResult, TelemetrySampler, energy_between


def probe_cluster(address: str | None = "auto", **kw):
    """Inventory every node of an existing Ray cluster (see :mod:`benchseal.hw.cluster`)."""
    from benchseal.hw.cluster import probe_cluster as _pc

    return _pc(address, **kw)


__all__ = [
    "compute_table", "merge_compute_tables", "probe", "probe_node", "report_from_nodes", "load_gpu_specs",
    "match_spec", "TelemetryResult", "TelemetrySampler", "energy_between", "probe_cluster",
]
