"""Shared, session-scoped evaluation runs (lm-eval on the tiny llama model, CPU) for tests/eval."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_run(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo suite run once through benchseal (hf backend); returns the bundle root."""
    from benchseal.evaluators import run_suite

    out = tmp_path_factory.mktemp("bundle")
    run_suite("demo", model=str(tiny_llama), backend="hf", out_dir=out, device="cpu", model_digest="sha256:test")
    return out


@pytest.fixture(scope="session")
def demo_dir(demo_run: Path) -> Path:
    return demo_run / "eval" / "demo"
