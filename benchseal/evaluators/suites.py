"""Evaluation suites as data: ``configs/suites/<name>.yaml``, validated here.

A suite lists lm-eval tasks (or groups) with their few-shot counts, the headline metric, the
benchmark name used in peer tables, and where the task definition comes from: a folder of
lm-eval's own task YAMLs (``builtin: mmlu/default``, relative to ``lm_eval/tasks``) or a folder we
ship (``local: tasks/demo``, relative to the suite file). Before a run the folders are *rendered*
into the bundle (``eval/<suite>/tasks/``) with every ``dataset_path`` pointing at the verified
local copy under ``--data-dir``, so lm-eval never contacts a hub and the bundle records exactly
which task definitions ran.
"""

from __future__ import annotations

import re
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from benchseal.errors import ConfigError
from benchseal.io import load_yaml_model
from benchseal.config import config_dir, config_files, config_path
from benchseal.schema import Strict

DATA_DIR_PLACEHOLDER = "${BENCHSEAL_DATA_DIR}"
_DATASET_PATH_RE = re.compile(r"^(\s*dataset_path:\s*)(['\"]?)([^'\"\s#]+)\2(\s*(#.*)?)$", re.MULTILINE)


class TaskSource(Strict):
    builtin: str | None = None  # folder under lm_eval/tasks, e.g. "mmlu/default"
    local: str | None = None  # folder relative to the suite file, e.g. "tasks/demo"

    @model_validator(mode="after")
    def _one(self) -> "TaskSource":
        if (self.builtin is None) == (self.local is None):
            raise ValueError("give exactly one of 'builtin' or 'local'")
        return self


class SuiteTask(Strict):
    task: str  # lm-eval task or group name
    num_fewshot: int = Field(ge=0)
    metric: str = "acc"  # headline metric as lm-eval names it
    filter: str = "none"  # lm-eval filter name of the headline metric
    benchmark: str  # the name used in configs/peers tables, e.g. "MMLU"
    scoring: Literal["loglikelihood", "generate"]  # decides the OpenAI endpoint (completions vs chat)
    source: TaskSource
    unsafe_code: bool = False  # runs model-written code (HumanEval); needs --allow-unsafe-code
    peer_protocol: str | None = None  # protocol label for peer comparison; default "base"/"chat"
    # standard suites: the official item count of the evaluated split (whole benchmark, every
    # subtask of a group) and where that figure is published; a claim-grade run evaluates exactly these
    official_items: int | None = Field(default=None, ge=1)
    items_source: str | None = None
    lm_eval_task_version: str | None = None  # the task version the suite was written for (documentation)
    # filled on load from the suite file the task comes from (not settable in YAML to effect)
    suite_kind: Literal["standard", "demo", "custom"] = "custom"
    suite_name: str | None = None


class DatasetSpec(Strict):
    name: str  # folder under --data-dir
    hf_path: str | None = None  # hub dataset id; None for data shipped with benchseal
    revision: str | None = None  # hub revision to download (a commit sha pins it)
    # the hub files at that revision and their sha256 (as the hub's LFS metadata gives them): `datasets prepare`
    # refuses other bytes and records them in the manifest, `datasets import` of those files proves the revision
    source_files: dict[str, str] | None = None
    configs: list[str] | None = None  # None: every dataset_name the task YAMLs use
    splits: list[str] | None = None  # None: every split the task YAMLs use
    manifest_sha256: str | None = None  # pin: the sha256 of <data-dir>/<name>/MANIFEST.json
    licence_note: str | None = None


class SuiteData(Strict):
    default_dir: str | None = None  # relative to the suite file; used when --data-dir is not given
    datasets: list[DatasetSpec] = Field(default_factory=list)


class SuiteProtocol(Strict):
    apply_chat_template: bool = False
    fewshot_as_multiturn: bool = False
    system_instruction: str | None = None
    seed: int = 1234  # lm-eval's random, numpy, torch and few-shot seeds
    gen_kwargs: dict[str, Any] | None = None  # overrides the tasks' generation_kwargs
    bootstrap_iters: int = 100000  # lm-eval's default; stderr of non-mean metrics


class ClaimGradeRules(Strict):
    no_limit: bool = True  # a run with --limit is never claim-grade
    # every dataset is pinned: its manifest_sha256, or a hub commit its manifest proves (evaluators/pinning.py)
    manifest_pinned: bool = False
    min_n: int | None = None  # every headline result needs at least this many samples


class Suite(Strict):
    name: str
    description: str = ""
    # standard: a public benchmark, whole (honoured only for suites shipped in benchseal's configs);
    # demo: demonstrates the pipeline, never claim-grade; custom: the user's own tasks
    kind: Literal["standard", "demo", "custom"] = "custom"
    includes: list[str] = Field(default_factory=list)  # other suites whose tasks and data join this one
    opt_in: bool = False  # never part of a combined suite unless named
    tasks: list[SuiteTask] = Field(default_factory=list)
    protocol: SuiteProtocol = Field(default_factory=SuiteProtocol)
    data: SuiteData = Field(default_factory=SuiteData)
    claim_grade_requires: ClaimGradeRules = Field(default_factory=ClaimGradeRules)
    peers: list[str] = Field(default_factory=list)  # peer tables: names in configs/peers or paths relative to the suite file
    path: str | None = None  # filled on load
    # filled on load: file name -> sha256 of every suite file that defined this suite (itself and what it
    # includes), recorded in results.json; a claim needs each to be the file shipped with benchseal
    source_files: dict[str, str] = Field(default_factory=dict)

    def dataset(self, hf_path: str) -> DatasetSpec | None:
        return next((d for d in self.data.datasets if d.hf_path == hf_path), None)

    def default_data_dir(self) -> Path | None:
        if self.data.default_dir and self.path:
            return (Path(self.path).parent / self.data.default_dir).resolve()
        return None

    def peer_files(self) -> list[Path] | None:
        """The peer tables this suite declares (after includes), or None: every configs/peers table."""
        if not self.peers:
            return None
        out = []
        for ref in self.peers:
            p = Path(ref)
            if p.suffix not in (".yaml", ".yml"):
                p = config_path("peers", f"{ref}.yaml")
            elif not p.is_absolute():
                p = Path(self.path or ".").parent / p
            if not p.is_file():
                raise ConfigError(f"peer table '{ref}' of suite '{self.name}' not found", where=str(p),
                                  hint="name a file in configs/peers (without .yaml) or give a path relative to the suite file")
            out.append(p.resolve())
        return out

    def protocol_dict(self) -> dict[str, Any]:
        """The run protocol as recorded in results.json (read back by results_from_lm_eval)."""
        p = self.protocol.model_dump()
        p["tasks"] = {
            t.task: {
                "num_fewshot": t.num_fewshot,
                "metric": t.metric,
                "filter": t.filter,
                "benchmark": t.benchmark,
                "scoring": t.scoring,
                "peer_protocol": t.peer_protocol,
            }
            for t in self.tasks
        }
        return p


def suites_dir() -> Path:
    return config_dir() / "suites"


def list_suites() -> list[str]:
    return [p.stem for p in config_files("suites")]


def _resolve_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.is_file():  # a folder named like a suite (e.g. ./demo) is not a suite file
        if not p.is_file():
            raise ConfigError("suite file not found", where=str(p), hint="give a suite name or an existing YAML file")
        return p
    cand = config_path("suites", f"{name_or_path}.yaml")
    if not cand.is_file():
        raise ConfigError(
            f"unknown suite '{name_or_path}'",
            where=str(suites_dir()),
            hint=f"choose one of {', '.join(list_suites())} or give a path to a suite YAML",
        )
    return cand


def load_suite(name_or_path: str, _seen: tuple[str, ...] = ()) -> Suite:
    """Load and validate a suite, merging the tasks and datasets of the suites it includes."""
    path = _resolve_path(name_or_path)
    suite = load_yaml_model(Suite, path)
    suite.path = str(path.resolve())
    suite.source_files = {path.name: _sha256(path)}
    if suite.kind == "standard" and not _shipped(path):
        suite.kind = "custom"  # only benchseal's own suite files define a standard benchmark
    for t in suite.tasks:
        t.suite_kind, t.suite_name = suite.kind, suite.name
    if suite.name in _seen:
        raise ConfigError(f"suite '{suite.name}' includes itself", where=str(path))
    tasks = list(suite.tasks)
    datasets = {d.name: d for d in suite.data.datasets}
    for inc in suite.includes:
        sub = load_suite(inc, _seen + (suite.name,))
        for t in sub.tasks:
            if any(x.task == t.task for x in tasks):
                raise ConfigError(f"task '{t.task}' appears twice after including '{inc}'", where=str(path))
            tasks.append(t)
        for d in sub.data.datasets:
            datasets.setdefault(d.name, d)
        for name, sha in sub.source_files.items():
            if suite.source_files.setdefault(name, sha) != sha:
                suite.source_files[name] = "conflict"  # two different files of one name: never the shipped one
        sub_peers = [str(f) for f in (sub.peer_files() or [])]  # resolved against the included suite's file
        suite.peers += [p for p in sub_peers if p not in suite.peers]
    suite.tasks = tasks
    suite.data.datasets = list(datasets.values())
    if not suite.tasks:
        raise ConfigError("suite lists no tasks", where=str(path), hint="add at least one entry under 'tasks'")
    return suite


def _sha256(path: Path) -> str:
    from benchseal.io import sha256_file

    return sha256_file(path)


@lru_cache(maxsize=256)
def shipped_suite_sha256(name: str) -> str | None:
    """The sha256 of the suite file ``name`` (e.g. "arc-challenge.yaml") shipped inside the package, or None."""
    from benchseal.config import packaged_config_dir

    if "/" in name or "\\" in name or name.startswith("."):
        return None
    p = packaged_config_dir() / "suites" / name
    return _sha256(p) if p.is_file() else None


def unshipped_files(suite: Suite) -> list[str]:
    """The suite files that defined ``suite`` and are not byte-for-byte the ones shipped with benchseal."""
    return sorted(n for n, sha in suite.source_files.items() if shipped_suite_sha256(n) != sha)


def _shipped(path: Path) -> bool:
    from benchseal.config import packaged_config_dir

    try:
        path.resolve().relative_to((packaged_config_dir() / "suites").resolve())
        return True
    except ValueError:
        return False


class StandardBenchmark(Strict):
    benchmark: str
    suite: str
    task: str
    items: int | None
    source: str | None


def standard_benchmarks() -> dict[str, StandardBenchmark]:
    """benchmark name -> its standard suite's task, official item count and source (shipped suites only)."""
    from benchseal.config import packaged_config_dir

    out: dict[str, StandardBenchmark] = {}
    for f in sorted((packaged_config_dir() / "suites").glob("*.yaml")):
        s = load_yaml_model(Suite, f)
        if s.kind != "standard":
            continue
        for t in s.tasks:
            out.setdefault(t.benchmark, StandardBenchmark(benchmark=t.benchmark, suite=s.name, task=t.task,
                                                          items=t.official_items, source=t.items_source))
    return out


# ------------------------------------------------------------------------------------------------
# rendering task folders
# ------------------------------------------------------------------------------------------------
def lm_eval_tasks_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        from benchseal.errors import MissingDependency

        raise MissingDependency("lm_eval", "eval", "running evaluation suites")
    return Path(list(spec.submodule_search_locations)[0]) / "tasks"


def source_dir(suite: Suite, src: TaskSource) -> Path:
    if src.builtin is not None:
        folder = lm_eval_tasks_dir() / src.builtin
    else:
        folder = Path(suite.path or ".").parent / str(src.local)
    if not folder.is_dir():
        raise ConfigError("task folder not found", where=str(folder), hint="check 'source' in the suite YAML")
    return folder


def _slug(src: TaskSource) -> str:
    return ("builtin-" + str(src.builtin) if src.builtin else "local-" + str(src.local)).replace("/", "_")


def render_tasks(suite: Suite, data_dir: Path, dest: Path) -> Path:
    """Copy every task folder of the suite into ``dest`` with data paths pointing into ``data_dir``.

    Returns ``dest`` (the ``include_path`` for lm-eval's TaskManager)."""
    data_dir = Path(data_dir).resolve()
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    mirrors = {d.hf_path: str(data_dir / d.name) for d in suite.data.datasets if d.hf_path}
    for slug, folder in task_folders(suite):
        out = dest / slug
        shutil.copytree(folder, out, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for y in sorted(out.rglob("*.yaml")) + sorted(out.rglob("*_yaml")):
            text = y.read_text(encoding="utf-8")
            new = text.replace(DATA_DIR_PLACEHOLDER, str(data_dir))

            def _sub(m: re.Match[str]) -> str:
                target = mirrors.get(m.group(3))
                return m.group(0) if target is None else f"{m.group(1)}{target}{m.group(4)}"

            new = _DATASET_PATH_RE.sub(_sub, new)
            if new != text:
                y.write_text(new, encoding="utf-8")
    return dest


class _Loader:
    """A YAML loader that accepts lm-eval's ``!function`` tags (as plain strings)."""

    @staticmethod
    def load(text: str) -> Any:
        import yaml

        class L(yaml.SafeLoader):
            pass

        L.add_constructor("!function", lambda loader, node: f"!function {loader.construct_scalar(node)}")
        return yaml.load(text, Loader=L)


def _merged_yaml(path: Path, depth: int = 0) -> dict[str, Any]:
    data = _Loader.load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        return {}
    inc = data.pop("include", None)
    if inc and depth < 5:
        base = _merged_yaml((path.parent / str(inc)).resolve(), depth + 1) if (path.parent / str(inc)).is_file() else {}
        base.update(data)
        data = base
    return data


def task_folders(suite: Suite):
    """(slug, source folder) of each distinct task folder the suite's tasks come from, in order."""
    seen: set[str] = set()
    for t in suite.tasks:
        slug = _slug(t.source)
        if slug not in seen:
            seen.add(slug)
            yield slug, source_dir(suite, t.source)


def dataset_needs(suite: Suite) -> dict[str, dict[str, set[str]]]:
    """hub id -> {config name -> splits} as used by the suite's task YAMLs (for ``datasets prepare``)."""
    needs: dict[str, dict[str, set[str]]] = {}
    for _, folder in task_folders(suite):
        for y in sorted(folder.rglob("*.yaml")):
            cfg = _merged_yaml(y)
            hub = cfg.get("dataset_path")
            spec = suite.dataset(hub) if isinstance(hub, str) else None
            if spec is None or "task" not in cfg:
                continue
            name = cfg.get("dataset_name") or "default"
            if spec.configs is not None and name not in spec.configs:
                continue
            splits = {cfg[k] for k in ("training_split", "validation_split", "test_split", "fewshot_split") if cfg.get(k)}
            if spec.splits is not None:
                splits = set(spec.splits)
            needs.setdefault(hub, {}).setdefault(name, set()).update(splits)
    return needs
