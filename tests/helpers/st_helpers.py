"""Moved to benchseal.testing.safetensors_files (shared with scripts/bench_params.py)."""

from benchseal.testing.safetensors_files import header_for, write_raw, write_sharded, write_st  # noqa: F401
