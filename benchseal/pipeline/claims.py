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
