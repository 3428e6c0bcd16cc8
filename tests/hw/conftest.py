"""Fixtures installing the NVML replay (see nvml_replay.py) in place of pynvml."""

from __future__ import annotations

import sys
import types

import pytest

from nvml_replay import load_fixture, make_fake_pynvml


@pytest.fixture
def fake_nvml(monkeypatch):
    """Install a fake pynvml replaying a fixture: ``fake_nvml('nvml_h100_sxm5_x2.json')``; None = no driver."""

    def _install(name: str | None, **kw) -> types.ModuleType:
        mod = make_fake_pynvml(load_fixture(name) if name else None, **kw)
        monkeypatch.setitem(sys.modules, "pynvml", mod)
        return mod

    return _install


@pytest.fixture
def no_gpu(fake_nvml):
    """Behave like this machine: NVML library not found (independent of the test host)."""
    return fake_nvml(None)
