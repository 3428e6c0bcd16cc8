"""Hermetic evaluation data: local copies of hub datasets, each with a sha256 manifest.

Layout under ``--data-dir``::

    <data-dir>/<dataset name>/README.md          hub-style config table (lets datasets.load_dataset read the folder)
    <data-dir>/<dataset name>/<config>/<split>.jsonl
    <data-dir>/<dataset name>/MANIFEST.json      every other file in the folder with sha256 and size

``verify_suite_data`` checks every file of every dataset a suite needs (and refuses unlisted files)
before lm-eval runs; a suite may pin each manifest's own sha256. ``prepare_suite_data`` needs hub
access: it downloads with ``datasets.load_dataset`` and writes the folder and its manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from benchseal.errors import DatasetError, EnvironmentFailure, require
from benchseal.io import read_json, sha256_file, write_json, write_text
from benchseal.evaluators.suites import DatasetSpec, Suite, dataset_needs

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_SCHEMA = "benchseal.dataset-manifest/1"


def canonical_sha256(obj: Any) -> str:
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _listing(folder: Path) -> list[dict[str, Any]]:
    files = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != MANIFEST_NAME and "__pycache__" not in p.parts:
            files.append({"path": p.relative_to(folder).as_posix(), "sha256": sha256_file(p), "size_bytes": p.stat().st_size})
    return files


def write_manifest(folder: str | os.PathLike, *, dataset: str, hf_path: str | None = None,
                   revision: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Hash every file in ``folder`` and write ``folder/MANIFEST.json``; returns the manifest."""
    folder = Path(folder)
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "dataset": dataset,
        "hf_path": hf_path,
        "revision": revision,
        "files": _listing(folder),
        **(extra or {}),
    }
    write_json(folder / MANIFEST_NAME, manifest)
    return manifest


def verify_dataset(spec: DatasetSpec, data_dir: Path, *, suite: str) -> dict[str, Any]:
    """Verify one dataset folder against its manifest (and the suite's pin). Raises DatasetError."""
    folder = Path(data_dir) / spec.name
    mpath = folder / MANIFEST_NAME
    fix = f"run 'benchseal datasets prepare {suite} --data-dir {data_dir}' on a machine with hub access"
    if not mpath.is_file():
        raise DatasetError(f"dataset '{spec.name}' has no manifest", where=str(mpath), hint=fix)
    msha = sha256_file(mpath)
    if spec.manifest_sha256 and msha != spec.manifest_sha256:
        raise DatasetError(
            f"the manifest of dataset '{spec.name}' has sha256 {msha[:12]}…, but suite '{suite}' pins "
            f"{spec.manifest_sha256[:12]}…",
            where=str(mpath),
            hint="use the data the suite was pinned to, or update manifest_sha256 in the suite YAML deliberately",
        )
    manifest = read_json(mpath)
    listed = {f["path"]: f for f in manifest.get("files", [])}
    if manifest.get("schema") != MANIFEST_SCHEMA or not listed:
        raise DatasetError(f"the manifest of dataset '{spec.name}' is not a benchseal dataset manifest", where=str(mpath), hint=fix)
    actual = {f["path"]: f for f in _listing(folder)}
    for rel, want in listed.items():
        got = actual.get(rel)
        if got is None:
            raise DatasetError(f"data file '{rel}' listed in the manifest of '{spec.name}' is missing", where=str(folder / rel), hint=fix)
        if got["sha256"] != want["sha256"]:
            raise DatasetError(
                f"data file '{rel}' of dataset '{spec.name}' does not match its manifest "
                f"(sha256 {got['sha256'][:12]}…, manifest says {want['sha256'][:12]}…)",
                where=str(folder / rel),
                hint="restore the original file or prepare the dataset again; benchseal refuses to evaluate on changed data",
            )
    extra = sorted(set(actual) - set(listed))
    if extra:
        raise DatasetError(
            f"dataset '{spec.name}' holds {len(extra)} file(s) not in its manifest, e.g. '{extra[0]}'",
            where=str(folder),
            hint="remove the extra files or prepare the dataset again",
        )
    return {"manifest": manifest, "manifest_sha256": msha}


def verify_suite_data(suite: Suite, data_dir: Path) -> dict[str, Any]:
    """Verify every dataset the suite needs; returns the combined manifest written to the bundle."""
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise DatasetError(
            "data directory not found", where=str(data_dir),
            hint=f"run 'benchseal datasets prepare {suite.name} --data-dir {data_dir}' first",
        )
    datasets = {d.name: verify_dataset(d, data_dir, suite=suite.name) for d in suite.data.datasets}
    return {
        "suite": suite.name,
        "data_dir": str(data_dir),
        "datasets": datasets,
        "sha256": canonical_sha256({k: v["manifest_sha256"] for k, v in sorted(datasets.items())}),
    }


# ------------------------------------------------------------------------------------------------
# prepare (needs hub access)
# ------------------------------------------------------------------------------------------------
def _readme(configs: dict[str, set[str]]) -> str:
    lines = ["---", "configs:"]
    for cfg in sorted(configs):
        lines += [f"- config_name: {json.dumps(cfg)}", "  data_files:"]
        for split in sorted(configs[cfg]):
            lines += [f"  - split: {json.dumps(split)}", f"    path: {json.dumps(f'{cfg}/{split}.jsonl')}"]
    lines += ["---", "", "Local copy written by `benchseal datasets prepare`; see MANIFEST.json.", ""]
    return "\n".join(lines)


def _offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE"))


def write_mirror(folder: str | os.PathLike, data: dict[str, dict[str, Iterable[dict[str, Any]]]], *, dataset: str,
                 hf_path: str | None = None, revision: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``{config: {split: rows}}`` as a hub-style local folder (JSONL + README configs) and its manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    for cfg, splits in sorted(data.items()):
        for split, rows in sorted(splits.items()):
            out = folder / cfg / f"{split}.jsonl"
            out.parent.mkdir(parents=True, exist_ok=True)
            n = 0
            with open(out, "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                    n += 1
            counts.setdefault(cfg, {})[split] = n
    write_text(folder / "README.md", _readme({cfg: set(splits) for cfg, splits in data.items()}))
    return write_manifest(folder, dataset=dataset, hf_path=hf_path, revision=revision, extra={"rows": counts, **(extra or {})})


def prepare_dataset(spec: DatasetSpec, configs: dict[str, set[str]], data_dir: Path, *, suite: str) -> dict[str, Any]:
    """Download ``spec`` from the hub (datasets.load_dataset) and write its local folder and manifest."""
    if spec.hf_path is None:
        raise DatasetError(f"dataset '{spec.name}' of suite '{suite}' ships with benchseal and cannot be downloaded",
                           hint="copy it from configs/suites/data instead")
    if _offline():
        raise EnvironmentFailure(
            f"cannot download '{spec.hf_path}': HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set",
            hint="unset them on a machine with hub access, prepare there, then copy the --data-dir folder",
        )
    datasets = require("datasets", "eval", "preparing evaluation data")
    revision = spec.revision
    try:
        from huggingface_hub import HfApi

        revision = HfApi().dataset_info(spec.hf_path, revision=spec.revision).sha or revision
    except Exception:  # the revision is informative; the download below is what must work
        pass
    data: dict[str, dict[str, Any]] = {}
    for cfg, splits in sorted(configs.items()):
        try:
            ds = datasets.load_dataset(spec.hf_path, None if cfg == "default" else cfg, revision=revision)
        except Exception as exc:  # network, auth (gated datasets), missing config
            raise EnvironmentFailure(
                f"cannot download '{spec.hf_path}' config '{cfg}': {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
                hint="check hub access (and `hf auth login` for gated datasets), then run prepare again",
            ) from None
        for split in sorted(splits):
            if split not in ds:
                raise DatasetError(f"'{spec.hf_path}' config '{cfg}' has no split '{split}'", hint="fix 'splits' in the suite YAML")
            data.setdefault(cfg, {})[split] = ds[split]
    return write_mirror(
        Path(data_dir) / spec.name, data, dataset=spec.name, hf_path=spec.hf_path, revision=revision,
        extra={"prepared_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "datasets_version": getattr(datasets, "__version__", None), "licence_note": spec.licence_note},
    )


def _suite_datasets(suite: Suite):
    """(dataset spec, lm-eval configs its tasks read) for every hub dataset of ``suite``; a declared
    dataset that no task reads is an error."""
    needs = dataset_needs(suite)
    for spec in suite.data.datasets:
        if spec.hf_path is None:
            continue
        configs = needs.get(spec.hf_path)
        if not configs:
            raise DatasetError(f"no task of suite '{suite.name}' reads dataset '{spec.hf_path}'", where=suite.path,
                               hint="remove it from 'data.datasets' or fix the task source")
        yield spec, configs


def prepare_suite_data(suite: Suite, data_dir: Path) -> dict[str, Any]:
    """Download every hub dataset of ``suite`` into ``data_dir``; returns {dataset: manifest}."""
    data_dir = Path(data_dir).resolve()
    return {spec.name: prepare_dataset(spec, configs, data_dir, suite=suite.name) for spec, configs in _suite_datasets(suite)}


# ------------------------------------------------------------------------------------------------
# import (offline: files the user already has, e.g. copied from ModelScope or a USB stick)
# ------------------------------------------------------------------------------------------------
DATA_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")


def _matches(rel: Path, config: str, split: str) -> bool:
    parts = [p.lower() for p in rel.parts[:-1]]
    stem = rel.name.lower()
    for suf in DATA_SUFFIXES:
        if stem.endswith(suf):
            stem = stem[: -len(suf)]
    c, s = config.lower(), split.lower()
    seps = ("-", "_", ".")
    split_ok = s in parts or stem == s or any(stem.startswith(s + x) or stem.endswith(x + s) for x in seps)
    if c == "default":
        return split_ok
    config_ok = c in parts or stem == c or any(stem.startswith(c + x) for x in seps)
    return split_ok and config_ok


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix in (".jsonl", ".json"):
        text = path.read_text(encoding="utf-8").strip()
        if path.suffix == ".json" and text.startswith("["):
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        if not all(isinstance(r, dict) for r in rows):
            raise DatasetError("every record must be a JSON object", where=str(path))
        return rows
    import pandas as pd

    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False)
    except Exception as exc:  # a truncated or foreign file
        raise DatasetError(f"cannot read data file: {type(exc).__name__}: {str(exc)[:160]}", where=str(path)) from None
    return json.loads(df.to_json(orient="records", force_ascii=False))


def import_dataset(spec: DatasetSpec, configs: dict[str, set[str]], source: Path, data_dir: Path, *, suite: str) -> dict[str, Any]:
    """Build ``data_dir/<name>`` (JSONL + README + manifest) from files under ``source`` in the layout the
    benchmark publishes (``<config>/<split>.jsonl``, ``<config>/<split>-00000-of-00001.parquet``,
    ``<split>/<config>.csv``, …), searched under ``source/<name>``, ``source/<hub id>`` or ``source``."""
    from benchseal.io import sha256_file as _sha

    source = Path(source)
    roots = [source / spec.name, source / str(spec.hf_path), source / str(spec.hf_path).split("/")[-1], source]
    root = next((r for r in roots if r.is_dir()), None)
    if root is None:
        raise DatasetError("import source folder not found", where=str(source), hint="give the folder holding the benchmark's files")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES and p.name != MANIFEST_NAME)
    data: dict[str, dict[str, list[dict[str, Any]]]] = {}
    used: list[dict[str, Any]] = []
    for cfg, splits in sorted(configs.items()):
        for split in sorted(splits):
            hits = [f for f in files if _matches(f.relative_to(root), cfg, split)]
            if not hits:
                raise DatasetError(
                    f"no file for dataset '{spec.hf_path}' config '{cfg}' split '{split}' under the import source",
                    where=str(root),
                    hint=f"lay the files out as the benchmark publishes them, e.g. {cfg}/{split}.jsonl or {cfg}/{split}-00000-of-00001.parquet")
            rows: list[dict[str, Any]] = []
            for f in hits:
                rows += _read_rows(f)
                used.append({"path": f.relative_to(root).as_posix(), "sha256": _sha(f), "size_bytes": f.stat().st_size})
            data.setdefault(cfg, {})[split] = rows
    return write_mirror(Path(data_dir) / spec.name, data, dataset=spec.name, hf_path=spec.hf_path, revision=spec.revision,
                        extra={"imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "imported_from_files": used, "licence_note": spec.licence_note})


def import_suite_data(suite: Suite, source: Path, data_dir: Path) -> dict[str, Any]:
    """Build the local mirror of every hub dataset of ``suite`` from files under ``source`` (no network)."""
    data_dir = Path(data_dir).resolve()
    return {spec.name: import_dataset(spec, configs, Path(source), data_dir, suite=suite.name)
            for spec, configs in _suite_datasets(suite)}
