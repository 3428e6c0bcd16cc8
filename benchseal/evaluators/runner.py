"""Run a suite through lm-eval's ``simple_evaluate`` and write ``eval/<suite>/`` into the bundle.

Files written (see docs/evaluation.md):
``manifest.json`` (verified data manifests), ``tasks/`` (the rendered task YAMLs that ran),
``lm_eval_results.json`` (lm-eval's results dict, JSON-safe, minus samples), ``samples_<task>.jsonl``
(lm-eval's per-sample logs with doc_hash/prompt_hash/target_hash) and ``results.json`` (EvalReport,
re-derivable from lm_eval_results.json with the pure :func:`results_from_lm_eval`).
"""

from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchseal.errors import UsageError, require
from benchseal.io import JsonlWriter, write_json
from benchseal.bundle import EVAL_DIR, EVAL_RESULTS
from benchseal.schema import EvalReport, EvalResult
from benchseal.evaluators.backends import BackendOptions, build_lms
from benchseal.evaluators.datasets import bind_metrics, verify_suite_data
from benchseal.evaluators.fingerprint import fingerprint
from benchseal.evaluators.items import build_items, item_problems, private_datasets_cache, read_samples
from benchseal.evaluators.suites import Suite, load_suite, render_tasks

LM_EVAL_RESULTS = "lm_eval_results.json"
MANIFEST_JSON = "manifest.json"
_MERGED_KEYS = ("results", "groups", "group_subtasks", "configs", "versions", "n-shot", "higher_is_better", "n-samples")


def jsonable(obj: Any) -> Any:
    """lm-eval output -> plain JSON (numpy scalars to Python, NaN/inf to None, tuples to lists)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    item = getattr(obj, "item", None)
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return jsonable(tolist())
    return str(obj)


from benchseal.evaluators.fingerprint import leaves as _leaves  # noqa: E402


def _n(raw: dict[str, Any], task: str, metric: str | None = None) -> int | None:
    ns = raw.get("n-samples", {})
    by_metric = ns.get(task, {}).get("by_metric") if isinstance(ns.get(task), dict) else None
    if isinstance(by_metric, dict) and isinstance(by_metric.get(metric), int):  # benchseal's own raw (refusal banks)
        return int(by_metric[metric])
    counts = [ns[t].get("effective") for t in _leaves(raw, task) if isinstance(ns.get(t), dict)]
    return int(sum(counts)) if counts and all(isinstance(c, int) for c in counts) else None


def results_from_lm_eval(raw: dict[str, Any], *, suite: str, limit: float | None = None, protocol: dict[str, Any]) -> list[EvalResult]:
    """PURE: lm-eval's results dict (as written to lm_eval_results.json) -> EvalResults.

    One result per (task, metric, filter) of every task listed in ``protocol["tasks"]`` (every
    top-level task of ``raw`` when absent). Values are lm-eval's own numbers, unchanged.

    Two extensions serve the results benchseal derives itself in lm-eval's format (refusal banks,
    parity): a task's ``metric`` may be a list (several headline metrics), and
    ``raw["n-samples"][task]["by_metric"]`` may give n per metric."""
    tasks: dict[str, dict[str, Any]] = protocol.get("tasks") or {}
    if not tasks:
        subtasks = {s for subs in raw.get("group_subtasks", {}).values() for s in subs}
        tasks = {t: {} for t in raw.get("results", {}) if t not in subtasks}
    out: list[EvalResult] = []
    for task, tp in tasks.items():
        res = raw.get("results", {}).get(task)
        if not isinstance(res, dict):
            continue
        chat = bool(tp.get("apply_chat_template", protocol.get("apply_chat_template", False)))
        multiturn = bool(tp.get("fewshot_as_multiturn", protocol.get("fewshot_as_multiturn", False)))
        shots = raw.get("n-shot", {}).get(task, tp.get("num_fewshot"))
        version = raw.get("versions", {}).get(task)
        method = {"loglikelihood": "-ppl", "generate": "-gen"}.get(tp.get("scoring", ""), "")
        label = tp.get("peer_protocol") or ("chat" if chat else "base") + method
        for key in sorted(res):
            if "," not in key or "_stderr," in key:
                continue
            metric, filt = key.split(",", 1)
            value = res[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            stderr = res.get(f"{metric}_stderr,{filt}")
            out.append(
                EvalResult(
                    suite=suite,
                    task=task,
                    metric=metric,
                    filter=filt,
                    value=float(value),
                    stderr=float(stderr) if isinstance(stderr, (int, float)) and not isinstance(stderr, bool) else None,
                    n=_n(raw, task, metric),
                    num_fewshot=int(shots) if isinstance(shots, (int, float)) else None,
                    apply_chat_template=chat,
                    fewshot_as_multiturn=multiturn,
                    limit=limit,
                    task_version=None if version is None else str(version),
                    benchmark=tp.get("benchmark"),
                    headline=_is_headline(tp, metric, filt),
                    protocol_label=label,
                    fingerprint=fingerprint(raw, task, metric=metric, filt=filt, protocol=protocol, task_protocol=tp),
                )
            )
    return out


def _is_headline(tp: dict[str, Any], metric: str, filt: str) -> bool:
    want = tp.get("metric")
    hit = metric in want if isinstance(want, list) else metric == want
    return hit and filt == tp.get("filter", "none")


def merge_raw(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge the results dicts of several simple_evaluate calls (different shots or endpoints)."""
    merged: dict[str, Any] = {k: {} for k in _MERGED_KEYS}
    merged["runs"] = []
    for raw in runs:
        for k in _MERGED_KEYS:
            merged[k].update(raw.get(k) or {})
        merged["lm_eval_version"] = raw.get("lm_eval_version")
        merged["runs"].append({k: raw.get(k) for k in ("config", "date", "total_evaluation_time_seconds",
                                                        "transformers_version", "lm_eval_version") if k in raw}
                              | {"tasks": sorted(raw.get("results", {}))})
    return merged


def _groups(suite: Suite, lms: dict[str, Any]) -> list[tuple[int, str, list[str]]]:
    """(num_fewshot, scoring, tasks) in suite order; one simple_evaluate call each."""
    groups: dict[tuple[int, int], list[str]] = {}
    for t in suite.tasks:
        key = (t.num_fewshot, id(lms[t.scoring]))
        groups.setdefault(key, []).append(t.task)
    by_task = {t.task: t for t in suite.tasks}
    return [(shots, by_task[names[0]].scoring, names) for (shots, _), names in groups.items()]


def _version(v: str) -> str:
    """'2' and '2.0' are the same task version (lm-eval writes whichever the YAML has)."""
    try:
        return repr(float(v))
    except ValueError:
        return v.strip()


def claim_grade(suite: Suite, results: list[EvalResult], *, limit: float | None, backend_notes: list[str],
                manifest: dict[str, Any] | None = None) -> list[str]:
    """Why the run is not claim-grade ([] when it is). Rules (docs/evaluation.md, "Claim-grade"):
    no --limit; a demo suite never; a custom suite never for a task named like a standard benchmark;
    a standard suite's task must have evaluated exactly the official item count of its split; the
    data manifest is recorded and every dataset is pinned (its manifest_sha256, or a hub commit the manifest
    proves: evaluators/pinning.py; always for standard benchmarks); the task version lm-eval ran is the one
    the suite names; the stored samples are items of the manifest (evaluators/items.py, added by run_suite)."""
    from benchseal.evaluators.suites import standard_benchmarks

    reasons = list(backend_notes)
    rules = suite.claim_grade_requires
    if limit is not None and rules.no_limit:
        reasons.append(f"run with --limit {limit:g} (a subset of the data)")
    if suite.kind == "demo":
        reasons.append(f"suite '{suite.name}' is a demo suite: it demonstrates the pipeline and backs no claim")
    if manifest is not None and not manifest.get("sha256"):
        reasons.append("no data manifest was recorded")
    from benchseal.evaluators.suites import unshipped_files

    foreign = unshipped_files(suite) if suite.source_files else []
    if foreign:
        reasons.append(f"suite-not-shipped: suite file(s) {', '.join(foreign)} are not the ones shipped with benchseal "
                       "(an applicant's suite, or a file of the same name from a config folder, backs no claim)")
    if rules.manifest_pinned or any(t.suite_kind == "standard" for t in suite.tasks):  # a standard benchmark: always
        from benchseal.evaluators.pinning import pin_problems

        recorded = (manifest or {}).get("datasets") or {}
        for d in suite.data.datasets:
            reasons += [f"data-not-pinned: {r}" for r in pin_problems(d, (recorded.get(d.name) or {}).get("manifest"))]
    standard = standard_benchmarks()
    for t in suite.tasks:
        head = [r for r in results if r.task == t.task and r.headline]
        if not head:
            reasons.append(f"no headline result {t.metric},{t.filter} for task {t.task}")
            continue
        n = head[0].n
        ran = head[0].task_version
        if t.lm_eval_task_version is not None and ran is not None and _version(ran) != _version(t.lm_eval_task_version):
            reasons.append(f"task {t.task}: lm-eval ran task version {ran}, the suite was written and checked for "
                           f"version {t.lm_eval_task_version} (its prompt or scoring may differ)")
        if rules.min_n is not None and (n or 0) < rules.min_n:
            reasons.append(f"task {t.task} has n={n} < {rules.min_n}")
        official = t.official_items
        if t.suite_kind != "standard" and t.benchmark in standard:
            reasons.append(f"task {t.task} is named '{t.benchmark}', a standard benchmark, but comes from "
                           f"{t.suite_kind} suite '{t.suite_name or suite.name}'; only the standard suite "
                           f"'{standard[t.benchmark].suite}' backs a '{t.benchmark}' claim")
            official = standard[t.benchmark].items
        if official is not None and n != official:
            reasons.append(f"task {t.task} evaluated {n} items; the official {t.benchmark} split has {official}")
        elif t.suite_kind == "standard" and official is None:
            reasons.append(f"task {t.task}: the suite pins no official item count")
    return reasons


def run_suite(
    suite: str,
    *,
    model: str,
    backend: str = "hf",
    out_dir: Path,
    data_dir: Path | None = None,
    limit: float | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    tokenizer: str | None = None,
    device: str | None = None,
    extra: dict[str, Any] | None = None,
    batch_size: int | str = 1,
    model_digest: str | None = None,
    allow_unsafe_code: bool = False,
    lms: dict[str, Any] | None = None,
    concurrency: int = 1,
) -> EvalReport:
    """Verify the suite's data, run it through lm-eval and write ``out_dir/eval/<suite>/``.

    ``concurrency``: requests lm-eval keeps in flight to a served endpoint (openai backend), so a model
    served once (e.g. a 671B model on a Ray cluster) is evaluated through the same server as perf; the
    documents scored per second are recorded in ``extra.throughput``."""
    s = load_suite(suite)
    unsafe = [t.task for t in s.tasks if t.unsafe_code]
    if unsafe and not allow_unsafe_code:
        raise UsageError(
            f"suite '{s.name}' runs model-written code ({', '.join(unsafe)})",
            hint="run it only in a sandbox, with --allow-unsafe-code",
        )
    data_dir = Path(data_dir) if data_dir else s.default_data_dir()
    if data_dir is None:
        raise UsageError(f"suite '{s.name}' needs --data-dir",
                         hint=f"prepare it with 'benchseal datasets prepare {s.name} --data-dir DIR'")
    manifest = verify_suite_data(s, data_dir)  # refuses a mismatch (or a missing metric script) before anything runs
    eval_dir = Path(out_dir) / EVAL_DIR / s.name
    eval_dir.mkdir(parents=True, exist_ok=True)
    include = render_tasks(s, Path(manifest["data_dir"]), eval_dir / "tasks")
    bound = bind_metrics(include, manifest)  # evaluate.load("code_eval") -> the verified local copy
    if bound:
        manifest["metric_bindings"] = bound
    write_json(eval_dir / MANIFEST_JSON, manifest)

    lm_eval = require("lm_eval", "eval", "running evaluation suites")
    from lm_eval.tasks import TaskManager

    opts = BackendOptions(model=model, base_url=base_url, api_key_env=api_key_env, tokenizer=tokenizer,
                          device=device, batch_size=batch_size, extra=dict(extra or {}), seed=s.protocol.seed,
                          concurrency=concurrency)
    lms = lms or build_lms(backend, opts, {t.scoring for t in s.tasks})
    tm = TaskManager(include_path=str(include), include_defaults=False)
    p = s.protocol
    protocol = s.protocol_dict()
    protocol["data_manifest_sha256"] = manifest["sha256"]
    runs, notes = [], []
    elapsed, documents = 0.0, 0
    with _code_eval_allowed(bool(unsafe) and allow_unsafe_code), private_datasets_cache(manifest["sha256"]):
        # HumanEval's code_eval refuses to run without the first; the second keeps lm-eval from reading any
        # dataset cache but one made here from the verified files (evaluators/items.py)
        for shots, scoring, names in _groups(s, lms):
            elm = lms[scoring]
            chat = p.apply_chat_template if elm.force_chat_template is None else elm.force_chat_template
            if chat != p.apply_chat_template:
                notes.append(f"{', '.join(names)} ran through {elm.lm_eval_model} with apply_chat_template={chat}")
            for n in names:
                protocol["tasks"][n].update(apply_chat_template=chat, fewshot_as_multiturn=p.fewshot_as_multiturn and chat,
                                            lm_eval_model=elm.lm_eval_model, lm_eval_model_args=elm.recorded_args)
            started = time.perf_counter()
            raw = lm_eval.simple_evaluate(
                model=elm.lm, tasks=names, num_fewshot=shots, batch_size=batch_size, device=opts.device, limit=limit,
                log_samples=True, apply_chat_template=chat, fewshot_as_multiturn=p.fewshot_as_multiturn and chat,
                system_instruction=p.system_instruction, gen_kwargs=p.gen_kwargs, task_manager=tm,
                random_seed=p.seed, numpy_random_seed=p.seed, torch_random_seed=p.seed, fewshot_random_seed=p.seed,
                bootstrap_iters=p.bootstrap_iters, confirm_run_unsafe_code=allow_unsafe_code,
            )
            elapsed += time.perf_counter() - started
            if raw is None:  # non-zero rank in a distributed launch
                continue
            for task, samples in (raw.pop("samples", None) or {}).items():
                documents += len(samples)
                with JsonlWriter(eval_dir / f"samples_{task}.jsonl") as w:
                    for sample in samples:
                        w.write(jsonable(sample))
            raw.setdefault("config", {})["model_args"] = elm.recorded_args
            runs.append(jsonable(raw))

    merged = merge_raw(runs)
    write_json(eval_dir / LM_EVAL_RESULTS, merged)
    results = results_from_lm_eval(merged, suite=s.name, limit=limit, protocol=protocol)
    items = build_items(eval_dir, include, manifest)  # eval/<suite>/items.json: what was evaluated, bound to the manifest
    reasons = claim_grade(s, results, limit=limit, backend_notes=[], manifest=manifest)
    reasons += [f"evaluated items: {p}" for p in item_problems(items, read_samples(eval_dir), manifest, merged)]
    report = EvalReport(
        suite=s.name,
        backend=backend,
        model=model,
        lm_eval_version=merged.get("lm_eval_version"),
        claim_grade=not reasons,
        not_claim_grade_reasons=reasons,
        results=results,
        data_manifest_sha256=manifest["sha256"],
        model_digest=model_digest,
        protocol=protocol,
        extra={
            "endpoint": _safe_url(base_url),
            "notes": notes,
            "suite_file": s.path,
            "suite_files": dict(s.source_files),  # file name -> sha256; claims need the shipped files (claims.gates)
            "task_versions": merged.get("versions", {}),
            "samples_files": sorted(p.name for p in eval_dir.glob("samples_*.jsonl")),
            # wall time of lm-eval's runs (data checks and task rendering not included); not claim-grade
            "throughput": {"backend": backend, "concurrency": opts.concurrency if backend == "openai" else None,
                           "documents": documents, "elapsed_s": elapsed,
                           "documents_per_s": documents / elapsed if elapsed > 0 else None},
        },
    )
    write_json(eval_dir / EVAL_RESULTS, report)
    return report


@contextmanager
def _code_eval_allowed(allowed: bool):
    """Set HF_ALLOW_CODE_EVAL=1 (evaluate's code_eval executes model-written code only with it) for
    the duration of the run, and only when the user passed --allow-unsafe-code for a suite that needs
    it; the previous value is restored afterwards."""
    if not allowed:
        yield
        return
    before = os.environ.get("HF_ALLOW_CODE_EVAL")
    os.environ["HF_ALLOW_CODE_EVAL"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HF_ALLOW_CODE_EVAL", None)
        else:
            os.environ["HF_ALLOW_CODE_EVAL"] = before


def _safe_url(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
