"""Whose hardware a run's 算力规模 describes (docs/hardware.md, "Serving hardware").

The compute inventory must describe the machines that served the model. When benchseal starts the
engine (``vllm-serve``, ``vllm``, ``hf``) they are this host (or the Ray cluster named by
``--ray-address``). When it measures an external endpoint (``openai``), this host is only the client:
the inventory then comes from the serving hosts, either their Ray cluster (``--ray-address``) or a
``benchseal hw --out FILE`` report made on the server and attached with ``--server-hardware FILE``
(recorded with its sha256). Without either, :func:`serving_inventory` returns no report, the run
writes no ``hardware.json`` and the hw stage is skipped with the reason, so compute claims are
INCONCLUSIVE and no report shows the client as the server.

run.json's ``serving_hardware`` records ``{source: local|ray|server-file|none, detail, …}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchseal.errors import ConfigError, UsageError
from benchseal.schema import HardwareReport

HARDWARE_FILE = "hardware.json"
NOT_ESTABLISHED = ("the model is served by an external endpoint{where}, so this machine is only the client and its "
                   "hardware is not the serving hardware; give --ray-address of the serving cluster or --server-hardware "
                   "FILE (from `benchseal hw --out FILE` run on the server)")


def load_server_hardware(path: str | Path) -> tuple[HardwareReport, dict[str, Any]]:
    """A ``benchseal hw --out FILE`` report (or a bundle folder holding hardware.json) made on the
    serving host: validated, with its sha256 recorded."""
    from benchseal.io import read_json, sha256_file, validate

    p = Path(path)
    if p.is_dir():
        p = p / HARDWARE_FILE
    if not p.is_file():
        raise UsageError("--server-hardware file not found", where=str(p),
                         hint="run `benchseal hw --out hardware.json` on the serving host and pass that file")
    try:
        report = validate(HardwareReport, read_json(p), where=str(p))
    except ConfigError as exc:
        raise UsageError(f"--server-hardware is not a benchseal hardware report: {exc.what}", where=str(p),
                         hint="pass the file `benchseal hw --out FILE` wrote on the serving host") from None
    hosts = sorted({n.host.hostname for n in report.nodes}) if report.nodes else [report.host.hostname]
    return report, {"source": "server-file", "path": str(p.resolve()), "sha256": sha256_file(p), "hosts": hosts,
                    "detail": f"inventory of {', '.join(hosts)} recorded on the serving host by `benchseal hw` and "
                              f"attached with --server-hardware (sha256 {sha256_file(p)[:12]}…)"}


def serving_inventory(*, external: bool, endpoint: str | None = None, ray_address: str | None = None,
                      server_hardware: str | Path | None = None) -> tuple[HardwareReport | None, dict[str, Any]]:
    """(the serving hardware's report or None, run.json's ``serving_hardware`` record)."""
    if server_hardware and not external:
        raise UsageError("--server-hardware applies to an external endpoint (--backend openai) only",
                         hint="benchseal started the engine here, so it inventories this host (or --ray-address) itself")
    if server_hardware and ray_address:
        raise UsageError("give either --ray-address or --server-hardware, not both",
                         hint="both describe the serving hosts; choose the one that reaches them")
    if server_hardware:
        return load_server_hardware(server_hardware)
    if ray_address:
        from benchseal.hw import probe_cluster

        report = probe_cluster(ray_address)
        role = "the serving cluster" if external else "the cluster the engine ran on"
        return report, {"source": "ray", "ray_address": ray_address,
                        "detail": f"inventory of {role} through Ray ({len(report.nodes) or 1} node(s))"}
    if external:
        from benchseal.redact import redact_url

        where = f" ({redact_url(endpoint)})" if endpoint else ""
        return None, {"source": "none", "detail": NOT_ESTABLISHED.format(where=where)}
    from benchseal.hw import probe

    return probe(), {"source": "local", "detail": "benchseal started the engine on this host and inventoried it"}


def write_serving_hardware(out_dir: str | Path, report: HardwareReport | None, record: dict[str, Any]) -> list[str]:
    """Write ``hardware.json`` for the serving inventory: the attached server report byte for byte (so its
    recorded sha256 is the bundle file's), else the probed report; nothing when there is none."""
    import shutil

    from benchseal.io import write_json

    out = Path(out_dir) / HARDWARE_FILE
    if report is None:
        return []
    if record.get("source") == "server-file":
        shutil.copyfile(record["path"], out)
    else:
        write_json(out, report)
    return [HARDWARE_FILE]
