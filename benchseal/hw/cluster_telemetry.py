"""NVML telemetry on every node of an existing Ray cluster that hosts a GPU of the run.

One Ray actor per node (pinned with ``NodeAffinitySchedulingStrategy(soft=False)``, ``num_cpus=0``) runs
:class:`benchseal.hw.telemetry.TelemetrySampler` on its node; on exit each actor returns its CSV and
the driver writes it to ``telemetry/<node>.csv`` in the bundle, with ``telemetry/nodes.json`` naming the
Ray node, host and GPUs behind every file. Energy over a window is the sum over nodes of each node's
energy-counter difference (:func:`energy_between_nodes`), so ``benchseal verify`` re-derives the
cross-node total from the CSVs. Each node stamps its rows with its own wall clock (``t_wall``); the
window is the driver's, so the nodes' clocks are assumed synchronised (NTP: milliseconds), which moves
an edge of the energy window by that much and nothing else. Definitions: docs/metrics.md ("Energy").
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any, Callable

from benchseal.hw.telemetry import TelemetrySampler, energy_between

NODES_JSON = "nodes.json"


class NodeSampler:
    """The per-node telemetry actor (its methods run on the node it is pinned to)."""

    def __init__(self, interval_s: float, setup: Callable[[str], None] | None = None) -> None:
        import ray

        self.node_id = ray.get_runtime_context().get_node_id()
        if setup is not None:  # tests: install a recorded-NVML replay for this node
            setup(self.node_id)
        self.dir = Path(tempfile.mkdtemp(prefix="benchseal-telemetry-"))
        self.sampler = TelemetrySampler(self.dir / "telemetry.csv", interval_s)

    def start(self) -> dict[str, Any]:
        self.sampler.__enter__()
        return {"node_id": self.node_id, "hostname": socket.gethostname(), "gpus": len(self.sampler._handles)}

    def stop(self) -> dict[str, Any]:
        self.sampler.__exit__(None, None, None)
        res = self.sampler.result
        text = (self.dir / "telemetry.csv").read_text(encoding="utf-8")
        shutil.rmtree(self.dir, ignore_errors=True)
        return {"node_id": self.node_id, "hostname": socket.gethostname(), "csv": text,
                "result": res.to_dict() if res is not None else None}


def node_file(hostname: str, node_id: str) -> str:
    """``<host>-<first 12 hex digits of the Ray node id>.csv`` (two nodes may share a host name)."""
    host = re.sub(r"[^A-Za-z0-9._-]+", "_", hostname or "node")[:40]
    return f"{host}-{node_id[:12]}.csv"


class ClusterTelemetry:
    """Context manager: telemetry on the GPU nodes of the Ray cluster at ``address`` into ``out_dir``
    (the bundle's ``telemetry/`` folder). ``node_ids`` picks the nodes (default: every alive node with a
    GPU resource; every alive node when none has one, with a note)."""

    def __init__(self, address: str | None, out_dir: str | Path, *, interval_s: float = 0.1,
                 node_ids: list[str] | None = None, setup: Callable[[str], None] | None = None,
                 timeout_s: float = 120.0) -> None:
        self.address, self.out_dir, self.interval_s = address, Path(out_dir), interval_s
        self.node_ids, self.setup, self.timeout_s = node_ids, setup, timeout_s
        self.result: dict[str, Any] | None = None
        self._actors: list[Any] = []
        self._ray: Any = None
        self._connected_here = False
        self.notes: list[str] = []

    def __enter__(self) -> "ClusterTelemetry":
        from benchseal.hw.cluster import alive_nodes, connect, pinned

        self._ray, self._connected_here = connect(self.address, "Telemetry on every node (--ray-address)")
        ray = self._ray
        nodes = alive_nodes(ray)
        if self.node_ids is not None:
            nodes = [n for n in nodes if n["NodeID"] in set(self.node_ids)]
        else:
            gpu_nodes = [n for n in nodes if (n.get("Resources") or {}).get("GPU", 0) > 0]
            if not gpu_nodes:
                self.notes.append("no node of the Ray cluster offers a GPU resource; telemetry sampled on every node")
            nodes = gpu_nodes or nodes
        actor = ray.remote(num_cpus=0, max_restarts=0)(NodeSampler)
        self._actors = [actor.options(scheduling_strategy=pinned(n["NodeID"])).remote(self.interval_s, self.setup)
                        for n in nodes]
        self.started = ray.get([a.start.remote() for a in self._actors], timeout=self.timeout_s)
        return self

    def __exit__(self, *exc: object) -> None:
        ray = self._ray
        try:
            outs = ray.get([a.stop.remote() for a in self._actors], timeout=self.timeout_s)
            self.out_dir.mkdir(parents=True, exist_ok=True)
            from benchseal.io import write_json

            index = []
            for o in outs:
                name = node_file(o["hostname"], o["node_id"])
                (self.out_dir / name).write_text(o["csv"], encoding="utf-8")
                r = o["result"] or {}
                index.append({"file": name, "node_id": o["node_id"], "hostname": o["hostname"], "gpus": r.get("gpus"),
                              "samples": r.get("samples"), "energy_j": r.get("energy_j"), "note": r.get("note")})
            write_json(self.out_dir / NODES_JSON, {"nodes": index, "notes": self.notes})
            known = [i["energy_j"] for i in index]
            self.result = {"nodes": index, "available": any(i["gpus"] for i in index),
                           "energy_j": sum(known) if known and all(k is not None for k in known) else None,
                           "note": "; ".join(self.notes + [f"{i['file']}: {i['note']}" for i in index
                                                           if i["note"] not in (None, "ok")]) or "ok"}
        finally:
            for a in self._actors:
                try:
                    ray.kill(a)
                except Exception:  # noqa: BLE001 - an actor already gone is fine
                    pass
            if self._connected_here:
                ray.shutdown()

    # TelemetrySampler-like surface for bench.perf.run (result.available / result.note)
    @property
    def available(self) -> bool:
        return bool(self.result and self.result["available"])


def energy_between_nodes(telemetry_dir: str | Path, t_wall_start: float, t_wall_end: float) -> dict | None:
    """Energy of the window summed over every node's CSV in ``telemetry_dir``. PURE (reads files).

    Per node: :func:`benchseal.hw.telemetry.energy_between`; the total is the sum over nodes, per-GPU
    entries are keyed ``<node file stem>/<gpu>``; ``complete`` only when every node's is. None when no
    node has counter samples overlapping the window."""
    per_node: dict[str, dict] = {}
    missing: list[str] = []
    for csv_path in sorted(Path(telemetry_dir).glob("*.csv")):
        r = energy_between(csv_path, t_wall_start, t_wall_end)
        if r is None:
            missing.append(csv_path.stem)
        else:
            per_node[csv_path.stem] = r
    if not per_node:
        return None
    total = sum(r["energy_j"] for r in per_node.values())
    duration = t_wall_end - t_wall_start
    notes = [f"{node}: {n}" for node, r in per_node.items() for n in r["notes"]]
    notes += [f"{node}: no counter samples overlap the window" for node in missing]
    return {
        "method": "nvml-energy-counter per node, linear interpolation at window edges, summed over nodes",
        "t_wall_start": t_wall_start, "t_wall_end": t_wall_end, "duration_s": duration,
        "energy_j": total,
        "energy_j_per_node": {node: r["energy_j"] for node, r in per_node.items()},
        "energy_j_per_gpu": {f"{node}/{g}": v for node, r in per_node.items() for g, v in r["energy_j_per_gpu"].items()},
        "avg_power_w": total / duration,
        "samples_in_window": sum(r["samples_in_window"] for r in per_node.values()),
        "nodes": len(per_node) + len(missing),
        "complete": not missing and all(r["complete"] for r in per_node.values()),
        "notes": notes,
    }
