"""run.json's ``served_model_identity``: which model served the run's figures (evaluators/identity.py).

Recorded once, by the first stage that talks to the engine (perf, else eval): ``bound`` when
benchseal started the engine from the directory the model stage digested, the probe's
``matched``/``mismatched`` for an external endpoint with --model-path, else ``not-established`` with
the reason. Never fails the stage: an error becomes ``not-established`` with its cause."""

from __future__ import annotations

from benchseal.pipeline.base import RunContext, one_line


def record_identity(ctx: RunContext) -> None:
    if ctx.manifest.served_model_identity is not None:
        return
    from benchseal.evaluators.identity import identity_for_run, not_established

    spec = ctx.spec
    try:
        card = ctx.bundle.raw("model.json")
        command = None
        if spec.backend.kind == "vllm-serve" and ctx.server is not None and getattr(ctx.server, "port", None):
            command = ctx.server.command()
        elif spec.backend.kind in ("vllm", "hf"):  # in this process: the engine's arguments, as a command line
            args = spec.backend.model_dump(mode="json", exclude={"kind", "model"})
            command = [f"benchseal-{spec.backend.kind}-engine", "--model", spec.backend.model] + \
                [f"--{k.replace('_', '-')}={v}" for k, v in sorted(args.items()) if v not in (None, [], {})]
        record = identity_for_run(spec.backend, model_path=spec.model_path, model_card=card, command=command)
    except Exception as exc:  # the probe must never take the measured evidence down with it
        record = not_established(f"the served model's identity could not be established: {one_line(exc)}")
    ctx.manifest.served_model_identity = record
    ctx.log(f"[identity] served model: {record['status']} — {record['detail']}")
