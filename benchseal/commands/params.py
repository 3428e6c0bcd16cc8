"""``benchseal params MODEL``: parameter count (total / active / embedding) with its breakdown."""

from __future__ import annotations

import argparse

from benchseal.commands._common import add_json_flag, print_json

# Program thresholds shown next to the count: (label, op, value)
THRESHOLDS = (
    ("湖南: 参数规模应达到8亿以上 (>= 8×10^8)", ">=", 8 * 10**8),
    ("松江: 参数量超过千亿 (> 10^11)", ">", 10**11),
)
_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b}


def add_model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="model directory (Hugging Face layout), .safetensors, .gguf or config.json file")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow running the model repository's own Python code when transformers does not know the architecture")
    p.add_argument("--allow-pickle", action="store_true",
                   help="read .bin/.pt weights with torch.load(weights_only=True) (never unpickled otherwise)")


def register(subparsers) -> None:
    p = subparsers.add_parser("params", help="count a model's parameters (total, active, embedding)",
                              description="Count parameters from safetensors/GGUF headers (no tensor data read, no torch import); "
                                          "from config.json when there are no weights (by arithmetic for the "
                                          "architectures benchseal knows, else on transformers' meta device), and "
                                          "also on the meta device with --cross-check.")
    add_model_flags(p)
    p.add_argument("--cross-check", action="store_true",
                   help="also count from config.json on the meta device (imports torch/transformers) and report any "
                        "disagreement with the weights and with the analytic count; without weights the config "
                        "count is made anyway")
    add_json_flag(p)
    p.set_defaults(func=run)


def fmt(n: int) -> str:
    return f"{n:,}  ({n / 1e8:,.2f} 亿, {n / 1e9:,.3f} B)"


def thresholds(total: int) -> dict[str, bool]:
    return {label: _OPS[op](total, value) for label, op, value in THRESHOLDS}


def run(args: argparse.Namespace) -> int:
    from benchseal.bench.model.inspect import inspect_model

    card = inspect_model(args.model, trust_remote_code=args.trust_remote_code, allow_pickle=args.allow_pickle,
                         with_digests=False, cross_check=getattr(args, "cross_check", False))
    pc = card.params
    if args.json:
        doc = pc.model_dump(mode="json")
        doc["by_method"] = {m: c.model_dump(mode="json") for m, c in card.params_by_method.items()}
        doc["discrepancies"] = card.discrepancies
        doc["thresholds"] = {label: {"op": op, "value": value, "met": _OPS[op](pc.total, value)} for label, op, value in THRESHOLDS}
        print_json(doc)
        return 0
    lines = [f"model:          {card.source}",
             f"architecture:   {pc.architecture or '-'}   dtype: {pc.dtype or '-'}   method: {pc.method}",
             f"total:          {fmt(pc.total)}"]
    if pc.active != pc.total:
        lines.append(f"active/token:   {fmt(pc.active)}   ({pc.experts_per_token} of {pc.experts} routed experts)")
    lines += [f"embedding:      {fmt(pc.embedding)}", f"non-embedding:  {fmt(pc.non_embedding)}"]
    if pc.active_by_convention:
        from benchseal.bench.model.rules import CONVENTIONS

        lines.append("active per token, by convention (match the one your model card uses; the claim uses 'all'):")
        lines += [f"  {CONVENTIONS.get(k, k):<72} {v / 1e9:>10,.3f} B  ({v:,})" for k, v in pc.active_by_convention.items()]
    lines.append("breakdown:")
    lines += [f"  {k:<15} {v:>20,}" for k, v in pc.breakdown.items()]
    lines += [f"  not counted: {k} {v:,}" for k, v in pc.excluded.items()]
    for m, c in card.params_by_method.items():
        if m != pc.method:
            lines.append(f"also counted by {m}: total {c.total:,}, active {c.active:,}")
    lines.append("discrepancies:  " + ("none" if len(card.params_by_method) > 1 and not card.discrepancies
                                       else "- (not cross-checked; add --cross-check)" if not card.discrepancies
                                       and len(card.params_by_method) == 1 and pc.method != "config-meta"
                                       else "-" if not card.discrepancies else ""))
    lines += [f"  ! {d}" for d in card.discrepancies]
    for label, met in thresholds(pc.total).items():
        lines.append(f"{'meets' if met else 'does NOT meet'}: {label}")
    lines += [f"note: {n}" for n in pc.notes]
    print("\n".join(lines))
    return 0
