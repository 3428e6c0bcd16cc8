"""The seal stage (finishing, last): the in-toto statement over every bundle file, signed in a DSSE
envelope with the run's key(s) (statement.json, statement.dsse.json; one signature per --key, an SM2
key signing with GM/T 0009's default signer ID), and the in-toto test-result statement signed by the
same keys (test-result.dsse.json). Without --key the bundle is left unsigned and says so."""

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
            from benchseal.reports.seal.statement import load_signing_keys

            keys = load_signing_keys(ctx.out, _paths(ctx.key), _phrases(ctx))
            ctx.key_id = ", ".join(kid for _, kid in keys)

    def run(self, ctx: RunContext) -> list[str]:
        if ctx.key is None:
            return []
        from benchseal.reports.seal.statement import sign_bundle

        sign_bundle(ctx.out, _paths(ctx.key), _phrases(ctx))
        ctx.signed = True
        return []


def _paths(key) -> list[Path]:
    return [Path(k) for k in key] if isinstance(key, (list, tuple)) else [Path(key)]


def _phrases(ctx: RunContext) -> bytes | list[bytes]:
    return [p or b"" for p in ctx.passphrase] if isinstance(ctx.passphrase, (list, tuple)) else (ctx.passphrase or b"")
