"""The report stage (finishing): report.html, report.md, junit.xml (and plots) from the bundle."""

from __future__ import annotations

from benchseal.pipeline.base import RunContext, Stage


class ReportStage(Stage):
    name = "report"
    failure = "the report could not be written"

    def selected(self, spec) -> bool:
        return True

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.reports.render.write import write_reports

        write_reports(ctx.out, formats=set(ctx.formats), program=ctx.program, signing_key_id=ctx.key_id)
        return []
