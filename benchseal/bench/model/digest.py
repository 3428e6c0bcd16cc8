"""Weight, config and tokenizer digests: sha256 per file and one model digest.

Files are streamed in 16 MiB blocks into a reused buffer (never a whole file in memory) and hashed
in parallel threads (hashlib releases the GIL while hashing large buffers). The model digest is
defined in docs/metrics.md and implemented by the pure :func:`model_digest`.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from benchseal.bench.model.files import unusable_model_path
from benchseal.errors import ConfigError, ModelFormatError
from benchseal.io import sha256_file  # noqa: F401  (the one implementation; re-exported for callers of this module)
from benchseal.schema import FileDigest

BLOCK_BYTES = 16 << 20
WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".bin", ".pt", ".pth", ".ckpt", ".msgpack", ".h5", ".onnx", ".npz")
# configs, indexes, tokenizers and the Python files of remote-code models
OTHER_SUFFIXES = (".json", ".model", ".tiktoken", ".jinja", ".py", ".vocab")
NAME_PREFIXES = ("tokenizer", "vocab", "merges", "spiece", "sentencepiece")
SUBJECTS_FORMAT = "benchseal/model-digests/v1"


def is_model_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(WEIGHT_SUFFIXES + OTHER_SUFFIXES) or name.startswith(NAME_PREFIXES)


def select_files(path: str | os.PathLike) -> tuple[Path, list[str]]:
    """(root, relative POSIX paths) of the files that identify a model; hidden files and folders are skipped."""
    p = Path(path)
    problem = unusable_model_path(p)
    if problem:
        raise ModelFormatError(problem, where=str(p), hint="give a model directory or a weight file")
    if p.is_file():
        return p.parent, [p.name]
    rels: list[str] = []
    for dirpath, dirnames, filenames in os.walk(p):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(dirpath).relative_to(p).as_posix()
        for f in filenames:
            if f.startswith("."):
                continue
            rel = f if base == "." else f"{base}/{f}"
            if is_model_file(rel) and os.path.isfile(os.path.join(dirpath, f)):
                rels.append(rel)
    if not rels:
        raise ModelFormatError("no weight, config or tokenizer files in the model directory", where=str(p),
                               hint="point MODEL at a Hugging Face model directory, a .safetensors or a .gguf file")
    return p, sorted(rels)


def model_digest(files: list[FileDigest]) -> str:
    """PURE. sha256 (hex) of the UTF-8 text made of one line ``"<sha256>  <path>\\n"`` per file, sorted by path
    (the format of ``sha256sum`` output). Paths are relative, POSIX separators, no newlines."""
    lines = []
    for f in sorted(files, key=lambda f: f.path):
        if "\n" in f.path or "\r" in f.path:
            raise ModelFormatError("a file path contains a newline", where=repr(f.path))
        lines.append(f"{f.sha256}  {f.path}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


# progress callback: (bytes just hashed, total bytes of the files being hashed); called from the hashing threads
Progress = Callable[[int, int], None]


def _progress_fn(progress: Progress | bool | None) -> Progress | None:
    return progress if callable(progress) else None


def hash_files(root: Path, rels: list[str], *, workers: int | None = None,
               progress: Progress | bool | None = None) -> list[FileDigest]:
    """sha256 of each file, in parallel threads (largest first); results sorted by path.

    ``progress``: called as ``progress(n, total)`` after every block of ``n`` bytes (from worker threads).
    """
    sizes = {r: (root / r).stat().st_size for r in rels}
    workers = max(1, min(workers or os.cpu_count() or 1, len(rels)))
    fn = _progress_fn(progress)
    total = sum(sizes.values())
    on_bytes = (lambda n: fn(n, total)) if fn is not None else None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sha256") as pool:
        order = sorted(rels, key=lambda r: -sizes[r])
        futures = {r: pool.submit(sha256_file, root / r, block=BLOCK_BYTES, on_bytes=on_bytes) for r in order}
        return [FileDigest(path=r, sha256=futures[r].result(), size_bytes=sizes[r]) for r in sorted(rels)]


def digest_model(path: str | os.PathLike, *, workers: int | None = None,
                 progress: Progress | bool | None = None) -> tuple[list[FileDigest], str]:
    """Per-file digests of a model's weight, config and tokenizer files and the model digest."""
    root, rels = select_files(path)
    files = hash_files(root, rels, workers=workers, progress=progress)
    return files, model_digest(files)


def subjects_document(files: list[FileDigest], digest: str | None = None) -> dict[str, Any]:
    """The in-toto-style subject list written by ``benchseal digest --out``."""
    return {
        "format": SUBJECTS_FORMAT,
        "subjects": [{"name": f.path, "digest": {"sha256": f.sha256}, "annotations": {"size_bytes": f.size_bytes}}
                     for f in files],
        "model_digest": digest or model_digest(files),
    }


def read_expected(digests_json_path: str | os.PathLike) -> tuple[list[FileDigest], str | None]:
    """Expected digests from a subject list (``benchseal digest --out``) or a model.json (ModelCard)."""
    from benchseal.io import read_json

    where = str(digests_json_path)
    data = read_json(digests_json_path)
    try:
        if isinstance(data, dict) and "subjects" in data:
            files = [FileDigest(path=s["name"], sha256=s["digest"]["sha256"],
                                size_bytes=int((s.get("annotations") or {}).get("size_bytes", -1)))
                     for s in data["subjects"]]
        elif isinstance(data, dict) and "files" in data:
            files = [FileDigest.model_validate(f) for f in data["files"]]
        else:
            raise KeyError("subjects")
        md = data.get("model_digest")
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ConfigError("not a digest list: expected {\"subjects\": [{\"name\", \"digest\": {\"sha256\"}}]} or a model.json "
                          "with \"files\"", where=where, hint="create one with: benchseal digest MODEL --out DIGESTS.json") from None
    return files, md if isinstance(md, str) else None


def check_digests(path: str | os.PathLike, digests_json_path: str | os.PathLike, *, workers: int | None = None,
                  progress: Progress | bool | None = None) -> list[str]:
    """Re-hash the model and list every problem: files that differ, are missing, or are not in the list."""
    expected, md = read_expected(digests_json_path)
    problems: list[str] = []
    if md is not None and md != model_digest(expected):
        problems.append(f"the model_digest in {digests_json_path} does not match its own subject list (the list was edited)")
    p = Path(path)
    root = p.parent if p.is_file() else p
    problem = unusable_model_path(p)
    if problem and "does not exist" not in problem or not root.exists():
        raise ModelFormatError(problem or "model path does not exist", where=str(p))
    present = select_files(p)[1] if (p.is_file() or any(p.iterdir())) else []
    want = {f.path: f for f in expected}
    existing = [r for r in want if (root / r).is_file()]
    got = {f.path: f for f in hash_files(root, existing, workers=workers, progress=progress)} if existing else {}
    for rel, f in sorted(want.items()):
        if rel not in got:
            problems.append(f"missing: {rel}")
        elif got[rel].sha256 != f.sha256:
            problems.append(f"differs: {rel} (sha256 {got[rel].sha256}, expected {f.sha256})")
    own = Path(digests_json_path).resolve()
    if not p.is_file():
        for rel in present:
            if rel not in want and (root / rel).resolve() != own:
                problems.append(f"not in the digest list: {rel}")
    return problems


def write_subjects(path: str | os.PathLike, files: list[FileDigest], digest: str) -> Path:
    from benchseal.io import write_json

    return write_json(path, subjects_document(files, digest))

