"""``recompute:model-identity`` and ``check:serving-hardware``: what run.json says the figures are
bound to, checked against the bundle (docs/bundle.md, "What the figures are bound to").

- ``matched`` / ``mismatched``: the status and differences re-derived with
  :func:`benchseal.evaluators.identity.compare` from the probe scores stored in the record;
- ``bound``: the record's model digest and files are model.json's;
- ``serving_hardware``: a server-side report attached with ``--server-hardware`` is hardware.json byte
  for byte (its recorded sha256); with no serving inventory there is no hardware.json.
"""

from __future__ import annotations

from typing import Any, Iterable

from benchseal import bundle as layout
from benchseal.io import sha256_file
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, not_rederived, passed, skipped

TOL = 1e-9


class ModelIdentityCheck:
    name = "recompute:model-identity"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        run = ctx.json(layout.RUN_JSON) or {}
        ident = run.get("served_model_identity")
        if not isinstance(ident, dict):
            yield skipped(self.name, "run.json records no served_model_identity")
            return
        status = ident.get("status")
        if status == "bound":
            yield from self._bound(ctx, ident)
        elif status in ("matched", "mismatched") and "endpoint_logprobs" in ident:
            yield from self._probe(ident)
        elif status in ("matched", "mismatched"):
            yield failed(self.name, f"served_model_identity is {status} but stores no probe scores to re-derive it from")
        else:
            yield passed(self.name, f"served_model_identity is {status}: {ident.get('detail')}")

    def _bound(self, ctx: BundleContext, ident: dict[str, Any]) -> Iterable[CheckResult]:
        model = ctx.json(layout.MODEL_JSON)
        if not isinstance(model, dict):
            yield failed(self.name, "served_model_identity is bound, but model.json (the digested files) is missing")
            return
        problems = []
        if ident.get("model_digest") != model.get("model_digest"):
            problems.append("its model digest is not model.json's")
        files = {f.get("path") for f in model.get("files") or [] if isinstance(f, dict)}
        extra = [f for f in ident.get("files") or [] if f not in files]
        if extra:
            problems.append(f"it names file(s) model.json does not digest, e.g. {extra[0]}")
        if problems:
            yield failed(self.name, "served_model_identity is bound, but " + "; ".join(problems))
        else:
            yield passed(self.name, f"bound: the engine's files are model.json's ({len(ident.get('files') or [])} file(s))")

    def _probe(self, ident: dict[str, Any]) -> Iterable[CheckResult]:
        from benchseal.evaluators.identity import compare

        fresh = compare(ident.get("endpoint_logprobs") or [], ident.get("local_logprobs") or [], str(ident.get("dtype")))
        diffs = []
        if fresh["status"] != ident.get("status"):
            diffs.append(f"status {ident.get('status')} re-derives as {fresh['status']}")
        for k in ("mean_abs_diff", "max_abs_diff"):
            a, b = ident.get(k), fresh.get(k)
            if (a is None) != (b is None) or (a is not None and abs(float(a) - float(b)) > TOL):
                diffs.append(f"{k} {a} re-derives as {b}")
        if fresh.get("tolerance") != ident.get("tolerance"):
            diffs.append("the tolerance recorded is not the one for its dtype")
        if diffs:
            yield failed(self.name, "served_model_identity: " + "; ".join(diffs))
        else:
            yield passed(self.name, f"{fresh['status']} re-derived from the stored probe scores ({fresh.get('tokens')} tokens)")


class ServingHardwareCheck:
    name = "check:serving-hardware"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        run = ctx.json(layout.RUN_JSON) or {}
        sh = run.get("serving_hardware")
        has_hw = ctx.path(layout.HARDWARE_JSON).is_file()
        if not isinstance(sh, dict):
            yield skipped(self.name, "run.json records no serving_hardware")
        elif sh.get("source") == "none" and has_hw:
            yield failed(self.name, "run.json says the serving hardware was not inventoried, yet hardware.json is present "
                                    "(it would describe the client as the server)")
        elif sh.get("source") == "server-file":
            if not has_hw:
                yield failed(self.name, "the attached server hardware report is missing (hardware.json)")
            elif sha256_file(ctx.path(layout.HARDWARE_JSON)) != sh.get("sha256"):
                yield failed(self.name, "hardware.json is not the server hardware report attached with --server-hardware "
                                        "(sha256 differs)")
            else:
                yield passed(self.name, f"hardware.json is the server's own report ({', '.join(sh.get('hosts') or [])})")
        elif sh.get("source") == "ray":
            yield not_rederived(self.name, f"inventory of the Ray cluster at {sh.get('ray_address')}: not re-derivable offline")
        else:
            yield passed(self.name, f"serving hardware: {sh.get('source')}")
