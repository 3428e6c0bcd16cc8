"""Peer comparison: measured peers (paired test on shared items), published rows (context) and the rule.

- Published rows (``configs/peers/*.yaml``) cite their source and the protocol as published. They
  count for a verdict only when they carry a protocol fingerprint equal to the candidate's; the
  vendor tables do not, so they are shown as context, each with the reason.
- Measured peers are benchseal runs of the same suite on a peer model (``benchseal eval run
  --origin domestic``), copied into ``eval/<suite>/peer_runs/<name>/`` of the candidate's bundle.
  When the fingerprints are equal, each benchmark is decided by a paired test on the shared items
  (evaluators.paired): lead / tie / behind with an interval.
- :func:`decide` turns per-benchmark outcomes into one value under a :class:`ComparisonRule`
  (program data; the table stores the default rule's decision). Every listed benchmark must be
  decided, else the value is None (INCONCLUSIVE) with the reasons.
"""

from __future__ import annotations

import os
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from benchseal.errors import ConfigError
from benchseal.io import load_yaml_model
from benchseal.config import config_dir, config_files
from benchseal.schema import ComparisonRule, EvalReport, EvalResult, Strict
from benchseal.evaluators.fingerprint import differences
from benchseal.evaluators.paired import PairedResult, histogram, paired_test


class PeerRow(Strict):
    model: str
    origin: Literal["domestic", "foreign"]  # domestic = developed in mainland China
    params_total_b: float | None = None  # billions
    params_active_b: float | None = None  # billions (MoE); equals total for dense models
    benchmark: str  # as named in suites (SuiteTask.benchmark), e.g. "MMLU", "C-Eval"
    metric: str  # as the source names it, e.g. "Acc.", "EM", "Pass@1"
    score: float  # percent (0-100), as published
    shots: int | None  # required; null: the source does not state the shot count
    protocol: str  # label, e.g. "base" (base model, plain few-shot prompt) or "chat"
    harness: str | None = None  # who ran it and how, e.g. "DeepSeek internal framework"
    source: str  # URL of the publication the number is copied from (GitHub: .../blob/<commit sha>/<path>)
    note: str | None = None
    protocol_published: str | None = None  # the protocol in the source's words (prompt format, metric, shots)
    # a full protocol fingerprint (evaluators.fingerprint) when the publisher ran benchseal/lm-eval and
    # published it; only then can the row count for a verdict. Published tables normally have none.
    fingerprint: dict[str, Any] | None = None


class PeerTable(Strict):
    name: str
    description: str = ""
    retrieved: str | None = None  # date the numbers were copied
    rows: list[PeerRow] = Field(default_factory=list)


class ComparisonRow(Strict):
    benchmark: str
    model: str
    origin: Literal["domestic", "foreign", "candidate", "unknown"]
    score: float  # percent
    shots: int | None
    protocol: str | None
    comparable: bool  # protocol fingerprint equal to the candidate's
    reason: str | None = None  # why not comparable
    source: str | None = None
    params_total_b: float | None = None
    measured: bool = False  # measured by benchseal in this bundle (a peer run), not copied from a publication
    fingerprint_sha256: str | None = None


class PairedComparison(Strict):
    """The candidate against one peer on one benchmark: shared items, the difference histogram, the test."""

    benchmark: str
    peer: str
    origin: Literal["domestic", "foreign", "unknown"]
    origin_note: str | None = None
    measured: bool
    comparable: bool
    reason: str | None = None
    n_shared: int = 0  # items both runs scored (matched by task, doc_id and doc_hash)
    n_unmatched: int = 0  # items only one of the two runs has
    histogram: list[list[float]] | None = None  # [[candidate - peer, items], …]; None for a published row
    candidate_score: float | None = None  # percent
    peer_score: float | None = None  # percent
    candidate_stderr_pp: float | None = None  # published rows with an equal fingerprint: the unpaired test uses it
    result: PairedResult | None = None  # with the default rule (ComparisonRule())


class BenchmarkOutcome(Strict):
    benchmark: str
    outcome: Literal["lead", "tie", "behind"] | None  # None: undecided
    peers: list[str] = Field(default_factory=list)  # "peer: lead (+1.2 pp, 95% CI [0.3, 2.1])"
    reason: str | None = None  # why undecided
    excluded: list[str] = Field(default_factory=list)  # counted-origin peers left out, each with its reason


class Decision(Strict):
    """A comparison rule applied to the stored comparison: True, False or None (INCONCLUSIVE)."""

    value: bool | None
    summary: str  # "led on x of y, tied on z, behind on w"
    benchmarks: list[BenchmarkOutcome] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)  # why INCONCLUSIVE
    rule: ComparisonRule


class LeadingVerdict(Strict):
    benchmark: str
    candidate_score: float | None
    leading: bool | None  # None: undecided (no comparable peer of the counted origin)
    outcome: Literal["lead", "tie", "behind"] | None = None
    best_domestic: str | None = None
    best_domestic_score: float | None = None
    margin: float | None = None  # candidate - best comparable domestic (percentage points)
    rows_used: list[str] = Field(default_factory=list)  # "model @ source"
    rows_excluded: list[str] = Field(default_factory=list)  # "model: reason"


class ComparisonTable(Strict):
    candidate: str
    rows: list[ComparisonRow] = Field(default_factory=list)
    leading: list[LeadingVerdict] = Field(default_factory=list)
    domestic_leading: bool | None = None  # the default rule's decision (ComparisonRule()); None: INCONCLUSIVE
    peers_files: list[str] = Field(default_factory=list)
    paired: list[PairedComparison] = Field(default_factory=list)
    decision: Decision | None = None  # the default rule applied
    peer_runs: list[str] = Field(default_factory=list)  # bundle-relative folders of the measured peers


def peer_table_path(ref: str | os.PathLike) -> Path:
    """A peer table given as a file or a folder, or named by its id (``deepseek-v3-base``: the file
    ``configs/peers/<id>.yaml`` of the shipped or a ``--config-dir`` folder, found wherever the package is)."""
    p = Path(ref)
    if p.exists() or p.suffix in (".yaml", ".yml") or os.sep in str(ref) or "/" in str(ref):
        return p
    found = {f.stem: f for f in config_files("peers")}
    if str(ref) in found:
        return found[str(ref)]
    raise ConfigError(f"no peer table named '{ref}'", where=str(config_dir() / "peers"),
                      hint="give a peer table's id (one of: " + ", ".join(sorted(found)) + ") or the path of a YAML file")


def load_peers(paths: str | os.PathLike | list[str | os.PathLike] | None = None) -> list[PeerTable]:
    """Load peer tables: given files, folders or ids (:func:`peer_table_path`), or every ``configs/peers/*.yaml``."""
    if paths is None:
        files = config_files("peers")
    else:
        items = paths if isinstance(paths, list) else [paths]
        files = []
        for p in map(peer_table_path, items):
            files += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    if not files:
        raise ConfigError("no peer tables found", where=str(paths or config_dir() / "peers"), hint="give --peers FILE")
    return [load_yaml_model(PeerTable, f) for f in files]


def _rows(peers: list[PeerTable] | list[PeerRow]) -> list[PeerRow]:
    out: list[PeerRow] = []
    for p in peers:
        out += p.rows if isinstance(p, PeerTable) else [p]
    return out


@dataclass(frozen=True)
class MeasuredPeer:
    """A peer model evaluated by benchseal on the same suite (a peer run), with its per-item scores."""

    report: EvalReport
    items: dict[tuple[str, str, str], dict[str, float]]  # (task, metric, filter) -> item key -> score
    run_dir: str | None = None  # bundle-relative folder
    # what reports.verify.reference.verify_reference established about the peer's bundle (peer_runs/<name>/
    # signature.json); a measured peer without a verified signature is not comparable: an unsigned run is
    # an assertion (per-item scores can be edited and the aggregate recomputed)
    signature: dict[str, Any] | None = None

    @property
    def origin(self) -> str:
        o = (self.report.extra.get("identity") or {}).get("origin")
        return o if o in ("domestic", "foreign") else "unknown"

    @property
    def origin_note(self) -> str | None:
        return (self.report.extra.get("identity") or {}).get("origin_note")


def _published_reason(p: PeerRow, r: EvalResult) -> str:
    how = p.protocol_published or f"protocol '{p.protocol}'"
    shots = "shots not stated" if p.shots is None else f"{p.shots}-shot"
    if p.fingerprint is None:
        return (f"published by {p.harness or 'its authors'} ({how}, {shots}); no protocol fingerprint, so it "
                f"cannot be shown to match lm-eval {r.task} {r.metric},{r.filter} {r.num_fewshot}-shot: context only")
    return "protocol differs: " + "; ".join(differences(r.fingerprint, p.fingerprint)[:4])


def compare(results: list[EvalResult], peers: list[PeerTable] | list[PeerRow], *, candidate_name: str,
            candidate_items: dict[tuple[str, str, str], dict[str, float]] | None = None,
            measured: list[MeasuredPeer] | None = None, candidate_digest: str | None = None) -> ComparisonTable:
    """PURE: the candidate's headline results next to published rows (context unless their fingerprint is
    equal) and measured peers (a paired test on the shared items when the fingerprints are equal; a
    measured peer counts only when its bundle's signature was verified and it is not the candidate)."""
    heads = {r.benchmark: r for r in results if r.headline and r.benchmark}
    table = ComparisonTable(candidate=candidate_name, peer_runs=[m.run_dir for m in measured or [] if m.run_dir])
    rows = _rows(peers)
    default = ComparisonRule()
    for bench, r in heads.items():
        cand_score = round(100.0 * r.value, 4)
        fp_sha = (r.fingerprint or {}).get("sha256")
        table.rows.append(ComparisonRow(benchmark=bench, model=candidate_name, origin="candidate", score=cand_score,
                                        shots=r.num_fewshot, protocol=r.protocol_label, comparable=True,
                                        source=f"eval/{r.suite}/results.json", measured=True, fingerprint_sha256=fp_sha))
        for p in (p for p in rows if p.benchmark == bench):
            equal = p.fingerprint is not None and r.fingerprint is not None and not differences(r.fingerprint, p.fingerprint)
            reason = None if equal else _published_reason(p, r)
            table.rows.append(ComparisonRow(benchmark=bench, model=p.model, origin=p.origin, score=p.score, shots=p.shots,
                                            protocol=p.protocol, comparable=equal, reason=reason, source=p.source,
                                            params_total_b=p.params_total_b,
                                            fingerprint_sha256=(p.fingerprint or {}).get("sha256")))
            pc = PairedComparison(benchmark=bench, peer=p.model, origin=p.origin, measured=False, comparable=equal,
                                  reason=reason, candidate_score=cand_score, peer_score=p.score,
                                  candidate_stderr_pp=None if r.stderr is None else 100 * r.stderr)
            if equal:
                pc.result = unpaired_test(pc, default)
            table.paired.append(pc)
        key = (r.task, r.metric, r.filter)
        for m in measured or []:
            pr = next((x for x in m.report.results if (x.task, x.metric, x.filter) == key), None)
            why: list[str] = []
            if pr is None:
                why.append(f"the peer run has no {r.task} {r.metric},{r.filter} result")
            else:
                why += differences(r.fingerprint, pr.fingerprint)
                if pr.limit is not None or r.limit is not None:
                    why.append(f"a run used --limit (peer {pr.limit}, candidate {r.limit}): not the whole benchmark")
            if not (m.signature or {}).get("verified"):
                why.append("peer-unsigned: the peer run was not verified against a named public key (--peer-key)")
            if m.report.model_digest and candidate_digest and m.report.model_digest == candidate_digest:
                why.append("peer-is-candidate: the peer run has the candidate's own weights digest")
            hist, only = histogram((candidate_items or {}).get(key, {}), m.items.get(key, {}))
            n_shared = int(sum(c for _, c in hist))
            if not why and n_shared == 0:
                why.append("no item is shared between the candidate's and the peer's samples")
            elif not why and only:
                why.append(f"the two runs did not score the same items ({only} item(s) only one of them has)")
            reason = "; ".join(why) or None
            comparable = reason is None
            if pr is not None:
                table.rows.append(ComparisonRow(benchmark=bench, model=m.report.model, origin=m.origin,
                                                score=round(100.0 * pr.value, 4), shots=pr.num_fewshot, protocol=pr.protocol_label,
                                                comparable=comparable, reason=reason, source=m.run_dir, measured=True,
                                                fingerprint_sha256=(pr.fingerprint or {}).get("sha256")))
            pc = PairedComparison(benchmark=bench, peer=m.report.model, origin=m.origin, origin_note=m.origin_note, measured=True,
                                  comparable=comparable, reason=reason, n_shared=n_shared, n_unmatched=only,
                                  histogram=hist if comparable else None, candidate_score=cand_score,
                                  peer_score=None if pr is None else round(100.0 * pr.value, 4))
            if comparable:
                pc.result = paired_test(hist, method=default.test, confidence=default.confidence, margin_pp=default.margin_pp,
                                        resamples=default.resamples, seed=default.seed)
            table.paired.append(pc)
    table.decision = decide(table, default)
    table.domestic_leading = table.decision.value
    table.leading = domestic_leading(table)
    return table


def unpaired_test(pc: PairedComparison, rule: ComparisonRule) -> PairedResult | None:
    """A published row with an equal fingerprint: no shared items, so the candidate's own standard
    error gives the interval (the published score is taken as exact)."""
    from statistics import NormalDist

    if pc.candidate_score is None or pc.peer_score is None or pc.candidate_stderr_pp is None:
        return None
    z = NormalDist().inv_cdf(0.5 + rule.confidence / 2)
    d = pc.candidate_score - pc.peer_score
    lo, hi = d - z * pc.candidate_stderr_pp, d + z * pc.candidate_stderr_pp
    outcome = "lead" if lo > rule.margin_pp else "behind" if hi < -rule.margin_pp else "tie"
    return PairedResult(method="unpaired", confidence=rule.confidence, margin_pp=rule.margin_pp, n=0, diff_pp=round(d, 6),
                        ci_low_pp=round(lo, 6), ci_high_pp=round(hi, 6), outcome=outcome)


def _counted(pc: PairedComparison, rule: ComparisonRule) -> bool:
    if rule.peer_origin != "any" and pc.origin != rule.peer_origin:
        return False
    return rule.peers is None or pc.peer in rule.peers


def decide(table: ComparisonTable | dict[str, Any], rule: ComparisonRule) -> Decision:
    """PURE: apply a comparison rule (program data) to a stored comparison; the test is re-run from
    the stored difference histograms with the rule's method, confidence and margin."""
    if isinstance(table, dict):
        table = ComparisonTable.model_validate(table)
    heads = [r.benchmark for r in table.rows if r.origin == "candidate"]
    listed = rule.benchmarks if rule.benchmarks is not None else heads
    outcomes: list[BenchmarkOutcome] = []
    reasons: list[str] = []
    who = {"domestic": "domestic ", "foreign": "foreign ", "any": ""}[rule.peer_origin]
    for bench in listed:
        if bench not in heads:
            outcomes.append(BenchmarkOutcome(benchmark=bench, outcome=None, reason="the candidate has no result for it"))
            reasons.append(f"{bench}: the candidate has no result for it")
            continue
        results: list[tuple[str, PairedResult]] = []
        excluded: list[str] = []
        for pc in (p for p in table.paired if p.benchmark == bench and _counted(p, rule)):
            if not pc.comparable:
                excluded.append(f"{pc.peer}{'' if pc.measured else ' (published)'}: {pc.reason}")
                continue
            res = (paired_test(pc.histogram, method=rule.test, confidence=rule.confidence, margin_pp=rule.margin_pp,
                               resamples=rule.resamples, seed=rule.seed)
                   if pc.histogram is not None else unpaired_test(pc, rule))
            if res is None:
                excluded.append(f"{pc.peer}: no shared item and no standard error to test with")
                continue
            results.append((pc.peer, res))
        if len(results) < rule.min_peers:
            why = (f"{len(results)} comparable {who}peer(s), the rule needs {rule.min_peers}"
                   + (f"; not comparable: {' | '.join(excluded[:4])}" if excluded else "; no peer measured under the same protocol"))
            outcomes.append(BenchmarkOutcome(benchmark=bench, outcome=None, reason=why))
            reasons.append(f"{bench}: {why}")
            continue
        kinds = {res.outcome for _, res in results}
        outcome = "behind" if "behind" in kinds else "lead" if kinds == {"lead"} else "tie"
        pct = f"{100 * rule.confidence:g}%"
        outcomes.append(BenchmarkOutcome(benchmark=bench, outcome=outcome, excluded=excluded, peers=[
            f"{peer}: {res.outcome} ({res.diff_pp:+.2f} pp, {pct} CI [{res.ci_low_pp:.2f}, {res.ci_high_pp:.2f}], n={res.n})"
            for peer, res in results]))
    y = len(listed)
    n_lead = sum(o.outcome == "lead" for o in outcomes)
    n_tie = sum(o.outcome == "tie" for o in outcomes)
    n_behind = sum(o.outcome == "behind" for o in outcomes)
    n_undecided = sum(o.outcome is None for o in outcomes)
    summary = f"led on {n_lead} of {y}, tied on {n_tie}, behind on {n_behind}" + (f", undecided on {n_undecided}" if n_undecided else "")
    if not listed:
        reasons.append("no benchmark to decide")
    if reasons:
        return Decision(value=None, summary=summary, benchmarks=outcomes, reasons=reasons, rule=rule)
    if rule.decision == "lead_all":
        value = n_lead == y
    elif rule.decision == "behind_none":
        value = n_behind == 0
    else:
        value = n_behind == 0 and n_lead >= 1
    return Decision(value=value, summary=summary, benchmarks=outcomes, rule=rule)


def domestic_leading(table: ComparisonTable) -> list[LeadingVerdict]:
    """Per benchmark, the default rule's outcome and the rows it used or excluded (for the report)."""
    out = []
    by_bench = {o.benchmark: o for o in (table.decision.benchmarks if table.decision else [])}
    for bench in dict.fromkeys(r.benchmark for r in table.rows):
        cand = next((r for r in table.rows if r.benchmark == bench and r.origin == "candidate"), None)
        pcs = [p for p in table.paired if p.benchmark == bench and p.origin == "domestic"]
        used = [p for p in pcs if p.comparable and p.result is not None]
        o = by_bench.get(bench)
        best = max(used, key=lambda p: p.peer_score or 0.0) if used else None
        out.append(LeadingVerdict(
            benchmark=bench, candidate_score=cand.score if cand else None,
            leading=None if o is None or o.outcome is None else o.outcome == "lead", outcome=o.outcome if o else None,
            best_domestic=best.peer if best else None, best_domestic_score=best.peer_score if best else None,
            margin=round(cand.score - best.peer_score, 4) if best and cand and best.peer_score is not None else None,
            rows_used=[f"{p.peer} ({p.peer_score:g}): {p.result.outcome}" for p in used if p.result and p.peer_score is not None],
            rows_excluded=[f"{p.peer}: {p.reason}" for p in pcs if not p.comparable],
        ))
    return out


# ------------------------------------------------------------------------------------------------
# the comparison inside a bundle: eval/<suite>/peers.json + results.json extra.comparison
# ------------------------------------------------------------------------------------------------
PEERS_JSON = "peers.json"


class BundledPeerTable(PeerTable):
    """A peer table as copied into a bundle: only the rows of the suite's benchmarks, with provenance."""

    file: str  # "configs/peers/<name>.yaml" for shipped tables, else the path that was given
    sha256: str  # of the source file
    rows_in_source: int  # rows of the whole source table (rows holds only those used)


class PeerSnapshot(Strict):
    """eval/<suite>/peers.json: every peer row a comparison used, so a verifier re-derives it offline."""

    schema_version: str = "1"
    suite: str
    tables: list[BundledPeerTable] = Field(default_factory=list)


def _label(path: Path) -> str:
    try:
        return "configs/" + path.resolve().relative_to(config_dir().resolve()).as_posix()
    except ValueError:
        return str(path)


def peer_snapshot(results: list[EvalResult], files: list[Path], *, suite: str) -> PeerSnapshot:
    """The rows of ``files`` whose benchmark is a headline benchmark of ``results``."""
    from benchseal.io import sha256_file

    benches = {r.benchmark for r in results if r.headline and r.benchmark}
    tables = []
    for f in files:
        t = load_yaml_model(PeerTable, f)
        tables.append(BundledPeerTable(**t.model_dump(exclude={"rows"}), rows=[r for r in t.rows if r.benchmark in benches],
                                       file=_label(Path(f)), sha256=sha256_file(f), rows_in_source=len(t.rows)))
    return PeerSnapshot(suite=suite, tables=tables)


from benchseal.evaluators.peer_runs import (  # noqa: E402,F401  (the bundle side of peers; names kept here)
    FRACTION_METRICS, NONNEGATIVE_METRICS, PEER_RUNS_DIR, PEER_SIGNATURE, _items, _slug, check_scores, copy_peer_run,
    read_peer_report)


def measured_peers(suite_dir: Path) -> list[MeasuredPeer]:
    """Every peer run under ``suite_dir/peer_runs/`` with its per-item scores, in name order."""
    from benchseal.io import read_json

    out = []
    base = Path(suite_dir) / PEER_RUNS_DIR
    for d in sorted(p for p in base.iterdir() if (p / "results.json").is_file()) if base.is_dir() else []:
        rep = read_peer_report(d)
        sig = read_json(d / PEER_SIGNATURE) if (d / PEER_SIGNATURE).is_file() else None
        out.append(MeasuredPeer(report=rep, items=_items(d, rep), run_dir=f"eval/{Path(suite_dir).name}/{PEER_RUNS_DIR}/{d.name}",
                                signature=sig if isinstance(sig, dict) else None))
    return out


def comparison_from_snapshot(report: EvalReport, snapshot: PeerSnapshot, *,
                             candidate_items: dict[tuple[str, str, str], dict[str, float]] | None = None,
                             measured: list[MeasuredPeer] | None = None) -> ComparisonTable:
    """PURE: results.json + peers.json (+ the measured peers' items) -> results.json's extra.comparison."""
    table = compare(report.results, list(snapshot.tables), candidate_name=report.model,
                    candidate_items=candidate_items, measured=measured, candidate_digest=report.model_digest)
    table.peers_files = [t.file for t in snapshot.tables]
    return table


def comparison_from_dir(suite_dir: Path, report: EvalReport | None = None) -> ComparisonTable:
    """The comparison of one eval/<suite> folder from its files (results.json, peers.json, samples,
    peer_runs/); what attach_comparison stores and what ``benchseal verify`` re-derives."""
    from benchseal.io import read_json

    suite_dir = Path(suite_dir)
    report = report or EvalReport.model_validate(read_json(suite_dir / "results.json"))
    snap_path = suite_dir / PEERS_JSON
    snapshot = PeerSnapshot.model_validate(read_json(snap_path)) if snap_path.is_file() else PeerSnapshot(suite=report.suite)
    return comparison_from_snapshot(report, snapshot, candidate_items=_items(suite_dir, report),
                                    measured=measured_peers(suite_dir))


def attach_comparison(out_dir: Path, report: EvalReport, *, peers: list[Path] | None = None,
                      peer_runs: list[Path] | None = None,
                      peer_signatures: dict[str, dict[str, Any]] | None = None) -> tuple[EvalReport, list[str]]:
    """Compare a suite run in ``out_dir`` with peer tables and measured peer runs; store it in the bundle.

    Peer tables: ``peers`` when given, else the suite's declared ``peers``, else every
    configs/peers table. ``peer_runs``: benchseal runs of the same suite on peer models, copied into
    eval/<suite>/peer_runs/. Writes eval/<suite>/peers.json and rewrites eval/<suite>/results.json
    with ``extra.comparison``; returns the updated report and the bundle-relative paths written."""
    from benchseal.evaluators.suites import load_suite
    from benchseal.io import write_json
    from benchseal.bundle import EVAL_DIR, EVAL_RESULTS

    if peers is None:
        suite_file = report.extra.get("suite_file")
        peers = load_suite(suite_file).peer_files() if suite_file else None
    if peers is None:
        peers = config_files("peers")
    eval_dir = Path(out_dir) / EVAL_DIR / report.suite
    for run in peer_runs or []:
        copy_peer_run(Path(run), report.suite, eval_dir, (peer_signatures or {}).get(str(run)))
    snapshot = peer_snapshot(report.results, [Path(p) for p in peers], suite=report.suite)
    write_json(eval_dir / PEERS_JSON, snapshot)
    table = comparison_from_dir(eval_dir, report)
    report = report.model_copy(update={"extra": {**report.extra, "comparison": table.model_dump(mode="json")}})
    write_json(eval_dir / EVAL_RESULTS, report)
    rel = f"{EVAL_DIR}/{report.suite}"
    written = [f"{rel}/{PEERS_JSON}", f"{rel}/{EVAL_RESULTS}"]
    written += sorted(p.relative_to(Path(out_dir)).as_posix() for p in (eval_dir / PEER_RUNS_DIR).rglob("*") if p.is_file()) \
        if (eval_dir / PEER_RUNS_DIR).is_dir() else []
    return report, written
