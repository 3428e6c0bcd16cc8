"""Lightweight deployment measured against the full model (``benchseal run --lightweight-of FULL``).

A lightweight variant (a quantised or smaller checkpoint, or another engine) is run with the same
program, workload, load and suites as the full model's bundle. This module compares the two runs
(definitions: docs/metrics.md "Lightweight deployment"):

- weights: bytes of the weight files in model.json, light / full;
- memory: the loaded weights footprint and the peak memory the backend reported in
  perf/summary.json ``capabilities.memory`` (the hf backend), light / full; a peak ratio only
  between figures of the same kind (CUDA allocator peak, or process peak RSS);
- perf: per load point present in both runs, output-token throughput, TTFT p99 and E2EL p99,
  light / full, and their worst case (minimum throughput ratio, maximum latency ratios);
- parity: per task of eval/parity (this bundle's accuracy parity against the same reference), the
  score ratio oriented so that 1 means "as good as the full model" and > 1 better; the minimum.

A figure that cannot be derived is absent and ``unavailable`` names it (``memory.weights_ratio``…)
with the reason, which the claims show as INCONCLUSIVE.

Bundle layout: ``lightweight/lightweight.json`` (the :class:`LightweightReport`) and
``lightweight/reference/{model.json, perf/summary.json}``, copies of the full bundle's files
(checked against the full bundle's statement when it is signed), so that ``benchseal verify``
re-derives the report from this bundle alone (:func:`bundle_lightweight`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from pydantic import Field

from benchseal import bundle as layout
from benchseal.errors import BundleError, UsageError
from benchseal.io import read_json
from benchseal.schema import SCHEMA_VERSION, Strict

DIR = layout.LIGHTWEIGHT_DIR
JSON = layout.LIGHTWEIGHT_JSON
REFERENCE_DIR = f"{DIR}/reference"
REFERENCE_FILES = (layout.MODEL_JSON, layout.PERF_SUMMARY)  # copied from the full bundle
PARITY_RESULTS = f"{layout.EVAL_DIR}/parity/{layout.EVAL_RESULTS}"


class LightweightReport(Strict):
    schema_version: str = SCHEMA_VERSION
    reference: dict[str, Any] = Field(default_factory=dict)  # provenance of the full bundle (not derived)
    weights: dict[str, Any] = Field(default_factory=dict)
    memory: dict[str, Any] = Field(default_factory=dict)
    perf: dict[str, Any] = Field(default_factory=dict)
    parity: dict[str, Any] = Field(default_factory=dict)
    unavailable: dict[str, str] = Field(default_factory=dict)  # figure (path under lightweight) -> why absent
    notes: list[str] = Field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# the pure derivation
# ------------------------------------------------------------------------------------------------
def _ratio(light: Any, full: Any) -> float | None:
    if not isinstance(light, (int, float)) or not isinstance(full, (int, float)) or full <= 0:
        return None
    return float(light) / float(full)


def weights_bytes(model: Mapping[str, Any] | None) -> int | None:
    """Bytes of the weight files (safetensors, GGUF, .bin…) listed in model.json; None without model.json."""
    from benchseal.bench.model.digest import WEIGHT_SUFFIXES

    if not isinstance(model, Mapping):
        return None
    sizes = [int(f["size_bytes"]) for f in model.get("files") or []
             if isinstance(f, Mapping) and str(f.get("path", "")).endswith(WEIGHT_SUFFIXES)]
    return sum(sizes) if sizes else None


def _weights(full_model: Any, light_model: Any, why: dict[str, str]) -> dict[str, Any]:
    full, light = weights_bytes(full_model), weights_bytes(light_model)
    out: dict[str, Any] = {"full_bytes": full, "light_bytes": light, "bytes_ratio": _ratio(light, full)}
    if out["bytes_ratio"] is None:
        side = "full model's" if full is None else "light model's"
        why["weights.bytes_ratio"] = f"the {side} model.json lists no weight files (model stage not run or no local files)"
    return {k: v for k, v in out.items() if v is not None}


def _memory(full_perf: Any, light_perf: Any, why: dict[str, str]) -> dict[str, Any]:
    def mem(perf: Any) -> tuple[dict[str, Any], str | None]:
        if not isinstance(perf, Mapping):
            return {}, "has no perf/summary.json"
        m = (perf.get("capabilities") or {}).get("memory")
        if not isinstance(m, Mapping):
            return {}, f"used the {perf.get('backend', 'unknown')!r} backend, which reports no memory figures " \
                       "(only the hf backend measures them)"
        return dict(m), None

    (fm, fwhy), (lm, lwhy) = mem(full_perf), mem(light_perf)
    out: dict[str, Any] = {
        "source": "perf/summary.json capabilities.memory",
        "full_weights_bytes": fm.get("weights_bytes"), "light_weights_bytes": lm.get("weights_bytes"),
        "full_device": fm.get("device"), "light_device": lm.get("device"),
        "full_dtype": fm.get("dtype"), "light_dtype": lm.get("dtype"),
        "full_peak_bytes": fm.get("peak_bytes"), "light_peak_bytes": lm.get("peak_bytes"),
        "full_peak_kind": fm.get("peak_kind"), "light_peak_kind": lm.get("peak_kind"),
    }
    absent = f"the full run {fwhy}" if fwhy else (f"the light run {lwhy}" if lwhy else None)
    out["weights_ratio"] = _ratio(lm.get("weights_bytes"), fm.get("weights_bytes"))
    if out["weights_ratio"] is None:
        why["memory.weights_ratio"] = absent or "a loaded-weights footprint is missing from one of the runs"
    if fm.get("peak_kind") is not None and fm.get("peak_kind") == lm.get("peak_kind"):
        out["peak_kind"] = fm["peak_kind"]
        out["peak_ratio"] = _ratio(lm.get("peak_bytes"), fm.get("peak_bytes"))
    if out.get("peak_ratio") is None:
        why["memory.peak_ratio"] = absent or (
            f"the peak memory figures are of different kinds ({fm.get('peak_kind')} vs {lm.get('peak_kind')}), "
            "so they are not compared" if fm.get("peak_kind") != lm.get("peak_kind")
            else "a peak memory figure is missing from one of the runs")
    return {k: v for k, v in out.items() if v is not None}


def _p99(lp: Mapping[str, Any], key: str) -> Any:
    stats = lp.get(key)
    return stats.get("p99") if isinstance(stats, Mapping) else None


def _perf(full_perf: Any, light_perf: Any, why: dict[str, str], notes: list[str]) -> dict[str, Any]:
    if not isinstance(full_perf, Mapping) or not isinstance(light_perf, Mapping):
        side = "full" if not isinstance(full_perf, Mapping) else "light"
        for k in ("min_output_token_throughput_ratio", "max_ttft_p99_ratio", "max_e2el_p99_ratio"):
            why[f"perf.{k}"] = f"the {side} run has no perf/summary.json"
        return {}
    fw, lw = (full_perf.get("workload") or {}).get("sha256"), (light_perf.get("workload") or {}).get("sha256")
    out: dict[str, Any] = {"workload_sha256": lw}
    if fw != lw or fw is None:
        for k in ("min_output_token_throughput_ratio", "max_ttft_p99_ratio", "max_e2el_p99_ratio"):
            why[f"perf.{k}"] = f"the two runs measured different workloads (prompt-set sha256 {fw} vs {lw})"
        return out
    full_lps = {lp.get("load_point"): lp for lp in full_perf.get("load_points") or [] if isinstance(lp, Mapping)}
    rows = []
    for lp in light_perf.get("load_points") or []:
        if not isinstance(lp, Mapping) or lp.get("load_point") not in full_lps:
            continue
        f = full_lps[lp["load_point"]]
        if not lp.get("completed") or not f.get("completed"):
            notes.append(f"load point {lp['load_point']}: no completed request in one of the runs; not compared")
            continue
        row = {"load_point": lp["load_point"],
               "full_output_token_throughput": f.get("output_token_throughput"),
               "light_output_token_throughput": lp.get("output_token_throughput"),
               "output_token_throughput_ratio": _ratio(lp.get("output_token_throughput"), f.get("output_token_throughput")),
               "full_ttft_p99_ms": _p99(f, "ttft_ms"), "light_ttft_p99_ms": _p99(lp, "ttft_ms"),
               "ttft_p99_ratio": _ratio(_p99(lp, "ttft_ms"), _p99(f, "ttft_ms")),
               "full_e2el_p99_ms": _p99(f, "e2el_ms"), "light_e2el_p99_ms": _p99(lp, "e2el_ms"),
               "e2el_p99_ratio": _ratio(_p99(lp, "e2el_ms"), _p99(f, "e2el_ms"))}
        rows.append({k: v for k, v in row.items() if v is not None})
    out["load_points"] = rows
    for key, agg, field in (("min_output_token_throughput_ratio", min, "output_token_throughput_ratio"),
                            ("max_ttft_p99_ratio", max, "ttft_p99_ratio"), ("max_e2el_p99_ratio", max, "e2el_p99_ratio")):
        vals = [r[field] for r in rows if field in r]
        if vals:
            out[key] = agg(vals)
        else:
            why[f"perf.{key}"] = "no load point with this figure was measured in both runs" if rows else \
                "the two runs share no load point with completed requests"
    return out


def oriented_ratio(reference: float, candidate: float, higher_is_better: bool) -> float | None:
    """candidate vs reference, oriented so that 1 = as good, < 1 worse, > 1 better; None when the
    reference (or, lower-is-better, the candidate) is 0 and the scores differ; 1 when both are 0."""
    if reference == candidate:
        return 1.0
    if higher_is_better:
        return candidate / reference if reference > 0 else None
    return reference / candidate if candidate > 0 else None


def _parity(parity: Any, higher_is_better: Mapping[str, bool], why: dict[str, str]) -> dict[str, Any]:
    if not isinstance(parity, Mapping):
        why["parity.min_ratio"] = "no parity results in eval/parity (the eval stage did not run or failed)"
        return {}
    rows = []
    for t in parity.get("tasks") or []:
        key = f"{t['suite']}/{t['task']}"
        hib = bool(higher_is_better.get(f"{key}/{t['metric']}", True))
        rows.append({"task": key, "metric": t["metric"], "filter": t.get("filter", "none"), "higher_is_better": hib,
                     "full": t["reference"], "light": t["candidate"],
                     "ratio": oriented_ratio(t["reference"], t["candidate"], hib), "agreement": t.get("agreement")})
    out: dict[str, Any] = {"source": PARITY_RESULTS, "tasks": rows, "missing": list(parity.get("missing") or [])}
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    agreements = [r["agreement"] for r in rows if r["agreement"] is not None]
    if out["missing"]:
        why["parity.min_ratio"] = f"the light run lacks task(s) of the full run: {', '.join(out['missing'][:3])}"
    elif not ratios:
        why["parity.min_ratio"] = "no task has a defined score ratio (no task compared, or reference scores of 0)"
    else:
        out["min_ratio"] = min(ratios)
        undefined = [r["task"] for r in rows if r["ratio"] is None]
        if undefined:
            out["undefined_ratio_tasks"] = undefined  # the full model scored 0 where the light one did not
    if agreements:
        out["min_agreement"] = min(agreements)
    return out


def derive_lightweight(*, full_model: Any, full_perf: Any, light_model: Any, light_perf: Any,
                       parity: Any = None, higher_is_better: Mapping[str, bool] | None = None,
                       reference: Mapping[str, Any] | None = None) -> LightweightReport:
    """PURE: the light run against the full run, from the JSON of their model.json and
    perf/summary.json and this bundle's parity report (eval/parity results.json ``extra.parity``).
    ``higher_is_better``: ``"<suite>/<task>/<metric>" -> bool`` (default True)."""
    why: dict[str, str] = {}
    notes: list[str] = []
    rep = LightweightReport(reference=dict(reference or {}),
                            weights=_weights(full_model, light_model, why),
                            memory=_memory(full_perf, light_perf, why),
                            perf=_perf(full_perf, light_perf, why, notes),
                            parity=_parity(parity, higher_is_better or {}, why))
    rep.unavailable, rep.notes = why, notes
    return rep


# ------------------------------------------------------------------------------------------------
# inside a bundle
# ------------------------------------------------------------------------------------------------
def _json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except Exception:  # noqa: BLE001 - a damaged file reads as absent here; verify's digests catch it
        raise BundleError(f"{path.name} is not valid JSON", where=str(path), hint="the bundle file is damaged") from None


def _parity_inputs(root: Path) -> tuple[Any, dict[str, bool]]:
    from benchseal.evaluators.parity import REFERENCE_LABEL, _higher_is_better

    stored = _json(root / PARITY_RESULTS)
    parity = (stored.get("extra") or {}).get("parity") if isinstance(stored, Mapping) else None
    hib: dict[str, bool] = {}
    for t in (parity or {}).get("tasks") or []:
        folder = root / REFERENCE_LABEL / t["suite"]
        hib[f"{t['suite']}/{t['task']}/{t['metric']}"] = _higher_is_better(folder, t["task"], t["metric"])
    return parity, hib


def bundle_lightweight(bundle_dir: str | Path, *, reference: Mapping[str, Any] | None = None) -> LightweightReport:
    """PURE over the bundle's files: lightweight/reference/* (full) against model.json,
    perf/summary.json and eval/parity (light). ``reference``: the provenance to record."""
    root = Path(bundle_dir)
    parity, hib = _parity_inputs(root)
    return derive_lightweight(
        full_model=_json(root / REFERENCE_DIR / layout.MODEL_JSON), full_perf=_json(root / REFERENCE_DIR / layout.PERF_SUMMARY),
        light_model=_json(root / layout.MODEL_JSON), light_perf=_json(root / layout.PERF_SUMMARY),
        parity=parity, higher_is_better=hib, reference=reference)


# ------------------------------------------------------------------------------------------------
# identity: a different artefact of the same family and tokenizer, the full model at its own dtype
# ------------------------------------------------------------------------------------------------
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "merges.txt", "vocab.txt", "tiktoken.model")
_DTYPE_SYNONYMS = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32", "float": "float32"}


def _dtype(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return None
    d = v.strip().lower().removeprefix("torch.")
    return _DTYPE_SYNONYMS.get(d, d)


def tokenizer_digests(model: Mapping[str, Any]) -> dict[str, str]:
    """{file name: sha256} of the tokenizer files listed in a model.json (top-level files only)."""
    out = {}
    for f in model.get("files") or []:
        if isinstance(f, Mapping) and str(f.get("path", "")).split("/")[-1] in TOKENIZER_FILES and "/" not in str(f.get("path")):
            out[str(f["path"])] = str(f.get("sha256"))
    return out


def identity_problems(full_model: Mapping[str, Any], light_model: Mapping[str, Any],
                      reference: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(flag, reason) for each way the light run is not a lightweight variant of the full model: the same
    artefact (weights digest), another architecture or model type, another tokenizer (or none to compare),
    or a full model not measured at its own published dtype (e.g. upcast to float32, which doubles the
    full footprint and makes the original checkpoint look "light")."""
    out: list[tuple[str, str]] = []
    if not full_model or not light_model:
        return [("lightweight-identity", "the full or the light model.json is missing, so the two models cannot be told apart")]
    fd, ld = full_model.get("model_digest"), light_model.get("model_digest")
    if fd and ld and fd == ld:
        out.append(("same-artefact", f"the light model has the full model's own weights digest ({str(fd)[:12]}…): "
                                     "the same checkpoint is not its own lightweight variant"))
    for key in ("architecture", "model_type"):
        a, b = full_model.get(key), light_model.get(key)
        if a and b and a != b:
            out.append(("not-same-family", f"the light model's {key} {b!r} is not the full model's {a!r}"))
    ft, lt = tokenizer_digests(full_model), tokenizer_digests(light_model)
    shared = sorted(set(ft) & set(lt))
    if not shared:
        out.append(("tokenizer-unknown", "the two model.json files list no common tokenizer file "
                                         f"({', '.join(TOKENIZER_FILES[:3])} …), so the same tokenizer cannot be established"))
    elif any(ft[n] != lt[n] for n in shared):
        out.append(("not-same-tokenizer", "the light model's tokenizer differs from the full model's ("
                                          + ", ".join(n for n in shared if ft[n] != lt[n]) + ")"))
    served, published = _dtype(reference.get("backend_dtype")), _dtype(full_model.get("dtype"))
    if "backend_dtype" not in reference:
        out.append(("full-dtype-unknown", "the full bundle does not record the dtype it served the model in"))
    elif served not in (None, "auto") and published and served != published:
        out.append(("full-not-published-dtype", f"the full model was served in {served}, not its published dtype "
                                                f"{published}: its footprint is not the full model's"))
    return out


def reference_suites(full_bundle: Path) -> list[str]:
    """The evaluation suites the full bundle ran (its own parity and refusal results excluded)."""
    from benchseal.evaluators.parity import RESERVED_SUITES

    base = Path(full_bundle) / layout.EVAL_DIR
    return sorted(p.parent.name for p in base.glob(f"*/{layout.EVAL_RESULTS}") if p.parent.name not in RESERVED_SUITES) \
        if base.is_dir() else []


def check_reference(full_bundle: str | Path, *, workload_sha256: str | None, load: Mapping[str, Any] | None,
                    suites: list[str] | None) -> None:
    """Refuse (UsageError, exit 2) a full bundle the light run cannot be compared with: no perf
    summary, another workload or load, other evaluation suites (``suites`` None: no eval stage)."""
    root = Path(full_bundle)
    where = str(root)
    if not root.is_dir():
        raise UsageError("the --lightweight-of bundle is not a folder", where=where, hint="give the full model's bundle")
    perf = _json(root / layout.PERF_SUMMARY)
    if not isinstance(perf, Mapping):
        raise UsageError("the --lightweight-of bundle has no perf/summary.json to compare with", where=where,
                         hint="run the full model with the perf stage first")
    theirs = (perf.get("workload") or {}).get("sha256")
    if workload_sha256 is not None and theirs != workload_sha256:
        raise UsageError(f"the full model's bundle measured another workload (prompt-set sha256 {theirs} vs {workload_sha256})",
                         where=where, hint="run the light model with the same --workload and tokenizer as the full one")
    if load is not None and perf.get("load") and dict(perf["load"]) != dict(load):
        raise UsageError("the full model's bundle used another load (concurrencies, rates or request counts differ)",
                         where=where, hint="run the light model with the same --workload as the full one")
    if suites is not None and sorted(set(suites)) != reference_suites(root):
        raise UsageError(f"the full model's bundle evaluated other suites ({', '.join(reference_suites(root)) or 'none'}) "
                         f"than this run ({', '.join(sorted(set(suites))) or 'none'})", where=where,
                         hint="run the light model with the same --suite options as the full one")


def _copy_reference(full_bundle: Path, dest_root: Path, signature: Mapping[str, Any] | None = None) -> dict[str, Any]:
    import shutil

    from benchseal.io import sha256_file

    root = Path(full_bundle)
    statement = root / layout.STATEMENT_JSON
    signed: dict[str, str] = {}
    if statement.is_file():
        stmt = read_json(statement)
        signed = {s["name"]: (s.get("digest") or {}).get("sha256") for s in stmt.get("subject", []) if isinstance(s, dict)}
    files: dict[str, str] = {}
    for rel in REFERENCE_FILES:
        src = root / rel
        if not src.is_file():
            continue
        sha = sha256_file(src)
        if signed and signed.get(rel) not in (None, sha):
            raise BundleError(f"reference file {rel} differs from the full bundle's statement", where=str(src),
                              hint="verify the full bundle with `benchseal verify` and use an intact copy")
        (dest_root / REFERENCE_DIR / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest_root / REFERENCE_DIR / rel)
        files[rel] = sha
    run = _json(root / layout.RUN_JSON) or {}
    model = _json(root / layout.MODEL_JSON) or {}
    backend = ((run.get("spec") or {}).get("backend") or {}) if isinstance(run, Mapping) else {}
    backend = backend if isinstance(backend, Mapping) else {}
    return {"bundle": str(full_bundle), "run_id": run.get("run_id"), "model_digest": model.get("model_digest"),
            "statement_sha256": sha256_file(statement) if statement.is_file() else None,
            "checked_against_statement": bool(signed), "files": files,
            "backend_dtype": backend.get("dtype"), "model": backend.get("model"), "endpoint": backend.get("base_url"),
            **({"signature": dict(signature)} if signature else {})}


def write_lightweight(out_dir: str | Path, full_bundle: str | Path, *,
                      signature: Mapping[str, Any] | None = None) -> tuple[LightweightReport, list[str]]:
    """Copy the full bundle's model.json and perf/summary.json into lightweight/reference/, derive
    the report and write lightweight/lightweight.json; returns it and the bundle files written.
    ``signature``: what reports.verify.reference.verify_reference established about the full bundle
    (recorded; without it the lightweight claims are INCONCLUSIVE, claims.gates)."""
    import shutil

    from benchseal.io import write_json

    out = Path(out_dir)
    if (out / REFERENCE_DIR).exists():
        shutil.rmtree(out / REFERENCE_DIR)
    provenance = _copy_reference(Path(full_bundle), out, signature)
    rep = bundle_lightweight(out, reference=provenance)
    write_json(out / JSON, rep)
    files = sorted(p.relative_to(out).as_posix() for p in (out / DIR).rglob("*") if p.is_file())
    return rep, files
