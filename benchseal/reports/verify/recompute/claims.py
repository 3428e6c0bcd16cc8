"""Re-derived verdicts: the program the bundle was checked against, and claims.json from the evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from benchseal import bundle as layout
from benchseal.claims import check as check_claims
from benchseal.claims import load_evidence, load_program
from benchseal.io import validate
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, passed, skipped
from benchseal.reports.verify.recompute.common import _compare, _Recompute


class VerdictsCheck(_Recompute):
    """claims.json re-derived by running the program's claims over the bundle's evidence."""

    name = "recompute:claims"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:

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
