"""The seal stage (finishing, last): the in-toto statement over every bundle file, signed in a DSSE
envelope with the run's key (statement.json, statement.dsse.json). Without --key the bundle is left
unsigned and says so."""

from __future__ import annotations

from pathlib import Path

from benchseal.pipeline.base import RunContext, Stage


class SealStage(Stage):
    name = "seal"
    failure = ""  # a key that cannot sign was refused before the run; a signing error is not contained

    def selected(self, spec) -> bool:
        return True

    def before_bundle(self, ctx: RunContext) -> None:
        """A key that cannot sign is found before anything is measured."""
        if ctx.key is not None:
            from benchseal.reports.seal.keys import keyid, load_private_key

            ctx.key_id = keyid(load_private_key(Path(ctx.key), ctx.passphrase or b"").public_key())

    def run(self, ctx: RunContext) -> list[str]:
        if ctx.key is None:
            return []
        from benchseal.reports.seal.statement import sign_bundle

        sign_bundle(ctx.out, Path(ctx.key), ctx.passphrase or b"")
        ctx.signed = True
        return []
