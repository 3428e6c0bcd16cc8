"""Multi-node inventory through a real local two-node Ray cluster (CPU only)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def local_ray(ray_cluster):
    """The session's two-node local cluster (tests/fixtures/ray.py), this process connected to it."""
    import ray

    return ray


def test_probe_cluster_local(local_ray, run_cli):
    import json
    import socket

    from benchseal.hw import probe_cluster

    rep = probe_cluster("auto")
    assert len(rep.nodes) == len([n for n in local_ray.nodes() if n["Alive"]]) >= 1
    assert rep.compute.servers == len(rep.nodes)
    assert rep.nodes[0].host.hostname == socket.gethostname()
    assert rep.nodes[0].host.python  # the probe really ran in a Ray worker and came back
    code, out, _ = run_cli("hw", "--json", "--ray-address", "auto")
    assert code == 0 and len(json.loads(out)["nodes"]) == len(rep.nodes)
