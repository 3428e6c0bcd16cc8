#!/usr/bin/env python
"""Record this machine's NVML answers as a replay fixture for tests/hw (benchseal-nvml-replay/1).

Run on a GPU machine:  python scripts/record_nvml_fixture.py tests/helpers/nvml_fixtures/nvml_<gpu>_x<N>.json
(or a directory: the file is then named nvml_<gpu>_x<N>.json after the first GPU's name). Each field holds the value NVML returned, or {"error": "<NVMLError class suffix>"} (e.g. NotSupported)
when the call failed, so the replay raises the same error. Serial numbers and UUIDs are recorded as
reported; pass --redact to replace them (and the host name) with placeholders before sharing the file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys

from benchseal.hw.nvml import load_pynvml


def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def record(redact: bool) -> dict:
    nv = load_pynvml()
    nv.nvmlInit()

    def call(fn, *args, conv=lambda x: x):
        try:
            return conv(getattr(nv, fn)(*args))
        except nv.NVMLError as exc:
            return {"error": type(exc).__name__.replace("NVMLError_", "")}

    try:
        system = {"driver_version": call("nvmlSystemGetDriverVersion", conv=_s),
                  "cuda_driver_version": call("nvmlSystemGetCudaDriverVersion")}
        devices = []
        for i in range(nv.nvmlDeviceGetCount()):
            h = nv.nvmlDeviceGetHandleByIndex(i)
            links = []
            for link in range(getattr(nv, "NVML_NVLINK_MAX_LINKS", 18)):
                st = call("nvmlDeviceGetNvLinkState", h, link)
                if isinstance(st, dict):
                    break
                links.append(int(st))
            mem = call("nvmlDeviceGetMemoryInfo", h)
            util = call("nvmlDeviceGetUtilizationRates", h)
            d = {
                "name": call("nvmlDeviceGetName", h, conv=_s),
                "uuid": call("nvmlDeviceGetUUID", h, conv=_s),
                "serial": call("nvmlDeviceGetSerial", h, conv=_s),
                "pci_bus_id": call("nvmlDeviceGetPciInfo", h, conv=lambda p: _s(p.busId)),
                "memory_total_bytes": mem if isinstance(mem, dict) else int(mem.total),
                "memory_used_bytes": mem if isinstance(mem, dict) else int(mem.used),
                "compute_capability": call("nvmlDeviceGetCudaComputeCapability", h, conv=list),
                "clock_sm_mhz": call("nvmlDeviceGetClockInfo", h, nv.NVML_CLOCK_SM),
                "clock_mem_mhz": call("nvmlDeviceGetClockInfo", h, nv.NVML_CLOCK_MEM),
                "max_clock_sm_mhz": call("nvmlDeviceGetMaxClockInfo", h, nv.NVML_CLOCK_SM),
                "max_clock_mem_mhz": call("nvmlDeviceGetMaxClockInfo", h, nv.NVML_CLOCK_MEM),
                "power_limit_enforced_mw": call("nvmlDeviceGetEnforcedPowerLimit", h),
                "power_limit_default_mw": call("nvmlDeviceGetPowerManagementDefaultLimit", h),
                "ecc_mode": call("nvmlDeviceGetEccMode", h, conv=list),
                "mig_mode": call("nvmlDeviceGetMigMode", h, conv=list),
                "pcie_gen": call("nvmlDeviceGetCurrPcieLinkGeneration", h),
                "pcie_width": call("nvmlDeviceGetCurrPcieLinkWidth", h),
                "temperature_c": call("nvmlDeviceGetTemperature", h, nv.NVML_TEMPERATURE_GPU),
                "power_usage_mw": call("nvmlDeviceGetPowerUsage", h),
                "total_energy_mj": call("nvmlDeviceGetTotalEnergyConsumption", h),
                "utilization": util if isinstance(util, dict) else {"gpu": util.gpu, "memory": util.memory},
                "clocks_event_reasons": call("nvmlDeviceGetCurrentClocksEventReasons", h),
            }
            if links:
                d["nvlink_state"] = links
            else:
                d["nvlink_state"] = call("nvmlDeviceGetNvLinkState", h, 0)
            if redact:
                d["uuid"] = f"GPU-00000000-0000-0000-0000-{i:012d}" if isinstance(d["uuid"], str) else d["uuid"]
                d["serial"] = f"REDACTED{i}" if isinstance(d["serial"], str) else d["serial"]
            devices.append(d)
    finally:
        nv.nvmlShutdown()
    return {
        "format": "benchseal-nvml-replay/1",
        "recorded_by": "scripts/record_nvml_fixture.py",
        "recorded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "description": f"recorded on {'a redacted host' if redact else platform.node()} ({platform.platform()})",
        "sources": {"local": "values read through NVML on the recording machine"},
        "system": system,
        "devices": devices,
    }


def default_name(data: dict) -> str:
    """nvml_<first GPU's name, lower case, NVIDIA dropped>_x<count>.json, e.g. nvml_h200_x1.json."""
    devices = data.get("devices") or []
    name = devices[0].get("name") if devices else None
    slug = re.sub(r"[^a-z0-9]+", "_", str(name if isinstance(name, str) else "gpu").lower().replace("nvidia", "")).strip("_")
    return f"nvml_{slug or 'gpu'}_x{len(devices)}.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="output JSON path, e.g. tests/helpers/nvml_fixtures/nvml_h100_x8.json, or a directory")
    ap.add_argument("--redact", action="store_true", help="replace UUIDs and serial numbers with placeholders")
    args = ap.parse_args()
    try:
        data = record(args.redact)
    except Exception as exc:  # noqa: BLE001 - a recording tool: say why and stop
        print(f"record_nvml_fixture: cannot read NVML: {exc} ({type(exc).__name__})", file=sys.stderr)
        return 3
    if os.path.isdir(args.out):
        args.out = os.path.join(args.out, default_name(data))
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
    print(f"wrote {args.out}: {len(data['devices'])} device(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
