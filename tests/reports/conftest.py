"""Fixtures for report tests (and for the signing / verification tests that reuse the bundle)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reports.bundle_factory import make_sample_bundle


@pytest.fixture(scope="session")
def sample_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete bundle (hunan-2025 claims, all passing). Read-only: copy it before changing it."""
    return make_sample_bundle(tmp_path_factory.mktemp("sample") / "bundle")


@pytest.fixture
def sample_bundle_copy(sample_bundle: Path, tmp_path: Path) -> Path:
    """A private copy of ``sample_bundle`` that a test may modify."""
    return Path(shutil.copytree(sample_bundle, tmp_path / "bundle"))
