"""``precision``: float reference vs fixed-point emulator for a network file (docs/precision.md)."""

from __future__ import annotations

import argparse

from loihi_cli.nir_cmds import add_nir_options, is_nir, precision_inputs
from loihi_cli.safety import non_negative
from loihi_emu.errors import MissingFileError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("precision", help="what fixed point costs a network: float reference vs emulator")
    p.add_argument("network", help="network file (.json, see docs/network-format.md, or .nir, see docs/nir.md)")
    p.add_argument("--steps", type=non_negative, default=1000, help="steps to run (default 1000)")
    p.add_argument("--seed", type=non_negative, default=0, help="emulator seed")
    p.add_argument("--vr-tau", type=float, default=10.0, help="van Rossum time constant in steps (default 10)")
    p.add_argument("--vp-cost", type=float, default=0.1, help="Victor-Purpura cost per step of shift (default 0.1)")
    p.add_argument("--sweep-bits", action="store_true", help="also sweep the weight bits 1..9 of every projection")
    p.add_argument("--sweep-packing", action="store_true",
                   help="also compare packings (exact, dense, dense + decay compensation): cores vs precision")
    p.add_argument("--plot", metavar="DIR", help="write raster, voltage (and sweep) figures into DIR (matplotlib)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_nir_options(p)
    p.add_argument("--inputs", help="for a .nir: .npz whose 'in_spikes' (or only array) is the producer's input "
                   "[T, *shape] (default: Bernoulli spikes, p = --rate)")
    p.add_argument("--rate", type=float, default=0.2, help="for a .nir without --inputs: spike probability per step")
    p.set_defaults(func=cmd_precision)


def cmd_precision(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    if not Path(args.network).is_file():
        raise MissingFileError(f"network file {args.network}: no such file")
    from compiler.precision.compare import compare, json_safe
    from compiler.precision.sweep import sweep

    network, inputs, steps = (precision_inputs(args) if is_nir(args.network) else (args.network, None, args.steps))
    report = compare(network, steps, inputs, seed=args.seed, vr_tau=args.vr_tau, vp_cost=args.vp_cost)
    sw = sweep(network, steps=steps, seed=args.seed, vr_tau=args.vr_tau,
               vp_cost=args.vp_cost) if args.sweep_bits else None
    pk = None
    if args.sweep_packing:
        from compiler.precision.packing_sweep import packing_sweep

        pk = packing_sweep(args.network, steps=args.steps, seed=args.seed, vr_tau=args.vr_tau, vp_cost=args.vp_cost)
    if args.json:
        doc = report.to_dict()
        if sw is not None:
            doc["sweep"] = sw.to_dict()
        if pk is not None:
            doc["packing_sweep"] = pk.to_dict()
        print(json.dumps(json_safe(doc), indent=2))
    else:
        print(report.to_text())
        for extra in (sw, pk):
            if extra is not None:
                print()
                print(extra.to_text())
    if args.plot:
        from compiler.precision.plots import save_report_plots

        paths = list(save_report_plots(report, args.plot, sw))
        if pk is not None:
            from compiler.precision.packing_sweep import save_packing_plot

            paths.append(save_packing_plot(pk, args.plot))
        for path in paths:
            if not args.json:
                print(f"wrote {path}")
    return 0
