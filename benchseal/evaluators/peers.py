"""Published peer scores (``configs/peers/*.yaml``) and the comparison table.

Each row cites its source and states shots and protocol. ``compare`` puts the candidate's headline
results next to every peer row of the same benchmark and marks each row comparable or not (same
shots and same protocol label). ``domestic_leading`` decides, per benchmark, whether the candidate
scores at least as high as every *comparable domestic* row, and names the rows it used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from benchseal.errors import ConfigError
from benchseal.io import load_yaml_model
from benchseal.config import config_dir, config_files
from benchseal.schema import EvalReport, EvalResult, Strict


class PeerRow(Strict):
    model: str
    origin: Literal["domestic", "foreign"]  # domestic = developed in mainland China
    params_total_b: float | None = None  # billions
    params_active_b: float | None = None  # billions (MoE); equals total for dense models
    benchmark: str  # as named in suites (SuiteTask.benchmark), e.g. "MMLU", "C-Eval"
    metric: str  # as the source names it, e.g. "Acc.", "EM", "Pass@1"
    score: float  # percent (0-100), as published
    shots: int
    protocol: str  # label, e.g. "base" (base model, plain few-shot prompt) or "chat"
    harness: str | None = None  # who ran it and how, e.g. "DeepSeek internal framework"
    source: str  # URL of the publication the number is copied from
    note: str | None = None


class PeerTable(Strict):
    name: str
    description: str = ""
    retrieved: str | None = None  # date the numbers were copied
    rows: list[PeerRow] = Field(default_factory=list)


class ComparisonRow(Strict):
    benchmark: str
    model: str
    origin: Literal["domestic", "foreign", "candidate"]
    score: float  # percent
    shots: int | None
    protocol: str | None
    comparable: bool  # same benchmark, shots and protocol as the candidate
    reason: str | None = None  # why not comparable
    source: str | None = None
    params_total_b: float | None = None


class LeadingVerdict(Strict):
    benchmark: str
    candidate_score: float | None
    leading: bool | None  # None: no comparable domestic row (cannot decide)
    best_domestic: str | None = None
    best_domestic_score: float | None = None
    margin: float | None = None  # candidate - best comparable domestic (percentage points)
    rows_used: list[str] = Field(default_factory=list)  # "model @ source"
    rows_excluded: list[str] = Field(default_factory=list)  # "model: reason"


class ComparisonTable(Strict):
    candidate: str
    rows: list[ComparisonRow] = Field(default_factory=list)
    leading: list[LeadingVerdict] = Field(default_factory=list)
    domestic_leading: bool | None = None  # every benchmark with a comparable domestic row leads
    peers_files: list[str] = Field(default_factory=list)


def load_peers(paths: str | os.PathLike | list[str | os.PathLike] | None = None) -> list[PeerTable]:
    """Load peer tables: given files, or every ``configs/peers/*.yaml``."""
    if paths is None:
        files = config_files("peers")
    else:
        items = paths if isinstance(paths, list) else [paths]
        files = []
        for p in map(Path, items):
            files += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    if not files:
        raise ConfigError("no peer tables found", where=str(paths or config_dir() / "peers"), hint="give --peers FILE")
    return [load_yaml_model(PeerTable, f) for f in files]


def _rows(peers: list[PeerTable] | list[PeerRow]) -> list[PeerRow]:
    out: list[PeerRow] = []
    for p in peers:
        out += p.rows if isinstance(p, PeerTable) else [p]
    return out


def compare(results: list[EvalResult], peers: list[PeerTable] | list[PeerRow], *, candidate_name: str) -> ComparisonTable:
    """Candidate headline results (fractions, scaled to percent) next to every peer row of the same benchmark."""
    heads = {r.benchmark: r for r in results if r.headline and r.benchmark}
    table = ComparisonTable(candidate=candidate_name)
    rows = _rows(peers)
    for bench, r in heads.items():
        cand_score = round(100.0 * r.value, 4)
        table.rows.append(ComparisonRow(benchmark=bench, model=candidate_name, origin="candidate", score=cand_score,
                                        shots=r.num_fewshot, protocol=r.protocol_label, comparable=True,
                                        source=f"eval/{r.suite}/results.json"))
        for p in (p for p in rows if p.benchmark == bench):
            why = []
            if p.shots != r.num_fewshot:
                why.append(f"{p.shots}-shot vs candidate {r.num_fewshot}-shot")
            if p.protocol != r.protocol_label:
                why.append(f"protocol '{p.protocol}' vs candidate '{r.protocol_label}'")
            table.rows.append(ComparisonRow(benchmark=bench, model=p.model, origin=p.origin, score=p.score, shots=p.shots,
                                            protocol=p.protocol, comparable=not why, reason="; ".join(why) or None,
                                            source=p.source, params_total_b=p.params_total_b))
    table.leading = domestic_leading(table)
    decided = [v.leading for v in table.leading if v.leading is not None]
    table.domestic_leading = all(decided) if decided else None
    return table


def domestic_leading(table: ComparisonTable) -> list[LeadingVerdict]:
    """Per benchmark: candidate >= every comparable domestic row (same benchmark, shots, protocol)."""
    out = []
    for bench in dict.fromkeys(r.benchmark for r in table.rows):
        rows = [r for r in table.rows if r.benchmark == bench]
        cand = next((r for r in rows if r.origin == "candidate"), None)
        used = [r for r in rows if r.origin == "domestic" and r.comparable]
        excluded = [f"{r.model}: {r.reason}" for r in rows if r.origin == "domestic" and not r.comparable]
        if cand is None or not used:
            out.append(LeadingVerdict(benchmark=bench, candidate_score=cand.score if cand else None, leading=None,
                                      rows_excluded=excluded))
            continue
        best = max(used, key=lambda r: r.score)
        out.append(LeadingVerdict(
            benchmark=bench, candidate_score=cand.score, leading=cand.score >= best.score,
            best_domestic=best.model, best_domestic_score=best.score, margin=round(cand.score - best.score, 4),
            rows_used=[f"{r.model} ({r.score:g}) @ {r.source}" for r in used], rows_excluded=excluded,
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


def comparison_from_snapshot(report: EvalReport, snapshot: PeerSnapshot) -> ComparisonTable:
    """PURE: results.json + peers.json -> the comparison stored in results.json's extra.comparison."""
    table = compare(report.results, list(snapshot.tables), candidate_name=report.model)
    table.peers_files = [t.file for t in snapshot.tables]
    return table


def attach_comparison(out_dir: Path, report: EvalReport, *, peers: list[Path] | None = None) -> tuple[EvalReport, list[str]]:
    """Compare a suite run in ``out_dir`` with peer tables and store the comparison in the bundle.

    Peer tables: ``peers`` when given, else the suite's declared ``peers``, else every
    configs/peers table. Writes eval/<suite>/peers.json and rewrites eval/<suite>/results.json with
    ``extra.comparison``; returns the updated report and the two bundle-relative paths."""
    from benchseal.evaluators.suites import load_suite
    from benchseal.io import write_json
    from benchseal.bundle import EVAL_DIR, EVAL_RESULTS

    if peers is None:
        suite_file = report.extra.get("suite_file")
        peers = load_suite(suite_file).peer_files() if suite_file else None
    if peers is None:
        peers = config_files("peers")
    snapshot = peer_snapshot(report.results, [Path(p) for p in peers], suite=report.suite)
    table = comparison_from_snapshot(report, snapshot)
    report = report.model_copy(update={"extra": {**report.extra, "comparison": table.model_dump(mode="json")}})
    eval_dir = Path(out_dir) / EVAL_DIR / report.suite
    write_json(eval_dir / PEERS_JSON, snapshot)
    write_json(eval_dir / EVAL_RESULTS, report)
    rel = f"{EVAL_DIR}/{report.suite}"
    return report, [f"{rel}/{PEERS_JSON}", f"{rel}/{EVAL_RESULTS}"]
