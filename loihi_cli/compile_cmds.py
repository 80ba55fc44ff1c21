"""Compiler sub-commands: ``compile`` (network JSON -> board image + report) and ``info`` (usage of a saved image)."""

from __future__ import annotations

import argparse

from loihi_cli.safety import check_outputs, positive
from loihi_emu import load, save
from loihi_emu.image.limits import usage


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="compile a network JSON file (loihi-net/1) into a board image")
    p.add_argument("network", help="network file (.json, see docs/network-format.md)")
    p.add_argument("-o", "--output", required=True, help="board image to write (.npz)")
    p.add_argument("--placement", default="sequential", help="placement strategy (sequential, bisection)")
    p.add_argument("--chips", type=positive, default=None, help="system size in chips (default: as many as needed)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("info", help="per-core resource usage of a saved board image")
    p.add_argument("image", help="board image (.npz)")
    p.set_defaults(func=cmd_info)


def cmd_compile(args: argparse.Namespace) -> int:
    from compiler import compile
    from compiler.network.netfile import side_file

    check_outputs([("output", args.output)], [args.network, side_file(args.network)])
    image, report = compile(args.network, placement=args.placement, n_chips=args.chips)
    save(image, args.output)
    print(report.to_json() if args.json else report.to_text())
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from compiler.report import usage_table

    image = load(args.image)
    print(f"{args.image}: {image.spec.name}, {len(image.cores)} cores on {len(image.chips)} chip(s), "
          f"{image.n_compartments} compartments, {image.n_inputs} input axons, {image.n_synapses} synapses")
    print(usage_table(usage(image), image.spec, max_rows=None))
    return 0
