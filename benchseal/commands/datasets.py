"""`benchseal datasets`: prepare (download + manifest), import (from local files) and verify the local data of a
suite, with the metric scripts its tasks load at run time (HumanEval's code_eval)."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchseal.commands._common import add_json_flag, console, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="prepare and verify the local evaluation data of a suite",
                       description="Evaluation data is read only from a local --data-dir whose files are checked "
                                   "against sha256 manifests. `prepare` (needs Hugging Face Hub access) downloads "
                                   "what a suite needs and writes the manifests; `import` builds the same from files "
                                   "you have; both install the metric scripts a suite's tasks load (HumanEval: "
                                   "code_eval) from benchseal's own copy; `verify` checks everything offline.")
    dsub = p.add_subparsers(dest="datasets_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    for name, helptext, func in (
        ("prepare", "download a suite's datasets into DIR and write their manifests (needs hub access)", _prepare),
        ("verify", "check a suite's datasets in DIR against their manifests (offline)", _verify),
    ):
        s = dsub.add_parser(name, help=helptext)
        s.add_argument("suite", help="suite name or suite YAML path")
        s.add_argument("--data-dir", required=name == "prepare", metavar="DIR", help="local data directory")
        add_json_flag(s)
        s.set_defaults(func=func)
    im = dsub.add_parser("import", help="build a suite's local data and manifests from files you already have (offline)",
                         description="For air-gapped machines: read the benchmark's files as published (JSONL, JSON, "
                                     "Parquet or CSV, e.g. copied from ModelScope or a USB stick) from --source and write "
                                     "the same verified local mirror `prepare` writes.")
    im.add_argument("suite", help="suite name or suite YAML path")
    im.add_argument("--source", required=True, metavar="DIR", help="folder with the benchmark's files (per dataset: DIR/<name>, DIR/<hub id> or DIR)")
    im.add_argument("--data-dir", required=True, metavar="DIR", help="local data directory to write")
    add_json_flag(im)
    im.set_defaults(func=_import)
    ls = dsub.add_parser("list", help="list the suites and the datasets they need")
    add_json_flag(ls)
    ls.set_defaults(func=_list)


def _data_dir(args: argparse.Namespace, suite) -> Path:
    from benchseal.errors import UsageError

    d = Path(args.data_dir) if args.data_dir else suite.default_data_dir()
    if d is None:
        raise UsageError(f"suite '{suite.name}' needs --data-dir", hint="give the folder written by `benchseal datasets prepare`")
    return d


def _prepare(args: argparse.Namespace) -> int:
    from benchseal.evaluators import load_suite, prepare_suite_data, verify_suite_data

    suite = load_suite(args.suite)
    d = Path(args.data_dir)
    manifests = prepare_suite_data(suite, d)
    combined = verify_suite_data(suite, d)
    if args.json:
        print_json({"suite": suite.name, "data_dir": str(d.resolve()), "prepared": sorted(manifests), "verified": combined})
    else:
        for name, m in manifests.items():
            console().print(f"{name}: {len(m['files'])} files, revision {m.get('revision') or '-'}")
        _print_metrics(combined)
        console().print(f"suite {suite.name}: data verified, manifest sha256 {combined['sha256']}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from benchseal.evaluators import load_suite, verify_suite_data
    from benchseal.evaluators.datasets import import_suite_data

    suite = load_suite(args.suite)
    d = Path(args.data_dir)
    manifests = import_suite_data(suite, Path(args.source), d)
    combined = verify_suite_data(suite, d)
    if args.json:
        print_json({"suite": suite.name, "data_dir": str(d.resolve()), "imported": sorted(manifests), "verified": combined})
    else:
        for name, m in manifests.items():
            rows = ", ".join(f"{c}/{s}: {n}" for c, splits in m.get("rows", {}).items() for s, n in splits.items())
            console().print(f"{name}: {rows}")
        _print_metrics(combined)
        console().print(f"suite {suite.name}: data imported and verified, manifest sha256 {combined['sha256']}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from benchseal.evaluators import load_suite, verify_suite_data

    suite = load_suite(args.suite)
    combined = verify_suite_data(suite, _data_dir(args, suite))
    if args.json:
        print_json(combined)
    else:
        for name, v in combined["datasets"].items():
            console().print(f"{name}: {len(v['manifest']['files'])} files OK (manifest {v['manifest_sha256'][:12]}…)")
        _print_metrics(combined)
        console().print(f"suite {suite.name}: data verified, manifest sha256 {combined['sha256']}")
    return 0


def _print_metrics(combined: dict) -> None:
    """One line per evaluate metric installed for offline runs (HumanEval's code_eval)."""
    for name, v in (combined.get("metrics") or {}).items():
        src = v["manifest"].get("source") or {}
        files = ", ".join(f"{f['path']} {f['sha256'][:12]}…" for f in v["manifest"]["files"])
        console().print(f"metric {name} (evaluate {src.get('tag', '?')}, commit {str(src.get('commit', '?'))[:12]}): "
                        f"{files} in {v['folder']}")


def _list(args: argparse.Namespace) -> int:
    from benchseal.evaluators import list_suites, load_suite

    rows = []
    for name in list_suites():
        s = load_suite(name)
        rows.append({"suite": s.name, "opt_in": s.opt_in, "tasks": [f"{t.task} ({t.num_fewshot}-shot)" for t in s.tasks],
                     "datasets": [d.hf_path or f"{d.name} (shipped)" for d in s.data.datasets]})
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            console().print(f"[bold]{r['suite']}[/bold]{' (opt-in)' if r['opt_in'] else ''}: {', '.join(r['tasks'])}\n  data: {', '.join(r['datasets'])}")
    return 0
