"""The model stage: parameter counts, architecture card and weight digests (model.json)."""

from __future__ import annotations

from benchseal import bundle as layout
from benchseal.io import write_json
from benchseal.pipeline.base import RunContext, Stage


class ModelStage(Stage):
    name = "model"
    evidence = (layout.MODEL_JSON,)

    def skip_reason(self, ctx: RunContext) -> str | None:
        if not ctx.spec.model_path:
            return "no local model files (--model-path): parameters and digests not measured"
        return None

    def run(self, ctx: RunContext) -> list[str]:
        from benchseal.bench.model.inspect import inspect_model

        card = inspect_model(ctx.spec.model_path, trust_remote_code=ctx.spec.trust_remote_code, with_digests=True,
                             progress=False)
        write_json(ctx.out / layout.MODEL_JSON, card)
        return [layout.MODEL_JSON]


def model_digest(ctx: RunContext) -> str | None:
    """The digest of the weights the model stage recorded (None before it ran or when it did not)."""
    card = ctx.bundle.model()
    return card.model_digest if card is not None else None
