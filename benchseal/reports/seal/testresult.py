"""The verdict as an in-toto test-result statement (predicate type
``https://in-toto.io/attestation/test-result/v0.1``), so generic in-toto tooling can read it.

Spec: in-toto/attestation ``spec/predicates/test-result.md`` (v0.1.0). Mapping from benchseal:

- ``subject``: the model weights that were tested (``model:<model_digest>``, sha256 of the weight-file
  list, as in the evidence statement); without a model digest, ``claims.json``.
- ``result``: ``FAILED`` when ``claims.json`` says the required claims did not all pass, ``WARNED``
  when they did but an optional claim did not, else ``PASSED``.
- ``passedTests``: claim ids with PASS; ``failedTests``: required claims not PASS (FAIL or
  INCONCLUSIVE: the program's requirement is not met); ``warnedTests``: optional claims not PASS.
- ``configuration``: ResourceDescriptors of ``program.json`` (the claims and thresholds checked) and
  of ``statement.json`` (the signed evidence statement, which pins every file of the bundle).

It is written after the evidence statement, as ``test-result.dsse.json`` (a DSSE envelope signed by
the same keys), and is not itself a subject of the evidence statement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchseal import bundle as layout
from benchseal.io import read_json, sha256_file

TEST_RESULT_DSSE = layout.TEST_RESULT_DSSE
TEST_RESULT_PREDICATE = "https://in-toto.io/attestation/test-result/v0.1"


def _descriptor(bundle_dir: Path, name: str, media_type: str) -> dict | None:
    path = bundle_dir / name
    if not path.is_file():
        return None
    return {"name": name, "digest": {"sha256": sha256_file(path)}, "mediaType": media_type}


def test_result_predicate(bundle_dir: Path) -> dict | None:
    """The test-result predicate for the bundle as it is now (statement.json written); None without claims.json.

    The statement around it (subject: the model) is built by
    :func:`benchseal.reports.seal.statement.build_test_result_statement`.
    """
    bundle_dir = Path(bundle_dir)
    claims_path = bundle_dir / layout.CLAIMS_JSON
    if not claims_path.is_file():
        return None
    claims: Any = read_json(claims_path)
    verdicts = claims.get("verdicts") if isinstance(claims, dict) and isinstance(claims.get("verdicts"), list) else []
    passed, warned, failed = [], [], []
    for v in verdicts:
        if not isinstance(v, dict):
            continue
        cid = str(v.get("claim_id"))
        if v.get("status") == "PASS":
            passed.append(cid)
        elif v.get("severity") == "required":
            failed.append(cid)
        else:
            warned.append(cid)
    ok = isinstance(claims, dict) and claims.get("passed") is True
    result = "FAILED" if not ok or failed else ("WARNED" if warned else "PASSED")
    configuration = [d for d in (_descriptor(bundle_dir, layout.PROGRAM_JSON, "application/json"),
                                 _descriptor(bundle_dir, layout.STATEMENT_JSON, "application/vnd.in-toto+json")) if d]
    return {"result": result, "configuration": configuration, "passedTests": passed, "warnedTests": warned,
            "failedTests": failed}
