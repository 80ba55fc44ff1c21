"""NIR sub-commands: ``import-nir`` (a .nir file -> network JSON + mapping report) and the shared ``.nir``
options of ``compile`` and ``precision`` (docs/nir.md)."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path


def add_nir_options(p: argparse.ArgumentParser) -> None:
    """--dt, --convention, --reset: how to read a .nir network argument."""
    g = p.add_argument_group("NIR input (.nir files)")
    g.add_argument("--dt", type=float, default=None, help="the producer's step in seconds (NIR stores none)")
    g.add_argument("--convention", default="nir", help="nir, snntorch, norse (1.1.0 files), norse-seconds")
    g.add_argument("--reset", default="zero", help="zero (default) or subtract (refused: Loihi 1 cannot express it)")


def is_nir(path) -> bool:
    return str(path).lower().endswith(".nir")


def import_args(args: argparse.Namespace, path=None):
    """:func:`compiler.from_nir` of ``path`` (default ``args.network``) with the options of :func:`add_nir_options`."""
    from compiler import from_nir

    return from_nir(path or args.network, dt=args.dt, convention=args.convention, reset=args.reset)


def network_arg(args: argparse.Namespace):
    """The network a command's ``network`` argument names: a Network imported from a .nir, else the path."""
    return import_args(args).network if is_nir(args.network) else args.network


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-nir", help="import a NIR graph (snnTorch, Norse, ...) and print the mapping report")
    p.add_argument("model", help="NIR file (.nir)")
    add_nir_options(p)
    p.add_argument("-o", "--output", help="network file to write (.json, loihi-net/1, with its .npz side file)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_import_nir)


def _save_atomic(net, target: Path) -> list[Path]:
    """save_network into a temporary folder next to ``target``, then move the files into place."""
    from compiler.network.netfile import save_network

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".import-nir-", dir=target.parent))
    try:
        save_network(net, tmp / target.name)
        written = []
        for f in sorted(tmp.iterdir()):
            os.replace(f, target.parent / f.name)
            written.append(target.parent / f.name)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cmd_import_nir(args: argparse.Namespace) -> int:
    import json
    import warnings

    from compiler.errors import NIRWarning, QuantizationWarning
    from compiler.passes.quantize import quantize_network

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NIRWarning)
        imp = import_args(args, args.model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QuantizationWarning)
        table = quantize_network(imp.network).table
    written = _save_atomic(imp.network, Path(args.output)) if args.output else []
    if args.json:
        doc = imp.report.to_dict()
        doc["network"] = repr(imp.network)
        doc["quantization"] = table.to_dicts()
        doc["written"] = [str(w) for w in written]
        print(json.dumps(doc, indent=2, default=float))
        return 0
    print(imp.report.to_text())
    for w in caught:
        print(f"warning: {w.message}")
    print()
    print(f"{imp.network!r}; run {imp.lag} extra step(s) for the hop lag")
    print()
    print("chip quantization (worst 8):")
    print(table.to_text(8))
    for w in written:
        print(f"wrote {w}")
    return 0


def precision_inputs(args: argparse.Namespace):
    """(network, input array, Loihi steps) for ``precision`` on a .nir: the producer's input from ``--inputs``
    or seeded Bernoulli spikes with probability ``--rate`` for ``--steps`` producer steps."""
    import numpy as np

    from compiler.errors import NIRError

    imp = import_args(args)
    if args.inputs:
        try:
            with np.load(args.inputs, allow_pickle=False) as f:
                key = "in_spikes" if "in_spikes" in f.files else (f.files[0] if len(f.files) == 1 else None)
                if key is None:
                    raise NIRError(f"{args.inputs}: no 'in_spikes' array (it has {f.files})")
                x = f[key]
        except (OSError, ValueError) as exc:
            raise NIRError(f"{args.inputs}: not a readable .npz ({exc})") from None
        if len(imp.input_nodes) != 1:
            raise NIRError(f"{args.model if hasattr(args, 'model') else args.network}: {len(imp.input_nodes)} Input "
                           f"nodes; --inputs feeds one")
    else:
        if not 0 <= args.rate <= 1:
            raise NIRError(f"--rate {args.rate} is not a probability")
        rng = np.random.default_rng(args.seed)
        x = {k: rng.random((args.steps, *imp.layers[k].shape)) < args.rate for k in imp.input_nodes}
    u = imp.inputs(x)
    return imp.network, u, u.shape[0]
