"""``precision``: float reference vs fixed-point emulator for a network file (docs/precision.md)."""

from __future__ import annotations

import argparse

from loihi_cli.safety import non_negative
from loihi_emu.errors import MissingFileError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("precision", help="what fixed point costs a network: float reference vs emulator")
    p.add_argument("network", help="network file (.json, see docs/network-format.md)")
    p.add_argument("--steps", type=non_negative, default=1000, help="steps to run (default 1000)")
    p.add_argument("--seed", type=non_negative, default=0, help="emulator seed")
    p.add_argument("--vr-tau", type=float, default=10.0, help="van Rossum time constant in steps (default 10)")
    p.add_argument("--vp-cost", type=float, default=0.1, help="Victor-Purpura cost per step of shift (default 0.1)")
    p.add_argument("--sweep-bits", action="store_true", help="also sweep the weight bits 1..9 of every projection")
    p.add_argument("--plot", metavar="DIR", help="write raster, voltage (and sweep) figures into DIR (matplotlib)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=cmd_precision)


def cmd_precision(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    if not Path(args.network).is_file():
        raise MissingFileError(f"network file {args.network}: no such file")
    from compiler.precision.compare import compare, json_safe
    from compiler.precision.sweep import sweep

    report = compare(args.network, args.steps, seed=args.seed, vr_tau=args.vr_tau, vp_cost=args.vp_cost)
    sw = sweep(args.network, steps=args.steps, seed=args.seed, vr_tau=args.vr_tau,
               vp_cost=args.vp_cost) if args.sweep_bits else None
    if args.json:
        doc = report.to_dict()
        if sw is not None:
            doc["sweep"] = sw.to_dict()
        print(json.dumps(json_safe(doc), indent=2))
    else:
        print(report.to_text())
        if sw is not None:
            print()
            print(sw.to_text())
    if args.plot:
        from compiler.precision.plots import save_report_plots

        for path in save_report_plots(report, args.plot, sw):
            if not args.json:
                print(f"wrote {path}")
    return 0
