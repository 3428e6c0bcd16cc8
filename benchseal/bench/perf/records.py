"""The records check (docs/metrics.md, "Records check"): a measured output-token throughput per GPU
above the best published record for the same model and GPU (configs/records/inference.yaml) is
flagged for review. A flag is not a verdict: newer software can beat a record; a cache, a smaller
model or a counting error can too. Pure apart from reading the table."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    match: str


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    publisher: str
    url: str
    commit: str | None = None
    retrieved: str


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    model: _Model
    gpu: _Model
    gpus: int = Field(ge=1)
    precision: str
    input_len: int
    output_len: int
    figure: str
    value: float = Field(gt=0)
    unit: str
    source: _Source

    @property
    def per_gpu(self) -> float:
        return self.value if "per GPU" in self.unit else self.value / self.gpus


class RecordsTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: str
    records: list[Record]


def load_records() -> RecordsTable:
    from benchseal.config import config_path
    from benchseal.io import load_yaml, validate

    path = config_path("records", "inference.yaml")
    return validate(RecordsTable, load_yaml(path), where=str(path))


def records_flags(perf: dict[str, Any] | None, hardware: dict[str, Any] | None, model: dict[str, Any] | None,
                  table: RecordsTable | None = None) -> list[dict[str, Any]]:
    """One flag per load point whose output-token throughput per GPU exceeds the best record for the
    same model and GPU: ``{load_point, measured_per_gpu, record, record_per_gpu, source}``."""
    if not perf or not hardware:
        return []
    table = table or load_records()
    gpus = [g for g in hardware.get("gpus") or [] if isinstance(g, dict)]
    if not gpus:
        return []
    names = " ".join(str(x) for x in (perf.get("model"), (model or {}).get("source")) if x)
    gpu_name = str(gpus[0].get("name") or "")
    same = [r for r in table.records if r.figure == "output_token_throughput"
            and re.search(r.model.match, names, re.I) and re.search(r.gpu.match, gpu_name, re.I)]
    if not same:
        return []
    best = max(same, key=lambda r: r.per_gpu)
    flags = []
    for lp in perf.get("load_points") or []:
        tput = lp.get("output_token_throughput")
        if not isinstance(tput, (int, float)):
            continue
        per_gpu = tput / len(gpus)
        if per_gpu > best.per_gpu:
            flags.append({"load_point": lp.get("load_point"), "measured_per_gpu": per_gpu, "record": best.id,
                          "record_per_gpu": best.per_gpu,
                          "source": f"{best.source.publisher}: {best.source.title} ({best.source.url})"})
    return flags
