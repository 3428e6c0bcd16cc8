"""Telemetry on every node of a real two-node local Ray cluster (tests/fixtures/ray.py): one actor per
node replays recorded NVML values (the head node: the recorded H200; the other: an 8-GPU node COMPOSED
from the recorded H200, marked as such), each node's CSV lands in telemetry/<node>.csv, and the energy of a
window is the sum of the nodes' energies, as verify re-derives it."""

from __future__ import annotations

import csv
import functools
import json
import time

import pytest

from benchseal.hw.cluster_telemetry import ClusterTelemetry, energy_between_nodes, node_file
from benchseal.hw.telemetry import energy_between
from tests.helpers.nvml_replay import install_for_node

pytestmark = [pytest.mark.slow]


def test_one_csv_per_node_and_energy_summed_across_nodes(ray_cluster, tmp_path):
    fixtures = {ray_cluster.head_node: ("nvml_h200_x1.json", 1), ray_cluster.worker_node: ("nvml_h200_x1.json", 8)}
    tel = ClusterTelemetry(ray_cluster.address, tmp_path / "telemetry", interval_s=0.05,
                           node_ids=[ray_cluster.head_node, ray_cluster.worker_node],
                           setup=functools.partial(install_for_node, fixtures))
    with tel:  # every node has taken its first pass when this returns
        t_start = time.time()
        time.sleep(1.5)
        t_end = time.time()
    index = json.loads((tmp_path / "telemetry" / "nodes.json").read_text())["nodes"]
    assert {(n["node_id"], n["gpus"]) for n in index} == {(ray_cluster.head_node, 1), (ray_cluster.worker_node, 8)}
    for n in index:
        assert n["file"] == node_file(n["hostname"], n["node_id"]) and n["samples"] >= 2
        rows = list(csv.DictReader(open(tmp_path / "telemetry" / n["file"], encoding="utf-8")))
        assert {int(r["gpu"]) for r in rows} == set(range(n["gpus"]))
    assert tel.result["available"] and tel.result["energy_j"] == pytest.approx(sum(n["energy_j"] for n in index))
    # the window's energy is the sum of the nodes' (each by its own energy counter), 9 GPUs in all
    mid0, mid1 = t_start + 0.2, t_end - 0.2
    total = energy_between_nodes(tmp_path / "telemetry", mid0, mid1)
    per_node = [energy_between(tmp_path / "telemetry" / n["file"], mid0, mid1) for n in index]
    assert total["energy_j"] == pytest.approx(sum(r["energy_j"] for r in per_node))
    assert len(total["energy_j_per_gpu"]) == 9 and total["nodes"] == 2 and total["complete"]
    assert total["energy_j"] > 0
