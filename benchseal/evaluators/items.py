"""Hermetic reading of evaluation data and the evaluated items (docs/evaluation.md, "Hermetic data").

Two things bind an evaluation figure to the data manifest it names:

1. **lm-eval reads only the verified files.** lm-eval loads every task through
   ``datasets.load_dataset``, which keeps an Arrow cache keyed by the dataset folder's *name* and
   config (plus a hash of the data-file paths), not by the files' contents: with one shared cache, a
   second import of the same suite under another ``--data-dir`` (different rows, same folder name)
   was served the first import's rows. :func:`private_datasets_cache` points the ``datasets``
   library at an empty cache folder private to one suite run (named after the data manifest's
   sha256, deleted afterwards), so nothing evaluated comes from a cache another run, checkout or
   user filled.
2. **The bundle names every evaluated item.** :func:`build_items` writes ``eval/<suite>/items.json``:
   for every JSONL data file a task evaluated, the content hash of each of its rows (in file order),
   and for every task the file it read and the ``doc_id`` s it evaluated. :func:`item_problems` (pure;
   used by the run and by ``benchseal verify``) checks that every stored sample's document is row
   ``doc_id`` of that file (same content hash; for tasks whose ``process_docs`` rewrites rows, the
   row exists), that the counts match lm-eval's, and that the row hashes are the ones the data
   manifest records (``row_digests``, written by ``datasets prepare``/``import``), so a pinned
   manifest pins every item.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from benchseal.io import iter_jsonl, write_json

ITEMS_JSON = "items.json"
ITEMS_SCHEMA = "benchseal.eval-items/1"
_SAMPLES_RE = re.compile(r"^samples_(.+)\.jsonl$")


# ------------------------------------------------------------------------------------------------
# content hashes of rows and documents
# ------------------------------------------------------------------------------------------------
def _norm(obj: Any) -> Any:
    """The content of a row as JSON sees it, independent of how it was loaded: mapping keys sorted
    and keys whose value is null dropped (the ``datasets`` JSON loader fills a key that one row lacks
    with null), an integral float written as an integer (Arrow widens an int column to float when
    one row has a fraction)."""
    if isinstance(obj, Mapping):
        return {str(k): _norm(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0])) if v is not None}
    if isinstance(obj, (list, tuple)):
        return [_norm(v) for v in obj]
    if isinstance(obj, float) and math.isfinite(obj) and obj.is_integer() and abs(obj) < 2**53:
        return int(obj)
    return obj


def item_sha256(obj: Any) -> str:
    """sha256 of a row's (or a sample document's) normalised content as canonical JSON."""
    data = json.dumps(_norm(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def row_hashes(path: Path) -> list[str]:
    """:func:`item_sha256` of every row of a JSONL file, in file order (blank lines skipped)."""
    return [item_sha256(row) for row in iter_jsonl(path)]


def rows_digest(hashes: list[str]) -> str:
    """One sha256 over a file's row hashes (newline-joined, in order)."""
    return hashlib.sha256("\n".join(hashes).encode("ascii")).hexdigest()


def row_digests(folder: Path) -> dict[str, dict[str, Any]]:
    """{relative path: {rows, sha256}} of every JSONL data file under ``folder`` (for a data manifest)."""
    folder = Path(folder)
    out = {}
    for p in sorted(folder.rglob("*.jsonl")):
        if p.is_file() and "__pycache__" not in p.parts:
            h = row_hashes(p)
            out[p.relative_to(folder).as_posix()] = {"rows": len(h), "sha256": rows_digest(h)}
    return out


# ------------------------------------------------------------------------------------------------
# a datasets cache private to one run
# ------------------------------------------------------------------------------------------------
_CACHE_ATTRS = ("HF_DATASETS_CACHE", "DOWNLOADED_DATASETS_PATH", "EXTRACTED_DATASETS_PATH")


@contextmanager
def private_datasets_cache(manifest_sha256: str) -> Iterator[Path]:
    """Point the ``datasets`` library (the module attributes it reads on every ``load_dataset``, and
    ``HF_DATASETS_CACHE`` for anything it starts) at a new, empty folder for the duration of the
    block; the folder is removed and the previous values restored afterwards."""
    import datasets.config as dc

    root = Path(tempfile.mkdtemp(prefix=f"benchseal-datasets-{manifest_sha256[:16]}-"))
    cache = root / "datasets"
    downloads = cache / dc.DOWNLOADED_DATASETS_DIR
    values = {"HF_DATASETS_CACHE": cache, "DOWNLOADED_DATASETS_PATH": downloads,
              "EXTRACTED_DATASETS_PATH": downloads / dc.EXTRACTED_DATASETS_DIR}
    saved = {a: getattr(dc, a) for a in _CACHE_ATTRS}
    env_before = os.environ.get("HF_DATASETS_CACHE")
    for a, v in values.items():
        setattr(dc, a, v)
    os.environ["HF_DATASETS_CACHE"] = str(cache)
    try:
        yield cache
    finally:
        for a, v in saved.items():
            setattr(dc, a, v)
        if env_before is None:
            os.environ.pop("HF_DATASETS_CACHE", None)
        else:
            os.environ["HF_DATASETS_CACHE"] = env_before
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# which manifest file each task evaluated
# ------------------------------------------------------------------------------------------------
def _eval_split(cfg: Mapping[str, Any]) -> str | None:
    """The split lm-eval evaluates: test if the task has one, else validation (ConfigurableTask.eval_docs)."""
    return cfg.get("test_split") or cfg.get("validation_split")


def task_files(rendered: Path, manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """task name -> {dataset, file, raw_docs} for every task in the rendered task folders whose
    evaluated split is a file listed in a verified data manifest. ``file`` is relative to the
    dataset folder; ``raw_docs`` is False when the task's ``process_docs`` rewrites the rows (then
    the document lm-eval logs is not the row itself)."""
    from benchseal.evaluators.suites import _merged_yaml

    data_dir = Path(manifest["data_dir"])
    listed = {name: {f["path"] for f in (d.get("manifest") or {}).get("files", [])}
              for name, d in (manifest.get("datasets") or {}).items()}

    def locate(path: str) -> tuple[str, str] | None:
        p = Path(path)
        if not p.is_absolute():
            return None
        for name, files in listed.items():
            try:
                rel = p.resolve().relative_to((data_dir / name).resolve()).as_posix()
            except ValueError:
                continue
            return (name, rel) if rel in files or not rel or rel == "." else None
        return None

    out: dict[str, dict[str, Any]] = {}
    for y in sorted(Path(rendered).rglob("*.yaml")):
        cfg = _merged_yaml(y)
        task, split = cfg.get("task"), _eval_split(cfg)
        if not isinstance(task, str) or not isinstance(split, str):
            continue
        files = (cfg.get("dataset_kwargs") or {}).get("data_files") if isinstance(cfg.get("dataset_kwargs"), dict) else None
        hit = None
        if isinstance(files, Mapping) and isinstance(files.get(split), str):  # dataset_path: json + data_files
            hit = locate(files[split])
        elif isinstance(cfg.get("dataset_path"), str):  # a mirror folder: <config>/<split>.jsonl
            folder = locate(cfg["dataset_path"])
            if folder is not None and folder[1] in ("", "."):
                rel = f"{cfg.get('dataset_name') or 'default'}/{split}.jsonl"
                hit = (folder[0], rel) if rel in listed[folder[0]] else None
        if hit is not None:
            out[task] = {"dataset": hit[0], "file": hit[1], "raw_docs": not cfg.get("process_docs")}
    return out


# ------------------------------------------------------------------------------------------------
# items.json
# ------------------------------------------------------------------------------------------------
def read_samples(eval_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """task -> its stored per-sample logs (``samples_<task>.jsonl``)."""
    out = {}
    for p in sorted(Path(eval_dir).glob("samples_*.jsonl")):
        m = _SAMPLES_RE.match(p.name)
        if m:
            out[m.group(1)] = [s for s in iter_jsonl(p) if isinstance(s, dict)]
    return out


def build_items(eval_dir: Path, rendered: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``eval_dir/items.json`` from the stored samples and the verified data files; returns it.
    A task whose data benchseal cannot map to a manifest file is listed under ``unmapped``."""
    samples = read_samples(eval_dir)
    sources = task_files(rendered, manifest)
    data_dir = Path(manifest["data_dir"])
    files: dict[str, dict[str, Any]] = {}
    tasks: dict[str, dict[str, Any]] = {}
    unmapped = []
    for task, rows in sorted(samples.items()):
        src = sources.get(task)
        if src is None:
            unmapped.append(task)
            continue
        key = f"{src['dataset']}/{src['file']}"
        if key not in files:
            files[key] = {"dataset": src["dataset"], "file": src["file"],
                          "row_sha256": row_hashes(data_dir / src["dataset"] / src["file"])}
        tasks[task] = {"file": key, "raw_docs": src["raw_docs"],
                       "doc_ids": [s.get("doc_id") for s in rows]}
    items = {"schema": ITEMS_SCHEMA, "files": files, "tasks": tasks, "unmapped": unmapped}
    write_json(Path(eval_dir) / ITEMS_JSON, items)
    return items


def _effective_n(raw: Mapping[str, Any] | None, task: str) -> int | None:
    ns = (raw or {}).get("n-samples") or {}
    v = ns.get(task, {}).get("effective") if isinstance(ns.get(task), dict) else None
    return v if isinstance(v, int) else None


def item_problems(items: Mapping[str, Any], samples: Mapping[str, list[dict[str, Any]]], manifest: Mapping[str, Any],
                  raw: Mapping[str, Any] | None = None) -> list[str]:
    """Every reason (:func:`item_check`'s problems and limits) the stored samples are not bound to the manifest."""
    problems, limits = item_check(items, samples, manifest, raw)
    return problems + limits


def item_check(items: Mapping[str, Any], samples: Mapping[str, list[dict[str, Any]]], manifest: Mapping[str, Any],
               raw: Mapping[str, Any] | None = None) -> tuple[list[str], list[str]]:
    """PURE: (problems, limits). Problems: what contradicts the data manifest (verify fails on them);
    limits: what cannot be checked (a manifest without row digests, a task whose data is not a manifest
    file). Both are [] when every sample is bound.

    Checks: every task with samples is listed (or unmapped) and vice versa; each file's row hashes
    are the ones the manifest records (``row_digests``; a manifest without them cannot pin rows);
    per task, the sample count equals the listed doc_ids and lm-eval's effective count; every sample's
    doc_id is listed and is a row of the file; a task that logs rows unchanged logged exactly that row."""
    problems: list[str] = []
    limits = [f"task {t} reads data that is not a file of the data manifest, so its items cannot be checked"
              for t in items.get("unmapped") or []]
    if items.get("schema") != ITEMS_SCHEMA:
        return [f"{ITEMS_JSON} is not a benchseal items file"], []
    datasets = manifest.get("datasets") or {}
    files = items.get("files") or {}
    tasks = items.get("tasks") or {}
    unmapped = set(items.get("unmapped") or [])
    for key, f in files.items():
        d = datasets.get(f.get("dataset")) or {}
        man = d.get("manifest") or {}
        if f.get("file") not in {x.get("path") for x in man.get("files", [])}:
            problems.append(f"{key} is not a file of the data manifest")
            continue
        want = (man.get("row_digests") or {}).get(f.get("file"))
        hashes = f.get("row_sha256") or []
        if want is None:
            limits.append(f"the data manifest of '{f.get('dataset')}' records no row digests for {f.get('file')}, "
                            "so its rows cannot be checked against it (prepare or import the data again)")
        elif want.get("rows") != len(hashes) or want.get("sha256") != rows_digest(hashes):
            problems.append(f"the row hashes stored for {key} are not the rows the data manifest records "
                            f"({len(hashes)} rows stored, manifest says {want.get('rows')})")
    for task in sorted(set(samples) - set(tasks) - unmapped):
        problems.append(f"samples of task {task} are stored but {ITEMS_JSON} does not list the task")
    for task, t in sorted(tasks.items()):
        logged = samples.get(task)
        if logged is None:
            problems.append(f"{ITEMS_JSON} lists task {task} but its samples_{task}.jsonl is missing")
            continue
        f = files.get(t.get("file")) or {}
        hashes = f.get("row_sha256") or []
        ids = t.get("doc_ids") or []
        n = _effective_n(raw, task)
        if len(logged) != len(ids) or (n is not None and n != len(logged)):
            problems.append(f"task {task}: {len(logged)} stored sample(s), {len(ids)} listed item(s)"
                            + (f", lm-eval counted {n}" if n is not None else ""))
        if len(set(map(str, ids))) != len(ids):
            problems.append(f"task {task}: an item is listed twice")
        listed = set(ids)
        bad = []
        for s in logged:
            did = s.get("doc_id")
            if did not in listed or not isinstance(did, int) or not 0 <= did < len(hashes):
                bad.append(f"doc_id {did!r} is not an item of {t.get('file')}")
            elif t.get("raw_docs") and item_sha256(s.get("doc")) != hashes[did]:
                bad.append(f"the document of doc_id {did} is not row {did} of {t.get('file')} (content hash differs)")
        if bad:
            problems.append(f"task {task}: {len(bad)} sample(s) not in the data manifest, e.g. {bad[0]}")
    return problems, limits
