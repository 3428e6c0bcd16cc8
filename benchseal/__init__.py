"""benchseal: measure an LLM on real hardware against funding-program claims and seal the evidence.

Importing this package is cheap: it never imports torch, transformers, vllm, lm_eval or ray.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
