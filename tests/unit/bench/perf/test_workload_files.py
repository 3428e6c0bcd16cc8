"""JSONL and ShareGPT prompt files, and the shipped workload profiles in configs/workloads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchseal.bench.perf.workload import WorkloadSpec, build_workload, parse_prompts_jsonl, parse_sharegpt
from benchseal.errors import ConfigError, ExitCode, UsageError
from benchseal.io import load_yaml, validate
from tests.helpers import REPO




def _jsonl(tmp_path: Path, *lines: str) -> str:
    p = tmp_path / "prompts.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(p)


def _build_jsonl(path: str, **kw):
    return build_workload(WorkloadSpec(kind="jsonl", prompts_path=path, **kw), model_path_or_tokenizer=None)




@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"prompt": "a", "max_tokens": 3}', '{"prompt": "b", "max_tokens": 3'], r"invalid JSON.*line 2"),
        (['{"prompt": "a", "max_tokens": 3}', '{"prompt": "b"}'], r'missing field "max_tokens".*line 2'),
        (['{"max_tokens": 3}'], r'missing field "prompt".*line 1'),
        (['{"prompt": "a", "max_tokens": 0}'], r"positive integer, got 0.*line 1"),
        (['{"prompt": "a", "max_tokens": -4}'], r"positive integer, got -4"),
        (['{"prompt": "a", "max_tokens": true}'], r"positive integer"),
        (['{"prompt": "a", "max_tokens": 2.5}'], r"positive integer"),
        (['{"prompt": "", "max_tokens": 2}'], r"non-empty string"),
        (['["a", 3]'], r"JSON object"),
        (['{"prompt": "a", "max_tokens": 2, "temperature": 1}'], r"unknown field\(s\) temperature"),
    ],
)
def test_jsonl_bad_lines(tmp_path: Path, lines: list[str], message: str):
    path = _jsonl(tmp_path, *lines)
    with pytest.raises(ConfigError, match=message) as exc:
        _build_jsonl(path)
    assert str(path) in str(exc.value) and exc.value.exit_code == ExitCode.BAD_INPUT


def test_jsonl_missing_and_empty_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="prompts file not found"):
        _build_jsonl(str(tmp_path / "absent.jsonl"))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="prompts file is empty"):
        _build_jsonl(str(empty))


def _conv(human: str, reply: str) -> dict:
    return {"id": "x", "conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": reply}]}







def test_prompt_and_sharegpt_files_are_bounded(tmp_path):
    """Prompt and ShareGPT files: a FIFO, /dev/zero, a folder, 3,000-deep JSON or a 5,000-digit integer
    is one clear error (issue 11), never a hang, MemoryError or traceback."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"prompt": ' + "[" * 3000 + "]" * 3000 + ', "max_tokens": 1}\n')
    big = tmp_path / "big.jsonl"
    big.write_text('{"prompt": "a", "max_tokens": ' + "9" * 5000 + "}\n")
    for path in (fifo, "/dev/zero", tmp_path, deep, big):
        with pytest.raises(ConfigError):
            parse_prompts_jsonl(str(path))
    with pytest.raises(ConfigError):
        parse_sharegpt(str(fifo))
    sg = tmp_path / "sg.json"
    sg.write_text("[" * 3000 + "]" * 3000)
    with pytest.raises(ConfigError):
        parse_sharegpt(str(sg))
