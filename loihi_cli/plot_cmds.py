"""``loihi-emu plot``: a labelled figure of a results file (``run -o``)."""

from __future__ import annotations

import argparse

from loihi_cli.warn import cli_warnings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="raster (and voltages, weights) of a results file from `run -o`")
    p.add_argument("results", help="results file (.npz from `loihi-emu run -o`)")
    p.add_argument("-o", "--output", required=True, help="figure to write (.png, .pdf, .svg)")
    p.add_argument("--v", metavar="POP[a:b]", help="also plot v (model units) of these compartments, e.g. exc[0:4]")
    p.add_argument("--weights", action="store_true", help="also plot the plastic weights (model units)")
    p.add_argument("--title", help="figure title (default: the results file name)")
    p.set_defaults(func=cmd_plot)


def cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from loihi_emu.plots import plot_results
    from loihi_emu.results import load_results

    with cli_warnings():
        results = load_results(args.results)
        out = Path(args.output)
        tmp = out.with_name(f".{out.stem}.tmp{out.suffix}")
        try:
            plot_results(results, tmp, v=args.v, weights=args.weights, title=args.title or Path(args.results).stem)
            tmp.replace(out)
        finally:
            if tmp.exists():
                tmp.unlink()
    print(f"wrote {out}")
    return 0
