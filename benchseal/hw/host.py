"""Host inventory: CPU, memory, OS, Python and package versions (read from metadata, never imported)."""

from __future__ import annotations

import os
import platform
import socket
from importlib import metadata
from pathlib import Path

from benchseal.schema import HostInfo

# key in HostInfo.packages -> distribution name
PACKAGES = {
    "torch": "torch",
    "transformers": "transformers",
    "vllm": "vllm",
    "lm_eval": "lm-eval",
    "nvidia-ml-py": "nvidia-ml-py",
    "ray": "ray",
    "benchseal": "benchseal",
}


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, dist in PACKAGES.items():
        try:
            out[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[key] = None
    return out


def _cpuinfo() -> tuple[str | None, int | None]:
    """(CPU model, physical cores) from /proc/cpuinfo on Linux."""
    try:
        text = open("/proc/cpuinfo", encoding="utf-8", errors="replace").read()
    except OSError:
        return None, None
    model = None
    cores: set[tuple[str, str]] = set()
    phys = core = None
    for line in text.splitlines() + [""]:
        key, _, val = line.partition(":")
        key, val = key.strip(), val.strip()
        if key == "model name" and model is None:
            model = val
        elif key == "physical id":
            phys = val
        elif key == "core id":
            core = val
        elif not line.strip():
            if phys is not None and core is not None:
                cores.add((phys, core))
            phys = core = None
    return model, (len(cores) or None)


def _ram_bytes() -> int | None:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _os_name() -> str:
    try:
        for line in open("/etc/os-release", encoding="utf-8"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def host_info() -> HostInfo:
    model, physical = _cpuinfo()
    return HostInfo(
        hostname=socket.gethostname(),
        cpu_model=model or platform.processor() or None,
        cpu_cores_logical=os.cpu_count(),
        cpu_cores_physical=physical,
        ram_bytes=_ram_bytes(),
        os=_os_name(),
        kernel=platform.release(),
        python=platform.python_version(),
        packages=package_versions(),
        nics=nics(),
    )


def nics(sys_net: str = "/sys/class/net", sys_ib: str = "/sys/class/infiniband") -> list[dict]:
    """Physical network interfaces (loopback and virtual ones left out) with their link speed, and
    InfiniBand ports with their rate, as Linux reports them under /sys. Empty elsewhere."""
    out: list[dict] = []
    root = Path(sys_net)
    for dev in sorted(root.iterdir()) if root.is_dir() else []:
        if not (dev / "device").exists():  # lo, bridges, veth, docker0: no physical device
            continue
        speed = _read_int(dev / "speed")
        out.append({"name": dev.name, "kind": "infiniband" if _read(dev / "type") == "32" else "ethernet",
                    "speed_mbps": speed if speed and speed > 0 else None, "state": _read(dev / "operstate")})
    ib = Path(sys_ib)
    for hca in sorted(ib.iterdir()) if ib.is_dir() else []:
        for port in sorted((hca / "ports").iterdir()) if (hca / "ports").is_dir() else []:
            out.append({"name": f"{hca.name}/{port.name}", "kind": "infiniband-port", "rate": _read(port / "rate"),
                        "state": _read(port / "state")})
    return out


def _read(p: Path) -> str | None:
    try:
        return p.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def _read_int(p: Path) -> int | None:
    v = _read(p)
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None
