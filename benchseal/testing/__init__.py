"""benchseal.testing: what tests, the demo and the scripts use to exercise benchseal without a GPU
or a model hub — the controllable streaming test server (:mod:`benchseal.testing.server`), the
tiny-model factory (:mod:`benchseal.testing.tiny`) and published model configs
(:mod:`benchseal.testing.published_configs`). Shipped with the package so ``benchseal demo`` works
from a wheel; nothing in the product imports it except the demo command.
"""
