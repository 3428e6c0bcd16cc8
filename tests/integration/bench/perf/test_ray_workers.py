"""Load workers as Ray actors on a real two-node local Ray cluster, against the controllable test server:
every request is sent once, by the worker its sequence number names, and each record says which worker
and which Ray node sent it."""

from __future__ import annotations

import asyncio

import pytest

from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.loadgen import LoadPointPlan, run_load_point
from tests.unit.bench.perf.test_loadgen import REQS

pytestmark = [pytest.mark.slow]


def _run(url: str, plan: LoadPointPlan, address: str, workers: int):
    async def go():
        backend = OpenAIBackend(model="test-model", base_url=url, preflight=False)
        await backend.start()
        out = []
        try:
            res = await run_load_point(backend, plan, out.append, workers=workers, ray_address=address)
        finally:
            await backend.close()
        return res, out

    return asyncio.run(go())


def test_two_workers_on_two_nodes_send_every_request_once(ray_cluster, test_server):
    plan = LoadPointPlan(load_point="concurrency=4", requests=REQS, concurrency=4, num_requests=24, warmup=2)
    res, out = _run(test_server.url, plan, ray_cluster.address, workers=2)
    assert not res.interrupted
    assert sorted(r.request_id for r in out) == list(range(26)) and all(r.status == "ok" for r in out)
    assert {r.worker for r in out} == {0, 1}
    assert all(r.request_id % 2 == r.worker for r in out)  # seq mod workers
    assert {r.node_id for r in out} == {ray_cluster.head_node, ray_cluster.worker_node}
    # each worker's times are on its own clock, from the common start instant: sane and ordered per record
    assert all(0 <= r.send_s <= r.first_token_s <= r.end_s for r in out)


def test_perf_cli_with_ray_address(ray_cluster, test_server, tiny_llama, run_cli, tmp_path):
    """`benchseal perf --ray-address ADDR --workers 2`: records from both nodes, telemetry/<node>.csv from
    both nodes (no NVML on this machine: header-only CSVs, said in nodes.json), nothing local sampled."""
    import json

    from benchseal import bundle as layout

    out = tmp_path / "b"
    code, stdout, err = run_cli("perf", "--backend", "openai", "--base-url", test_server.url, "--model", "test-model",
                                "--tokenizer", tiny_llama, "--input-len", "16", "--output-len", "4", "--num-prompts", "8",
                                "--concurrency", "2", "--num-requests", "8", "--ray-address", ray_cluster.address,
                                "--workers", "2", "--no-progress", "--json", "--out", out)
    assert code == 0, err[-2000:]
    records = [json.loads(line) for line in (out / layout.PERF_REQUESTS).read_text().splitlines()]
    assert {r["node_id"] for r in records} == {ray_cluster.head_node, ray_cluster.worker_node}
    nodes = json.loads((out / layout.TELEMETRY_DIR / "nodes.json").read_text())
    assert {n["node_id"] for n in nodes["nodes"]} == {ray_cluster.head_node, ray_cluster.worker_node}
    assert not (out / layout.TELEMETRY_CSV).exists()
    summary = json.loads(stdout)
    assert any("Ray actor" in n for n in summary["notes"])
