"""``benchseal programs [list] [--json]`` and ``benchseal programs show NAME``: the funding programs and their claims."""

from __future__ import annotations

import argparse

from benchseal.commands._common import add_json_flag, console, print_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "programs",
        help="list funding programs and their claims",
        description="List the funding programs in configs/programs, or show one program's claims "
        "(clause, metric path, operator, threshold, severity). Definitions: docs/claims.md.",
    )
    add_json_flag(p)
    sub = p.add_subparsers(dest="programs_command", metavar="SUBCOMMAND")
    show = sub.add_parser("show", help="show one program: its claims and what is out of scope")
    show.add_argument("name", help="program id (e.g. hunan-2025) or path to a program YAML")
    add_json_flag(show)
    show.set_defaults(func=_show)
    lst = sub.add_parser("list", help="list the programs (the same as plain `benchseal programs`)")
    add_json_flag(lst)
    lst.set_defaults(func=_list)
    p.set_defaults(func=_list)


def _requirement(c) -> str:
    if c.op == "present":
        return "present"
    thr = str(c.threshold).lower() if isinstance(c.threshold, bool) else c.threshold
    text = f"{c.op} {thr}" + (f" {c.unit}" if c.unit else "")
    return text + (f" ({c.threshold_text})" if c.threshold_text else "") + (" [applicant sets]" if c.applicant_sets else "") + (" [judge model required]" if c.requires_judge else "")


def _list(args: argparse.Namespace) -> int:
    from benchseal.claims import list_programs

    programs = list_programs()
    if args.json:
        print_json([p.model_dump(mode="json") for p in programs])
        return 0
    from rich.table import Table

    table = Table(title="benchseal programs", show_lines=False)
    for col in ("id", "name", "stages", "claims (required/advisory/informational)", "eval suites"):
        table.add_column(col, overflow="fold")
    for p in programs:
        n = {s: sum(c.severity == s for c in p.claims) for s in ("required", "advisory", "informational")}
        table.add_row(p.id, f"{p.name_zh}\n{p.name_en}", ",".join(p.stages), "/".join(str(v) for v in n.values()), ",".join(p.eval_suites) or "—")
    console().print(table)
    console().print("Show one program's claims: benchseal programs show NAME")
    return 0


def _show(args: argparse.Namespace) -> int:
    from benchseal.claims import load_program

    prog = load_program(args.name)
    if args.json:
        print_json(prog)
        return 0
    from rich.markup import escape as esc

    con = console()
    con.print(f"[bold]{prog.id}[/bold]  {prog.name_zh} / {prog.name_en}  (version {prog.version})")
    if prog.description:
        con.print(prog.description)
    if prog.source is not None:
        src = prog.source
        con.print("source: " + ", ".join(p for p in (f"《{src.title}》", src.issuer, src.date, src.document, src.url) if p),
                  soft_wrap=True, markup=False)
        if src.note:
            con.print(f"        {src.note}", soft_wrap=True, markup=False)
    if prog.template:
        con.print("[yellow]Template: the applicant sets the thresholds (copy the YAML and edit them).[/yellow]")
    for c in prog.claims:
        con.print(f"\n[bold]{esc(c.id)}[/bold]  \\[{c.severity}]  {esc(c.title_zh)} / {esc(c.title_en)}", soft_wrap=True)
        con.print(f"  clause:      {c.clause_zh} / {c.clause_en}", soft_wrap=True, markup=False)
        con.print(f"  metric:      {c.metric}", soft_wrap=True, markup=False)
        con.print(f"  requirement: {_requirement(c)}", soft_wrap=True, markup=False)
    con.print()
    if prog.out_of_scope:
        con.print("[bold]Out of scope / 不在测评范围内[/bold]")
        for o in prog.out_of_scope:
            con.print(f"  - {o.zh} / {o.en}: {o.reason}")
    return 0
