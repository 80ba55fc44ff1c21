"""The network JSON format ``loihi-net/1`` (see docs/network-format.md).

A JSON object with ``"format": "loihi-net/1"`` and either

* ``"populations"`` and ``"projections"`` lists (the population form), or
* ``"graph"``: ``{"nodes": [{"id": ..., attrs}], "edges": [{"source", "target", "weight", "delay"}]}``
  (the per-compartment form, see :mod:`compiler.network.convert`).

Any value may be written inline (number, list) or as ``"@key"``, naming an
array in the side file given by ``"arrays"`` (an ``.npz`` path relative to
the JSON file, read with ``allow_pickle=False``). Large arrays (weights,
indices) belong there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import networkx as nx
import numpy as np

from compiler.errors import NetworkError, NetworkFileError
from compiler.network.convert import from_compartment_graph
from compiler.network.encoders import ENCODERS, DeltaEncoder, LatencyEncoder, RateEncoder
from compiler.network.model import Network
from compiler.network.netcheck import Checker, SideArrays, _jtype, _show, did_you_mean
from compiler.network.population import Population
from compiler.network.schema import FORMAT, INPUT_POPULATION_KEYS, NODE_PARAMS, OPTIONAL_POPULATION_KEYS, keys
from loihi_emu.errors import FileAccessError, UsageError
from loihi_emu.safefile import atomic_write, check_output, fspath, read_bytes, same_file

MAX_FILE_BYTES = 256 << 20
"""Largest network JSON file read: 256 MiB (large arrays belong in the side .npz)."""


def _encoder(c: Checker, spec: object, size, where: str):
    """(encoder, spikes, size) of an ``input`` object; size: the population's ``size`` (or None)."""
    if not isinstance(spec, dict):
        raise c.fail(where, f"must be an object with a 'kind', got {_jtype(spec)}")
    head = c.section({k: v for k, v in spec.items() if k in ("kind", "size")}, "input", where)
    kind = head["kind"]
    args = c.section({k: v for k, v in spec.items() if k not in ("kind", "size")}, f"input.{kind}", where,
                     extra=keys("input"))
    if "size" in head:
        if size is not None and size != head["size"]:
            raise c.fail(f"{where}.size", f"= {head['size']} but the population's size is {size}")
        size = head["size"]
    if kind == "spikes":
        return None, args.get("spikes"), size
    if kind in ("rate", "poisson", "latency"):
        args["size"] = size
    elif size is not None:
        sig = np.asarray(args["signal"])
        n = sig.shape[1] if sig.ndim == 2 else 1
        if size != 2 * n:
            raise c.fail(f"{where}.size", f"= {size} but a delta input of {n} signal(s) has {2 * n} channels")
    try:
        return ENCODERS[kind](**args), None, size
    except (NetworkError, TypeError, ValueError) as exc:
        raise c.fail(where, str(exc)) from None


def _prefixed(exc: NetworkError, where: str) -> NetworkError:
    """``exc`` with ``where`` in front of its message (same class, same attributes)."""
    exc.args = (f"{where}: {exc}",) + exc.args[1:]
    return exc


def _population(c: Checker, net: Network, p: object, where: str) -> None:
    if not isinstance(p, dict):
        raise c.fail(where, f"must be an object with a 'name', got {_jtype(p)}")
    if "input" in p:
        extra = [k for k in p if k not in INPUT_POPULATION_KEYS and k in keys("population")]
        if extra:
            raise c.fail(where, f"input population {p.get('name')!r}: {', '.join(map(repr, extra))} "
                                f"cannot be given for an input population (only name, size, input)")
    v = c.section(p, "population", where)
    name = v.pop("name")
    here = f"{c.label}: {where} ({name!r})"
    try:
        if "input" in v:
            enc, spikes, size = _encoder(c, v["input"], v.get("size"), f"{where}.input")
            net.add_input(name, size, spikes=spikes, encoder=enc)
            return
        for forms in (("tau_u", "decay_u", "decay_u_reg"), ("tau_v", "decay_v", "decay_v_reg")):
            given = [k for k in forms if k in v]
            if len(given) > 1:
                raise c.fail(where, f"give one of {', '.join(map(repr, forms))}, not both {' and '.join(map(repr, given))}")
        accepted = set(Population.__dataclass_fields__)
        for k in OPTIONAL_POPULATION_KEYS:
            if k in v and k not in accepted:
                raise c.fail(f"{where}.{k}", "is not supported by this version of the compiler")
        size = v.pop("size", None)
        if size is None:
            arrays = [np.asarray(x) for x in v.values() if isinstance(x, np.ndarray) and x.ndim == 1]
            if not arrays:
                raise c.fail(where, "missing key 'size' (no per-compartment array gives it)")
            size = arrays[0].size
        for tau, forms in (("tau_u", ("decay_u", "decay_u_reg")), ("tau_v", ("decay_v", "decay_v_reg"))):
            if any(k in v for k in forms):
                v[tau] = None  # the decay is given directly
        net.add_population(name, size, **v)
    except NetworkFileError:
        raise
    except NetworkError as exc:
        raise _prefixed(exc, here) from None


def _projection(c: Checker, net: Network, e: object, where: str) -> None:
    v = c.section(e, "projection", where)
    if ("weights" in v) == ("sparse" in v):
        raise c.fail(where, "give either 'weights' (dense) or 'sparse', not " + ("both" if "weights" in v else
                                                                                 "neither"))
    sparse = v.pop("sparse", None)
    if sparse is not None:
        sparse = (sparse["pre"], sparse["post"], sparse["w"])
    pre, post = v.pop("pre"), v.pop("post")
    try:
        net.connect(pre, post, v.pop("weights", None), sparse=sparse, **v)
    except NetworkError as exc:
        raise _prefixed(exc, f"{c.label}: {where} ({pre!r} -> {post!r})") from None


def _graph(c: Checker, doc: dict, name) -> Network:
    v = c.section(doc["graph"], "graph", "graph")
    if v.get("directed") is False or v.get("multigraph") is True:
        raise c.fail("graph", "must be a directed graph without parallel edges (directed: true, multigraph: false)")
    if "edges" in v and "links" in v:
        raise c.fail("graph", "give 'edges' or 'links', not both")
    attrs = c.section(v.get("graph", {}), "graph_attrs", "graph.graph")
    g = nx.DiGraph(**attrs)
    for i, node in enumerate(v["nodes"]):
        where = f"graph.nodes[{i}]"
        a = c.section(node, "node", where)
        nid = a.pop("id")
        if nid in g:
            raise c.fail(f"{where}.id", f"node {nid!r} is declared twice")
        if a.get("kind") == "input":
            bad = [k for k in a if k in NODE_PARAMS]
            if bad:
                raise c.fail(where, f"input node {nid!r} cannot have {', '.join(bad)}")
        elif "spike_times" in a:
            raise c.fail(f"{where}.spike_times", f"only input nodes have spike times (node {nid!r})")
        if "spike_times" in a:
            a["spike_times"] = [int(t) for t in np.atleast_1d(a["spike_times"])]
        g.add_node(nid, **a)
    for i, edge in enumerate(v.get("edges", v.get("links", []))):
        where = f"graph.edges[{i}]"
        a = c.section(edge, "edge", where)
        u, w = a.pop("source"), a.pop("target")
        for end, node in (("source", u), ("target", w)):
            if node not in g:
                raise c.fail(f"{where}.{end}", f"node {node!r} is not declared in graph.nodes"
                                              f"{did_you_mean(node, [str(n) for n in g.nodes])}")
        if g.has_edge(u, w):
            raise c.fail(where, f"edge {u!r} -> {w!r} is given twice")
        g.add_edge(u, w, **a)
    try:
        return from_compartment_graph(g, name)
    except NetworkError as exc:
        raise _prefixed(exc, f"{c.label}: graph") from None


def network_from_dict(doc: dict, base: Path | None = None, label: str = "network",
                      allow_outside: bool = False) -> Network:
    """Build a :class:`Network` from a parsed ``loihi-net/1`` document, checked against the schema.

    base: the folder ``arrays`` is relative to. allow_outside: read a side file
    outside ``base`` (otherwise refused). Errors name the key path.
    """
    if base is not None:
        try:
            base = Path(fspath(base, "base folder"))
        except UsageError as exc:
            raise NetworkFileError(f"{label}: {exc}") from None
    c = Checker(str(label), SideArrays(None, base, str(label)))
    if not isinstance(doc, dict):
        raise c.fail("", f"the document must be a JSON object, got {_jtype(doc)}")
    if doc.get("format") != FORMAT:
        raise c.fail("format", f"is {_show(doc.get('format'))}, expected {FORMAT!r}")
    top = c.section(doc, "top", "")
    if "graph" in top and ("populations" in top or "projections" in top):
        raise c.fail("", "give either 'graph' or 'populations'/'projections', not both")
    arrays = SideArrays(top.get("arrays"), base, str(label), allow_outside)
    c = Checker(str(label), arrays)
    try:
        if "graph" in top:
            return _graph(c, doc, top.get("name"))
        net = Network(top.get("name", "network"))
        for i, p in enumerate(top.get("populations", [])):
            _population(c, net, p, f"populations[{i}]")
        for i, e in enumerate(top.get("projections", [])):
            _projection(c, net, e, f"projections[{i}]")
        return net
    finally:
        arrays.close()


def _no_duplicates(pairs: list) -> dict:
    """A JSON object; a key given twice is an error (json would keep the last one silently)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} is given twice in one object")
        out[k] = v
    return out


def side_file(path: str | os.PathLike) -> Path | None:
    """The side ``.npz`` a network file names (its ``arrays``), or None; never raises (load reports errors)."""
    try:
        doc = json.loads(read_bytes(path, "network file", MAX_FILE_BYTES).decode("utf-8"))
        name = doc.get("arrays") if isinstance(doc, dict) else None
        return Path(path).parent / name if isinstance(name, str) and name else None
    except (OSError, ValueError, RecursionError, UsageError):
        return None


def load_network(path: str | os.PathLike, allow_outside: bool = False) -> Network:
    """Read a ``loihi-net/1`` JSON file (and its side ``.npz``); see :func:`network_from_dict`."""
    try:
        path = Path(fspath(path, "network file"))
    except UsageError as exc:
        raise NetworkFileError(str(exc)) from None
    try:
        raw = read_bytes(path, "network file", MAX_FILE_BYTES)
    except FileAccessError as exc:
        raise NetworkFileError(f"{path}: cannot be read ({str(exc).removeprefix(f'network file {path}: ')})") from None
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError as exc:
        raise NetworkFileError(f"{path}: not UTF-8 text ({exc})") from None
    except RecursionError:
        raise NetworkFileError(f"{path}: not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # json.JSONDecodeError, and integers of more than 4300 digits
        raise NetworkFileError(f"{path}: not valid JSON ({exc})") from None
    return network_from_dict(doc, path.parent, str(path), allow_outside)


def _put(arrays: dict, key: str, value, inline_max: int):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isinf(value):
        return str(value)
    if value is None or isinstance(value, (int, float, str)):
        return value
    arr = np.asarray(value)
    if arr.ndim == 0:
        return _put(arrays, key, arr.item(), inline_max)
    if arr.size <= inline_max and arr.dtype.kind in "biuf" and np.isfinite(arr.astype(float)).all():
        return arr.tolist()
    arrays[key] = arr
    return "@" + key


def save_network(net: Network, path: str | os.PathLike, inline_max: int = 16) -> None:
    """Write ``net`` as ``loihi-net/1``: arrays larger than ``inline_max`` (or holding inf) go to ``<stem>.npz``.

    Both files are written atomically (temporary file, then rename); the side
    file is written first, so a failure never leaves a JSON file naming a
    missing or partial side file.
    """
    if not isinstance(net, Network):
        raise NetworkError(f"save_network: expected a Network, got {type(net).__name__}")
    if isinstance(inline_max, bool) or not isinstance(inline_max, int) or inline_max < 0:
        raise NetworkError(f"save_network: inline_max must be a whole number >= 0, got {inline_max!r}")
    path = check_output(path, what="network file")
    side = path.with_suffix(".npz")
    if same_file(side, path):
        raise NetworkFileError(f"{path}: a network file must not end in .npz (its side file is <stem>.npz)")
    arrays: dict[str, np.ndarray] = {}
    pops = []
    for node in net.graph.nodes:
        p = net.population(node)
        entry: dict = {"name": p.name, "size": p.size}
        if node in net.dendrite_of:  # a tree's compartments are written with its root
            continue
        if node in net.trees:
            tree = net.trees[node]
            entry.update({k: _put(arrays, f"{p.name}.{k}", v, inline_max) for k, v in tree.params.items()
                          if v is not None})
            entry["compartments"] = {c: {k: v.item() if hasattr(v, "item") else v for k, v in cfg.items()}
                                     for c, cfg in tree.spec.items()}
        elif p in net.inputs:
            enc = p.encoder
            if isinstance(enc, RateEncoder):
                entry["input"] = {"kind": "rate", "seed": enc.seed,
                                  "intensity": _put(arrays, f"{p.name}.intensity", enc.intensity, inline_max)}
            elif isinstance(enc, LatencyEncoder):
                entry["input"] = {"kind": "latency", "tau": enc.tau, "theta": enc.theta, "offset": enc.offset,
                                  "intensity": _put(arrays, f"{p.name}.intensity", enc.intensity, inline_max)}
            elif isinstance(enc, DeltaEncoder):
                entry["input"] = {"kind": "delta", "threshold": enc.threshold,
                                  "signal": _put(arrays, f"{p.name}.signal", enc.signal, 0)}
            elif enc is None:
                entry["input"] = {"kind": "spikes", "spikes": None if p.spikes is None else
                                  _put(arrays, f"{p.name}.spikes", p.spikes.astype(np.uint8), 0)}
            else:
                raise NetworkError(f"{p.label}: cannot save encoder {type(enc).__name__}")
        else:
            for k, v in p.params().items():
                if isinstance(v, np.ndarray) and v.size and np.all(v == v.flat[0]):
                    v = v.flat[0].item()
                entry[k] = _put(arrays, f"{p.name}.{k}", v, inline_max)
        pops.append(entry)
    projs = []
    for i, pr in enumerate(net.projections):
        key = f"proj{i}"
        post, comp = (net.dendrite_of[pr.post], pr.post.split(".", 1)[1]) if pr.post in net.dendrite_of else (pr.post,
                                                                                                             None)
        entry = {"pre": pr.pre, "post": post, **({"compartment": comp} if comp else {}), "sparse": {
            "pre": _put(arrays, f"{key}.pre", pr.pre_index, inline_max),
            "post": _put(arrays, f"{key}.post", pr.post_index, inline_max),
            "w": _put(arrays, f"{key}.w", pr.weight, inline_max)},
            "delay": _put(arrays, f"{key}.delay", pr.delay, inline_max)}
        for k in ("weight_bits", "sign_mode", "weight_exp", "learning_rule"):
            if getattr(pr, k) is not None:
                entry[k] = getattr(pr, k)
        if pr.plastic:
            entry["traces"] = {k: list(v) for k, v in pr.traces.items()}
            entry["learning_epoch"] = pr.learning_epoch
            entry["stochastic_rounding"] = pr.stochastic_rounding
            if pr.w_max is not None:
                entry["w_max"] = pr.w_max
            if pr.reward is not None:
                entry["reward"] = pr.reward
        projs.append(entry)
    doc = {"format": FORMAT, "name": net.name, "populations": pops, "projections": projs}
    if arrays:
        doc["arrays"] = side.name
        with atomic_write(side, "side file") as fh:
            np.savez(fh, **arrays)
    text = json.dumps(doc, indent=1)
    with atomic_write(path, "network file") as fh:
        fh.write(text.encode())
