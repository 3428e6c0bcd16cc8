"""Datasheet peaks per GPU model (configs/gpus.yaml) and explicit matching of NVML names to entries.

Matching never guesses: an NVML name matches an entry only if it equals one of the entry's
``names`` exactly or fully matches one of its anchored ``patterns``; entries that need the memory
size (``memory_gib_min``/``memory_gib_max``) match only when the memory is known and in range.
No candidate, or more than one, gives ``None`` (an unknown GPU gets no peak figures).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from benchseal.errors import ConfigError
from benchseal.io import load_yaml_model
from benchseal.config import config_path
from benchseal.schema import GpuPeak, Strict

DTYPES = ("fp64", "fp64_tensor", "fp32", "tf32", "bf16", "fp16", "fp8", "int8")
"""Keys allowed in ``tflops``. All tensor figures are dense; int8 is in TOPS."""


class MatchRule(Strict):
    names: list[str] = Field(default_factory=list)  # exact NVML names (nvmlDeviceGetName)
    patterns: list[str] = Field(default_factory=list)  # regular expressions, matched with fullmatch
    memory_gib_min: float | None = None
    memory_gib_max: float | None = None

    @model_validator(mode="after")
    def _has_rule(self) -> "MatchRule":
        if not self.names and not self.patterns:
            raise ValueError("give at least one NVML name or pattern")
        for p in self.patterns:
            re.compile(p)
        return self


class GpuSpecEntry(Strict):
    display_name: str
    vendor: str = "NVIDIA"
    form_factor: str | None = None
    memory_gb: float | None = None
    memory_total_mib: int | None = None  # total memory as NVML / nvidia-smi report it (what vLLM sizes against)
    match: MatchRule
    tflops: dict[str, float]
    memory_bandwidth_gbs: float
    sources: list[str] = Field(min_length=1)
    value_sources: dict[str, str] = Field(default_factory=dict)  # dtype or "memory_bandwidth_gbs" -> URL
    notes: list[str] = Field(default_factory=list)

    @field_validator("tflops")
    @classmethod
    def _dtypes(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if k not in DTYPES:
                raise ValueError(f"unknown dtype {k!r} (allowed: {', '.join(DTYPES)})")
            if not x > 0:
                raise ValueError(f"{k} must be positive, got {x}")
        if not v:
            raise ValueError("no peak figures")
        return v

    @field_validator("memory_bandwidth_gbs")
    @classmethod
    def _bw(cls, v: float) -> float:
        if not v > 0:
            raise ValueError("memory_bandwidth_gbs must be positive")
        return v

    @field_validator("sources")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        for u in v:
            if not u.startswith("https://"):
                raise ValueError(f"source must be an https URL: {u!r}")
        return v


class GpuSpecFile(Strict):
    schema_version: str
    conventions: list[str] = Field(default_factory=list)
    gpus: dict[str, GpuSpecEntry]


def _check_unambiguous(specs: GpuSpecFile, where: str) -> None:
    """Every exact name must select exactly one entry when memory does not discriminate."""
    owners: dict[str, list[str]] = {}
    for sid, e in specs.gpus.items():
        for n in e.match.names:
            owners.setdefault(n, []).append(sid)
    for sid, e in specs.gpus.items():
        for p in e.match.patterns:
            rx = re.compile(p)
            for n in owners:
                if rx.fullmatch(n) and sid not in owners[n]:
                    owners[n].append(sid)
    for n, sids in owners.items():
        if len(sids) > 1:
            ranges = [(specs.gpus[s].match.memory_gib_min, specs.gpus[s].match.memory_gib_max) for s in sids]
            if any(r == (None, None) for r in ranges):
                raise ConfigError(f"NVML name {n!r} matches several entries ({', '.join(sids)})", where=where,
                                  hint="give each entry a distinct name or a memory range")


@functools.lru_cache(maxsize=8)
def _load(path: str) -> GpuSpecFile:
    specs = load_yaml_model(GpuSpecFile, path)
    _check_unambiguous(specs, path)
    return specs


def load_gpu_specs(path: str | Path | None = None) -> dict[str, GpuSpecEntry]:
    """The entries of configs/gpus.yaml (validated), keyed by spec id."""
    return dict(_load(str(path or config_path("gpus.yaml"))).gpus)


def _memory_ok(rule: MatchRule, memory_total_bytes: int | None) -> bool:
    if rule.memory_gib_min is None and rule.memory_gib_max is None:
        return True
    if memory_total_bytes is None:
        return False
    gib = memory_total_bytes / 2**30
    lo = rule.memory_gib_min if rule.memory_gib_min is not None else 0.0
    hi = rule.memory_gib_max if rule.memory_gib_max is not None else float("inf")
    return lo <= gib <= hi


def match_spec(nvml_name: str, memory_total_bytes: int | None = None, *, path: str | Path | None = None) -> GpuPeak | None:
    """The dense datasheet peaks for a GPU reported by NVML as ``nvml_name``, or None if unknown/ambiguous."""
    name = (nvml_name or "").strip()
    if not name:
        return None
    hits = []
    for sid, e in load_gpu_specs(path).items():
        named = name in e.match.names or any(re.fullmatch(p, name) for p in e.match.patterns)
        if named and _memory_ok(e.match, memory_total_bytes):
            hits.append((sid, e))
    if len(hits) != 1:
        return None
    sid, e = hits[0]
    return GpuPeak(spec_id=sid, display_name=e.display_name, tflops=dict(e.tflops),
                   memory_bandwidth_gbs=e.memory_bandwidth_gbs, sources=list(e.sources))
