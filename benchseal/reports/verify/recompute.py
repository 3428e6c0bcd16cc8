"""Recomputation checks: every summary and verdict in a bundle re-derived from its raw evidence.

Each check is a small object with a ``name`` and ``check(ctx)`` (the same policy interface as
:mod:`benchseal.reports.verify.policy`). A check is skipped only when its inputs are absent from the
bundle; a summary present without its raw records fails, because it cannot be re-derived. The
functions that derive the summaries in the first place are reused (plain imports, so a rename
breaks at import time and a type checker can follow every call):

- perf/summary.json      <- perf/requests.jsonl      benchseal.bench.perf.metrics.recompute_perf_report
- MFU/MBU, energy        <- records, model, hw, telemetry.csv  benchseal.bench.utilisation.mfu.annotate
- hardware.json compute  <- hardware.json gpus       benchseal.hw.compute_table
- model.json model_digest <- model.json files        benchseal.bench.model.digest.model_digest
- eval/<suite>/results.json <- lm_eval_results.json   benchseal.evaluators.results_from_lm_eval
- eval/<suite> extra.comparison <- results + samples + peers.json + peer_runs/  benchseal.evaluators.peers.comparison_from_dir
- eval/refusal rates     <- samples_refusal.jsonl + rules  benchseal.evaluators.refusal (reclassify, refusal_raw)
- eval/content-safety    <- samples_content.jsonl          benchseal.evaluators.content_safety (recheck, content_raw)
- eval/parity extra.parity <- eval/parity/reference/ + eval/<suite>  benchseal.evaluators.bundle_parity
- lightweight/lightweight.json <- lightweight/reference/ + model.json, perf/summary.json, eval/parity
                                                     benchseal.evaluators.lightweight.bundle_lightweight
- claims.json            <- the evidence + program   benchseal.claims.check / load_program / load_evidence

Numbers compare with a relative tolerance of 1e-9; every difference is reported with its field path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from benchseal import bundle as layout
from benchseal.bench.model.digest import check_digests, model_digest
from benchseal.bench.model.inspect import inspect_model
from benchseal.bench.perf.metrics import recompute_perf_report
from benchseal.bench.utilisation.mfu import annotate
from benchseal.claims import check as check_claims
from benchseal.claims import load_evidence, load_program
from benchseal.evaluators import results_from_lm_eval
from benchseal.evaluators.lightweight import LightweightReport, bundle_lightweight
from benchseal.evaluators.parity import bundle_parity, parity_protocol, parity_raw
from benchseal.evaluators.refusal import (RefusalRules, counts_of, flags_from_samples, load_rules, reclassify,
                                         refusal_raw)
from benchseal.evaluators.peers import PeerSnapshot, PeerTable, comparison_from_dir
from benchseal.hw.compute import compute_table, merge_compute_tables
from benchseal.io import iter_jsonl, read_json, validate
from benchseal.reports.seal.canonical import diff_values, summarise
from benchseal.reports.verify.files import safe_relpath
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, not_rederived, passed, skipped
from benchseal.reports.verify.server_metrics import ServerMetricsCheck
from benchseal.reports.verify.audits import PerfAuditsCheck

REL_TOL = 1e-9
LM_EVAL_RAW = "lm_eval_results.json"


def _dump(obj: Any) -> Any:
    return obj.model_dump(mode="json") if hasattr(obj, "model_dump") else obj


def _compare(name: str, where: str, stored: Any, recomputed: Any, ok_detail: str) -> CheckResult:
    diffs = diff_values(_dump(stored), _dump(recomputed), where, rel=REL_TOL)
    if diffs:
        return failed(name, f"{len(diffs)} value(s) differ from the recomputation: {summarise(diffs)}")
    return passed(name, ok_detail)


class _Recompute:
    name = "recompute"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        yield from self.run(ctx)

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:  # pragma: no cover - interface
        raise NotImplementedError


class PerfSummaryCheck(_Recompute):
    """perf/summary.json recomputed from perf/requests.jsonl."""

    name = "recompute:perf"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import PerfReport, RequestRecord

        summary_path, requests_path = ctx.path(layout.PERF_SUMMARY), ctx.path(layout.PERF_REQUESTS)
        if not summary_path.is_file():
            yield skipped(self.name, f"no {layout.PERF_SUMMARY} in the bundle")
            return
        if not requests_path.is_file():
            yield failed(self.name, f"{layout.PERF_SUMMARY} has no raw records to check it against ({layout.PERF_REQUESTS} is missing)")
            return
        recompute = recompute_perf_report
        summary = read_json(summary_path)
        stored = validate(PerfReport, summary, where=layout.PERF_SUMMARY)
        records = [validate(RequestRecord, r, where=layout.PERF_REQUESTS) for r in iter_jsonl(requests_path)]
        fresh = recompute(summary, records)
        yield _compare(
            self.name, layout.PERF_SUMMARY, stored, fresh,
            f"{len(stored.load_points)} load point(s) match {len(records)} raw request records",
        )


class UtilisationCheck(_Recompute):
    """MFU/MBU and energy of every load point recomputed from the raw records, model.json's
    architecture, hardware.json's peaks and the NVML energy counter in telemetry.csv."""

    name = "recompute:utilisation"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import HardwareReport, PerfReport, RequestRecord

        if not ctx.path(layout.PERF_SUMMARY).is_file():
            yield skipped(self.name, f"no {layout.PERF_SUMMARY} in the bundle")
            return
        perf = validate(PerfReport, ctx.json(layout.PERF_SUMMARY), where=layout.PERF_SUMMARY)
        points = [lp for lp in perf.load_points if lp.utilisation is not None or lp.energy is not None]
        if not points:
            yield skipped(self.name, "no utilisation or energy figures in the perf summary")
            return
        if not ctx.path(layout.PERF_REQUESTS).is_file() or not ctx.path(layout.MODEL_JSON).is_file():
            yield failed(self.name, f"utilisation and energy cannot be re-derived: {layout.PERF_REQUESTS} or {layout.MODEL_JSON} is missing")
            return
        records = [validate(RequestRecord, r, where=layout.PERF_REQUESTS) for r in iter_jsonl(ctx.path(layout.PERF_REQUESTS))]
        model = ctx.json(layout.MODEL_JSON) or {}
        hardware = ctx.bundle.hardware()
        telemetry = ctx.path(layout.TELEMETRY_CSV)
        config = {"model_type": model.get("model_type"), **(model.get("config") or {})}
        stored, fresh = [], []
        for lp in points:
            util = lp.utilisation or {}
            dtype = util.get("dtype") or model.get("dtype") or "bf16"
            new = annotate(lp, records, model_config=config, hardware=hardware, dtype=dtype,
                           telemetry_csv=telemetry if telemetry.is_file() else None, num_gpus=util.get("gpus"))
            stored.append({"load_point": lp.load_point, "utilisation": lp.utilisation, "energy": lp.energy})
            fresh.append({"load_point": new.load_point, "utilisation": new.utilisation, "energy": new.energy})
        yield _compare(self.name, f"{layout.PERF_SUMMARY}: load_points", stored, fresh,
                       f"MFU/MBU and energy of {len(points)} load point(s) re-derived from records and telemetry")


class ComputeTableCheck(_Recompute):
    """The 算力 table in hardware.json recomputed from its GPU inventory."""

    name = "recompute:hardware"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import HardwareReport

        if not ctx.path(layout.HARDWARE_JSON).is_file():
            yield skipped(self.name, f"no {layout.HARDWARE_JSON} in the bundle")
            return
        hw = ctx.bundle.hardware()
        if hw.nodes:  # multi-server inventory: one table per node (repeated host names numbered), merged
            merge = merge_compute_tables
            seen: dict[str, int] = {}
            tables = []
            for node in hw.nodes:
                host = node.host.hostname
                seen[host] = seen.get(host, 0) + 1
                tables.append(compute_table(node.gpus, host if seen[host] == 1 else f"{host}#{seen[host]}"))
            fresh = merge(tables)
        else:
            fresh = compute_table(hw.gpus, hw.host.hostname)
        yield _compare(self.name, f"{layout.HARDWARE_JSON}: compute", hw.compute, fresh, f"compute table matches {len(hw.gpus)} GPU(s)")


class ModelDigestCheck(_Recompute):
    """model.json's model_digest recomputed from its per-file sha256 list."""

    name = "recompute:model-digest"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import ModelCard

        if not ctx.path(layout.MODEL_JSON).is_file():
            yield skipped(self.name, f"no {layout.MODEL_JSON} in the bundle")
            return
        card = ctx.bundle.model()
        if card.model_digest is None and not card.files:
            yield skipped(self.name, "model.json has no file digests")
            return
        if card.model_digest is None or not card.files:
            yield failed(self.name, "model.json has a model digest without file digests (or the reverse)")
            return
        fresh = model_digest(card.files)
        if fresh != card.model_digest:
            yield failed(self.name, f"{layout.MODEL_JSON}: model_digest: stored {card.model_digest}, recomputed from files {fresh}")
        else:
            yield passed(self.name, f"model digest matches {len(card.files)} file digests")


class EvalResultsCheck(_Recompute):
    """eval/<suite>/results.json recomputed from lm-eval's raw output in the same folder."""

    name = "recompute:eval"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import EvalReport

        root = ctx.path(layout.EVAL_DIR)
        suites = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        suites = [p for p in suites if (p / layout.EVAL_RESULTS).is_file() or (p / LM_EVAL_RAW).is_file()]
        if not suites:
            yield skipped(self.name, "no evaluation results in the bundle")
            return
        for suite_dir in suites:
            name, rel = f"{self.name}:{suite_dir.name}", f"{layout.EVAL_DIR}/{suite_dir.name}"
            if not (suite_dir / layout.EVAL_RESULTS).is_file():
                yield failed(name, f"{rel}/{LM_EVAL_RAW} has no {layout.EVAL_RESULTS} summary next to it")
                continue
            if not (suite_dir / LM_EVAL_RAW).is_file():
                yield failed(name, f"{rel}/{layout.EVAL_RESULTS} has no raw lm-eval output to check it against ({LM_EVAL_RAW} is missing)")
                continue
            report = validate(EvalReport, read_json(suite_dir / layout.EVAL_RESULTS), where=f"{rel}/{layout.EVAL_RESULTS}")
            fn = results_from_lm_eval
            limits = {r.limit for r in report.results}
            limit = report.protocol.get("limit", limits.pop() if len(limits) == 1 else None)
            fresh = fn(read_json(suite_dir / LM_EVAL_RAW), suite=report.suite, limit=limit, protocol=report.protocol)
            yield _compare(
                name, f"{rel}/{layout.EVAL_RESULTS}: results", [_dump(r) for r in report.results], [_dump(r) for r in fresh],
                f"{len(report.results)} result(s) match the raw lm-eval output",
            )


class VerdictsCheck(_Recompute):
    """claims.json re-derived by running the program's claims over the bundle's evidence."""

    name = "recompute:claims"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import ClaimsReport

        if not ctx.path(layout.CLAIMS_JSON).is_file():
            yield skipped(self.name, f"no {layout.CLAIMS_JSON} in the bundle")
            return
        stored = ctx.bundle.claims()
        run = ctx.json(layout.RUN_JSON) or {}
        check = check_claims
        if ctx.path(layout.PROGRAM_JSON).is_file():  # the exact (signed) claims that were checked
            from benchseal.claims.program import Program

            program = validate(Program, ctx.json(layout.PROGRAM_JSON), where=layout.PROGRAM_JSON)
            program_ref = f"{program.id} ({layout.PROGRAM_JSON})"
        else:
            program_ref = run.get("program") or stored.program
            program = load_program(program_ref)
        fresh = check(program, load_evidence(Path(ctx.bundle_dir)))
        yield _compare(
            self.name, layout.CLAIMS_JSON, stored, fresh,
            f"{len(stored.verdicts)} verdict(s) re-derived from the evidence with program {program_ref!r}",
        )


def program_differences(bundled: Any, trusted: Any) -> list[str]:
    """Every difference between two programs, field by field and claim by claim; a threshold differs
    legitimately only where the trusted program lets the applicant set it (template or applicant_sets)."""
    diffs = []
    a, b = bundled.model_dump(mode="json"), trusted.model_dump(mode="json")
    for key in sorted(set(a) | set(b)):
        if key != "claims" and a.get(key) != b.get(key):
            diffs.append(f"{key} is {a.get(key)!r}, trusted {b.get(key)!r}")
    settable = {c.id for c in trusted.claims if trusted.template or c.applicant_sets}
    ref = {c.id: c for c in trusted.claims}
    for c in bundled.claims:
        t = ref.pop(c.id, None)
        if t is None:
            diffs.append(f"claim {c.id!r} is not in the trusted program")
            continue
        ca, cb = c.model_dump(mode="json"), t.model_dump(mode="json")
        for key in sorted(set(ca) | set(cb)):
            if ca.get(key) != cb.get(key) and not (key in ("threshold", "threshold_text") and c.id in settable):
                diffs.append(f"claim {c.id!r}: {key} is {ca.get(key)!r}, trusted {cb.get(key)!r}")
    diffs += [f"claim {cid!r} of the trusted program is missing" for cid in ref]
    if not diffs and [c.id for c in bundled.claims] != [c.id for c in trusted.claims]:
        diffs.append("the claims are in another order")
    return diffs


def trusted_programs(extra: list[Path]) -> list[tuple[str, Any]]:
    """(label, Program) for every program this verifier trusts: the files given with --program, then
    every program of its configs/programs (user config folders included)."""
    from benchseal.claims.program import _from_file
    from benchseal.config import config_files

    out = [(f"the program file {p} (--program)", _from_file(Path(p), None)) for p in extra]
    for p in config_files("programs"):
        prog = _from_file(p, None)
        out.append((f"the published program {prog.id!r} v{prog.version} ({p.name})", prog))
    return out


class ProgramCheck(_Recompute):
    """program.json (the claims the verdicts were checked against) equals, by content, a program
    this verifier trusts: one of its configs/programs, or a file given with ``--program FILE``.
    Thresholds differ only where that program lets the applicant set them. Matching is on the
    whole content, never on the id alone, so a renamed, re-cased or path-like id cannot select it."""

    name = "program"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        if not ctx.path(layout.PROGRAM_JSON).is_file():
            if ctx.path(layout.CLAIMS_JSON).is_file():
                yield failed(self.name, f"{layout.CLAIMS_JSON} has no {layout.PROGRAM_JSON} beside it, so the "
                                        "claims cannot be tied to a program this verifier trusts (a run writes both)")
            else:
                yield skipped(self.name, f"no {layout.PROGRAM_JSON} and no {layout.CLAIMS_JSON} in the bundle")
            return
        from benchseal.claims.program import Program

        bundled = validate(Program, ctx.json(layout.PROGRAM_JSON), where=layout.PROGRAM_JSON)
        candidates = trusted_programs(ctx.programs)
        scored = []
        for label, prog in candidates:
            diffs = program_differences(bundled, prog)
            if not diffs:
                ctx.program_source = label
                yield passed(self.name, f"{layout.PROGRAM_JSON} equals {label}")
                return
            scored.append((prog.id.casefold() != str(bundled.id).casefold(), len(diffs), label, diffs))
        if not scored:
            yield failed(self.name, f"{layout.PROGRAM_JSON} cannot be checked: this verifier has no programs "
                                    "(pass --program FILE)")
            return
        _, _, label, diffs = min(scored, key=lambda t: t[:2])
        yield failed(self.name, f"{layout.PROGRAM_JSON} (id {bundled.id!r}) equals no program this verifier trusts; "
                                f"closest is {label}: " + "; ".join(diffs[:5])
                                + ("" if len(diffs) <= 5 else f" (and {len(diffs) - 5} more)")
                                + "; pass --program FILE to trust another program file")


class ModelCountsCheck(_Recompute):
    """model.json's parameter counts agree with themselves (total = sum of the breakdown, embedding
    and non-embedding split, active <= total, the headline = its method's count). Without the
    weights (``verify --model DIR``) the counts themselves are listed as not re-derived."""

    name = "model-counts"

    def __init__(self, with_model: bool = False) -> None:
        self.with_model = with_model

    @staticmethod
    def _problems(where: str, pc: Any) -> list[str]:
        out = []
        if pc.breakdown and sum(pc.breakdown.values()) != pc.total:
            out.append(f"{where}: total {pc.total:,} is not the sum of its breakdown ({sum(pc.breakdown.values()):,})")
        if pc.breakdown and pc.embedding != pc.breakdown.get("embedding", 0) + pc.breakdown.get("lm_head", 0):
            out.append(f"{where}: embedding {pc.embedding:,} is not breakdown embedding + lm_head")
        if pc.non_embedding != pc.total - pc.embedding:
            out.append(f"{where}: non_embedding {pc.non_embedding:,} is not total - embedding")
        if not 0 <= pc.active <= pc.total:
            out.append(f"{where}: active {pc.active:,} is not between 0 and total {pc.total:,}")
        if any(v < 0 for v in (pc.total, pc.embedding, *pc.breakdown.values())):
            out.append(f"{where}: a count is negative")
        return out

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        if not ctx.path(layout.MODEL_JSON).is_file():
            yield skipped(self.name, f"no {layout.MODEL_JSON} in the bundle")
            return
        card = ctx.bundle.model()
        problems = self._problems("params", card.params)
        for method, pc in sorted(card.params_by_method.items()):
            problems += self._problems(f"params_by_method.{method}", pc)
            if pc.method != method:
                problems.append(f"params_by_method.{method} says method {pc.method!r}")
        same = card.params_by_method.get(card.params.method)
        if same is not None and same.model_dump() != card.params.model_dump():
            problems.append(f"params differs from params_by_method.{card.params.method}")
        if problems:
            yield failed(self.name, f"{layout.MODEL_JSON}: " + "; ".join(problems[:5]))
            return
        yield passed(self.name, f"{card.params.total:,} parameters: total, breakdown, embedding and active agree")
        if not self.with_model:
            yield not_rederived("model-files", f"the parameter counts ({card.params.total:,}, {card.params.method}) and "
                                f"the {len(card.files)} weight file digests in {layout.MODEL_JSON} were not re-derived "
                                "from the weights: pass --model DIR to recount and re-hash them")


def _eval_dirs(ctx: BundleContext) -> list[Path]:
    root = ctx.path(layout.EVAL_DIR)
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


class ComparisonCheck(_Recompute):
    """eval/<suite>/results.json's extra.comparison re-derived from the same file's results and the
    peer rows copied into eval/<suite>/peers.json; the copied rows of a shipped table compared with
    the verifier's own configs/peers table (``peers:<suite>``)."""

    name = "recompute:comparison"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import EvalReport

        found = False
        for d in _eval_dirs(ctx):
            rel = f"{layout.EVAL_DIR}/{d.name}"
            data = read_json(d / layout.EVAL_RESULTS) if (d / layout.EVAL_RESULTS).is_file() else None
            stored = ((data or {}).get("extra") or {}).get("comparison") if isinstance(data, dict) else None
            has_peers = (d / "peers.json").is_file()
            if stored is None and not has_peers:
                continue
            found = True
            name = f"{self.name}:{d.name}"
            if data is None:
                yield failed(name, f"{rel}/peers.json has no {layout.EVAL_RESULTS} next to it")
                continue
            if stored is None:
                yield failed(name, f"{rel}/peers.json is present but {rel}/{layout.EVAL_RESULTS} has no extra.comparison")
                continue
            if not has_peers:
                yield failed(name, f"{rel}/{layout.EVAL_RESULTS} has a peer comparison without {rel}/peers.json, "
                                   "so it cannot be re-derived")
                continue
            snapshot_model = PeerSnapshot
            report = validate(EvalReport, data, where=f"{rel}/{layout.EVAL_RESULTS}")
            snapshot = validate(snapshot_model, read_json(d / "peers.json"), where=f"{rel}/peers.json")
            rows = sum(len(t.rows) for t in snapshot.tables)
            fresh = comparison_from_dir(d, report)  # results, samples, peers.json and peer_runs/ of the same folder
            yield _compare(name, f"{rel}/{layout.EVAL_RESULTS}: extra.comparison", stored, fresh,
                           f"comparison re-derived from {len(report.results)} result(s), {rows} peer row(s) in peers.json "
                           f"and {len(fresh.peer_runs)} measured peer run(s) with their samples")
            yield from self._published(f"peers:{d.name}", rel, report, snapshot)
        if not found:
            yield skipped(self.name, "no peer comparison in the bundle")

    def _published(self, name: str, rel: str, report: Any, snapshot: Any) -> Iterable[CheckResult]:
        from benchseal.config import config_dir

        benches = {r.benchmark for r in report.results if r.headline and r.benchmark}
        table_model = PeerTable
        diffs, checked = [], 0
        for t in snapshot.tables:
            src = config_dir() / t.file[len("configs/"):] if t.file.startswith("configs/") else None
            if src is None or not src.is_file():
                continue
            checked += 1
            published = validate(table_model, _yaml(src), where=str(src))
            want = [r.model_dump() for r in published.rows if r.benchmark in benches]
            got = [r.model_dump() for r in t.rows]
            missing = [f"{r['model']} {r['benchmark']} {r['score']}" for r in want if r not in got]
            extra = [f"{r['model']} {r['benchmark']} {r['score']}" for r in got if r not in want]
            if missing:
                diffs.append(f"{t.file}: row(s) left out: {', '.join(missing[:3])}")
            if extra:
                diffs.append(f"{t.file}: row(s) not in the published table: {', '.join(extra[:3])}")
        if not checked:
            yield skipped(name, f"{rel}/peers.json holds no table of this verifier's configs/peers")
        elif diffs:
            yield failed(name, f"{rel}/peers.json differs from the verifier's peer tables: " + "; ".join(diffs[:4]))
        else:
            yield passed(name, f"{checked} peer table(s) in peers.json match the verifier's configs/peers for these benchmarks")


def _yaml(path: Path) -> Any:
    from benchseal.io import load_yaml

    return load_yaml(path)


class RefusalCheck(_Recompute):
    """eval/refusal: every stored reply classified again with the stored rule set, and the rates,
    counts and lm-eval-format raw file re-derived from the per-sample decisions."""

    name = "recompute:refusal"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import EvalReport

        rel = f"{layout.EVAL_DIR}/refusal"
        d = ctx.path(rel)
        if not (d / layout.EVAL_RESULTS).is_file():
            yield skipped(self.name, "no refusal results in the bundle")
            return
        samples_name = "samples_refusal.jsonl"
        if not (d / samples_name).is_file():
            yield failed(self.name, f"{rel}/{layout.EVAL_RESULTS} has no {samples_name}, so the refusal rates "
                                    "cannot be re-derived")
            return
        report = validate(EvalReport, read_json(d / layout.EVAL_RESULTS), where=f"{rel}/{layout.EVAL_RESULTS}")
        if not isinstance(report.extra.get("rules"), dict):
            yield failed(self.name, f"{rel}/{layout.EVAL_RESULTS} has per-sample replies but no extra.rules to classify them with")
            return
        rules = validate(RefusalRules, report.extra["rules"], where=f"{rel}/{layout.EVAL_RESULTS}: extra.rules")
        problems: list[str] = []
        if (d / "rules.yaml").is_file():
            from benchseal.io import sha256_file

            if sha256_file(d / "rules.yaml") != report.extra.get("rules_sha256"):
                problems.append(f"{rel}/rules.yaml does not have the sha256 recorded in extra.rules_sha256")
            if load_rules(d / "rules.yaml") != rules:
                problems.append(f"{rel}/rules.yaml differs from extra.rules")
        samples = list(iter_jsonl(d / samples_name))
        problems += reclassify(samples, rules)
        if problems:
            yield failed(self.name, f"{len(problems)} problem(s): " + "; ".join(problems[:3]))
            return
        flags = flags_from_samples(samples)
        raw = refusal_raw(flags)
        fresh_results = results_from_lm_eval(raw, suite=report.suite, protocol=report.protocol)
        stored = {"results": [_dump(r) for r in report.results], "counts": report.extra.get("counts")}
        fresh = {"results": [_dump(r) for r in fresh_results], "counts": counts_of(flags)}
        if (d / LM_EVAL_RAW).is_file():
            stored_raw = read_json(d / LM_EVAL_RAW)
            stored["raw"] = {k: stored_raw.get(k) for k in ("results", "n-samples")}
            fresh["raw"] = {k: raw.get(k) for k in ("results", "n-samples")}
        yield _compare(self.name, rel, stored, fresh,
                       f"{len(samples)} replies re-classified with the stored rules; rates and counts re-derived")


class ContentSafetyCheck(_Recompute):
    """eval/content-safety: every stored decision checked against its judge record, and the counts,
    the pass rate and the lm-eval-format raw file re-derived from the per-sample rows."""

    name = "recompute:content-safety"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.evaluators import content_safety as cs
        from benchseal.schema import EvalReport

        rel = f"{layout.EVAL_DIR}/{cs.SUITE}"
        d = ctx.path(rel)
        if not (d / layout.EVAL_RESULTS).is_file():
            yield skipped(self.name, "no content-safety results in the bundle")
            return
        if not (d / cs.SAMPLES).is_file():
            yield failed(self.name, f"{rel}/{layout.EVAL_RESULTS} has no {cs.SAMPLES}, so the pass rate cannot be re-derived")
            return
        report = validate(EvalReport, read_json(d / layout.EVAL_RESULTS), where=f"{rel}/{layout.EVAL_RESULTS}")
        samples = list(iter_jsonl(d / cs.SAMPLES))
        problems = cs.recheck(samples, report)
        if problems:
            yield failed(self.name, f"{len(problems)} problem(s): " + "; ".join(problems[:3]))
            return
        raw = cs.content_raw(samples, bank_size=int(report.extra.get("bank_size") or 0))
        stored = {"results": [_dump(r) for r in report.results]}
        fresh = {"results": [_dump(r) for r in results_from_lm_eval(raw, suite=report.suite, protocol=report.protocol)]}
        if (d / LM_EVAL_RAW).is_file():
            stored_raw = read_json(d / LM_EVAL_RAW)
            stored["raw"] = {k: stored_raw.get(k) for k in ("results", "n-samples")}
            fresh["raw"] = {k: raw.get(k) for k in ("results", "n-samples")}
        yield _compare(self.name, rel, stored, fresh,
                       f"{len(samples)} judged replies checked against their judge records; counts and pass rate re-derived")


class ParityCheck(_Recompute):
    """eval/parity: extra.parity re-derived from the reference run copied into eval/parity/reference/
    (checked against the recorded sha256) and this bundle's own eval/<suite> runs."""

    name = "recompute:parity"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.io import sha256_file
        from benchseal.schema import EvalReport

        rel = f"{layout.EVAL_DIR}/parity"
        d = ctx.path(rel)
        if not (d / layout.EVAL_RESULTS).is_file():
            yield skipped(self.name, "no parity results in the bundle")
            return
        report = validate(EvalReport, read_json(d / layout.EVAL_RESULTS), where=f"{rel}/{layout.EVAL_RESULTS}")
        stored = report.extra.get("parity")
        if not isinstance(stored, dict):
            yield failed(self.name, f"{rel}/{layout.EVAL_RESULTS} has no extra.parity report")
            return
        ref = d / "reference"
        if not ref.is_dir():
            yield failed(self.name, f"{rel} has no reference/ copy of the reference run, so the parity report "
                                    "cannot be re-derived")
            return
        recorded = (report.extra.get("reference") or {}).get("files") or {}
        present = {p.relative_to(ref).as_posix(): sha256_file(p) for p in ref.rglob("*") if p.is_file()}
        problems = [f"reference/{f}: missing" for f in sorted(set(recorded) - set(present))]
        problems += [f"reference/{f}: not recorded in extra.reference.files" for f in sorted(set(present) - set(recorded))]
        problems += [f"reference/{f}: sha256 differs from extra.reference.files" for f in sorted(set(present) & set(recorded))
                     if present[f] != recorded[f]]
        if problems:
            yield failed(self.name, f"{rel}: " + "; ".join(problems[:4]))
            return
        fresh = bundle_parity(Path(ctx.bundle_dir), ratio=float(stored.get("required_ratio", 0.99)))
        raw = parity_raw(fresh)
        fresh_results = results_from_lm_eval(
            raw, suite=report.suite, protocol=parity_protocol(fresh))
        yield _compare(self.name, rel, {"parity": stored, "results": [_dump(r) for r in report.results]},
                       {"parity": _dump(fresh), "results": [_dump(r) for r in fresh_results]},
                       f"parity of {len(fresh.tasks)} task(s) re-derived from the reference copy and this bundle's runs")


class ModelFilesCheck(_Recompute):
    """With the model's files at hand (``verify --model DIR``): every file's sha256 and the model
    digest as model.json records them, and the parameter count recounted from the weights."""

    name = "model-files"

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import ModelCard

        if not ctx.path(layout.MODEL_JSON).is_file():
            yield failed(self.name, f"--model was given but the bundle has no {layout.MODEL_JSON} to check it against")
            return
        card = ctx.bundle.model()
        root = self.model_dir.parent if self.model_dir.is_file() else self.model_dir
        escaping = [f.path for f in card.files if not safe_relpath(f.path)
                    or not (root / f.path).resolve().is_relative_to(root.resolve())]
        if escaping:  # never read a file outside the model directory because model.json names it
            yield failed(f"{self.name}:digests", f"{layout.MODEL_JSON} lists files outside the model directory "
                                                 f"(not read): {', '.join(repr(p) for p in escaping[:5])}")
            return
        problems = check_digests(self.model_dir, ctx.path(layout.MODEL_JSON))
        yield (failed(f"{self.name}:digests", f"{self.model_dir}: " + "; ".join(problems[:5]))
               if problems else passed(f"{self.name}:digests", f"all {len(card.files)} files of {self.model_dir} match "
                                                               f"model.json (model digest {card.model_digest})"))
        fresh = inspect_model(self.model_dir, with_digests=False).params
        keys = ("total", "active", "embedding", "non_embedding", "method")
        yield _compare(f"{self.name}:params", f"{layout.MODEL_JSON}: params",
                       {k: getattr(card.params, k) for k in keys}, {k: getattr(fresh, k) for k in keys},
                       f"{card.params.total:,} parameters recounted from the weights ({fresh.method})")


class LightweightCheck(_Recompute):
    """lightweight/lightweight.json re-derived from the full model's files copied into
    lightweight/reference/ (checked against the recorded sha256) and this bundle's model.json,
    perf/summary.json and eval/parity results."""

    name = "recompute:lightweight"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.io import sha256_file

        rel = layout.LIGHTWEIGHT_JSON
        if not ctx.path(rel).is_file():
            yield skipped(self.name, "no lightweight comparison in the bundle")
            return
        stored = validate(LightweightReport, read_json(ctx.path(rel)), where=rel)
        ref = ctx.path(f"{layout.LIGHTWEIGHT_DIR}/reference")
        recorded = stored.reference.get("files") or {}
        present = {p.relative_to(ref).as_posix(): sha256_file(p) for p in ref.rglob("*") if p.is_file()} if ref.is_dir() else {}
        problems = [f"reference/{f}: missing" for f in sorted(set(recorded) - set(present))]
        problems += [f"reference/{f}: not recorded in reference.files" for f in sorted(set(present) - set(recorded))]
        problems += [f"reference/{f}: sha256 differs from reference.files" for f in sorted(set(present) & set(recorded))
                     if present[f] != recorded[f]]
        if problems:
            yield failed(self.name, f"{rel}: " + "; ".join(problems[:4]))
            return
        fresh = bundle_lightweight(Path(ctx.bundle_dir), reference=stored.reference)
        yield _compare(self.name, rel, stored, fresh,
                       f"weights, memory, {len(fresh.perf.get('load_points') or [])} load point(s) and "
                       f"{len(fresh.parity.get('tasks') or [])} parity task(s) re-derived from the full model's copy")


RECOMPUTE_CHECKS: tuple[_Recompute, ...] = (
    ProgramCheck(),
    ModelCountsCheck(),
    PerfSummaryCheck(),
    ServerMetricsCheck(),
    PerfAuditsCheck(),
    UtilisationCheck(),
    ComputeTableCheck(),
    ModelDigestCheck(),
    EvalResultsCheck(),
    ComparisonCheck(),
    RefusalCheck(),
    ContentSafetyCheck(),
    ParityCheck(),
    LightweightCheck(),
    VerdictsCheck(),
)
