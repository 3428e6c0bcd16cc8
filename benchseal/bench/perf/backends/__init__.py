"""Backends: one interface (:mod:`benchseal.bench.perf.backends.base`), chosen by name.

The registry maps a name to an import path, so a backend's heavy libraries (torch, vllm) are
imported only when that backend is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from benchseal.bench.perf.backends.base import GenRequest, OfflineBackend, StreamingBackend
from benchseal.errors import UsageError

BACKENDS: dict[str, str] = {
    "openai": "benchseal.bench.perf.backends.openai:OpenAIBackend",
    "vllm-serve": "benchseal.bench.perf.backends.vllm_serve:VLLMServeBackend",
    "hf": "benchseal.bench.perf.backends.hf:HFBackend",
    "vllm": "benchseal.bench.perf.backends.vllm_engine:VLLMEngineBackend",
}


def backend_class(name: str) -> type:
    """The class registered under ``name`` (imports its module)."""
    try:
        target = BACKENDS[name]
    except KeyError:
        raise UsageError(f"unknown backend '{name}'", hint=f"choose one of {', '.join(BACKENDS)}") from None
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise UsageError(f"the '{name}' backend is not available in this build", where=module_name) from None
        raise
    return getattr(module, attr)


def get_backend(name: str, **options: Any) -> StreamingBackend | OfflineBackend:
    """Build the backend ``name`` with ``options`` passed as keyword arguments to its constructor."""
    return backend_class(name)(**options)


__all__ = ["BACKENDS", "GenRequest", "OfflineBackend", "StreamingBackend", "backend_class", "get_backend"]
