"""Multi-node inventory over an existing Ray cluster.

One Ray task per alive node, pinned with ``NodeAffinitySchedulingStrategy(soft=False)``, runs
:func:`benchseal.hw.probe.probe_node` there; the results are merged with
:func:`benchseal.hw.probe.report_from_nodes`. The task asks for no CPU (``num_cpus=0``) so a busy
cluster still answers. If this process is already connected to Ray, that connection is reused.
"""

from __future__ import annotations

import logging
from typing import Any

from benchseal.errors import EnvironmentFailure, require
from benchseal.schema import HardwareReport, NodeInventory


def _probe_here() -> dict[str, Any]:
    from benchseal.hw.probe import probe_node

    return probe_node().model_dump(mode="json")


def connect(address: str | None, what: str) -> tuple[Any, bool]:
    """(the ray module, whether this call connected) for an EXISTING cluster at ``address``; benchseal
    never starts one. A connection this process already has is reused."""
    ray = require("ray", "ray", what)
    if ray.is_initialized():
        return ray, False
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise EnvironmentFailure(
            f"cannot connect to a Ray cluster at {address!r}: {exc}",
            hint="start one with `ray start --head` on the head node (and `ray start --address HEAD:6379` "
                 "on the others), or pass its address with --ray-address",
        ) from None
    return ray, True


def alive_nodes(ray: Any) -> list[dict[str, Any]]:
    """The cluster's alive nodes, in a stable order (head first, then by node id)."""
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return sorted(nodes, key=lambda n: ("node:__internal_head__" not in (n.get("Resources") or {}), n["NodeID"]))


def pinned(node_id: str) -> Any:
    """The Ray scheduling strategy that runs a task or actor on ``node_id`` and nowhere else."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)


def probe_cluster(address: str | None = "auto", *, timeout_s: float = 300.0) -> HardwareReport:
    ray, connected_here = connect(address, "The multi-node inventory (--ray-address)")
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from benchseal.hw.probe import report_from_nodes

    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        task = ray.remote(num_cpus=0, max_retries=0)(_probe_here)
        refs = [
            task.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=n["NodeID"], soft=False)).remote()
            for n in nodes
        ]
        try:
            results = ray.get(refs, timeout=timeout_s)
        except Exception as exc:  # noqa: BLE001 - ray raises many types (GetTimeoutError, RayTaskError)
            raise EnvironmentFailure(f"the hardware probe failed on a Ray node: {type(exc).__name__}: {exc}",
                                     hint="check that benchseal is installed on every node") from None
        return report_from_nodes([NodeInventory.model_validate(r) for r in results])
    finally:
        if connected_here:
            ray.shutdown()
