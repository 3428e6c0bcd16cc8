"""benchseal.bench.utilisation: how well the run used the GPU.

Public face: :class:`FlopsModel` (analytic FLOPs and bytes per token from the model config) and
:func:`annotate` (pure: MFU, MBU and energy per token added to each load point's summary).
"""

from benchseal.bench.utilisation.flops import FlopsModel
from benchseal.bench.utilisation.mfu import annotate

__all__ = ["FlopsModel", "annotate"]
