"""The claims stage (finishing): the program's claims checked against the evidence on disk (claims.json)."""

from __future__ import annotations

from benchseal import bundle as layout
from benchseal.io import write_json
from benchseal.pipeline.base import RunContext, Stage


class ClaimsStage(Stage):
    name = "claims"
    failure = "claims could not be checked"

    def selected(self, spec) -> bool:
        return True

    def run(self, ctx: RunContext) -> list[str]:
        if ctx.program is None:
            return []
        from benchseal.claims import check, load_evidence

        ctx.claims = check(ctx.program, load_evidence(ctx.out))
        write_json(ctx.out / layout.CLAIMS_JSON, ctx.claims)
        return [layout.CLAIMS_JSON]


def load_program(ctx: RunContext) -> None:
    """The program the run is checked against, with applicant-set thresholds (before the bundle exists,
    so an unknown program or a bad threshold is refused with nothing written)."""
    if ctx.spec.program:
        from benchseal.claims import load_program as _load

        ctx.program = _load(ctx.spec.program, thresholds=ctx.spec.thresholds or None)


def record_choices(ctx: RunContext) -> None:
    """run.json ``choices``: every applicant choice resolved (claims.choices; the gates read it)."""
    from benchseal.claims.choices import applicant_choices
    from benchseal.pipeline.spec import public_spec

    ctx.manifest.choices = applicant_choices(public_spec(ctx.spec), ctx.program)


def verify_reference(ctx: RunContext) -> None:
    """The --parity-reference / --lightweight-of bundle verified against --reference-key before anything
    runs (exit 2 when it does not verify); without a key it is recorded unsigned and its claims are
    INCONCLUSIVE (claims.gates). The record is kept for the eval and lightweight stages."""
    ref = ctx.spec.lightweight_of or ctx.spec.parity_reference
    if not ref:
        return
    from benchseal.reports.verify.reference import reference_signature

    flag = "--lightweight-of" if ctx.spec.lightweight_of else "--parity-reference"
    ctx.extras["reference_signature"] = reference_signature(ref, ctx.spec.reference_key, flag=flag,
                                                            key_flag="--reference-key", warn=ctx.log)
    if ctx.extras["reference_signature"] is not None:
        ctx.manifest.choices.setdefault("references", {})["signature"] = ctx.extras["reference_signature"]
