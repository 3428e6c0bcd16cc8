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
from benchseal.bundle import EVAL_DIR, EVAL_RESULTS
from benchseal.schema import EvalReport, Strict


SUITE = "parity"  # eval/parity/: the parity results inside a bundle


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
    """(leaf task, doc_id) -> (doc_hash, prediction) over every subtask of a group (lm-eval writes one
    samples file per leaf task: MMLU, C-Eval and CMMLU are groups)."""
    from benchseal.evaluators.fingerprint import leaves

    raw_path = folder / "lm_eval_results.json"
    try:
        raw = read_json(raw_path) if raw_path.is_file() else {}
    except Exception:
        raw = {}
    out: dict[Any, tuple[str | None, str]] = {}
    for leaf in leaves(raw, task):
        f = folder / f"samples_{leaf}.jsonl"
        if not f.is_file():
            continue
        for s in iter_jsonl(f):
            if s.get("filter", "none") != filt:
                continue
            resp = s.get("filtered_resps")
            if isinstance(resp, list) and resp and all(isinstance(x, list) and x and isinstance(x[0], (int, float)) for x in resp):
                lls = [x[0] for x in resp]
                pred = str(lls.index(max(lls)))
            else:
                pred = json.dumps(resp[0] if isinstance(resp, list) and len(resp) == 1 else resp, ensure_ascii=False)
            out[(leaf, s.get("doc_id"))] = (s.get("doc_hash"), pred)
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
        if suite == SUITE:  # a bundle's own parity results are not a run to compare
            continue
        ref = EvalReport.model_validate(read_json(rdir / EVAL_RESULTS))
        cdir = cand_runs.get(suite)
        cand = EvalReport.model_validate(read_json(cdir / EVAL_RESULTS)) if cdir else None
        for r in (r for r in ref.results if r.headline):
            c = next((x for x in (cand.results if cand else []) if (x.task, x.metric, x.filter) == (r.task, r.metric, r.filter)), None)
            if c is None or cdir is None:
                report.missing.append(f"{suite}/{r.task} {r.metric},{r.filter}")
                report.passed = False
                continue
            hib = _higher_is_better(cdir, r.task, r.metric)  # the candidate's own run says which way is better
            if hib != _higher_is_better(rdir, r.task, r.metric):
                report.notes.append(f"{suite}/{r.task}: the reference states the opposite metric direction")
                report.passed = False
            ok = c.value >= ratio * r.value if hib else c.value <= r.value / ratio
            if not r.value or r.value <= 0:  # 0 >= 0.99 x 0 proves nothing: fail closed
                ok = False
                report.notes.append(f"{suite}/{r.task}: the reference score is {r.value!r}; parity against zero is not established")
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
                report.passed = False  # fail closed
        if cand and ref.data_manifest_sha256 != cand.data_manifest_sha256:
            report.notes.append(f"{suite}: the two runs used different data (manifest sha256 differs)")
            report.passed = False  # fail closed: the same answers on other questions say nothing
    if not report.tasks:
        report.passed = False
        report.notes.append("no task was compared")
    return report


# ------------------------------------------------------------------------------------------------
# parity inside a bundle: eval/parity/ (reference copied in, so the bundle is self-contained)
# ------------------------------------------------------------------------------------------------
REFERENCE_DIR = "reference"  # eval/parity/reference/<suite>/: the reference run's files
REFERENCE_LABEL = f"{EVAL_DIR}/{SUITE}/{REFERENCE_DIR}"
CANDIDATE_LABEL = EVAL_DIR
RESERVED_SUITES = frozenset({SUITE, "refusal", "content-safety"})  # written by their own commands, never compared
_REFERENCE_FILES = (EVAL_RESULTS, "lm_eval_results.json")


def bundle_parity(bundle_dir: Path, *, ratio: float = 0.99) -> ParityReport:
    """PURE over the bundle's files: eval/parity/reference/* (reference) against eval/* (candidate).

    Paths in the report are bundle-relative, so the stored report and a verifier's agree."""
    rep = parity(Path(bundle_dir) / REFERENCE_LABEL, Path(bundle_dir), ratio=ratio)
    return rep.model_copy(update={"reference": REFERENCE_LABEL, "candidate": CANDIDATE_LABEL})


def parity_raw(rep: ParityReport) -> dict[str, Any]:
    """PURE: the parity report in lm-eval's results format (eval/parity/lm_eval_results.json):
    task ``<suite>/<task>`` with metrics ``parity_ratio`` and ``agreement``, n = documents compared."""
    results: dict[str, Any] = {}
    nsamples: dict[str, Any] = {}
    for t in rep.tasks:
        key = f"{t.suite}/{t.task}"
        results[key] = {"alias": key, **{f"{m},none": v for m, v in (("parity_ratio", t.ratio), ("agreement", t.agreement)) if v is not None}}
        nsamples[key] = {"original": t.compared, "effective": t.compared}
    return {"source": "benchseal.evaluators.parity", "results": results, "n-samples": nsamples, "n-shot": {}, "versions": {},
            "higher_is_better": {k: {"parity_ratio": True, "agreement": True} for k in results}}


def parity_protocol(rep: ParityReport) -> dict[str, Any]:
    return {"required_ratio": rep.required_ratio,
            "tasks": {f"{t.suite}/{t.task}": {"metric": "parity_ratio", "filter": "none", "benchmark": None} for t in rep.tasks}}


def _copy_reference(reference_bundle: Path, suites: list[str], dest: Path,
                    signature: dict[str, Any] | None = None) -> dict[str, Any]:
    """Copy the reference run's results, raw output and samples of ``suites``; check them against
    the reference bundle's statement when it has one. Returns provenance for results.json."""
    import shutil

    from benchseal.io import sha256_file

    runs = find_runs(reference_bundle)
    wanted = {s: runs[s] for s in suites if s in runs and s not in RESERVED_SUITES}
    if not wanted:
        raise BundleError(
            f"the reference bundle has no results for the suite(s) this run evaluates ({', '.join(suites) or 'none'})",
            where=str(reference_bundle), hint=f"run the same suites as the reference (it has: {', '.join(sorted(runs))})")
    root = Path(reference_bundle)
    statement = root / "statement.json"
    signed: dict[str, str] = {}
    if statement.is_file():
        stmt = read_json(statement)
        signed = {s["name"]: (s.get("digest") or {}).get("sha256") for s in stmt.get("subject", []) if isinstance(s, dict)}
    files: dict[str, str] = {}
    for suite, src in sorted(wanted.items()):
        names = [n for n in _REFERENCE_FILES if (src / n).is_file()] + sorted(p.name for p in src.glob("samples_*.jsonl"))
        for name in names:
            sha = sha256_file(src / name)
            try:
                rel_src = (src / name).resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                rel_src = None
            if signed and rel_src is not None and signed.get(rel_src) not in (None, sha):
                raise BundleError(f"reference file {rel_src} differs from the reference bundle's statement",
                                  where=str(src / name), hint="verify the reference bundle with `benchseal verify` and use an intact copy")
            (dest / suite).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / name, dest / suite / name)
            files[f"{suite}/{name}"] = sha
    run = read_json(root / "run.json") if (root / "run.json").is_file() else {}
    model = read_json(root / "model.json") if (root / "model.json").is_file() else {}
    backend = ((run.get("spec") or {}).get("backend") or {}) if isinstance(run, dict) else {}
    backend = backend if isinstance(backend, dict) else {}
    return {
        "model": backend.get("model"),
        "endpoint": backend.get("base_url"),
        **({"signature": dict(signature)} if signature else {}),
        "bundle": str(reference_bundle),
        "run_id": run.get("run_id"),
        "model_digest": model.get("model_digest"),
        "statement_sha256": sha256_file(statement) if statement.is_file() else None,
        "checked_against_statement": bool(signed),
        "suites": sorted(wanted),
        "not_in_reference": sorted(set(suites) - set(wanted)),
        "files": files,
    }


def write_parity(out_dir: Path, reference_bundle: Path, *, suites: list[str], model: str, backend: str,
                 model_digest: str | None = None, ratio: float = 0.99,
                 signature: dict[str, Any] | None = None, endpoint: str | None = None) -> tuple[EvalReport, list[str]]:
    """Copy the reference run into eval/parity/reference/, compare it with this bundle's runs of
    ``suites`` and write eval/parity/{results.json, lm_eval_results.json}. Returns the report and
    every bundle-relative file written."""
    import shutil

    from benchseal.evaluators.runner import results_from_lm_eval
    from benchseal.io import write_json

    out_dir = Path(out_dir)
    pdir = out_dir / EVAL_DIR / SUITE
    if (pdir / REFERENCE_DIR).exists():
        shutil.rmtree(pdir / REFERENCE_DIR)
    provenance = _copy_reference(Path(reference_bundle), suites, pdir / REFERENCE_DIR, signature)
    rep = bundle_parity(out_dir, ratio=ratio)
    raw = parity_raw(rep)
    protocol = parity_protocol(rep)
    reasons = []
    for label, base in (("reference", pdir / REFERENCE_DIR), ("candidate", out_dir / EVAL_DIR)):
        for suite in provenance["suites"]:
            f = base / suite / EVAL_RESULTS
            if f.is_file() and not read_json(f).get("claim_grade"):
                reasons.append(f"the {label} run of suite {suite!r} is not claim-grade")
    if not rep.tasks:
        reasons.append("no task was compared")
    reasons += [n for n in rep.notes if "different data" in n or "different protocols" in n or "against zero" in n
                or "opposite metric direction" in n]
    if not (provenance.get("signature") or {}).get("verified"):
        reasons.append("reference-unsigned: the reference bundle was not verified against a named public key")
    if provenance.get("model_digest") and model_digest and provenance["model_digest"] == model_digest:
        reasons.append("reference-is-candidate: the reference has the candidate's own weights digest")
    from benchseal.evaluators.judge import endpoint_key

    if (endpoint and endpoint_key(provenance.get("endpoint")) == endpoint_key(endpoint)
            and str(provenance.get("model") or "").casefold() == str(model).casefold()):
        reasons.append("reference-is-candidate: the reference was served by the candidate's own endpoint and model")
    report = EvalReport(suite=SUITE, backend=backend, model=model, claim_grade=not reasons, not_claim_grade_reasons=reasons,
                        results=results_from_lm_eval(raw, suite=SUITE, protocol=protocol), model_digest=model_digest,
                        protocol=protocol, extra={"parity": rep.model_dump(mode="json"), "reference": provenance})
    write_json(pdir / "lm_eval_results.json", raw)
    write_json(pdir / EVAL_RESULTS, report)
    files = sorted(p.relative_to(out_dir).as_posix() for p in pdir.rglob("*") if p.is_file())
    return report, files
