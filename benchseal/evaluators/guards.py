"""What lm-eval needs before it is called, checked so that the user reads one sentence, not its traceback.

- :func:`check_task_splits`: every task has items to evaluate, and its few-shot split holds at least as
  many items as the shots asked for (lm-eval draws them with ``random.sample`` and otherwise fails with
  ``ValueError: Sample larger than population``; when the few-shot examples come from the evaluated
  split itself it draws one more and drops the evaluated item). lm-eval's own task objects answer which
  split is which (``fewshot_docs`` / ``eval_docs``), so the rule is the one lm-eval applies.
- :func:`quiet_git_probe`: lm-eval records ``git describe`` of the working directory, and git prints
  ``fatal: not a git repository`` on every evaluation run outside a checkout; the same probe, quiet.
"""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from typing import Any, Iterator

from benchseal.errors import UsageError


def _leaf_tasks(task_dict: dict[Any, Any]) -> Iterator[Any]:
    for value in task_dict.values():
        if isinstance(value, dict):
            yield from _leaf_tasks(value)
        else:
            yield value


def split_problems(task: Any, shots: int) -> list[str]:
    """The few-shot and evaluation-split problems of one lm-eval task object (empty when it can run)."""
    cfg = getattr(task, "config", None)
    name = getattr(cfg, "task", None) or type(task).__name__
    out: list[str] = []
    eval_docs = list(task.eval_docs)
    eval_split = getattr(cfg, "test_split", None) or getattr(cfg, "validation_split", None) or "evaluation"
    if not eval_docs:
        out.append(f"task {name} has no items in its {eval_split} split")
    if shots > 0:
        pool = list(task.fewshot_docs() or [])
        few_split = (getattr(cfg, "fewshot_split", None) or getattr(cfg, "training_split", None)
                     or getattr(cfg, "validation_split", None) or eval_split)
        need = shots + 1 if few_split == eval_split else shots
        if len(pool) < need:
            same = " (the evaluated split itself, so one more than the shots)" if need > shots else ""
            out.append(f"task {name} asks for {shots} few-shot example(s) but its few-shot split {few_split!r} holds "
                       f"{len(pool)} item(s){same}")
    return out


def check_suite_splits(lm_eval_tasks: Any, suite: Any, task_manager: Any) -> None:
    """Raise one :class:`UsageError` naming every task of the suite that lm-eval could not run with its
    few-shot count (an empty split, a few-shot split smaller than the shots), before any model loads."""
    by_shots: dict[int, list[str]] = {}
    for t in suite.tasks:
        by_shots.setdefault(t.num_fewshot, []).append(t.task)
    problems: list[str] = []
    for shots, names in by_shots.items():
        try:
            task_dict = lm_eval_tasks.get_task_dict(names, task_manager)
        except Exception:  # noqa: BLE001 - a task that does not even load is lm-eval's to report, as before
            continue
        problems += [p for t in _leaf_tasks(task_dict) for p in split_problems(t, shots)]
    if problems:
        raise UsageError(
            f"suite '{suite.name}' cannot be evaluated as written: " + "; ".join(problems[:5])
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""),
            hint="import the benchmark's complete splits (benchseal datasets import), or use a custom suite with fewer shots",
        )


def _quiet_git_commit_hash() -> str | None:
    """lm-eval's ``get_git_commit_hash`` (loggers/utils.py, 0.4.13) with git's stderr discarded."""
    from lm_eval.loggers.utils import get_commit_from_path

    try:
        return subprocess.check_output(["git", "describe", "--always"], stderr=subprocess.DEVNULL).strip().decode()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return get_commit_from_path(os.getcwd())


@contextmanager
def quiet_git_probe() -> Iterator[None]:
    """Within the block, lm-eval's evaluator records the same git hash without git's ``fatal:`` line."""
    try:
        import lm_eval.evaluator as ev
    except ImportError:  # pragma: no cover - lm-eval missing is reported where it is required
        yield
        return
    before = getattr(ev, "get_git_commit_hash", None)
    if before is None:
        yield
        return
    ev.get_git_commit_hash = _quiet_git_commit_hash
    try:
        yield
    finally:
        ev.get_git_commit_hash = before
