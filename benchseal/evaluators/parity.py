"""Accuracy parity of a migrated or quantised model against a reference run (MLPerf's 99% rule).

Per task: the candidate's headline score must be >= ``ratio`` (default 0.99) x the reference score
(for a lower-is-better metric: <= reference / ratio). Per-sample agreement: the fraction of documents
(matched by doc_id, with equal doc_hash) on which both runs made the same prediction: the arg-max
choice for loglikelihood tasks, the filtered answer for generative tasks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field

from benchseal.errors import BundleError
from benchseal.io import iter_jsonl, read_json
from benchseal.layout import EVAL_DIR, EVAL_RESULTS
from benchseal.schema import EvalReport, Strict


class TaskParity(Strict):
    suite: str
    task: str
    metric: str
    filter: str
    reference: float
    candidate: float
    ratio: float | None  # candidate / reference
    required_ratio: float
    passed: bool
    agreement: float | None = None  # same prediction on matched documents
    agree: int = 0
    compared: int = 0  # documents present in both runs with equal doc_hash
    doc_hash_mismatches: int = 0


class ParityReport(Strict):
    reference: str
    candidate: str
    required_ratio: float
    passed: bool
    tasks: list[TaskParity] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)  # reference tasks the candidate lacks
    notes: list[str] = Field(default_factory=list)


def find_runs(path: str | Path) -> dict[str, Path]:
    """suite -> eval/<suite> folder, for a results.json, an eval/<suite> folder or a bundle root."""
    p = Path(path)
    if p.is_file() and p.name == EVAL_RESULTS:
        p = p.parent
    if (p / EVAL_RESULTS).is_file():
        return {EvalReport.model_validate(read_json(p / EVAL_RESULTS)).suite: p}
    base = p / EVAL_DIR if (p / EVAL_DIR).is_dir() else p
    runs = {d.name: d for d in sorted(base.iterdir()) if (d / EVAL_RESULTS).is_file()} if base.is_dir() else {}
    if not runs:
        raise BundleError("no evaluation results found", where=str(path),
                          hint="give a bundle, an eval/<suite> folder or its results.json")
    return runs


def _predictions(folder: Path, task: str, filt: str) -> dict[Any, tuple[str | None, str]]:
    f = folder / f"samples_{task}.jsonl"
    out: dict[Any, tuple[str | None, str]] = {}
    if not f.is_file():
        return out
    for s in iter_jsonl(f):
        if s.get("filter", "none") != filt:
            continue
        resp = s.get("filtered_resps")
        if isinstance(resp, list) and resp and all(isinstance(x, list) and x and isinstance(x[0], (int, float)) for x in resp):
            lls = [x[0] for x in resp]
            pred = str(lls.index(max(lls)))
        else:
            pred = json.dumps(resp[0] if isinstance(resp, list) and len(resp) == 1 else resp, ensure_ascii=False)
        out[s.get("doc_id")] = (s.get("doc_hash"), pred)
    return out


def _higher_is_better(folder: Path, task: str, metric: str) -> bool:
    try:
        raw = read_json(folder / "lm_eval_results.json")
        return bool(raw.get("higher_is_better", {}).get(task, {}).get(metric, True))
    except Exception:
        return True


def parity(reference: str | Path, candidate: str | Path, *, ratio: float = 0.99) -> ParityReport:
    ref_runs, cand_runs = find_runs(reference), find_runs(candidate)
    report = ParityReport(reference=str(reference), candidate=str(candidate), required_ratio=ratio, passed=True)
    for suite, rdir in ref_runs.items():
        ref = EvalReport.model_validate(read_json(rdir / EVAL_RESULTS))
        cdir = cand_runs.get(suite)
        cand = EvalReport.model_validate(read_json(cdir / EVAL_RESULTS)) if cdir else None
        for r in (r for r in ref.results if r.headline):
            c = next((x for x in (cand.results if cand else []) if (x.task, x.metric, x.filter) == (r.task, r.metric, r.filter)), None)
            if c is None or cdir is None:
                report.missing.append(f"{suite}/{r.task} {r.metric},{r.filter}")
                report.passed = False
                continue
            hib = _higher_is_better(rdir, r.task, r.metric)
            ok = c.value >= ratio * r.value if hib else c.value <= r.value / ratio
            rp, cp = _predictions(rdir, r.task, r.filter), _predictions(cdir, c.task, c.filter)
            common = [k for k in rp if k in cp and rp[k][0] == cp[k][0]]
            agree = sum(rp[k][1] == cp[k][1] for k in common)
            report.tasks.append(TaskParity(
                suite=suite, task=r.task, metric=r.metric, filter=r.filter, reference=r.value, candidate=c.value,
                ratio=(c.value / r.value) if r.value else None, required_ratio=ratio, passed=ok,
                agreement=(agree / len(common)) if common else None, agree=agree, compared=len(common),
                doc_hash_mismatches=sum(1 for k in rp if k in cp and rp[k][0] != cp[k][0]),
            ))
            report.passed &= ok
            if r.limit != c.limit or r.num_fewshot != c.num_fewshot or r.apply_chat_template != c.apply_chat_template:
                report.notes.append(f"{suite}/{r.task}: the two runs used different protocols (limit, shots or chat template)")
        if cand and ref.data_manifest_sha256 != cand.data_manifest_sha256:
            report.notes.append(f"{suite}: the two runs used different data (manifest sha256 differs)")
    if not report.tasks:
        report.passed = False
        report.notes.append("no task was compared")
    return report
