"""Hermetic evaluation data: local copies of hub datasets, each with a sha256 manifest.

Layout under ``--data-dir``::

    <data-dir>/<dataset name>/README.md          hub-style config table (lets datasets.load_dataset read the folder)
    <data-dir>/<dataset name>/<config>/<split>.jsonl
    <data-dir>/<dataset name>/MANIFEST.json      every other file in the folder with sha256 and size
    <data-dir>/_metrics/<metric>/                 an `evaluate` metric a task loads at run time (HumanEval's
                                                  code_eval), copied from benchseal's configs/metrics, + MANIFEST.json

``verify_suite_data`` checks every file of every dataset a suite needs (and refuses unlisted files)
before lm-eval runs; a suite may pin each manifest's own sha256. ``prepare_suite_data`` needs hub
access: it downloads with ``datasets.load_dataset`` and writes the folder and its manifest.
``import_suite_data`` builds the same from files the user has. Both also install the metric scripts
the suite's tasks load (:func:`install_suite_metrics`); the runner points the rendered tasks at
that verified copy (:func:`bind_metrics`), so nothing is fetched from the Hub at run time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from benchseal.errors import DatasetError, EnvironmentFailure, require
from benchseal.io import read_json, sha256_file, write_json, write_text
from benchseal.evaluators.suites import DatasetSpec, Suite, dataset_needs, task_folders

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
    out: dict[str, Any] = {"suite": suite.name, "data_dir": str(data_dir), "datasets": datasets}
    hashed = {k: v["manifest_sha256"] for k, v in datasets.items()}
    needs = metric_needs(suite)
    if needs:  # suites that load no metric keep the combined hash they always had
        out["metrics"] = {name: verify_metric(name, data_dir, suite=suite.name, used_by=used) for name, used in needs.items()}
        hashed |= {f"metric:{k}": v["manifest_sha256"] for k, v in out["metrics"].items()}
    out["sha256"] = canonical_sha256(dict(sorted(hashed.items())))
    return out


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
    from benchseal.evaluators.items import row_digests  # every row's content hash, so a pinned manifest pins each item

    return write_manifest(folder, dataset=dataset, hf_path=hf_path, revision=revision,
                          extra={"rows": counts, "row_digests": row_digests(folder), **(extra or {})})


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
    from benchseal.evaluators.pinning import check_source_files, is_commit

    if spec.revision and is_commit(spec.revision) and revision != spec.revision:
        raise EnvironmentFailure(f"the hub resolved '{spec.hf_path}' revision {spec.revision[:12]}… to {str(revision)[:12]}…",
                                 hint="prepare again; the suite pins that commit")
    sources = check_source_files(spec, str(revision)) if spec.source_files else []
    return write_mirror(
        Path(data_dir) / spec.name, data, dataset=spec.name, hf_path=spec.hf_path, revision=revision,
        extra={"prepared_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "datasets_version": getattr(datasets, "__version__", None), "licence_note": spec.licence_note,
               **({"source_files": sources} if sources else {})},
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
    """Download every hub dataset of ``suite`` into ``data_dir`` and install the metric scripts its
    tasks load; returns {dataset: manifest} (the metrics are in :func:`verify_suite_data`'s answer)."""
    data_dir = Path(data_dir).resolve()
    out = {spec.name: prepare_dataset(spec, configs, data_dir, suite=suite.name) for spec, configs in _suite_datasets(suite)}
    install_suite_metrics(suite, data_dir)
    return out


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
    """One data file's records through the one bounded reader (evaluators.datafiles.read_records)."""
    from benchseal.evaluators.datafiles import read_records

    return read_records(path)


def import_dataset(spec: DatasetSpec, configs: dict[str, set[str]], source: Path, data_dir: Path, *, suite: str,
                   columns: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """Build ``data_dir/<name>`` (JSONL + README + manifest) from files under ``source`` in the layout the
    benchmark publishes (``<config>/<split>.jsonl``, ``<config>/<split>-00000-of-00001.parquet``,
    ``<split>/<config>.csv``, …), searched under ``source/<name>``, ``source/<hub id>`` or ``source``.
    Paths are confined (evaluators.datafiles): the folder, config and split names are plain names, every
    file read is a regular file inside the source tree; every split must be non-empty and every record
    must have the ``columns`` (config -> names) the suite's tasks read, before anything is written."""
    from benchseal.evaluators.datafiles import check_columns, confined_files, safe_component
    from benchseal.io import sha256_file as _sha

    name = safe_component(spec.name, f"dataset folder name of suite '{suite}'")
    for cfg, splits in configs.items():
        safe_component(cfg, f"config name of dataset '{spec.name}'")
        for split in splits:
            safe_component(split, f"split name of dataset '{spec.name}'")
    source = Path(source)
    if not source.is_dir():
        raise DatasetError("import source folder not found", where=str(source), hint="give the folder holding the benchmark's files")
    candidates = [spec.name, str(spec.hf_path), str(spec.hf_path).split("/")[-1]]
    real_source = source.resolve()
    roots = []
    for c in candidates:
        r = source / c
        try:
            inside = r.resolve() == real_source or real_source in r.resolve().parents
        except (OSError, RuntimeError):
            inside = False
        if inside and ".." not in Path(c).parts and not Path(c).is_absolute():
            roots.append(r)
    root = next((r for r in [*roots, source] if r.is_dir()), None)
    if root is None:
        raise DatasetError("import source folder not found", where=str(source), hint="give the folder holding the benchmark's files")
    files = confined_files(root, DATA_SUFFIXES, skip=(MANIFEST_NAME,), exclude=Path(data_dir))  # not a mirror of ours
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
            formats = sorted({f.suffix.lower() for f in hits})
            if len(formats) > 1:  # the same split twice (e.g. JSONL and Parquet copies) would double every item
                raise DatasetError(f"config '{cfg}' split '{split}' of dataset '{spec.hf_path}' is found in several "
                                   f"formats ({', '.join(formats)}): {', '.join(f.relative_to(root).as_posix() for f in hits[:4])}",
                                   where=str(root), hint="keep one copy of each split (shards of one format are fine)")
            rows: list[dict[str, Any]] = []
            for f in hits:
                got = _read_rows(f)
                check_columns(got, (columns or {}).get(cfg, set()), where=str(f))
                rows += got
                used.append({"path": f.relative_to(root).as_posix(), "sha256": _sha(f), "size_bytes": f.stat().st_size})
            if not rows:
                raise DatasetError(f"config '{cfg}' split '{split}' of dataset '{spec.hf_path}' has no records",
                                   where=", ".join(str(f) for f in hits[:3]), hint="import the benchmark's complete files")
            data.setdefault(cfg, {})[split] = rows
    return write_mirror(Path(data_dir) / name, data, dataset=spec.name, hf_path=spec.hf_path, revision=spec.revision,
                        extra={"imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "imported_from_files": used, "licence_note": spec.licence_note})


def import_suite_data(suite: Suite, source: Path, data_dir: Path) -> dict[str, Any]:
    """Build the local mirror of every hub dataset of ``suite`` from files under ``source`` (no network)."""
    from benchseal.evaluators.datafiles import check_data_dir, required_columns

    data_dir = check_data_dir(data_dir)
    check_data_dir(source, "--source")
    columns = required_columns(suite)
    out = {spec.name: import_dataset(spec, configs, Path(source), data_dir, suite=suite.name,
                                     columns=columns.get(str(spec.hf_path), {}))
           for spec, configs in _suite_datasets(suite)}
    install_suite_metrics(suite, data_dir)
    return out



# ------------------------------------------------------------------------------------------------
# evaluate metrics a task loads at run time (HumanEval: code_eval)
# ------------------------------------------------------------------------------------------------
METRICS_DIR = "_metrics"
METRIC_MANIFEST_SCHEMA = "benchseal.metric-manifest/1"
SOURCE_NAME = "SOURCE.json"


def _load_call(name: str) -> re.Pattern[str]:
    """``evaluate.load("name")`` / ``hf_evaluate.load('name')`` in a task's Python file."""
    return re.compile(r"""(\b[A-Za-z_][A-Za-z0-9_]*\.load\(\s*)(["'])""" + re.escape(name) + r"""\2(\s*\))""")


def shipped_metrics() -> dict[str, Path]:
    """metric name -> the folder benchseal ships it in (``configs/metrics/<name>/`` with SOURCE.json).
    Always the packaged folder: a user config folder cannot swap the code that scores a benchmark."""
    from benchseal.config import packaged_config_dir

    root = packaged_config_dir() / "metrics"
    return {p.parent.name: p.parent for p in sorted(root.glob(f"*/{SOURCE_NAME}"))}


def metric_needs(suite: Suite) -> dict[str, list[str]]:
    """metric name -> the task files that load it with ``evaluate.load("<name>")``, for every metric
    benchseal ships (a task folder's Python files are scanned as lm-eval would import them)."""
    shipped = shipped_metrics()
    needs: dict[str, list[str]] = {}
    for slug, folder in task_folders(suite):
        for py in sorted(folder.rglob("*.py")):
            if "__pycache__" in py.parts:
                continue
            text = py.read_text(encoding="utf-8", errors="replace")
            for name in shipped:
                if _load_call(name).search(text):
                    needs.setdefault(name, []).append(f"{slug}/{py.relative_to(folder).as_posix()}")
    return needs


def _metric_manifest(name: str, src: Path) -> dict[str, Any]:
    """The manifest of a shipped metric: its provenance and every file with sha256 (deterministic:
    the same benchseal release writes the same bytes on every machine)."""
    source = read_json(src / SOURCE_NAME)
    return {"schema": METRIC_MANIFEST_SCHEMA, "metric": name, "source": source,
            "files": [f for f in _listing(src) if f["path"] != SOURCE_NAME]}


def install_metric(name: str, data_dir: Path) -> dict[str, Any]:
    """Copy benchseal's shipped copy of metric ``name`` into ``data_dir/_metrics/<name>/`` with its
    manifest. Idempotent (the same bytes every time); a changed or extra file is replaced, since the
    shipped copy is the reference. Returns {manifest, manifest_sha256, folder, replaced}."""
    shipped = shipped_metrics()
    if name not in shipped:
        raise DatasetError(f"benchseal ships no copy of the evaluate metric '{name}'",
                           hint=f"choose one of {', '.join(sorted(shipped)) or '(none)'}")
    src = shipped[name]
    manifest = _metric_manifest(name, src)
    folder = Path(data_dir) / METRICS_DIR / name
    want = {f["path"]: f["sha256"] for f in manifest["files"]}
    replaced = sorted(f["path"] for f in (_listing(folder) if folder.is_dir() else []) if want.get(f["path"]) != f["sha256"])
    if replaced:  # a changed or foreign file: start from an empty folder
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for rel in want:
        if not (folder / rel).is_file():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, folder / rel)
    write_json(folder / MANIFEST_NAME, manifest)
    return {"manifest": manifest, "manifest_sha256": sha256_file(folder / MANIFEST_NAME), "folder": str(folder),
            "replaced": replaced}


def install_suite_metrics(suite: Suite, data_dir: Path) -> dict[str, dict[str, Any]]:
    """Install every metric the suite's tasks load (HumanEval: code_eval) under ``data_dir``."""
    return {name: install_metric(name, Path(data_dir).resolve()) for name in metric_needs(suite)}


def verify_metric(name: str, data_dir: Path, *, suite: str, used_by: list[str] | None = None) -> dict[str, Any]:
    """Check ``data_dir/_metrics/<name>/`` holds exactly benchseal's shipped copy (every file's sha256
    against its manifest and against the shipped files). Raises DatasetError with what to run."""
    folder = Path(data_dir) / METRICS_DIR / name
    fix = (f"run 'benchseal datasets prepare {suite} --data-dir {data_dir}' or 'benchseal datasets import {suite} "
           f"--source DIR --data-dir {data_dir}' to install the copy benchseal ships, so the run needs no network")
    mpath = folder / MANIFEST_NAME
    users = f" ({', '.join(used_by)})" if used_by else ""
    if not mpath.is_file():
        raise DatasetError(f"the evaluate metric '{name}' that suite '{suite}' scores with{users} is not installed "
                           "in the data directory, so the run would have to fetch it from the Hugging Face Hub",
                           where=str(folder), hint=fix)
    shipped = shipped_metrics().get(name)
    want = _metric_manifest(name, shipped) if shipped else None
    got = read_json(mpath)
    if want is None or got != want:
        raise DatasetError(f"the installed evaluate metric '{name}' is not the copy this benchseal ships", where=str(mpath),
                           hint=fix)
    listed = {f["path"]: f["sha256"] for f in want["files"]}
    actual = {f["path"]: f["sha256"] for f in _listing(folder)}
    for rel, sha in listed.items():
        if actual.get(rel) != sha:
            raise DatasetError(f"metric file '{rel}' of '{name}' is missing or changed (sha256 "
                               f"{(actual.get(rel) or 'none')[:12]}…, the shipped copy has {sha[:12]}…)",
                               where=str(folder / rel), hint=fix)
    extra = sorted(set(actual) - set(listed))
    if extra:
        raise DatasetError(f"the metric folder of '{name}' holds file(s) not in its manifest, e.g. '{extra[0]}'",
                           where=str(folder), hint=fix)
    return {"manifest": got, "manifest_sha256": sha256_file(mpath), "folder": str(folder.resolve()),
            "used_by": list(used_by or [])}


def bind_metrics(rendered: Path, verified: dict[str, Any]) -> list[dict[str, str]]:
    """Point every ``evaluate.load("<metric>")`` in the rendered task files at the verified copy
    (``evaluate.load("<data-dir>/_metrics/<metric>/<metric>.py")``, which evaluate loads from disk and
    never looks up on the Hub). Returns one {file, metric, path} per rewritten file; a rendered file that
    loads a shipped metric with no verified copy raises DatasetError."""
    metrics = verified.get("metrics") or {}
    bound = []
    for py in sorted(Path(rendered).rglob("*.py")):
        text = py.read_text(encoding="utf-8", errors="replace")
        new = text
        for name in shipped_metrics():
            pattern = _load_call(name)
            if not pattern.search(new):
                continue
            if name not in metrics:
                raise DatasetError(f"task file '{py.name}' loads the evaluate metric '{name}', which is not installed",
                                   where=str(py), hint="run `benchseal datasets prepare` or `datasets import` for the suite")
            target = str(Path(metrics[name]["folder"]) / f"{name}.py")
            new = pattern.sub(lambda m: f"{m.group(1)}{json.dumps(target)}{m.group(3)}", new)
            bound.append({"file": py.relative_to(rendered).as_posix(), "metric": name, "path": target})
        if new != text:
            py.write_text(new, encoding="utf-8")
    return bound
