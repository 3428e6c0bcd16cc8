"""benchseal.bench.model: model identity (``model.json``).

Public face: :func:`inspect_model` (parameter counts, architecture card, digests),
:func:`count_params`, :func:`digest_model`, :func:`model_digest` (pure), :func:`check_digests`.
Safetensors and GGUF headers are read without torch; torch/transformers load only for a
config-only count or a cross-check.
"""

from benchseal.bench.model.digest import check_digests, digest_model, model_digest
from benchseal.bench.model.inspect import inspect_model
from benchseal.bench.model.params import count_params

__all__ = ["check_digests", "count_params", "digest_model", "inspect_model", "model_digest"]
