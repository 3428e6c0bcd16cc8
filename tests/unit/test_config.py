"""Config search order: --config-dir folders, then $BENCHSEAL_CONFIG_DIR, then the shipped configs/."""

from __future__ import annotations

import pytest

from benchseal import config
from benchseal.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    config.reset_config_dirs()
    yield
    config.reset_config_dirs()


def test_shipped_configs_found_through_the_package():
    d = config.packaged_config_dir()
    assert (d / "gpus.yaml").is_file() and (d / "programs" / "hunan-2025.yaml").is_file()
    assert config.config_dirs() == [d]
    assert config.config_path("gpus.yaml") == d / "gpus.yaml"


def test_user_folders_override_and_extend(tmp_path, monkeypatch):
    env_dir, flag_dir = tmp_path / "env", tmp_path / "flag"
    for d in (env_dir, flag_dir):
        (d / "workloads").mkdir(parents=True)
    (env_dir / "workloads" / "demo-cpu.yaml").write_text("x: env\n")
    (env_dir / "workloads" / "mine.yaml").write_text("x: env\n")
    (flag_dir / "workloads" / "mine.yaml").write_text("x: flag\n")
    monkeypatch.setenv(config.ENV_VAR, str(env_dir))
    config.add_config_dirs([flag_dir])
    assert config.config_dirs()[:2] == [flag_dir, env_dir]
    assert config.config_path("workloads", "mine.yaml").read_text() == "x: flag\n"  # --config-dir first
    assert config.config_path("workloads", "demo-cpu.yaml").read_text() == "x: env\n"  # overrides the shipped one
    assert config.config_path("gpus.yaml") == config.packaged_config_dir() / "gpus.yaml"  # falls through
    names = [p.name for p in config.config_files("workloads")]
    assert names == sorted(set(names)) and "mine.yaml" in names and "offline-throughput.yaml" in names
    assert config.config_files("workloads")[names.index("demo-cpu.yaml")].parent == env_dir / "workloads"


def test_missing_user_folders_are_one_clear_error(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="does not exist"):
        config.add_config_dirs([tmp_path / "nope"])
    monkeypatch.setenv(config.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="BENCHSEAL_CONFIG_DIR"):
        config.config_dirs()
