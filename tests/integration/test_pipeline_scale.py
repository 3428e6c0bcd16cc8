"""`benchseal run` at scale (issue 24): --plan refuses a layout that cannot fit before anything starts,
and a run on the session's two-node local Ray cluster (tests/fixtures/ray.py) records the inventory of
both nodes, telemetry from both nodes (NVML replayed per node: the recorded H200 and an 8-GPU node
COMPOSED from it), load-worker records from both nodes, and verifies, the cross-node energy included."""

from __future__ import annotations

import functools
import json

import pytest
import yaml

from benchseal import bundle as layout
from benchseal.testing.published_configs import DEEPSEEK_V3

pytestmark = [pytest.mark.slow]


def _dsv3_dir(tmp_path):
    d = tmp_path / "dsv3"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(DEEPSEEK_V3))
    return d


def test_plan_refuses_a_layout_that_cannot_fit_before_anything_starts(run_cli, tmp_path):
    model = _dsv3_dir(tmp_path)
    code, out, err = run_cli("run", "songjiang-2025", "--backend", "vllm-serve", "--model", model,
                             "--tensor-parallel-size", "8", "--enable-expert-parallel", "--engine-arg=--max-model-len=32768",
                             "--vllm-command", "false", "--plan", "h100-sxm5-80gb", "--out", tmp_path / "b")
    assert code == 2 and "does not fit" in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "b" / layout.HARDWARE_JSON).exists()  # nothing measured
    # the same layout on H200 passes the check (the run then goes on; only hw is asked for here)
    code, out, err = run_cli("run", "songjiang-2025", "--backend", "vllm-serve", "--model", model,
                             "--tensor-parallel-size", "8", "--enable-expert-parallel", "--engine-arg=--max-model-len=32768",
                             "--vllm-command", "false", "--plan", "h200-sxm-141gb", "--stages", "hw", "--out", tmp_path / "c")
    assert "does not fit" not in err and (tmp_path / "c" / layout.HARDWARE_JSON).is_file()
    code, _, err = run_cli("run", "songjiang-2025", "--backend", "openai", "--model", "m", "--plan", "h200-sxm-141gb",
                           "--out", tmp_path / "d")
    assert code == 2 and "--plan checks a vLLM layout" in err


def test_run_on_two_nodes_records_both_and_verifies(ray_cluster, test_server, tiny_llama, run_cli, tmp_path, monkeypatch):
    from benchseal.hw.cluster_telemetry import ClusterTelemetry
    from benchseal.pipeline import scale
    from tests.helpers.nvml_replay import install_for_node

    fixtures = {ray_cluster.head_node: ("nvml_h200_x1.json", 1), ray_cluster.worker_node: ("nvml_h200_x1.json", 8)}

    def telemetry(ctx):  # the production sampler, with recorded NVML installed in each node's actor
        return ClusterTelemetry(ctx.spec.ray_address, ctx.out / layout.TELEMETRY_DIR, interval_s=0.05,
                                node_ids=[ray_cluster.head_node, ray_cluster.worker_node],
                                setup=functools.partial(install_for_node, fixtures))

    monkeypatch.setattr(scale, "cluster_telemetry", telemetry)
    wl = yaml.safe_load(open(layout.__file__.replace("bundle.py", "configs/workloads/demo-cpu.yaml"), encoding="utf-8"))
    wl["load"].update(workers=2, concurrency=[2])
    (tmp_path / "wl.yaml").write_text(yaml.safe_dump(wl))
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", "scale-test-passphrase")
    assert run_cli("keygen", "--out", tmp_path / "k")[0] == 0
    out = tmp_path / "b"
    code, stdout, err = run_cli("run", "hunan-2025", "--key", tmp_path / "k" / "private.pem", "--backend", "openai", "--base-url", test_server.url, "--model",
                                "test-model", "--model-path", tiny_llama, "--num-gpus", "9", "--stages", "hw,model,perf",
                                "--workload", tmp_path / "wl.yaml", "--ray-address", ray_cluster.address, "--out", out)
    assert code in (0, 1), err[-3000:]  # claims without eval evidence are INCONCLUSIVE (1); nothing failed
    run = json.loads((out / layout.RUN_JSON).read_text())
    assert all(run["stages"][s]["status"] == "complete" for s in ("hw", "model", "perf")), run["stages"]
    assert run["spec"]["ray_address"] == ray_cluster.address
    hw = json.loads((out / layout.HARDWARE_JSON).read_text())
    assert len(hw["nodes"]) == 2 and hw["topology"]["nodes"] == 2
    nodes = json.loads((out / layout.TELEMETRY_DIR / "nodes.json").read_text())["nodes"]
    assert sorted(n["gpus"] for n in nodes) == [1, 8] and len(list((out / layout.TELEMETRY_DIR).glob("*.csv"))) == 2
    records = [json.loads(line) for line in (out / layout.PERF_REQUESTS).read_text().splitlines()]
    assert {r["node_id"] for r in records} == {ray_cluster.head_node, ray_cluster.worker_node}
    assert {r["worker"] for r in records} == {0, 1}
    lp = json.loads((out / layout.PERF_SUMMARY).read_text())["load_points"][0]
    assert lp["energy"]["nodes"] == 2 and len(lp["energy"]["energy_j_per_gpu"]) == 9 and lp["energy"]["energy_j"] > 0
    assert lp["utilisation"]["engine_gpus"] == 9
    assert lp["utilisation"]["output_tokens_per_s_per_gpu"] == pytest.approx(lp["output_token_throughput"] / 9)
    code, stdout, err = run_cli("verify", out, "--key", tmp_path / "k" / "public.pem", "--json")
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert code == 0, [c for c in checks.values() if not c["ok"]]
    for name in ("signature", "digests", "recompute:utilisation", "recompute:perf"):  # the cross-node energy re-derived
        assert checks[name]["ok"] and not checks[name].get("skipped"), name
