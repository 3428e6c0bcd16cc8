"""NVML telemetry: a background sampler streaming rows to CSV, and a pure energy-window function.

Energy is never integrated from power samples: it is the difference of NVML's total-energy counter
(``nvmlDeviceGetTotalEnergyConsumption``, millijoules since the driver was loaded). See
docs/metrics.md for the exact definitions.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchseal.errors import UsageError

COLUMNS = (
    "t_wall", "t_mono", "gpu", "power_w", "energy_mj", "sm_clock_mhz", "mem_clock_mhz", "gpu_util_pct",
    "mem_util_pct", "mem_used_bytes", "temperature_c", "throttle_reasons", "throttle_names",
)


@dataclass(frozen=True)
class TelemetryResult:
    available: bool
    note: str
    csv_path: str
    samples: int  # sampling passes (one pass reads every GPU once and writes one row per GPU)
    achieved_hz: float | None  # (samples - 1) / (t_mono of last pass - t_mono of first pass)
    overhead_s_per_sample: float | None  # mean wall time of one pass (NVML reads + CSV write)
    t_wall_start: float
    t_wall_end: float
    energy_j: float | None  # sum over GPUs of (last counter - first counter) / 1000
    energy_j_per_gpu: dict[int, float | None] = field(default_factory=dict)
    gpus: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["energy_j_per_gpu"] = {str(k): v for k, v in self.energy_j_per_gpu.items()}
        return d


class TelemetrySampler:
    """Context manager sampling every visible GPU every ``interval_s`` seconds in a background thread.

    One pass is taken synchronously on entry and one on exit, so the energy counter difference
    covers the whole ``with`` block. Without NVML/GPU it writes the CSV header only and
    ``result.available`` is False with the reason in ``result.note``.
    """

    def __init__(self, csv_path: str | os.PathLike, interval_s: float = 0.1) -> None:
        if not interval_s > 0:
            raise UsageError(f"telemetry interval must be positive, got {interval_s}")
        self.csv_path = Path(csv_path)
        self.interval_s = float(interval_s)
        self.result: TelemetryResult | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._nv = None
        self._handles: list[Any] = []
        self._skip: list[set[str]] = []
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._t_mono: list[float] = []  # start of each pass
        self._cost = 0.0
        self._note = ""
        self._error: BaseException | None = None

    # -- sampling ---------------------------------------------------------------------------------
    def _pass(self) -> None:
        t0 = time.perf_counter()
        t_wall = time.time()
        rows = []
        for i, h in enumerate(self._handles):
            s = self._nv.sample(h, self._skip[i])
            e = s["energy_mj"]
            if e is not None:
                self._first.setdefault(i, e)
                self._last[i] = e
            names = "|".join(_names(s["throttle_reasons"]))
            rows.append([f"{t_wall:.6f}", f"{t0:.6f}", i] + [_cell(s[c]) for c in COLUMNS[3:-1]] + [names])
        with self._lock:
            self._writer.writerows(rows)
            self._fh.flush()
        self._t_mono.append(t0)
        self._cost += time.perf_counter() - t0

    def _run(self) -> None:
        start = time.perf_counter()
        k = 1
        try:
            while not self._stop.wait(max(0.0, start + k * self.interval_s - time.perf_counter())):
                self._pass()
                k += 1
                behind = int((time.perf_counter() - start) / self.interval_s)
                if behind > k:  # a pass overran: skip missed slots instead of bursting
                    k = behind
        except BaseException as exc:  # noqa: BLE001 - reported in the result, never lost silently
            self._error = exc

    # -- context manager --------------------------------------------------------------------------
    def __enter__(self) -> "TelemetrySampler":
        from benchseal.hw.nvml import open_nvml

        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.csv_path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(COLUMNS)
        self._fh.flush()
        self._t_wall_start = time.time()
        nv, err = open_nvml()
        if nv is not None:
            try:
                n = nv.device_count()
            except nv.lib.NVMLError as exc:
                n, err = 0, f"NVML could not count devices: {exc}"
            if n == 0:
                nv.close()
                nv, err = None, err or "NVML found no NVIDIA GPU"
            else:
                self._nv = nv
                self._handles = [nv.handle(i) for i in range(n)]
                self._skip = [set() for _ in range(n)]
        if self._nv is None:
            self._note = f"no telemetry: {err}"
            return self
        self._pass()
        self._thread = threading.Thread(target=self._run, name="benchseal-telemetry", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._nv is not None:
                self._stop.set()
                if self._thread is not None:
                    self._thread.join()
                self._pass()
        finally:
            t_wall_end = time.time()
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            if self._nv is not None:
                self._nv.close()
            self.result = self._make_result(t_wall_end)

    def _make_result(self, t_wall_end: float) -> TelemetryResult:
        n = len(self._t_mono)
        available = self._nv is not None
        notes = [self._note] if self._note else []
        if self._error is not None:
            notes.append(f"sampling thread stopped early: {self._error!r}")
        per_gpu: dict[int, float | None] = {}
        for i in range(len(self._handles)):
            if i in self._first:
                d = self._last[i] - self._first[i]
                per_gpu[i] = d / 1000.0 if d >= 0 else None
                if d < 0:
                    notes.append(f"gpu {i}: energy counter went backwards (driver reloaded?); energy not given")
            else:
                per_gpu[i] = None
                notes.append(f"gpu {i}: total-energy counter not supported")
        known = [v for v in per_gpu.values() if v is not None]
        span = self._t_mono[-1] - self._t_mono[0] if n >= 2 else 0.0
        return TelemetryResult(
            available=available,
            note="; ".join(notes) or "ok",
            csv_path=str(self.csv_path),
            samples=n,
            achieved_hz=(n - 1) / span if span > 0 else None,
            overhead_s_per_sample=self._cost / n if n else None,
            t_wall_start=self._t_wall_start,
            t_wall_end=t_wall_end,
            energy_j=sum(known) if known and len(known) == len(per_gpu) else None,
            energy_j_per_gpu=per_gpu,
            gpus=len(self._handles),
        )


def _names(mask: int | None) -> list[str]:
    from benchseal.hw.nvml import throttle_names

    return throttle_names(mask)


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3f}"
    return v


def _counter_at(points: list[tuple[float, int]], t: float) -> tuple[float, bool]:
    """The counter at time t by linear interpolation between the bracketing samples.
    Outside the sampled range the nearest sample is used and the second value is False."""
    if t <= points[0][0]:
        return float(points[0][1]), t == points[0][0]
    if t >= points[-1][0]:
        return float(points[-1][1]), t == points[-1][0]
    lo, hi = 0, len(points) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if points[mid][0] <= t:
            lo = mid
        else:
            hi = mid
    (t0, e0), (t1, e1) = points[lo], points[hi]
    if t1 == t0:
        return float(e1), True
    return e0 + (e1 - e0) * (t - t0) / (t1 - t0), True


def energy_between(csv_path: str | os.PathLike, t_wall_start: float, t_wall_end: float) -> dict | None:
    """Energy of the window [t_wall_start, t_wall_end] (unix seconds) from a telemetry CSV. PURE.

    Per GPU, the energy counter (mJ) is linearly interpolated at both window edges between the
    samples that bracket each edge; energy = (E(end) - E(start)) / 1000 J. An edge outside the
    sampled range is clamped to the nearest sample and ``complete`` is False. Returns None when no
    GPU has at least two counter samples overlapping the window.
    """
    if not t_wall_end > t_wall_start:
        raise UsageError(f"energy window must have end > start (got {t_wall_start} .. {t_wall_end})",
                         where=str(csv_path))
    per: dict[int, list[tuple[float, int]]] = {}
    stamps: set[float] = set()
    try:
        fh = open(csv_path, newline="", encoding="utf-8")
    except FileNotFoundError:
        raise UsageError("telemetry CSV not found", where=str(csv_path)) from None
    with fh:
        for row in csv.DictReader(fh):
            try:
                t = float(row["t_wall"])
                if t_wall_start <= t <= t_wall_end:
                    stamps.add(t)
                if row.get("energy_mj") not in (None, ""):
                    per.setdefault(int(row["gpu"]), []).append((t, int(row["energy_mj"])))
            except (KeyError, ValueError) as exc:
                raise UsageError(f"malformed telemetry row: {exc}", where=str(csv_path)) from None
    energy: dict[str, float] = {}
    complete = True
    notes: list[str] = []
    for gpu, pts in sorted(per.items()):
        pts.sort()
        if len(pts) < 2 or pts[-1][0] < t_wall_start or pts[0][0] > t_wall_end:
            notes.append(f"gpu {gpu}: no counter samples overlap the window")
            complete = False
            continue
        e0, ok0 = _counter_at(pts, t_wall_start)
        e1, ok1 = _counter_at(pts, t_wall_end)
        if not (ok0 and ok1):
            complete = False
            notes.append(f"gpu {gpu}: window extends beyond the samples; clamped to the nearest sample")
        energy[str(gpu)] = (e1 - e0) / 1000.0
    if not energy:
        return None
    duration = t_wall_end - t_wall_start
    total = sum(energy.values())
    return {
        "method": "nvml-energy-counter, linear interpolation at window edges",
        "t_wall_start": t_wall_start,
        "t_wall_end": t_wall_end,
        "duration_s": duration,
        "energy_j": total,
        "energy_j_per_gpu": energy,
        "avg_power_w": total / duration,
        "avg_power_w_per_gpu": {k: v / duration for k, v in energy.items()},
        "samples_in_window": len(stamps),
        "complete": complete,
        "notes": notes,
    }
