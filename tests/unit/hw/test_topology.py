"""The topology block of a multi-node hardware.json: nodes, GPUs per node, the GPU interconnect from NVML
(NVLink links, else the PCIe link) and each node's NICs from /sys (issue 24)."""

from __future__ import annotations

from benchseal.hw.host import nics
from benchseal.hw.probe import report_from_nodes
from benchseal.schema import GpuInfo, HostInfo, NodeInventory


def _node(host: str, n: int, **gpu) -> NodeInventory:
    return NodeInventory(host=HostInfo(hostname=host, nics=[{"name": "ib0", "kind": "infiniband", "speed_mbps": 400000}]),
                         gpus=[GpuInfo(index=i, name="NVIDIA H100 80GB HBM3", **gpu) for i in range(n)],
                         nvml_available=True)


def test_two_nodes_of_eight_nvlink_and_a_pcie_node():
    rep = report_from_nodes([_node("a", 8, nvlink_active_links=18), _node("b", 8, nvlink_active_links=18),
                             _node("c", 2, pcie_gen=5, pcie_width=16)])
    t = rep.topology
    assert t["nodes"] == 3 and t["gpus"] == 18 and t["gpus_per_node"] == [8, 8, 2]
    assert [p["interconnect"] for p in t["per_node"]] == ["NVLink (18 active links per GPU)"] * 2 + ["PCIe Gen5 x16"]
    assert t["per_node"][0]["nics"][0]["speed_mbps"] == 400000


def test_same_hostname_twice_is_two_servers():
    t = report_from_nodes([_node("h", 1, nvlink_active_links=0, pcie_gen=4, pcie_width=16), _node("h", 1)]).topology
    assert [p["server"] for p in t["per_node"]] == ["h", "h#2"] and t["gpus_per_node"] == [1, 1]
    assert t["per_node"][1]["interconnect"].startswith("unknown")


def test_nics_from_sys(tmp_path):
    net = tmp_path / "net"
    for name, speed, typ in (("eth0", "25000", "1"), ("ib0", "-1", "32")):
        (net / name / "device").mkdir(parents=True)
        (net / name / "speed").write_text(speed + "\n")
        (net / name / "type").write_text(typ + "\n")
        (net / name / "operstate").write_text("up\n")
    (net / "lo").mkdir()  # no device: left out
    port = tmp_path / "ib" / "mlx5_0" / "ports" / "1"
    port.mkdir(parents=True)
    (port / "rate").write_text("400 Gb/sec (4X NDR)\n")
    (port / "state").write_text("4: ACTIVE\n")
    got = nics(str(net), str(tmp_path / "ib"))
    assert got == [{"name": "eth0", "kind": "ethernet", "speed_mbps": 25000, "state": "up"},
                   {"name": "ib0", "kind": "infiniband", "speed_mbps": None, "state": "up"},
                   {"name": "mlx5_0/1", "kind": "infiniband-port", "rate": "400 Gb/sec (4X NDR)", "state": "4: ACTIVE"}]
    assert nics(str(tmp_path / "none"), str(tmp_path / "none")) == []


def test_verify_rederives_the_topology(tmp_path):
    import json

    from benchseal import bundle as layout
    from benchseal.io import write_json
    from benchseal.reports.verify import verify_bundle
    from tests.helpers.bundle_factory import make_sample_bundle

    bundle = make_sample_bundle(tmp_path / "b")
    write_json(bundle / layout.HARDWARE_JSON, report_from_nodes([_node("a", 8, nvlink_active_links=18),
                                                                 _node("b", 8, nvlink_active_links=18)]))

    def topo_check():
        rep = verify_bundle(bundle, public_keys=None, trusted_dir=None, require_signature=False)
        return next(c for c in rep.checks if c.name == "recompute:topology")

    assert topo_check().ok
    hw = json.loads((bundle / layout.HARDWARE_JSON).read_text())
    hw["topology"]["gpus_per_node"] = [8, 16]  # a second node claimed bigger than its inventory
    (bundle / layout.HARDWARE_JSON).write_text(json.dumps(hw))
    assert not topo_check().ok
