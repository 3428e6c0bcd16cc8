"""Pinned evaluation data (docs/evaluation.md, "Pinned suites").

A dataset of a suite is *pinned* when the suite fixes exactly which data it means and the verified
manifest proves the local copy is that data:

- the suite pins the manifest itself (``manifest_sha256``; the demo suite's shipped data), or
- the suite pins the hub commit (``revision``: 40 hex digits) and the manifest shows the copy came
  from it: ``datasets prepare`` downloaded that commit (the manifest's ``revision`` is the commit and
  it carries ``prepared_at``), with the hub files' sha256 equal to the suite's ``source_files`` where
  the suite lists them; or ``datasets import`` read files whose sha256 include every one of the
  suite's ``source_files`` (the hub's own files at that commit, copied by hand).

:func:`pin_problems` is pure (used by ``claim_grade``); :func:`check_source_files` is what
``datasets prepare`` runs on the downloaded hub files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from benchseal.errors import DatasetError

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


def is_commit(revision: str | None) -> bool:
    return bool(revision and COMMIT_RE.match(revision))


def pin_problems(spec: Any, manifest: Mapping[str, Any] | None) -> list[str]:
    """PURE: why dataset ``spec``'s verified ``manifest`` (MANIFEST.json content) is not the pinned data ([] when it is)."""
    if spec.manifest_sha256:
        return []  # verify_dataset already refused any other manifest
    name = spec.name
    if not is_commit(spec.revision):
        return [f"dataset {name}: the suite pins neither its manifest (manifest_sha256) nor a hub commit (revision)"]
    m = manifest or {}
    want = dict(spec.source_files or {})
    if m.get("prepared_at") is not None:
        if m.get("revision") != spec.revision:
            return [f"dataset {name}: prepared from hub revision {str(m.get('revision'))[:12]}…, the suite pins {spec.revision[:12]}…"]
        got = {f.get("path"): f.get("sha256") for f in m.get("source_files") or []}
        bad = sorted(p for p, sha in want.items() if got.get(p) != sha)
        if bad:
            return [f"dataset {name}: the manifest does not record the pinned hub file(s) {', '.join(bad[:3])} with their sha256"]
        return []
    if m.get("imported_from_files") is not None:
        if not want:
            return [f"dataset {name}: imported from local files, and the suite lists no hub file hashes (source_files) "
                    f"that could show they are revision {spec.revision[:12]}…"]
        have = {f.get("sha256") for f in m.get("imported_from_files") or []}
        missing = sorted(p for p, sha in want.items() if sha not in have)
        if missing:
            return [f"dataset {name}: the imported files are not the hub's files at revision {spec.revision[:12]}… "
                    f"(no file with the sha256 of {', '.join(missing[:3])})"]
        return []
    return [f"dataset {name}: the manifest records neither a download of the pinned revision nor the files it was imported from"]


def check_source_files(spec: Any, revision: str) -> list[dict[str, Any]]:
    """Download the suite's listed hub files of ``spec`` at ``revision`` (huggingface_hub cache) and
    check each one's sha256; returns [{path, sha256, size_bytes}] for the manifest. Raises DatasetError."""
    from huggingface_hub import hf_hub_download

    from benchseal.io import sha256_file

    out = []
    for rel, want in sorted((spec.source_files or {}).items()):
        local = Path(hf_hub_download(spec.hf_path, rel, repo_type="dataset", revision=revision))
        got = sha256_file(local)
        if got != want:
            raise DatasetError(f"hub file '{rel}' of '{spec.hf_path}' at revision {revision[:12]}… has sha256 {got[:12]}…, "
                               f"the suite expects {want[:12]}…", hint="the hub copy changed or the download is damaged; "
                               "do not evaluate on it, and report it")
        out.append({"path": rel, "sha256": got, "size_bytes": local.stat().st_size})
    return out
