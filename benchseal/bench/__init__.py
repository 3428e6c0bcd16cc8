"""benchseal.bench: the model and its speed, as three components that never import each other
except downwards (``model`` and ``perf`` < ``utilisation``):

- :mod:`benchseal.bench.model` — model identity: files, safetensors/GGUF readers, quantisation,
  counting rules, parameter counts, digests (``model.json``);
- :mod:`benchseal.bench.perf` — load generation and latency: backends behind one Protocol and one
  typed spec each, the HTTP/SSE transport, workloads, the load generator, metrics (``perf/``);
- :mod:`benchseal.bench.utilisation` — the FLOPs model, MFU/MBU and energy per load point.

Heavy libraries (torch, transformers, vllm, pandas) load inside the functions.
"""
