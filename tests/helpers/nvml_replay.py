"""A fake ``pynvml`` that replays NVML values recorded from real hardware (tests/hw/fixtures/*.json).

It reuses the real nvidia-ml-py error classes and constants, so the code under test sees exactly the
exceptions real NVML raises: NVMLError_LibraryNotFound from nvmlInit when no driver is present,
NVMLError_NotSupported for a field the device does not report, NVMLError_InvalidArgument for an
NVLink index past the device's last link. The energy counter advances at the recorded power draw.
"""

from __future__ import annotations

import json
import sys
import time
import types
from pathlib import Path
from types import SimpleNamespace

FIXTURES = Path(__file__).parent / "nvml_fixtures"


def _real_pynvml():
    import importlib

    saved = sys.modules.pop("pynvml", None)
    try:
        return importlib.import_module("pynvml")
    finally:
        if saved is not None:
            sys.modules["pynvml"] = saved


def make_fake_pynvml(fixture: dict | None, *, energy_rate_scale: float = 1.0) -> types.ModuleType:
    real = _real_pynvml()
    m = types.ModuleType("pynvml")
    for k in dir(real):
        if k.startswith("NVMLError") or k.startswith("NVML_"):
            setattr(m, k, getattr(real, k))
    m.calls = []  # (function, args) log, for tests
    state = {"init": False, "t0": time.perf_counter()}

    def err(name: str):
        return getattr(real, f"NVMLError_{name}")()

    def dev(h) -> dict:
        return fixture["devices"][h.index]

    def val(h, key):
        if not state["init"]:
            raise err("Uninitialized")
        d = dev(h)
        if key not in d:
            raise err("NotSupported")
        v = d[key]
        if isinstance(v, dict) and set(v) == {"error"}:
            raise err(v["error"])
        return v

    def nvmlInit():
        if fixture is None:
            raise err("LibraryNotFound")
        state["init"] = True
        state["t0"] = time.perf_counter()

    def nvmlShutdown():
        state["init"] = False

    def system(key):
        def f():
            if not state["init"]:
                raise err("Uninitialized")
            if key not in fixture["system"]:
                raise err("NotSupported")
            return fixture["system"][key]
        return f

    def nvmlDeviceGetCount():
        if not state["init"]:
            raise err("Uninitialized")
        return len(fixture["devices"])

    def nvmlDeviceGetHandleByIndex(i):
        if not state["init"]:
            raise err("Uninitialized")
        if not 0 <= i < len(fixture["devices"]):
            raise err("InvalidArgument")
        return SimpleNamespace(index=i)

    clocks = {(real.NVML_CLOCK_SM, False): "clock_sm_mhz", (real.NVML_CLOCK_MEM, False): "clock_mem_mhz",
              (real.NVML_CLOCK_SM, True): "max_clock_sm_mhz", (real.NVML_CLOCK_MEM, True): "max_clock_mem_mhz"}

    def simple(key):
        return lambda h: val(h, key)

    def energy(h):
        base = val(h, "total_energy_mj")
        mw = val(h, "power_usage_mw")
        return int(base + mw * energy_rate_scale * (time.perf_counter() - state["t0"]))

    def memory(h, version=None):
        total = val(h, "memory_total_bytes")
        used = dev(h).get("memory_used_bytes", 0)
        return SimpleNamespace(total=total, used=used, free=total - used)

    def nvlink(h, link):
        states = val(h, "nvlink_state")
        if link >= len(states):
            raise err("InvalidArgument")
        return states[link]

    def util(h):
        u = val(h, "utilization")
        return SimpleNamespace(gpu=u["gpu"], memory=u["memory"])

    funcs = {
        "nvmlInit": nvmlInit, "nvmlShutdown": nvmlShutdown,
        "nvmlSystemGetDriverVersion": system("driver_version"),
        "nvmlSystemGetCudaDriverVersion": system("cuda_driver_version"),
        "nvmlDeviceGetCount": nvmlDeviceGetCount, "nvmlDeviceGetHandleByIndex": nvmlDeviceGetHandleByIndex,
        "nvmlDeviceGetName": simple("name"), "nvmlDeviceGetUUID": simple("uuid"),
        "nvmlDeviceGetSerial": simple("serial"),
        "nvmlDeviceGetPciInfo": lambda h: SimpleNamespace(busId=val(h, "pci_bus_id").encode()),
        "nvmlDeviceGetMemoryInfo": memory,
        "nvmlDeviceGetCudaComputeCapability": lambda h: tuple(val(h, "compute_capability")),
        "nvmlDeviceGetClockInfo": lambda h, t: val(h, clocks[(t, False)]),
        "nvmlDeviceGetMaxClockInfo": lambda h, t: val(h, clocks[(t, True)]),
        "nvmlDeviceGetEnforcedPowerLimit": simple("power_limit_enforced_mw"),
        "nvmlDeviceGetPowerManagementDefaultLimit": simple("power_limit_default_mw"),
        "nvmlDeviceGetEccMode": lambda h: list(val(h, "ecc_mode")),
        "nvmlDeviceGetMigMode": lambda h: list(val(h, "mig_mode")),
        "nvmlDeviceGetCurrPcieLinkGeneration": simple("pcie_gen"),
        "nvmlDeviceGetCurrPcieLinkWidth": simple("pcie_width"),
        "nvmlDeviceGetNvLinkState": nvlink,
        "nvmlDeviceGetTemperature": lambda h, sensor: val(h, "temperature_c"),
        "nvmlDeviceGetPowerUsage": simple("power_usage_mw"),
        "nvmlDeviceGetTotalEnergyConsumption": energy,
        "nvmlDeviceGetUtilizationRates": util,
        "nvmlDeviceGetCurrentClocksEventReasons": simple("clocks_event_reasons"),
    }
    for name, f in funcs.items():
        def logged(*a, _f=f, _n=name):
            m.calls.append((_n, a))
            return _f(*a)
        setattr(m, name, logged)
    return m


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())



def composed_node(name: str, n: int) -> dict:
    """An ``n``-GPU node composed from a recorded fixture's first device (distinct index, UUID and bus id;
    every other value as recorded). Marked ``composed``: no such node was recorded as a whole."""
    import copy

    fx = load_fixture(name)
    dev = fx["devices"][0]
    devices = []
    for i in range(n):
        d = copy.deepcopy(dev)
        d["uuid"] = f"GPU-00000000-0000-0000-0000-{i:012d}"
        d["pci_bus_id"] = f"00000000:{0x10 + i:02X}:00.0"
        d["serial"] = f"REDACTED{i}"
        devices.append(d)
    return {**fx, "devices": devices, "composed": True,
            "description": f"COMPOSED: {n} copies of the first device of {name} (recorded); not a recorded {n}-GPU node"}


def install_for_node(fixtures_by_node: dict[str, tuple[str, int]], node_id: str) -> None:
    """Ray actor setup hook (benchseal.hw.cluster_telemetry): install, in this worker process, the NVML
    replay chosen for its node: ``{node_id: (fixture file, gpus)}`` (gpus > recorded composes a node)."""
    name, gpus = fixtures_by_node[node_id]
    fx = load_fixture(name)
    if gpus != len(fx["devices"]):
        fx = composed_node(name, gpus)
    sys.modules["pynvml"] = make_fake_pynvml(fx)
