"""Foundation: package metadata, CLI basics, lazy imports, error mapping, gpu marker policy. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import pytest
import benchseal
from benchseal.errors import ConfigError, ExitCode, UsageError
from benchseal.io import load_yaml_model, write_json
from benchseal.schema import SCHEMA_VERSION, ParamCount
from tests.unit.test_foundation import HEAVY, _HELP, _imported_after  # noqa: F401


def test_tiny_models_load_offline(tiny_llama, tiny_qwen2, tiny_mixtral):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    for path, model_type in ((tiny_llama, "llama"), (tiny_qwen2, "qwen2"), (tiny_mixtral, "mixtral")):
        assert AutoConfig.from_pretrained(path).model_type == model_type
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path)
        ids = tok("the model", return_tensors="pt")
        out = model.generate(**ids, max_new_tokens=3, do_sample=False, min_new_tokens=3)
        assert out.shape[1] == ids["input_ids"].shape[1] + 3
    qwen = AutoModelForCausalLM.from_pretrained(tiny_qwen2)
    assert qwen.get_input_embeddings().weight.data_ptr() == qwen.get_output_embeddings().weight.data_ptr()
