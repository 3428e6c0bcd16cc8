"""Counting rules for quantised checkpoints: which stored tensors are parameters, and how many
logical parameters a packed integer tensor holds.

A rule is chosen from ``quantization_config.quant_method`` in config.json (or quantize_config.json),
else from tensor names. Rules (see docs/metrics.md):

- gptq / awq: ``*.qweight`` packs ``storage_bits / bits`` values per element (int32 holds 8 int4
  values) and counts as that many logical parameters; ``*.qzeros``, ``*.scales``, ``*.g_idx`` are
  quantisation metadata, not parameters.
- compressed-tensors (pack-quantized): ``*.weight_packed`` as above; ``*.weight_scale``,
  ``*.weight_zero_point``, ``*.weight_g_idx``, ``*.weight_shape`` are metadata.
- fp8 / fbgemm_fp8 (incl. DeepSeek block-wise FP8): FP8 weights count one parameter per element;
  ``*.weight_scale_inv``, ``*.weight_scale``, ``*.input_scale``, ``*.k_scale``, ``*.v_scale`` are metadata.
- bitsandbytes: a uint8 ``*.weight`` with a ``*.weight.quant_state.bitsandbytes__nf4/fp4`` companion
  holds two 4-bit values per byte; ``absmax``, ``quant_map``, ``nested_*``, ``quant_state``, ``SCB``
  are metadata.
- mxfp4 (OpenAI gpt-oss): a uint8 ``*_blocks`` tensor holds two FP4 (E2M1) values per byte, so it
  counts as twice its elements; ``*_scales`` (one shared E8M0 exponent per 32 values) are metadata.
- modelopt NVFP4 (``quant_algo: NVFP4``): a uint8 ``*.weight`` holds two FP4 values per byte;
  ``*.weight_scale`` (FP8 per 16 values), ``*.weight_scale_2``, ``*.input_scale`` are metadata.
  compressed-tensors ``nvfp4-pack-quantized`` is covered by the compressed-tensors rule (num_bits 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from benchseal.bench.model.safetensors_io import DTYPE_BITS
from benchseal.errors import ModelFormatError

_FP8_META = (".weight_scale_inv", ".weight_scale", ".input_scale", ".k_scale", ".v_scale", ".output_scale", ".activation_scale")


@dataclass(frozen=True)
class QuantRule:
    method: str
    description: str
    packed: tuple[str, ...] = ()  # name suffixes of integer tensors packing several low-bit values
    metadata: tuple[str, ...] = ()  # name suffixes of tensors that are not parameters
    metadata_contains: tuple[str, ...] = ()
    needs_bits: bool = False
    packed_dtypes: tuple[str, ...] = ()  # when set, only tensors stored in these dtypes are packed
    default_bits: int | None = None


RULES: dict[str, QuantRule] = {
    "gptq": QuantRule("gptq", "GPTQ: qweight unpacked to logical int{bits} parameters; qzeros/scales/g_idx not counted",
                      packed=(".qweight",), metadata=(".qzeros", ".scales", ".g_idx"), needs_bits=True),
    "awq": QuantRule("awq", "AWQ: qweight unpacked to logical int{bits} parameters; qzeros/scales not counted",
                     packed=(".qweight",), metadata=(".qzeros", ".scales"), needs_bits=True),
    "compressed-tensors": QuantRule(
        "compressed-tensors", "compressed-tensors: weight_packed unpacked to logical int{bits}; scales/zero points/shapes not counted",
        packed=(".weight_packed",),
        metadata=(".weight_scale", ".weight_zero_point", ".weight_g_idx", ".weight_shape", ".weight_global_scale",
                  ".input_global_scale") + _FP8_META, needs_bits=False),
    "fp8": QuantRule("fp8", "FP8: one parameter per FP8 element; weight_scale(_inv)/input_scale/kv scales not counted",
                     metadata=_FP8_META),
    "bitsandbytes": QuantRule(
        "bitsandbytes", "bitsandbytes: 4-bit uint8 weights hold two parameters per byte; absmax/quant_map/quant_state/SCB not counted",
        metadata=(".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map", ".SCB", ".weight_format"),
        metadata_contains=(".quant_state.",)),
    "mxfp4": QuantRule("mxfp4", "MXFP4: uint8 *_blocks hold two FP4 (E2M1) parameters per byte; *_scales (E8M0 "
                                "exponents, one per 32 values) not counted",
                       packed=("_blocks",), metadata=("_scales",), packed_dtypes=("U8", "uint8"), default_bits=4),
    "nvfp4": QuantRule("nvfp4", "NVFP4 (modelopt): uint8 weights hold two FP4 (E2M1) parameters per byte; "
                                "weight_scale/weight_scale_2/input_scale not counted",
                       packed=(".weight",), metadata=(".weight_scale_2",) + _FP8_META, packed_dtypes=("U8", "uint8"),
                       default_bits=4),
}
ALIASES = {"fbgemm_fp8": "fp8", "finegrained_fp8": "fp8", "modelopt": "fp8", "gptq_marlin": "gptq", "awq_marlin": "awq",
           "bitsandbytes_4bit": "bitsandbytes", "bitsandbytes_8bit": "bitsandbytes"}


class UnsupportedQuantisation(ModelFormatError):
    """quantization_config names a method whose packing benchseal does not know."""


@dataclass(frozen=True)
class Quant:
    rule: QuantRule
    bits: int | None
    source: str  # where the rule came from

    @property
    def note(self) -> str:
        return f"quantisation rule ({self.source}): " + self.rule.description.format(bits=self.bits)

    def count(self, name: str, dtype: str, numel: int, bnb4: set[str]) -> tuple[int, str | None]:
        """Logical parameters of one stored tensor, or (0, reason) when it is not a parameter."""
        r = self.rule
        if name.endswith(r.metadata) or (r.metadata_contains and any(s in name for s in r.metadata_contains)):
            return 0, "quantisation metadata"
        if r.packed and name.endswith(r.packed) and (not r.packed_dtypes or dtype in r.packed_dtypes):
            storage = DTYPE_BITS.get(dtype, 32)
            return numel * storage // self.bits, None
        if r.method == "bitsandbytes" and name in bnb4:
            return numel * 2, None
        return numel, None


def _bits(qc: dict[str, Any]) -> int | None:
    for key in ("bits", "w_bit", "num_bits"):
        if isinstance(qc.get(key), int):
            return qc[key]
    for group in (qc.get("config_groups") or {}).values():
        w = (group or {}).get("weights") or {}
        if isinstance(w.get("num_bits"), int):
            return w["num_bits"]
    if qc.get("load_in_4bit"):
        return 4
    if qc.get("load_in_8bit"):
        return 8
    return None


def find_quant_config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """``quantization_config`` wherever config.json puts it: at the top level, or nested in a sub-config
    (a multimodal model's ``text_config``, as Moonshot's Kimi-K2.5 does; transformers reads it there too)."""
    config = config or {}
    qc = config.get("quantization_config")
    if isinstance(qc, dict) and qc:
        return qc
    for key, sub in config.items():
        if isinstance(sub, dict) and key.endswith("_config"):
            qc = sub.get("quantization_config")
            if isinstance(qc, dict) and qc:
                return qc
    return None


def detect(config: dict[str, Any] | None, names: Iterable[str], *, where: str,
           extra_config: dict[str, Any] | None = None) -> Quant | None:
    """The counting rule for a checkpoint, or None for an unquantised one."""
    qc = find_quant_config(config) or extra_config
    if isinstance(qc, dict) and qc:
        method = str(qc.get("quant_method") or ("gptq" if "bits" in qc else "")).lower()
        method = ALIASES.get(method, method)
        if method == "fp8" and "NVFP4" in str(qc.get("quant_algo", "")).upper():  # modelopt NVFP4
            method = "nvfp4"
        rule = RULES.get(method)
        if rule is None:
            raise UnsupportedQuantisation(
                f"unsupported quantisation method {method!r} in quantization_config", where=where,
                hint=f"benchseal counts {', '.join(RULES)}; count an unquantised copy of the model instead",
            )
        bits = _bits(qc) if rule.default_bits is None else rule.default_bits
        if rule.needs_bits and not bits:
            raise ModelFormatError(f"quantization_config for {method} has no 'bits'", where=where,
                                   hint="add the bit width (e.g. \"bits\": 4) to quantization_config")
        return Quant(rule, bits, "from quantization_config")
    names = list(names)
    if any(n.endswith(".qweight") for n in names):
        raise ModelFormatError(
            "packed GPTQ/AWQ tensors (qweight) found but no quantization_config gives their bit width", where=where,
            hint="keep config.json (or quantize_config.json) next to the weights",
        )
    if any(n.endswith(".weight_packed") for n in names):
        raise ModelFormatError(
            "packed compressed-tensors weights (weight_packed) found but no quantization_config gives their bit width",
            where=where, hint="keep config.json (with its quantization_config) next to the weights",
        )
    if any(n.endswith("_blocks") for n in names) and any(n.endswith("_scales") for n in names):
        return Quant(RULES["mxfp4"], 4, "detected from tensor names (*_blocks with *_scales)")
    if any(n.endswith(_FP8_META) for n in names):
        return Quant(RULES["fp8"], 8, "detected from tensor names")
    return None


def bnb4_weights(names: Iterable[str]) -> set[str]:
    """Names of bitsandbytes 4-bit packed weights (those with a quant_state companion)."""
    out = set()
    for n in names:
        i = n.find(".quant_state.bitsandbytes__")
        if i > 0:
            out.add(n[:i])
    return out
