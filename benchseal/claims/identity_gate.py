"""The served-model identity gate (docs/claims.md, ``requires_model_identity``).

A claim with ``requires_model_identity: true`` is about the applicant's own model: its figure counts
only when run.json's ``served_model_identity`` says the engine ran the digested weights
(``bound``: benchseal started it from those files) or a probe matched the endpoint to them
(``matched``). Anything else (``mismatched``, ``not-established``, no record) leaves the claim
INCONCLUSIVE with the record's own reason.
"""

from __future__ import annotations

from typing import Any, Mapping

ESTABLISHED = ("bound", "matched")


def model_identity_problem(data: Mapping[str, Any], requires: bool) -> str | None:
    """PURE: None when the claim may be decided, else the INCONCLUSIVE reason."""
    if not requires:
        return None
    run = data.get("run")
    ident = run.get("served_model_identity") if isinstance(run, Mapping) else None
    if not isinstance(ident, Mapping) or not ident.get("status"):
        return ("the claim requires the served model's identity, and the run records none "
                "(run.json has no served_model_identity)")
    status = str(ident.get("status"))
    if status in ESTABLISHED:
        return None
    detail = str(ident.get("detail") or "no reason recorded")
    return f"the claim requires the served model's identity, which is {status}: {detail}"
