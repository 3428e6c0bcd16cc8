"""Every applicant choice of a run, resolved and recorded in run.json ``choices`` (and shown in the
report): what the applicant chose, what the program fixes, and whether the file that was used is the
one shipped with benchseal. claims.gates reads it (``choices.workload.shipped``); docs/claims.md,
"Trust boundary".

``applicant_choices(spec, program)`` is called by the pipeline once the program is loaded (before
any stage runs), with the public run spec (``run.json`` ``spec``); it reads configuration files only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .program import Program


def _file_record(path: Path | None, shipped_dir: Path) -> dict[str, Any]:
    from benchseal.io import sha256_file

    if path is None or not path.is_file():
        return {"file": str(path) if path else None, "shipped": False, "sha256": None}
    sha = sha256_file(path)
    shipped = shipped_dir / path.name
    return {"file": str(path), "sha256": sha, "shipped": shipped.is_file() and sha256_file(shipped) == sha}


def applicant_choices(spec: Mapping[str, Any], program: Program | None) -> dict[str, Any]:
    """The choices record of run.json. Keys: ``program`` (id, version, shipped file or not),
    ``thresholds`` ({claim: {value, program, floor}}), ``workload`` (name, file, sha256, shipped,
    the program's), ``suites`` ([{name, shipped}]), ``config_dirs``, ``eval_limit``, ``banks``
    (refusal/content bank files as given), ``judge`` (endpoint and model), ``references``
    (parity / lightweight bundles given)."""
    from benchseal.config import config_path, packaged_config_dir, user_config_dirs

    pkg = packaged_config_dir()
    out: dict[str, Any] = {"config_dirs": [str(d) for d in user_config_dirs()]}
    if program is not None:
        shipped = pkg / "programs" / f"{program.id}.yaml"
        out["program"] = {"id": program.id, "version": program.version, "given": spec.get("program"),
                          "shipped_id": shipped.is_file(), "template": program.template}
        thresholds = {}
        for cid, value in (spec.get("thresholds") or {}).items():
            try:
                c = program.claim(cid)
            except Exception:
                continue
            thresholds[cid] = {"value": value, "applicant_sets": c.applicant_sets, "floor": c.threshold_floor}
        out["thresholds"] = thresholds
    name = spec.get("workload") or (program.workload if program else None)
    if name:
        p = Path(str(name))
        path = p if p.suffix in (".yaml", ".yml") else config_path("workloads", f"{name}.yaml")
        out["workload"] = {"name": str(name), "program": program.workload if program else None,
                           **_file_record(path, pkg / "workloads")}
    suites = spec.get("eval_suites") or (program.eval_suites if program else [])
    recs = []
    for s in suites or []:
        p = Path(str(s))
        path = p if p.suffix in (".yaml", ".yml") else config_path("suites", f"{s}.yaml")
        recs.append({"name": str(s), **_file_record(path, pkg / "suites")})
    out["suites"] = recs
    out["eval_limit"] = spec.get("eval_limit")
    out["banks"] = {k: spec.get(k) for k in ("should_refuse", "should_answer", "content_bank") if spec.get(k)}
    if spec.get("judge_model"):
        out["judge"] = {"endpoint": spec.get("judge_base_url"), "model": spec.get("judge_model"), "all": spec.get("judge_all")}
    out["references"] = {k: spec.get(k) for k in ("parity_reference", "lightweight_of") if spec.get(k)}
    return out
