"""--eval-concurrency: lm-eval keeps N requests in flight to a served endpoint (its num_concurrent), the
value is recorded with the model arguments, and it is refused where it would be silently ignored."""

from __future__ import annotations

import pytest

from benchseal.errors import UsageError
from benchseal.evaluators.backends import BackendOptions, build_lms


def test_num_concurrent_reaches_lm_eval_and_is_recorded():
    pytest.importorskip("lm_eval")
    lms = build_lms("openai", BackendOptions(model="m", base_url="http://127.0.0.1:9/v1", concurrency=8), {"generate"})
    elm = lms["generate"]
    assert elm.lm._concurrent == 8 and elm.recorded_args["num_concurrent"] == 8
    with pytest.raises(UsageError, match="at least 1"):
        build_lms("openai", BackendOptions(model="m", base_url="http://127.0.0.1:9/v1", concurrency=0), {"generate"})


def test_cli_refuses_concurrency_for_in_process_backends(run_cli, tmp_path):
    code, _, err = run_cli("eval", "run", "demo", "--backend", "hf", "--model", tmp_path, "--eval-concurrency", "4",
                           "--out", tmp_path / "b")
    assert code == 2 and "served endpoint" in err
