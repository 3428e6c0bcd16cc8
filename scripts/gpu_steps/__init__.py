"""The steps of the GPU validation kit, one module each (``scripts/gpu_check.py`` dispatches to them)."""
