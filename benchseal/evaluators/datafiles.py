"""The one bounded reader of evaluation data and question banks, and the path rules of ``datasets import``.

**Reading** (:func:`read_records`): JSON Lines (``.jsonl``), JSON (``.json``: an array of objects, one
object, or JSON Lines), CSV (``.csv``, a header row) and Parquet (``.parquet``) -> a list of records
(dicts). Every file is a regular file (no directory, FIFO, device, socket: ``/dev/zero`` and a FIFO
are refused before they are opened) of at most :data:`MAX_FILE_BYTES`; text is UTF-8 (a UTF-8 byte
order mark is skipped; UTF-16, Latin-1 and other bytes are refused with the byte and line); a value
is a string without NUL or lone surrogates, a bool, a null, an integer of at most
:data:`benchseal.io.MAX_INT_DIGITS` digits, a **finite** number (``NaN``, ``Infinity``, ``1e999`` are
refused), or a list/object nested at most :data:`MAX_DEPTH` deep; a record has at most
:data:`MAX_COLUMNS` columns; CSV rows have as many cells as the header; Parquet binary columns are
refused. Every problem is one :class:`~benchseal.errors.DatasetError` naming the file, the line (or
record) and the problem.

**Paths** (:func:`safe_component`, :func:`confined_files`, :func:`check_data_dir`): what a suite names
(dataset folder, config, split) is one plain path component; the files read are regular files whose
real path stays inside the source folder (a symlink out of it is refused); the data directory is a
directory (or absent) outside ``/proc``, ``/sys`` and ``/dev``.

**Columns** (:func:`required_columns`): the columns a suite's task templates read
(``doc_to_text``/``doc_to_target``/``doc_to_choice``: a bare column name or the variables of a Jinja
template), checked in every record of every imported split before a manifest is written (tasks with
``process_docs`` or ``!function`` templates read derived fields and are not checked).
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from benchseal.errors import DatasetError
from benchseal.io import MAX_INT_DIGITS

MAX_FILE_BYTES = 2 << 30  # one data file; the largest benchmark split is far below
MAX_COLUMNS = 1000
MAX_DEPTH = 32  # nesting of one value (lists of choices, dicts of answers)
MAX_RECORDS = 10_000_000
_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
_SYSTEM_ROOTS = ("/proc", "/sys", "/dev")


def _err(path: Path | str, where: str, problem: str, hint: str | None = None) -> DatasetError:
    return DatasetError(f"{where}: {problem}" if where else problem, where=str(path), hint=hint)


# --- paths ---------------------------------------------------------------------------------------
def safe_component(name: Any, what: str) -> str:
    """``name`` when it is one plain path component (letters, digits, ``. _ + -``; no ``..``, no
    separator, not absolute); else DatasetError."""
    if not isinstance(name, str) or not _COMPONENT.fullmatch(name) or ".." in name:
        raise DatasetError(f"{what} {str(name)[:80]!r} is not a plain folder or file name (letters, digits, '.', '_', '-'; "
                           "no '..', no '/', not absolute)", hint="fix the name in the suite YAML")
    return name


def _under_system(p: Path) -> bool:
    s = str(p)
    return any(s == r or s.startswith(r + "/") for r in _SYSTEM_ROOTS)


def check_data_dir(data_dir: str | os.PathLike, what: str = "--data-dir") -> Path:
    """The resolved data directory: absent (created later) or a directory, never under /proc, /sys, /dev."""
    p = Path(data_dir)
    try:
        real = p.resolve()
    except (OSError, RuntimeError):
        raise DatasetError(f"{what} cannot be resolved (a symlink loop?)", where=str(p)) from None
    if _under_system(real):
        raise DatasetError(f"{what} is under /proc, /sys or /dev, which hold no data", where=str(p),
                           hint="give a folder of your own")
    if real.exists() and not real.is_dir():
        raise DatasetError(f"{what} is not a directory", where=str(p), hint="give a folder (it is created when absent)")
    return real


def confined(root: Path, path: Path, what: str = "data file") -> Path:
    """``path`` resolved, when its real location is a regular file inside ``root`` (resolved)."""
    real_root = root.resolve()
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise DatasetError(f"{what} is a dangling symlink", where=str(path)) from None
    except (OSError, RuntimeError):
        raise DatasetError(f"{what} cannot be resolved (a symlink loop?)", where=str(path)) from None
    if real != real_root and real_root not in real.parents:
        raise DatasetError(f"{what} is a symlink that leaves the source folder (to {real})", where=str(path),
                           hint="copy the file into the source folder instead of linking outside it")
    mode = os.stat(real).st_mode
    if not stat.S_ISREG(mode):
        raise DatasetError(f"{what} is not a regular file (a FIFO, device or socket)", where=str(path))
    return real


def confined_files(root: Path, suffixes: tuple[str, ...], skip: tuple[str, ...] = (),
                   exclude: Path | None = None) -> list[Path]:
    """Every file under ``root`` with one of ``suffixes`` (symlinked folders are not entered, nor
    ``exclude``: the data directory when it lies inside the source), each checked by :func:`confined`; sorted."""
    out: list[Path] = []
    ex = exclude.resolve() if exclude is not None else None
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        if ex is not None:
            dirnames[:] = [d for d in dirnames if (Path(dirpath) / d).resolve() != ex]
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if name in skip or not any(name.endswith(s) for s in suffixes):
                continue
            if p.is_symlink() or not p.is_file():
                confined(root, p)  # raises for a link out of the tree or a special file
            out.append(p)
    return sorted(out)


# --- values --------------------------------------------------------------------------------------
def _check_value(v: Any, depth: int = 0) -> str | None:
    """None when ``v`` is an acceptable value, else the problem."""
    stack = [(v, depth)]
    while stack:
        o, d = stack.pop()
        if d > MAX_DEPTH:
            return f"a value nested more than {MAX_DEPTH} levels deep"
        if o is None or isinstance(o, bool):
            continue
        if isinstance(o, str):
            if "\x00" in o:
                return "a NUL character in a string"
            try:
                o.encode("utf-8")
            except UnicodeEncodeError:
                return "a lone surrogate (\\ud800-\\udfff) in a string"
        elif isinstance(o, int):
            if abs(o) >= 10 ** MAX_INT_DIGITS:
                return f"an integer of more than {MAX_INT_DIGITS} digits"
        elif isinstance(o, float):
            if not math.isfinite(o):
                return f"a number that is not finite ({o})"
        elif isinstance(o, (bytes, bytearray, memoryview)):
            return "a binary value (bytes), not text"
        elif isinstance(o, dict):
            if len(o) > MAX_COLUMNS:
                return f"an object of {len(o)} fields (at most {MAX_COLUMNS})"
            for k in o:
                if not isinstance(k, str):
                    return "a field name that is not text"
            stack.extend((x, d + 1) for x in o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend((x, d + 1) for x in o)
        else:
            return f"a value of type {type(o).__name__}"
    return None


def _check_record(path: Path, where: str, rec: Any) -> dict[str, Any]:
    if not isinstance(rec, dict):
        raise _err(path, where, f"a record must be a JSON object, not {type(rec).__name__}")
    if len(rec) > MAX_COLUMNS:
        raise _err(path, where, f"a record of {len(rec)} columns (at most {MAX_COLUMNS})")
    problem = _check_value(rec)
    if problem:
        raise _err(path, where, problem)
    return rec


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"the number {text[:30]} is not finite")
    return v


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite JSON number")


def _json(text: str) -> Any:
    import json

    return json.loads(text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)


def _read_bytes(path: Path) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DatasetError("file not found", where=str(path)) from None
    except OSError as exc:
        raise DatasetError(f"file cannot be read: {exc.strerror}", where=str(path)) from None
    if stat.S_ISDIR(st.st_mode):
        raise DatasetError("path is a directory, not a data file", where=str(path), hint="pass the file itself")
    if not stat.S_ISREG(st.st_mode):
        raise DatasetError("path is not a regular file (a FIFO, device or socket)", where=str(path))
    if _under_system(path.resolve()):
        raise DatasetError("path is a system file (under /proc, /sys or /dev), not data", where=str(path))
    if st.st_size > MAX_FILE_BYTES:
        raise DatasetError(f"file of {st.st_size:,} bytes is larger than {MAX_FILE_BYTES >> 20} MiB", where=str(path))
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DatasetError(f"file cannot be read: {exc.strerror}", where=str(path)) from None
    if len(data) > MAX_FILE_BYTES:
        raise DatasetError(f"file is larger than {MAX_FILE_BYTES >> 20} MiB", where=str(path))
    return data


def _text(path: Path, data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DatasetError("file is UTF-16 text; write it as UTF-8", where=str(path))
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(f"line {line}: bytes that are not UTF-8 (byte {exc.start}; Latin-1 or GBK text?); "
                           "write the file as UTF-8", where=str(path)) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise DatasetError(f"line {line}: a NUL byte (a binary file?)", where=str(path))
    return text


def _jsonl(path: Path, text: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = _json(line)
        except RecursionError:
            raise _err(path, f"line {n}", "JSON nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError included
            msg = exc.msg if hasattr(exc, "msg") else str(exc)
            raise _err(path, f"line {n}", f"not one JSON object ({msg})",
                       hint="write one JSON object per line") from None
        rows.append(_check_record(path, f"line {n}", obj))
        if len(rows) > MAX_RECORDS:
            raise _err(path, f"line {n}", f"more than {MAX_RECORDS:,} records")
    return rows


def _json_file(path: Path, text: str) -> list[dict[str, Any]]:
    import json

    try:
        obj = _json(text)
    except RecursionError:
        raise _err(path, "", "JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("[") or exc.lineno == 1 and "\n" not in text.strip():
            raise _err(path, f"line {exc.lineno}", f"invalid JSON ({exc.msg}, column {exc.colno})") from None
        return _jsonl(path, text)  # JSON Lines under a .json name
    except ValueError as exc:
        raise _err(path, "", f"invalid JSON ({exc})") from None
    if isinstance(obj, list):
        return [_check_record(path, f"record {i + 1}", r) for i, r in enumerate(obj)]
    return [_check_record(path, "record 1", obj)]


def _csv(path: Path, text: str) -> list[dict[str, Any]]:
    import csv

    csv.field_size_limit(64 << 20)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise _err(path, "line 1", "no header row (CSV needs the column names first)")
        if len(header) > MAX_COLUMNS:
            raise _err(path, "line 1", f"{len(header)} columns (at most {MAX_COLUMNS})")
        if len(set(header)) != len(header) or any(not h.strip() for h in header):
            raise _err(path, "line 1", "an empty or repeated column name in the header")
        rows = []
        for cells in reader:
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise _err(path, f"line {reader.line_num}", f"{len(cells)} cells where the header has {len(header)}")
            rows.append(_check_record(path, f"line {reader.line_num}", dict(zip(header, cells))))
            if len(rows) > MAX_RECORDS:
                raise _err(path, f"line {reader.line_num}", f"more than {MAX_RECORDS:,} records")
    except csv.Error as exc:
        raise _err(path, f"line {reader.line_num}", f"malformed CSV ({exc})") from None
    return rows


def _parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError("reading Parquet needs the Python package 'pyarrow'", where=str(path),
                           hint="pip install pyarrow, or convert the file to JSON Lines") from None
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        if len(schema) > MAX_COLUMNS:
            raise _err(path, "", f"{len(schema)} columns (at most {MAX_COLUMNS})")
        for f in schema:
            if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) or pa.types.is_fixed_size_binary(f.type):
                raise _err(path, "", f"column {f.name!r} holds binary values, not text")
        if pf.metadata.num_rows > MAX_RECORDS:
            raise _err(path, "", f"more than {MAX_RECORDS:,} records")
        table = pf.read()
        rows = table.to_pylist()
    except DatasetError:
        raise
    except Exception as exc:  # a truncated or foreign file, an unsupported type
        raise _err(path, "", f"not a readable Parquet file ({type(exc).__name__}: {str(exc)[:160]})") from None
    return [_check_record(path, f"record {i + 1}", r) for i, r in enumerate(rows)]


def read_records(path: str | os.PathLike, *, formats: tuple[str, ...] = (".jsonl", ".json", ".csv", ".parquet")) -> list[dict[str, Any]]:
    """The records of one data file (see the module docstring for every rule); DatasetError otherwise."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise DatasetError(f"a {suffix or 'suffix-less'} file is not a data file this reader accepts ({', '.join(formats)})",
                           where=str(path))
    data = _read_bytes(path)
    if suffix == ".parquet":
        return _parquet(path)
    text = _text(path, data)
    if suffix == ".csv":
        return _csv(path, text)
    if suffix == ".json":
        return _json_file(path, text)
    return _jsonl(path, text)


def jsonl_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """A question bank: JSON Lines whatever the file's suffix, read by the same rules as :func:`read_records`."""
    path = Path(path)
    return _jsonl(path, _text(path, _read_bytes(path)))


# --- columns -------------------------------------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def template_columns(value: Any) -> set[str] | None:
    """The columns one ``doc_to_*`` value reads: a bare column name, or the undeclared variables of a
    Jinja template; None when it cannot be told (``!function``, not a string)."""
    if isinstance(value, (int, float, list)) or value is None:
        return set()
    if not isinstance(value, str) or value.startswith("!function") or re.search(r"\bis\s+(not\s+)?defined\b", value):
        return None  # a function, or a template that reads a column only when it exists
    if _IDENT.fullmatch(value.strip()):
        return {value.strip()}
    if "{{" not in value and "{%" not in value:
        return set()
    try:
        import jinja2
        from jinja2 import meta

        return set(meta.find_undeclared_variables(jinja2.Environment().parse(value)))
    except Exception:  # jinja2 missing or a template lm-eval renders differently: not checked
        return None


def required_columns(suite: Any) -> dict[str, dict[str, set[str]]]:
    """hub id -> {config -> columns every record must have}, from the suite's task YAMLs: the columns
    read by the task the suite names (or, for a group, by every task YAML reading that config: the
    intersection, so a variant task in the same folder that reads another column never makes a
    genuine file fail)."""
    from benchseal.evaluators.suites import _merged_yaml, task_folders

    named = {t.task for t in suite.tasks}
    entries: list[tuple[bool, str, str, set[str]]] = []  # (a task the suite names, hub, config, columns)
    for _, folder in task_folders(suite):
        for y in sorted(Path(folder).rglob("*.yaml")):
            try:
                cfg = _merged_yaml(y)
            except Exception:
                continue
            hub = cfg.get("dataset_path")
            if not isinstance(hub, str) or "task" not in cfg or cfg.get("process_docs") is not None:
                continue
            cols: set[str] = set()
            for k in ("doc_to_text", "doc_to_target", "doc_to_choice"):
                cols |= template_columns(cfg.get(k)) or set()  # None: that template is not checked
            entries.append((cfg.get("task") in named, hub, str(cfg.get("dataset_name") or "default"), cols))
    out: dict[str, dict[str, set[str]]] = {}
    for hub, name in {(h, n) for _, h, n, _ in entries}:
        mine = [c for own, h, n, c in entries if (h, n) == (hub, name) and own]
        sets = mine or [c for _, h, n, c in entries if (h, n) == (hub, name)]
        out.setdefault(hub, {})[name] = set.intersection(*sets)
    return out


def check_columns(rows: list[dict[str, Any]], needed: set[str], *, where: str) -> None:
    """Every record has every column in ``needed``; DatasetError naming the first record that lacks one."""
    for i, r in enumerate(rows):
        missing = sorted(needed - set(r))
        if missing:
            raise DatasetError(f"record {i + 1} has no column {', '.join(repr(m) for m in missing[:5])}, which the "
                               f"suite's tasks read (it has {', '.join(repr(c) for c in list(r)[:8])})", where=where,
                               hint="import the benchmark's own files, with its column names")


__all__ = ["MAX_COLUMNS", "MAX_FILE_BYTES", "check_columns", "check_data_dir", "confined", "confined_files",
           "jsonl_records", "read_records", "required_columns", "safe_component", "template_columns"]
