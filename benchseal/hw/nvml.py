"""The only module that imports pynvml (the nvidia-ml-py bindings).

:class:`Nvml` is an initialised NVML session. Every per-field read goes through :meth:`Nvml.read`,
which turns ``NVMLError_NotSupported`` (and other per-field NVML errors) into ``None`` plus a note,
so one unsupported field never loses the rest of the inventory. :func:`open_nvml` reports a missing
library or driver (``NVMLError_LibraryNotFound``, ``NVMLError_DriverNotLoaded``, ...) as an error
string instead of raising: a machine without a GPU is a normal case.

Tests replace the module returned by :func:`load_pynvml` (``sys.modules['pynvml']``) with a fake
that replays values recorded from real hardware (tests/hw/fixtures/*.json).
"""

from __future__ import annotations

from typing import Any, Callable

from benchseal.schema import GpuInfo

# NVML clock-event ("throttle") reason bits, nvmlClocksEventReason* in nvml.h / pynvml.
THROTTLE_REASONS: dict[int, str] = {
    0x001: "gpu_idle",
    0x002: "applications_clocks_setting",
    0x004: "sw_power_cap",
    0x008: "hw_slowdown",
    0x010: "sync_boost",
    0x020: "sw_thermal_slowdown",
    0x040: "hw_thermal_slowdown",
    0x080: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}


def throttle_names(mask: int | None) -> list[str]:
    if not mask:
        return []
    names = [n for bit, n in THROTTLE_REASONS.items() if mask & bit]
    rest = mask & ~sum(THROTTLE_REASONS)
    if rest:
        names.append(f"other_0x{rest:x}")
    return names


def load_pynvml():
    """Import the NVML bindings (the seam tests replace through sys.modules['pynvml'])."""
    import pynvml

    return pynvml


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _err_name(lib: Any, exc: BaseException) -> str:
    return type(exc).__name__.replace("NVMLError_", "") or "NVMLError"


class Nvml:
    """An initialised NVML session. Create with :func:`open_nvml`; close with :meth:`close`."""

    def __init__(self, lib: Any) -> None:
        self.lib = lib
        self._closed = False

    # -- generic field access -------------------------------------------------------------------
    def read(self, fn: str, *args: Any, field: str, notes: list[str] | None = None) -> Any:
        """Call ``pynvml.<fn>(*args)``; on an NVML error return None and append a note."""
        lib = self.lib
        func: Callable[..., Any] | None = getattr(lib, fn, None)
        if func is None:
            if notes is not None:
                notes.append(f"{field}: not available in this nvidia-ml-py ({fn})")
            return None
        try:
            return func(*args)
        except lib.NVMLError as exc:
            if notes is not None:
                reason = "not supported" if isinstance(exc, lib.NVMLError_NotSupported) else _err_name(lib, exc)
                notes.append(f"{field}: {reason}")
            return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self.lib.nvmlShutdown()
            except Exception:  # noqa: BLE001 - shutting down must never mask the real result
                pass

    def __enter__(self) -> "Nvml":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- system -----------------------------------------------------------------------------------
    def device_count(self) -> int:
        return int(self.lib.nvmlDeviceGetCount())

    def handle(self, index: int) -> Any:
        return self.lib.nvmlDeviceGetHandleByIndex(index)

    def driver_version(self, notes: list[str]) -> str | None:
        v = self.read("nvmlSystemGetDriverVersion", field="driver_version", notes=notes)
        return _s(v) if v is not None else None

    def cuda_driver_version(self, notes: list[str]) -> str | None:
        v = self.read("nvmlSystemGetCudaDriverVersion", field="cuda_driver_version", notes=notes)
        if v is None:
            return None
        v = int(v)
        return f"{v // 1000}.{(v % 1000) // 10}"

    # -- per device ---------------------------------------------------------------------------
    def nvlink_active_links(self, h: Any, notes: list[str]) -> int | None:
        lib = self.lib
        max_links = int(getattr(lib, "NVML_NVLINK_MAX_LINKS", 18))
        active = 0
        for link in range(max_links):
            try:
                state = lib.nvmlDeviceGetNvLinkState(h, link)
            except lib.NVMLError as exc:
                if link == 0:
                    reason = "not supported" if isinstance(exc, lib.NVMLError_NotSupported) else _err_name(lib, exc)
                    notes.append(f"nvlink_active_links: {reason}")
                    return None
                break  # past the last link of this device (InvalidArgument / NotSupported)
            if int(state) == 1:
                active += 1
        return active

    def throttle_reasons(self, h: Any, notes: list[str] | None = None) -> int | None:
        fn = "nvmlDeviceGetCurrentClocksEventReasons"
        if getattr(self.lib, fn, None) is None:
            fn = "nvmlDeviceGetCurrentClocksThrottleReasons"
        v = self.read(fn, h, field="throttle_reasons", notes=notes)
        return int(v) if v is not None else None

    def gpu_info(self, index: int, *, driver_version: str | None, cuda_driver_version: str | None) -> GpuInfo:
        lib = self.lib
        notes: list[str] = []
        h = self.handle(index)
        r = self.read
        name = r("nvmlDeviceGetName", h, field="name", notes=notes)
        pci = r("nvmlDeviceGetPciInfo", h, field="pci_bus_id", notes=notes)
        mem = r("nvmlDeviceGetMemoryInfo", h, field="memory_total_bytes", notes=notes)
        cc = r("nvmlDeviceGetCudaComputeCapability", h, field="compute_capability", notes=notes)
        sm, mem_c = lib.NVML_CLOCK_SM, lib.NVML_CLOCK_MEM
        plim = r("nvmlDeviceGetEnforcedPowerLimit", h, field="power_limit_w", notes=notes)
        pdef = r("nvmlDeviceGetPowerManagementDefaultLimit", h, field="power_limit_default_w", notes=notes)
        ecc = r("nvmlDeviceGetEccMode", h, field="ecc_enabled", notes=notes)
        mig = r("nvmlDeviceGetMigMode", h, field="mig_enabled", notes=notes)
        temp = r("nvmlDeviceGetTemperature", h, lib.NVML_TEMPERATURE_GPU, field="temperature_c", notes=notes)
        uuid = r("nvmlDeviceGetUUID", h, field="uuid", notes=notes)
        serial = r("nvmlDeviceGetSerial", h, field="serial", notes=notes)
        gen = r("nvmlDeviceGetCurrPcieLinkGeneration", h, field="pcie_gen", notes=notes)
        width = r("nvmlDeviceGetCurrPcieLinkWidth", h, field="pcie_width", notes=notes)
        return GpuInfo(
            index=index,
            name=_s(name) if name is not None else "unknown",
            uuid=_s(uuid) if uuid is not None else None,
            serial=_s(serial) if serial is not None else None,
            pci_bus_id=_s(pci.busId) if pci is not None else None,
            memory_total_bytes=int(mem.total) if mem is not None else None,
            driver_version=driver_version,
            cuda_driver_version=cuda_driver_version,
            compute_capability=f"{cc[0]}.{cc[1]}" if cc is not None else None,
            sm_clock_mhz=_int(r("nvmlDeviceGetClockInfo", h, sm, field="sm_clock_mhz", notes=notes)),
            sm_clock_max_mhz=_int(r("nvmlDeviceGetMaxClockInfo", h, sm, field="sm_clock_max_mhz", notes=notes)),
            mem_clock_mhz=_int(r("nvmlDeviceGetClockInfo", h, mem_c, field="mem_clock_mhz", notes=notes)),
            mem_clock_max_mhz=_int(r("nvmlDeviceGetMaxClockInfo", h, mem_c, field="mem_clock_max_mhz", notes=notes)),
            power_limit_w=plim / 1000.0 if plim is not None else None,
            power_limit_default_w=pdef / 1000.0 if pdef is not None else None,
            ecc_enabled=bool(ecc[0]) if ecc is not None else None,
            mig_enabled=bool(mig[0]) if mig is not None else None,
            pcie_gen=_int(gen),
            pcie_width=_int(width),
            nvlink_active_links=self.nvlink_active_links(h, notes),
            temperature_c=float(temp) if temp is not None else None,
            notes=notes,
        )

    def sample(self, h: Any, skip: set[str]) -> dict[str, Any]:
        """One telemetry sample of a device. Fields listed in ``skip`` (known unsupported) are not read;
        a field that fails is added to ``skip`` so later samples do not pay for it again."""
        lib = self.lib
        out: dict[str, Any] = {}

        def get(field: str, fn: str, *args: Any) -> Any:
            if field in skip:
                return None
            v = self.read(fn, h, *args, field=field)
            if v is None:
                skip.add(field)
            return v

        p = get("power_w", "nvmlDeviceGetPowerUsage")
        out["power_w"] = p / 1000.0 if p is not None else None
        out["energy_mj"] = _int(get("energy_mj", "nvmlDeviceGetTotalEnergyConsumption"))
        out["sm_clock_mhz"] = _int(get("sm_clock_mhz", "nvmlDeviceGetClockInfo", lib.NVML_CLOCK_SM))
        out["mem_clock_mhz"] = _int(get("mem_clock_mhz", "nvmlDeviceGetClockInfo", lib.NVML_CLOCK_MEM))
        u = get("util", "nvmlDeviceGetUtilizationRates")
        out["gpu_util_pct"] = _int(u.gpu) if u is not None else None
        out["mem_util_pct"] = _int(u.memory) if u is not None else None
        m = get("mem_used_bytes", "nvmlDeviceGetMemoryInfo")
        out["mem_used_bytes"] = _int(m.used) if m is not None else None
        t = get("temperature_c", "nvmlDeviceGetTemperature", lib.NVML_TEMPERATURE_GPU)
        out["temperature_c"] = _int(t)
        if "throttle_reasons" in skip:
            out["throttle_reasons"] = None
        else:
            tr = self.throttle_reasons(h)
            if tr is None:
                skip.add("throttle_reasons")
            out["throttle_reasons"] = tr
        return out


def _int(v: Any) -> int | None:
    return int(v) if v is not None else None


def open_nvml() -> tuple[Nvml | None, str | None]:
    """Initialise NVML. Returns (session, None) or (None, why-not) when there is no library, driver or GPU."""
    try:
        lib = load_pynvml()
    except ImportError:
        return None, "nvidia-ml-py (pynvml) is not installed"
    try:
        lib.nvmlInit()
    except lib.NVMLError as exc:
        return None, f"NVML could not be initialised: {exc} ({type(exc).__name__})"
    except OSError as exc:  # pragma: no cover - exotic loader failures
        return None, f"NVML could not be loaded: {exc}"
    return Nvml(lib), None
