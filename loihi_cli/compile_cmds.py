"""Compiler sub-commands: ``compile`` (network JSON -> board image + report) and ``info`` (usage of a saved image)."""

from __future__ import annotations

import argparse

from loihi_cli.nir_cmds import add_nir_options, network_arg
from loihi_cli.safety import check_outputs, positive
from loihi_cli.warn import cli_warnings
from loihi_emu import load, save
from loihi_emu.image.limits import usage


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="compile a network JSON file (loihi-net/1) into a board image")
    p.add_argument("network", help="network file (.json, see docs/network-format.md, or .nir, see docs/nir.md)")
    p.add_argument("-o", "--output", required=True, help="board image to write (.npz)")
    p.add_argument("--placement", default="sequential", help="placement strategy (sequential, bisection)")
    p.add_argument("--chips", type=positive, default=None, help="system size in chips (default: as many as needed)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_nir_options(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("info", help="per-core resource usage of a saved board image")
    p.add_argument("image", help="board image (.npz)")
    p.set_defaults(func=cmd_info)


def cmd_compile(args: argparse.Namespace) -> int:
    from compiler import compile
    from compiler.network.netfile import side_file

    check_outputs([("output", args.output)], [args.network, side_file(args.network)])
    with cli_warnings():
        image, report = compile(network_arg(args), placement=args.placement, n_chips=args.chips)
        save(image, args.output)
    print(report.to_json() if args.json else report.to_text())
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from compiler.report import usage_table

    image = load(args.image)
    print(f"{args.image}: {image.spec.name}, {len(image.cores)} cores on {len(image.chips)} chip(s), "
          f"{image.n_compartments} compartments, {image.n_inputs} input axons, {image.n_synapses} synapses")
    print(usage_table(usage(image), image.spec, max_rows=None))
    print(populations_table(image))
    return 0


def populations_table(image) -> str:
    """The image's populations (name, kind, index range, scale; input groups with their kind), one per line."""
    pm = image.populations
    if pm is None:
        return "populations: none recorded (a loihi-image/1 file or a hand-built image)"
    groups = {g.name: g for g in image.input_program.groups} if image.input_program is not None else {}
    lines = [f"{'population':<20} {'kind':<12} {'indices':>15} {'scale (v units per model unit)':>31}"]
    for p in pm.populations:
        kind = p.kind if p.kind == "compartments" else f"input:{groups[p.name].kind if p.name in groups else '?'}"
        scale = f"{p.scales['v']:.6g}" if p.scales else "-"
        lines.append(f"{p.name:<20} {kind:<12} {f'{p.start}..{p.stop - 1}':>15} {scale:>31}")
    if pm.plastic_target.size:
        lines.append(f"plastic synapses: {pm.plastic_target.size}")
    length = image.input_program.length if image.input_program is not None else None
    if image.input_program is not None:
        lines.append(f"input program: {'unbounded' if length is None else f'{length} steps'}")
    return "\n".join(lines)
