"""The hardware probe: host + NVML inventory + datasheet peaks + compute table (+ microbenchmarks)."""

from __future__ import annotations

import socket

from benchseal.errors import NoGpuError
from benchseal.hw.compute import compute_table, merge_compute_tables
from benchseal.hw.host import host_info
from benchseal.hw.nvml import open_nvml
from benchseal.hw.specs import match_spec
from benchseal.schema import GpuInfo, HardwareReport, NodeInventory


def probe_gpus() -> tuple[list[GpuInfo], bool, str | None]:
    """(gpus, nvml_available, nvml_error). Never raises for a missing driver or GPU."""
    nv, err = open_nvml()
    if nv is None:
        return [], False, err
    with nv:
        sys_notes: list[str] = []
        driver = nv.driver_version(sys_notes)
        cuda = nv.cuda_driver_version(sys_notes)
        try:
            count = nv.device_count()
        except nv.lib.NVMLError as exc:
            return [], False, f"NVML could not count devices: {exc}"
        gpus = []
        for i in range(count):
            g = nv.gpu_info(i, driver_version=driver, cuda_driver_version=cuda)
            peak = match_spec(g.name, g.memory_total_bytes)
            notes = sys_notes + g.notes
            if peak is None:
                notes.append(f"no configs/gpus.yaml entry matches {g.name!r}; no peak figures are given")
            gpus.append(g.model_copy(update={"peak": peak, "notes": notes}))
    if not gpus:
        return [], True, "NVML found no NVIDIA GPU"
    return gpus, True, None


def probe_node() -> NodeInventory:
    """This machine's inventory (what each Ray node runs for a multi-node inventory)."""
    host = host_info()
    gpus, ok, err = probe_gpus()
    gpus = [g.model_copy(update={"hostname": host.hostname}) for g in gpus]
    return NodeInventory(host=host, gpus=gpus, nvml_available=ok, nvml_error=err)


def probe(*, microbench: bool = False) -> HardwareReport:
    """Inventory this machine. Without a GPU: nvml_available False (or no GPUs), nvml_error set, gpus []."""
    node = probe_node()
    mb = None
    if microbench:
        if not node.gpus:
            raise NoGpuError(
                f"--microbench needs an NVIDIA GPU and none was found ({node.nvml_error or 'no devices'})",
                hint="run it on a GPU server, or drop --microbench for the inventory alone",
            )
        from benchseal.hw.microbench import run_microbench

        mb = run_microbench(node.gpus)
    return HardwareReport(
        host=node.host,
        gpus=node.gpus,
        compute=compute_table(node.gpus, node.host.hostname),
        nvml_available=node.nvml_available,
        nvml_error=node.nvml_error,
        microbench=mb,
    )


def report_from_nodes(nodes: list[NodeInventory]) -> HardwareReport:
    """Merge per-node inventories into one report with a multi-server compute table."""
    if not nodes:
        raise ValueError("no nodes to merge")
    seen: dict[str, int] = {}
    tables = []
    gpus: list[GpuInfo] = []
    for n in nodes:
        server = n.host.hostname
        seen[server] = seen.get(server, 0) + 1
        if seen[server] > 1:
            server = f"{server}#{seen[server]}"
        node_gpus = [g.model_copy(update={"hostname": server}) for g in n.gpus]
        gpus += node_gpus
        tables.append(compute_table(node_gpus, server))
    me = socket.gethostname()
    head = next((n for n in nodes if n.host.hostname == me), nodes[0])
    errors = sorted({f"{n.host.hostname}: {n.nvml_error}" for n in nodes if n.nvml_error})
    return HardwareReport(
        host=head.host,
        gpus=gpus,
        compute=merge_compute_tables(tables),
        nvml_available=any(n.nvml_available for n in nodes),
        nvml_error="; ".join(errors) or None,
        nodes=nodes,
        topology=topology_of(nodes, gpus),
    )


def _interconnect(gpus: list[GpuInfo]) -> str:
    if not gpus:
        return "no GPU"
    links = {g.nvlink_active_links for g in gpus}
    if links and None not in links and min(links) > 0:  # type: ignore[type-var]
        return f"NVLink ({min(links)}-{max(links)} active links per GPU)" if len(links) > 1 else \
            f"NVLink ({links.pop()} active links per GPU)"
    pcie = sorted({f"PCIe Gen{g.pcie_gen} x{g.pcie_width}" for g in gpus if g.pcie_gen and g.pcie_width})
    return ", ".join(pcie) if pcie else "unknown (NVML reported no NVLink or PCIe link)"


def topology_of(nodes: list[NodeInventory], gpus: list[GpuInfo]) -> dict:
    """Nodes, GPUs per node, each node's GPU interconnect (NVLink links or the PCIe link, from NVML)
    and its NICs (from /sys). Pure: a function of the inventory, so it can be recomputed from it."""
    per: list[dict] = []
    servers = [g.hostname for g in gpus]
    names: list[str] = []
    seen: dict[str, int] = {}
    for n in nodes:
        seen[n.host.hostname] = seen.get(n.host.hostname, 0) + 1
        names.append(n.host.hostname if seen[n.host.hostname] == 1 else f"{n.host.hostname}#{seen[n.host.hostname]}")
    for name, n in zip(names, nodes):
        mine = [g for g, s in zip(gpus, servers) if s == name]
        per.append({"server": name, "gpus": len(mine), "gpu_names": sorted({g.name for g in mine}),
                    "interconnect": _interconnect(mine), "nics": list(n.host.nics)})
    return {"nodes": len(nodes), "gpus": len(gpus), "gpus_per_node": [p["gpus"] for p in per], "per_node": per}
