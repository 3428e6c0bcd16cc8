"""The few-shot / empty-split guard on lm-eval task objects (the rule lm-eval's sampler applies)."""

from __future__ import annotations

from types import SimpleNamespace

from benchseal.evaluators.guards import split_problems


def _task(eval_n: int, few_n: int, *, fewshot_split: str | None = "train", test_split: str = "test"):
    cfg = SimpleNamespace(task="arc_challenge", test_split=test_split, validation_split=None, fewshot_split=fewshot_split,
                          training_split="train")
    return SimpleNamespace(config=cfg, eval_docs=[{}] * eval_n, fewshot_docs=lambda: [{}] * few_n)


def test_enough_shots_pass():
    assert split_problems(_task(3, 25), 25) == []
    assert split_problems(_task(3, 0), 0) == []


def test_fewer_training_items_than_shots_is_one_sentence():
    (p,) = split_problems(_task(3, 3), 25)
    assert p == "task arc_challenge asks for 25 few-shot example(s) but its few-shot split 'train' holds 3 item(s)"


def test_shots_from_the_evaluated_split_need_one_more():
    """lm-eval samples n + 1 from the evaluated split and drops the item itself (api/samplers.py)."""
    t = _task(5, 5, fewshot_split="test")
    t.config.training_split = None
    assert split_problems(t, 5) and not split_problems(t, 4)


def test_empty_evaluation_split():
    assert split_problems(_task(0, 25), 5) == ["task arc_challenge has no items in its test split"]


def test_the_git_probe_is_quiet_outside_a_checkout(tmp_path, monkeypatch, capfd):
    """lm-eval records `git describe` of the working directory; outside a checkout git printed
    `fatal: not a git repository` on every evaluation run."""
    pytest = __import__("pytest")
    pytest.importorskip("lm_eval")
    import lm_eval.evaluator as ev

    from benchseal.evaluators.guards import quiet_git_probe

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    before = ev.get_git_commit_hash
    with quiet_git_probe():
        assert ev.get_git_commit_hash() is None
    assert ev.get_git_commit_hash is before
    assert "fatal" not in capfd.readouterr().err
