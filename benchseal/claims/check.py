"""The pure function (program, evidence) -> verdicts. No file is read here (docs/claims.md).

Order of the gates for one claim (the first that applies decides INCONCLUSIVE):

1. run.json missing, or the claim's stage did not complete (stage status, else run status);
2. the claim has ``requires_judge`` and a decision in its eval suite was made by rules (or nobody
   recorded who decided); the claim has ``requires_model_identity`` and run.json's
   ``served_model_identity`` is not ``bound`` or ``matched`` (claims/identity_gate.py);
3. the metric path does not resolve (evidence missing) or fans out without an aggregation;
4. eval claims: the suite is not claim-grade, or it measured a different model digest;
5. perf claims: a load point the path reads has no completed request, or a failed-request
   fraction above the limit (the claim's ``max_failed_fraction``, else the program's);
6. perf claims: an audit of the run that touches the claim's figure failed (``perf_audits``);
7. the observed value has the wrong type for the operator;
8. perf claims on a percentile, mean or throughput: its 95% interval contains the threshold (or the
   sample is too small for the bound that would decide it; ``uncertainty``).
9. a recorded discrepancy touches the claim's evidence (claims.gates: a flag per gate, listed in the
   verdict's ``flags`` and reason; every hit is listed, also when an earlier gate decided).

Otherwise the operator decides PASS or FAIL, with a margin whose sign says which side of the
threshold the value is on: >= 0 holds for >=, <=, ==; > 0 holds for the strict >, <.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from benchseal.schema import Claim, ClaimsReport, Verdict

from .identity_gate import model_identity_problem
from .evidence import ABSENT_SECTION_REASONS, SECTION_FILES, Evidence, evidence_from_dict
from .gates import Hit, hits_for
from .paths import MetricPath, Resolved, is_number, number, parse, resolve
from .perf_audits import perf_audit_reason
from .uncertainty import interval_reason
from .program import STAGE_OF_ROOT, Program

_JS_SAFE = 2**53


class Inconclusive(Exception):
    """Raised inside a gate; the message is the verdict's reason."""


# op -> (holds(observed, threshold), margin(observed, threshold) or None)
def _num_margin(sign: int) -> Callable[[Any, Any], float]:
    return lambda o, t: float(sign * (o - t))


def _eq_holds(o: Any, t: Any) -> bool:
    if is_number(o) and is_number(t):
        return math.isclose(o, t, rel_tol=1e-9, abs_tol=0.0) or o == t
    return o == t


def _eq_margin(o: Any, t: Any) -> float | None:
    if is_number(o) and is_number(t):
        return 0.0 if _eq_holds(o, t) else -abs(float(o - t))
    return None


OPERATORS: dict[str, tuple[Callable[[Any, Any], bool], Callable[[Any, Any], float | None]]] = {
    ">=": (lambda o, t: o >= t, _num_margin(+1)),
    ">": (lambda o, t: o > t, _num_margin(+1)),
    "<=": (lambda o, t: o <= t, _num_margin(-1)),
    "<": (lambda o, t: o < t, _num_margin(-1)),
    "==": (_eq_holds, _eq_margin),
    "present": (lambda o, t: o is not None, lambda o, t: None),
}
NUMERIC = frozenset({">=", ">", "<=", "<"})


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < _JS_SAFE else f"{v:.6g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v[:5]) + (", …" if len(v) > 5 else "") + "]"
    if isinstance(v, dict):
        return "{…}"
    return str(v)


def _json_safe(v: Any) -> Any:
    """A Verdict.observed value: ints >= 2**53 as strings, containers summarised."""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= _JS_SAFE:
        return str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, (list, dict)):
        return _fmt(v)
    return v


def stage_of(claim: Claim, mp: MetricPath) -> str | None:
    return claim.stage or STAGE_OF_ROOT.get(mp.root)


def evidence_files(mp: MetricPath) -> list[str]:
    if mp.root == "eval" and mp.key_at(1):
        return [f"eval/{mp.key_at(1)}/results.json"]
    if mp.root == "perf" and mp.key_at(1) == "usage":
        return ["perf/requests.jsonl"]
    return [SECTION_FILES[mp.root]] if mp.root in SECTION_FILES else []


# --- gates ----------------------------------------------------------------------------------
def _gate_run(data: Mapping[str, Any], stage: str | None) -> None:
    run = data.get("run")
    if not isinstance(run, dict):
        raise Inconclusive("run.json is missing, so the run's status is unknown")
    if stage is None:
        return
    st = (run.get("stages") or {}).get(stage)
    if isinstance(st, dict) and st.get("status") is not None:
        if st["status"] != "complete":
            err = f": {st['error']}" if st.get("error") else ""
            raise Inconclusive(f"stage {stage!r} is {st['status']}{err}")
        return
    if run.get("status") != "complete":
        raise Inconclusive(f"the run is {run.get('status', 'of unknown status')} and stage {stage!r} is not recorded as complete")


JUDGE_REQUIRED = "the program requires a judge model"


def _gate_judge(suite: str, rep: Mapping[str, Any]) -> None:
    """A claim with requires_judge: every decision in the suite came from a judge model."""
    extra = rep.get("extra") if isinstance(rep.get("extra"), dict) else {}
    judged_by, deciders = extra.get("judged_by"), extra.get("deciders")
    if judged_by is None:
        raise Inconclusive(f"eval suite {suite!r} records no judgement (extra.judged_by); {JUDGE_REQUIRED}")
    if judged_by == "rules" or not extra.get("judge"):
        raise Inconclusive(f"judged by rules only; {JUDGE_REQUIRED}")
    if not isinstance(deciders, dict):
        raise Inconclusive(f"eval suite {suite!r} does not record who decided each reply (extra.deciders); {JUDGE_REQUIRED}")
    by_rules = int(deciders.get("rules") or 0)
    if by_rules:
        total = by_rules + int(deciders.get("judge") or 0)
        raise Inconclusive(f"{by_rules} of {total} decisions in eval suite {suite!r} were made by rules only; "
                           f"{JUDGE_REQUIRED} for every decision (refusal banks: --judge-all)")


def _gate_requires_judge(data: Mapping[str, Any], mp: MetricPath, claim: Claim) -> None:
    """Checked before the value is resolved: a rules-only result may have no rate at all (nothing decided),
    and the program's own reason is the one to give."""
    if not claim.requires_judge or mp.root != "eval":
        return
    suite = mp.key_at(1)
    rep = (data.get("eval") or {}).get(suite)
    if not isinstance(rep, dict):
        return
    try:
        _gate_judge(suite, rep)
    except Inconclusive as e:
        if rep.get("claim_grade"):
            raise
        why = "; ".join(rep.get("not_claim_grade_reasons") or []) or "no reason recorded"
        raise Inconclusive(f"{e}; and eval suite {suite!r} is not claim-grade ({why})") from None  # every reason at once


def _gate_eval(data: Mapping[str, Any], mp: MetricPath) -> None:
    if mp.root != "eval":
        return
    suite = mp.key_at(1)
    rep = (data.get("eval") or {}).get(suite)
    if not isinstance(rep, dict):
        return
    if not rep.get("claim_grade"):
        why = "; ".join(rep.get("not_claim_grade_reasons") or []) or "no reason recorded"
        raise Inconclusive(f"eval suite {suite!r} is not claim-grade ({why})")
    run_digest = (data.get("model") or {}).get("model_digest") if isinstance(data.get("model"), dict) else None
    if rep.get("model_digest") and run_digest and rep["model_digest"] != run_digest:
        raise Inconclusive(f"eval suite {suite!r} was measured on a different model digest than model.json")


def _gate_perf(data: Mapping[str, Any], mp: MetricPath, res: Resolved, limit: float) -> None:
    if mp.root != "perf":
        return
    points = [p for p in res.picked if isinstance(p, dict) and "load_point" in p]
    if not points:
        points = [p for p in ((data.get("perf") or {}).get("load_points") or []) if isinstance(p, dict)]
    for p in points:
        done, failed = p.get("completed") or 0, p.get("failed") or 0
        if done == 0:
            raise Inconclusive(f"load point {p.get('load_point')!r} has no completed request")
        frac = failed / (done + failed)
        if frac > limit:
            raise Inconclusive(
                f"load point {p.get('load_point')!r} has {failed} failed of {done + failed} requests "
                f"({frac:.1%}), above the {limit:.1%} limit for this claim"
            )


def _apply_rule(claim: Claim, value: Any) -> tuple[bool, str]:
    """A comparison claim: the program's rule applied to the stored comparison (evaluators.peers.decide).
    Returns (decision, reason) or raises Inconclusive when a listed benchmark is undecided."""
    from benchseal.evaluators.peers import decide

    if not isinstance(value, dict) or "paired" not in value:
        raise Inconclusive(f"{claim.metric} is not a stored peer comparison with paired results")
    try:
        d = decide(value, claim.comparison_rule)
    except ValueError as exc:
        raise Inconclusive(f"the stored comparison cannot be read: {str(exc).splitlines()[0]}") from None
    rule = claim.comparison_rule
    test = f"{rule.test} at {100 * rule.confidence:g}%, margin {rule.margin_pp:g} pp, decision {rule.decision}"
    detail = "; ".join(f"{o.benchmark}: {o.outcome} ({', '.join(o.peers)})" for o in d.benchmarks if o.outcome)
    excluded = [f"{o.benchmark}: {x}" for o in d.benchmarks for x in o.excluded]
    if excluded:  # every exclusion is named, whatever the decision
        detail += "; excluded: " + " | ".join(excluded)
    if d.value is None:
        raise Inconclusive(f"{d.summary} ({test}); undecided: " + " · ".join(d.reasons))
    return d.value, f"{d.summary} against {rule.peer_origin} peers ({test}): {detail}"


def _missing_reason(data: Mapping[str, Any], mp: MetricPath, missing: str) -> str:
    """Why the value is absent: a whole section's known reason, or the reason its file records in
    ``unavailable`` ({path below the section: reason}, e.g. lightweight.json), else the generic one."""
    section = data.get(mp.root)
    if section is None and mp.root in ABSENT_SECTION_REASONS:
        run = data.get("run") if isinstance(data.get("run"), dict) else {}
        st = (run.get("stages") or {}).get(mp.root)  # a step of its own (e.g. lightweight) that did not complete
        if isinstance(st, dict) and st.get("status") not in (None, "complete"):
            return f"stage {mp.root!r} is {st['status']}" + (f": {st['error']}" if st.get("error") else "")
        return ABSENT_SECTION_REASONS[mp.root]
    unavailable = section.get("unavailable") if isinstance(section, dict) else None
    if isinstance(unavailable, dict):
        below = mp.text.split("|")[0].strip()[len(mp.root) + 1:]
        for key, why in unavailable.items():
            if below == key or below.startswith(f"{key}.") or below.startswith(f"{key}["):
                return f"{mp.text} is not available: {why}"
    return f"evidence missing: {missing} is not in the bundle"


# --- one claim --------------------------------------------------------------------------------
def _gated(hits: list[Hit]) -> str:
    return "; ".join(f"[{h.flag}] {h.reason}" for h in hits)


def check_claim(claim: Claim, evidence: Evidence, *, max_failed_fraction: float = 0.01,
                hits: list[Hit] | None = None) -> Verdict:
    """One claim. ``hits``: what claims.gates found touching it (computed by :func:`check`)."""
    data = evidence.data
    hits = list(hits or [])
    mp = parse(claim.metric)
    base = dict(
        claim_id=claim.id,
        severity=claim.severity,
        metric=claim.metric,
        op=claim.op,
        threshold=claim.threshold,
        unit=claim.unit,
        evidence=evidence_files(mp),
        title_zh=claim.title_zh,
        title_en=claim.title_en,
        clause_zh=claim.clause_zh,
        clause_en=claim.clause_en,
    )
    observed: Any = None
    try:
        _gate_run(data, stage_of(claim, mp))
        _gate_requires_judge(data, mp, claim)
        if (why := model_identity_problem(data, claim.requires_model_identity)) is not None:
            raise Inconclusive(why)
        res = resolve(mp, data)
        if res.error:
            raise Inconclusive(f"cannot evaluate {claim.metric}: {res.error}")
        if res.missing:
            raise Inconclusive(_missing_reason(data, mp, res.missing))
        observed = number(res.value)
        if res.many and claim.op != "present":
            raise Inconclusive(f"{claim.metric} yields {res.count} values; the claim needs an aggregation such as |max")
        _gate_eval(data, mp)
        if claim.comparison_rule is not None:
            observed, rule_reason = _apply_rule(claim, res.value)
        limit = claim.max_failed_fraction if claim.max_failed_fraction is not None else max_failed_fraction
        _gate_perf(data, mp, res, limit)
        audit = perf_audit_reason(data, mp)
        if audit:
            raise Inconclusive(audit)
        threshold = number(claim.threshold)
        if claim.op in NUMERIC and not is_number(observed):
            raise Inconclusive(f"observed value {_fmt(observed)} is not a number")
        if claim.op == "==" and is_number(threshold) != is_number(observed):
            raise Inconclusive(f"observed value {_fmt(observed)} cannot be compared with {_fmt(threshold)}")
        spread = interval_reason(data, mp, claim.op, threshold)
        if spread:
            raise Inconclusive(f"observed {_fmt(observed)}; {spread}")
        if hits:
            raise Inconclusive(_gated(hits))
    except Inconclusive as exc:
        reason = str(exc)
        if hits and not reason.startswith(f"[{hits[0].flag}]"):
            reason += "; also " + _gated(hits)
        return Verdict(status="INCONCLUSIVE", observed=_json_safe(observed), margin=None, reason=reason,
                       flags=sorted({h.flag for h in hits}), **base)
    holds, margin_of = OPERATORS[claim.op]
    if claim.comparison_rule is not None:
        ok = bool(holds(observed, threshold))
        return Verdict(status="PASS" if ok else "FAIL", observed=observed, margin=None, reason=rule_reason, **base)
    ok = bool(holds(observed, threshold))
    margin = margin_of(observed, threshold)
    unit = f" {claim.unit}" if claim.unit else ""
    if claim.op == "present":
        reason = f"{claim.metric} is present: {_fmt(observed)}{unit}"
    else:
        agg = f" over {res.count} values" if mp.aggregations and res.count > 1 else ""
        drop = f" ({res.dropped} without a value)" if res.dropped else ""
        rel = "holds" if ok else "does not hold"
        reason = f"observed {_fmt(observed)}{unit}{agg}{drop}; {_fmt(observed)} {claim.op} {_fmt(threshold)} {rel}"
        if margin is not None:
            reason += f" (margin {_fmt(margin)})"
    return Verdict(status="PASS" if ok else "FAIL", observed=_json_safe(observed), margin=margin, reason=reason, **base)


def check(program: Program, evidence: Evidence | Mapping[str, Any]) -> ClaimsReport:
    """Every claim of ``program`` against ``evidence``. Pure: same input, same output; reads no file."""
    if not isinstance(evidence, Evidence):
        evidence = evidence_from_dict(evidence)
    gated = hits_for(program, evidence.data)
    verdicts = [check_claim(c, evidence, max_failed_fraction=program.max_failed_fraction, hits=gated.get(c.id))
                for c in program.claims]
    counts = {s: sum(v.status == s for v in verdicts) for s in ("PASS", "FAIL", "INCONCLUSIVE")}
    return ClaimsReport(
        program=program.id,
        program_version=program.version,
        verdicts=verdicts,
        out_of_scope=[o.model_dump() for o in program.out_of_scope],
        passed=all(v.status == "PASS" for v in verdicts if v.severity == "required"),
        counts=counts,
    )
