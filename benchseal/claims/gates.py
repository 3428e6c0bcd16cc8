"""Every recorded discrepancy gates the claims whose evidence it touches (docs/claims.md, "Trust boundary").

A gate is a function ``(program, evidence data) -> list[Hit]``; a :class:`Hit` names a short flag
(shown next to the claim in the report), the claims it touches (claim ids, or metric-path prefixes
such as ``"model.params"`` or ``"eval.refusal"``, or ``"*"`` for every claim) and its reason. A claim
touched by any hit is INCONCLUSIVE, whatever its value, with every hit's flag and reason.

Gates read only the evidence dict and the shipped configuration (programs, suites and the safety
profile inside the package), so :func:`benchseal.claims.check` stays a pure function of the bundle
and the tool version, and ``benchseal verify`` re-derives the same verdicts.

To add a gate: write one function here and append it to :data:`GATES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from benchseal.schema import Claim

from .program import Program


@dataclass(frozen=True)
class Hit:
    flag: str  # short, stable name, e.g. "params-headline"
    targets: tuple[str, ...]  # claim ids, metric-path prefixes, or "*"
    reason: str


Gate = Callable[[Program, Mapping[str, Any]], list[Hit]]


def touches(target: str, claim: Claim) -> bool:
    """A target touches a claim: ``*``, its id, or a prefix of its metric path at a segment boundary."""
    if target in ("*", claim.id):
        return True
    m = claim.metric.replace(" ", "")
    return m == target or (m.startswith(target) and m[len(target)] in ".[|")


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _spec(data: Mapping[str, Any]) -> dict[str, Any]:
    return _dict(_dict(data.get("run")).get("spec"))


def _candidate(data: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(served model name, endpoint, weights digest) of the candidate, from run.json and model.json."""
    backend = _spec(data).get("backend")
    backend = backend if isinstance(backend, dict) else {}
    return backend.get("model"), backend.get("base_url"), _dict(data.get("model")).get("model_digest")


# ------------------------------------------------------------------------------------------------
# the program fixes what decides a verdict
# ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def shipped_program(program_id: str) -> Program | None:
    """The program of this id shipped inside the package (a --config-dir file of the same name is not it)."""
    from benchseal.config import packaged_config_dir
    from benchseal.io import load_yaml, validate

    path = packaged_config_dir() / "programs" / f"{program_id}.yaml"
    if not path.is_file():
        return None
    return validate(Program, load_yaml(path), where=str(path))


_PROGRAM_FIELDS = ("stages", "eval_suites", "external_suites", "workload", "max_failed_fraction", "template")
_APPLICANT_FIELDS = ("threshold", "threshold_text")


def gate_program(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """A program with the id of a shipped one must be that program: the same stages, suites, workload and
    limits, the same claims, and thresholds changed only on the applicant-set KPIs of a template, within
    the floors it states. (A program of a new id is the applicant's own and says so by its id.)"""
    from .program import floor_violation

    ref = shipped_program(program.id)
    if ref is None:
        return []
    hits = []
    for f in _PROGRAM_FIELDS:
        if getattr(program, f) != getattr(ref, f):
            hits.append(Hit("program-edited", ("*",), f"program {program.id}: {f} is {getattr(program, f)!r}, the shipped "
                                                      f"program (version {ref.version}) fixes {getattr(ref, f)!r}"))
    for c in program.claims:
        try:
            r = ref.claim(c.id)
        except Exception:
            hits.append(Hit("program-edited", (c.id,), f"claim {c.id!r} is not a claim of the shipped program {program.id}"))
            continue
        free = _APPLICANT_FIELDS if (r.applicant_sets and ref.template) else ()
        mine = c.model_dump(exclude=set(free))
        theirs = r.model_dump(exclude=set(free))
        changed = sorted(k for k in mine if mine[k] != theirs.get(k))
        if changed:
            hits.append(Hit("program-edited", (c.id,), f"claim {c.id!r} differs from the shipped program {program.id} "
                                                       f"in {', '.join(changed)}"))
        elif free and c.threshold != r.threshold:
            floor = r.threshold_floor
            if (why := floor_violation(r, c.threshold)) is not None:
                hits.append(Hit("threshold-below-floor", (c.id,), f"the applicant's {why}"))
            elif floor is None and c.threshold is not None:
                pass  # an applicant-set KPI without a floor: the applicant's value, recorded in run.json and the report
    for cid in sorted(_dict(_spec(data).get("thresholds"))):
        try:
            r = ref.claim(cid)
        except Exception:
            continue
        if not (r.applicant_sets and ref.template):
            hits.append(Hit("threshold-overridden", (cid,), f"--threshold {cid} was given, but program {program.id} "
                                                            "fixes that threshold"))
    return hits


def gate_workload(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """Perf claims are measured on the program's workload: another one (a name or a file, or a shipped
    name shadowed by a user's file) produces figures, not claims."""
    if program.workload is None or "perf" not in data:
        return []
    chosen = _spec(data).get("workload")
    choice = _dict(_dict(_dict(data.get("run")).get("choices")).get("workload"))
    why = None
    if chosen not in (None, program.workload):
        why = f"the run used workload {chosen!r}, not the program's {program.workload!r}"
    elif choice and choice.get("shipped") is False:
        why = f"workload {program.workload!r} came from {choice.get('file')!r}, not the file shipped with benchseal"
    return [Hit("workload-not-program", ("perf", "lightweight.perf"), why)] if why else []


def gate_suite_files(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """An eval result backs a claim only when every suite file that defined it (the suite and what it
    includes) is the one shipped with benchseal, byte for byte (an applicant's YAML of the same name is not)."""
    from benchseal.evaluators.suites import shipped_suite_sha256

    hits = []
    for suite, rep in _dict(data.get("eval")).items():
        extra = _dict(_dict(rep).get("extra"))
        files = extra.get("suite_files")
        if files is None:
            if extra.get("suite_file"):
                hits.append(Hit("suite-not-shipped", (f"eval.{suite}",),
                                f"eval suite {suite!r} does not record which suite files defined it"))
            continue
        bad = sorted(name for name, sha in _dict(files).items() if shipped_suite_sha256(name) != sha)
        if bad or not files:
            hits.append(Hit("suite-not-shipped", (f"eval.{suite}",),
                            f"eval suite {suite!r} was defined by suite file(s) not shipped with benchseal: "
                            f"{', '.join(bad) or '(none recorded)'} (an applicant's YAML of the same name backs no claim)"))
    return hits


# ------------------------------------------------------------------------------------------------
# every flag gates
# ------------------------------------------------------------------------------------------------
def gate_params_headline(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """model.json records that the headline count and the config's count disagree: the parameter claims
    cannot rest on it (weights no module builds are not parameters of the model)."""
    model = _dict(data.get("model"))
    disc = [str(d) for d in model.get("discrepancies") or [] if str(d).split(":", 1)[0] in ("total", "active")]
    if not disc:
        return []
    return [Hit("params-headline", ("model.params", "model.params_by_method"),
                "model.json records a headline-vs-config discrepancy: " + "; ".join(disc[:2]))]


_TOKEN_WORDS = ("token", "tpot", "itl", "goodput")


def _touches_tokens(claim: Claim) -> bool:
    m = claim.metric.lower()
    return m.startswith("perf") and any(w in m for w in _TOKEN_WORDS)


def gate_token_accounting(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """Server and client token counts disagree (or are missing) at a load point: every token-based perf
    figure (throughput, TPOT, ITL, goodput, token totals) is in doubt."""
    flags = []
    for lp in _dict(data.get("perf")).get("load_points") or []:
        for f in _dict(_dict(lp).get("token_accounting")).get("flags") or []:
            flags.append(f"{_dict(lp).get('load_point')}: {f}")
    if not flags:
        return []
    ids = tuple(c.id for c in program.claims if _touches_tokens(c))
    return [Hit("token-accounting", ids, "token accounting flags: " + "; ".join(flags[:3])
                + (f" (and {len(flags) - 3} more)" if len(flags) > 3 else ""))] if ids else []


def gate_judge(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """A judged result whose judge is the candidate itself (same weights digest, or same endpoint and model)."""
    from benchseal.evaluators.judge import judge_is_candidate

    model, endpoint, digest = _candidate(data)
    hits = []
    for suite, rep in _dict(data.get("eval")).items():
        extra = _dict(_dict(rep).get("extra"))
        if not extra.get("judge"):
            continue
        cand = _dict(extra.get("candidate"))
        why = (judge_is_candidate(extra["judge"], model=cand.get("model") or _dict(rep).get("model"),
                                  endpoint=cand.get("endpoint"), model_digest=_dict(rep).get("model_digest") or digest)
               or judge_is_candidate(extra["judge"], model=model, endpoint=endpoint, model_digest=digest))
        if why:
            hits.append(Hit("judge-is-candidate", (f"eval.{suite}",), why.split(": ", 1)[-1]))
    return hits


def gate_safety_profile(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """Refusal and content banks against the shipped safety profile, whatever ``--min-bank`` said: sized by
    distinct questions, duplicates refused, a lowered minimum recorded and refused."""
    from benchseal.evaluators.banks import safety_profile

    prof = safety_profile()
    hits = []
    evals = _dict(data.get("eval"))
    for suite, minimum, sizes_of in (
        ("refusal", prof.refusal.min_bank, lambda e: _dict(e.get("bank_sizes"))),
        ("content-safety", prof.content.min_bank, lambda e: {"content": e.get("bank_size")}),
    ):
        rep = evals.get(suite)
        if not isinstance(rep, dict):
            continue
        extra = _dict(rep.get("extra"))
        target = (f"eval.{suite}",)
        given = extra.get("min_bank")
        if isinstance(given, (int, float)) and given < minimum:
            hits.append(Hit("min-bank-lowered", target, f"the bank minimum was lowered to {given:g} (--min-bank); "
                                                        f"{prof.label()} asks for {minimum}"))
        dups = extra.get("duplicates")
        if not isinstance(dups, dict):
            hits.append(Hit("duplicates-unchecked", target, f"eval suite {suite!r} records no duplicate check of its bank(s)"))
            continue
        per_bank = dups if suite == "refusal" else {"content": dups}
        for bank, size in sizes_of(extra).items():
            d = per_bank.get(bank)
            if not isinstance(d, dict) or not isinstance(d.get("distinct"), int):
                hits.append(Hit("duplicates-unchecked", target, f"eval suite {suite!r} records no duplicate check of its {bank} bank"))
                continue
            distinct = d["distinct"]
            if d.get("duplicates"):
                hits.append(Hit("duplicate-items", target, f"the {bank} bank holds {d['duplicates']} duplicate or "
                                                           f"near-duplicate question(s) ({distinct} distinct of {d.get('items', size)})"))
            if isinstance(distinct, int) and distinct < minimum:
                hits.append(Hit("bank-below-profile", target, f"the {bank} bank holds {distinct} distinct questions; "
                                                              f"{prof.label()} asks for at least {minimum}"))
    return hits


# ------------------------------------------------------------------------------------------------
# references are evidence: signed, not the candidate, same data
# ------------------------------------------------------------------------------------------------
def reference_problems(ref: Mapping[str, Any], *, model: str | None, endpoint: str | None,
                       digest: str | None) -> list[tuple[str, str]]:
    """(flag, reason) for a recorded reference bundle (parity, lightweight): not verified with a named
    key, or the candidate itself (same weights digest, or same endpoint and model)."""
    from benchseal.evaluators.judge import endpoint_key

    out = []
    sig = _dict(ref.get("signature"))
    if not sig.get("verified") or not sig.get("keyid"):
        out.append(("reference-unsigned", "the reference bundle was not verified against a named public key "
                                          "(--reference-key); an unsigned bundle is an assertion, not evidence"))
    rd = ref.get("model_digest")
    if rd and digest and rd == digest:
        out.append(("reference-is-candidate", f"the reference has the candidate's own weights digest ({str(rd)[:12]}…)"))
    re_, rm = endpoint_key(ref.get("endpoint")), str(ref.get("model") or "").casefold()
    if re_ and re_ == endpoint_key(endpoint) and rm and rm == str(model or "").casefold():
        out.append(("reference-is-candidate", f"the reference was served by the candidate's own endpoint and model {ref.get('model')!r}"))
    return out


def gate_parity(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """Parity fails closed: a zero reference, different data or protocols, an unsigned reference, or a
    reference that is the candidate makes every parity-based claim INCONCLUSIVE."""
    rep = _dict(_dict(data.get("eval")).get("parity"))
    if not rep:
        return []
    targets = ("eval.parity", "lightweight.parity")
    extra = _dict(rep.get("extra"))
    par = _dict(extra.get("parity"))
    hits = []
    for note in par.get("notes") or []:
        if "different data" in str(note):
            hits.append(Hit("parity-different-data", targets, str(note)))
        elif "different protocol" in str(note):
            hits.append(Hit("parity-different-protocol", targets, str(note)))
    for t in par.get("tasks") or []:
        t = _dict(t)
        if not t.get("reference") or t.get("ratio") is None:
            hits.append(Hit("parity-zero", targets, f"{t.get('suite')}/{t.get('task')}: the reference score is "
                                                    f"{t.get('reference')!r}; a ratio against zero proves nothing"))
    if not rep.get("claim_grade"):
        why = "; ".join(rep.get("not_claim_grade_reasons") or []) or "no reason recorded"
        hits.append(Hit("parity-not-claim-grade", ("lightweight.parity",), f"eval/parity is not claim-grade ({why})"))
    model, endpoint, digest = _candidate(data)
    for flag, why in reference_problems(_dict(extra.get("reference")), model=model, endpoint=endpoint,
                                        digest=rep.get("model_digest") or digest):
        hits.append(Hit(flag, targets, why))
    return hits


def gate_lightweight(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """A lightweight variant is a different artefact of the same family and tokenizer, compared with a
    signed full bundle measured at the full model's own published dtype."""
    from benchseal.evaluators.lightweight import identity_problems

    lw = _dict(data.get("lightweight"))
    if not lw:
        return []
    ref = _dict(lw.get("reference"))
    model, endpoint, digest = _candidate(data)
    hits = [Hit(flag, ("lightweight",), why) for flag, why in reference_problems(ref, model=model, endpoint=endpoint, digest=digest)]
    full_model = _dict(_dict(data.get("references")).get("lightweight_model"))
    hits += [Hit(flag, ("lightweight",), why)
             for flag, why in identity_problems(full_model, _dict(data.get("model")), ref)]
    return hits


def gate_comparison(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """A stored peer comparison with no comparable peer compared nothing: "compared with similar products"
    is not established by a table of the candidate alone, nor by published rows that are context only."""
    hits = []
    for suite, rep in _dict(data.get("eval")).items():
        comp = _dict(_dict(_dict(rep).get("extra")).get("comparison"))
        if not comp:
            continue
        paired = [_dict(p) for p in comp.get("paired") or []]
        foreign = [str(f) for f in comp.get("peers_files") or [] if not str(f).startswith("configs/peers/")]
        if foreign and any(p.get("comparable") and not p.get("measured") for p in paired):
            # a published row counts only from a table shipped with benchseal (a user's table could state any score)
            hits.append(Hit("peer-table-not-shipped", (f"eval.{suite}.extra.comparison",),
                            f"eval suite {suite!r} compared published rows from peer table(s) not shipped with benchseal: "
                            + ", ".join(foreign[:3])))
        if not any(p.get("comparable") and p.get("result") for p in paired):
            excluded = [f"{p.get('peer')}: {p.get('reason')}" for p in paired if not p.get("comparable")][:4]
            hits.append(Hit("no-comparable-peer", (f"eval.{suite}.extra.comparison",),
                            f"eval suite {suite!r} was compared with no comparable peer"
                            + (f" (excluded: {' | '.join(excluded)})" if excluded else " (no peer at all)")))
    return hits


@lru_cache(maxsize=1)
def _shipped_gpu_peaks() -> dict[str, dict[str, float]]:
    from benchseal.config import packaged_config_dir
    from benchseal.hw.specs import load_gpu_specs

    return {k: dict(v.tflops) for k, v in load_gpu_specs(packaged_config_dir() / "gpus.yaml").items()}


def gate_gpu_peaks(program: Program, data: Mapping[str, Any]) -> list[Hit]:
    """The 算力 table counts datasheet peaks only from the gpus.yaml shipped with benchseal: a user's file of
    the same name (--config-dir) could state any peak."""
    compute = _dict(_dict(data.get("hardware")).get("compute"))
    shipped = _shipped_gpu_peaks()
    bad = []
    for row in compute.get("rows") or []:
        row = _dict(row)
        sid, per_gpu = row.get("spec_id"), _dict(row.get("tflops_per_gpu"))
        if sid is None:
            continue
        ref = shipped.get(str(sid))
        if ref is None or any(k in ref and abs(float(v) - ref[k]) > 1e-9 * max(1.0, abs(ref[k])) for k, v in per_gpu.items()
                              if isinstance(v, (int, float))) or any(k not in ref for k in per_gpu):
            bad.append(str(sid))
    if not bad:
        return []
    return [Hit("gpu-peaks-not-shipped", ("hardware.compute",),
                f"the 算力 table uses datasheet peaks that are not benchseal's shipped configs/gpus.yaml: {', '.join(sorted(set(bad)))}")]


def preload() -> None:
    """Read the shipped configuration the gates compare with (programs, suites, safety profile) once, so
    that a later :func:`benchseal.claims.check` reads no file."""
    from benchseal.config import packaged_config_dir
    from benchseal.evaluators.banks import safety_profile
    from benchseal.evaluators.suites import shipped_suite_sha256

    safety_profile()
    _shipped_gpu_peaks()
    for p in sorted((packaged_config_dir() / "programs").glob("*.yaml")):
        shipped_program(p.stem)
    for p in sorted((packaged_config_dir() / "suites").glob("*.yaml")):
        shipped_suite_sha256(p.name)


GATES: list[Gate] = [
    gate_comparison,
    gate_gpu_peaks,
    gate_program,
    gate_workload,
    gate_suite_files,
    gate_params_headline,
    gate_token_accounting,
    gate_judge,
    gate_safety_profile,
    gate_parity,
    gate_lightweight,
]


def hits_for(program: Program, data: Mapping[str, Any], gates: Iterable[Gate] | None = None) -> dict[str, list[Hit]]:
    """claim id -> the hits that touch it (claims no hit touches are absent). A gate that cannot read
    the evidence (a damaged file) is a hit of its own on every claim: fail closed."""
    out: dict[str, list[Hit]] = {}
    for gate in GATES if gates is None else gates:
        try:
            hits = gate(program, data)
        except Exception as exc:  # a malformed bundle must not crash the check, nor pass it
            hits = [Hit("gate-error", ("*",), f"{gate.__name__} could not read the evidence: {type(exc).__name__}: {exc}")]
        for h in hits:
            for c in program.claims:
                if any(touches(t, c) for t in h.targets) and all((h.flag, h.reason) != (x.flag, x.reason) for x in out.get(c.id, [])):
                    out.setdefault(c.id, []).append(h)
    return out
