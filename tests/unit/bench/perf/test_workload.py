"""Synthetic workloads: exact token lengths, seeding, the prompt-set digest, tokenizer errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from benchseal.bench.perf.workload import Workload, WorkloadSpec, build_workload, load_tokenizer, prompt_set_sha256
from benchseal.errors import ConfigError, ExitCode, UsageError


@pytest.fixture(scope="module")
def tok(tiny_llama: Path):
    return load_tokenizer(str(tiny_llama))


def _server_count(tok, prompt) -> int:
    """How a server counts the prompt: completions add special tokens; chat renders the template."""
    if isinstance(prompt, list):
        text = tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        return len(tok.encode(text, add_special_tokens=False))
    return len(tok.encode(prompt, add_special_tokens=True))










def test_tokenizer_errors_exit_2(tmp_path: Path):
    with pytest.raises(UsageError, match="need a tokenizer") as e1:
        build_workload(WorkloadSpec(), model_path_or_tokenizer=None)
    with pytest.raises(UsageError, match="cannot load a tokenizer") as e2:
        build_workload(WorkloadSpec(tokenizer=str(tmp_path / "nope")), model_path_or_tokenizer=None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError) as e3:
        build_workload(WorkloadSpec(), model_path_or_tokenizer=str(tmp_path / "empty"))
    for e in (e1, e2, e3):
        assert e.value.exit_code == ExitCode.BAD_INPUT




def test_spec_validation():
    with pytest.raises(ValidationError):
        WorkloadSpec(kind="jsonl")  # needs prompts_path
    with pytest.raises(ValidationError):
        WorkloadSpec(input_len=0)
    with pytest.raises(ValidationError):
        WorkloadSpec(prompt_len=3)  # extra fields are rejected
    spec = WorkloadSpec()
    assert (spec.kind, spec.input_len, spec.output_len, spec.num_prompts, spec.ignore_eos) == ("synthetic", 128, 64, 32, True)
