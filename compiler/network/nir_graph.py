"""Reading a NIR graph: the file, nested graphs flattened to dotted names, node kinds and shapes.

The ``nir`` package (optional extra ``nir``) is imported where it is used.
Names: a node ``b`` inside a nested graph ``a`` is ``"a.b"``; an edge that
ends on a nested graph goes to its ``Input`` node and one that starts on it
leaves from its ``Output`` node (both become identity nodes).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compiler.errors import NIRError

NEURON_TYPES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I")
MAP_TYPES = ("Affine", "Linear", "Scale", "Conv1d", "Conv2d", "AvgPool2d", "SumPool2d", "Flatten", "Delay",
             "Identity")
SUPPORTED = ("Input", "Output", "NIRGraph", *MAP_TYPES, *NEURON_TYPES)
NON_SPIKING = ("LI", "CubaLI", "I")


def import_nir():
    """The ``nir`` package, or a :class:`NIRError` saying how to install it."""
    try:
        import nir
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise NIRError("NIR support needs the optional extra: pip install 'loihi-emu[nir]' (nir, h5py)") from exc
    return nir


def load_graph(source, notes: list[str] | None = None):
    """A ``nir.NIRGraph`` from a graph (returned as is) or a ``.nir`` path (read with ``nir.read``).

    A file whose only fault is nir's type check of a parameter shape (e.g.
    0-d neuron parameters behind a convolution) is read again without it, with
    a note in ``notes``; the importer checks the shapes itself. A leading batch
    dimension of 1 (a batched export) stays an error.
    """
    nir = import_nir()
    if isinstance(source, nir.NIRGraph):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise NIRError(f"cannot import a {type(source).__name__}: give a .nir path or a nir.NIRGraph")
    path = Path(source)
    if not path.is_file():
        raise NIRError(f"NIR file {str(path)!r}: no such file")
    try:
        return nir.read(path)
    except Exception as exc:  # nir.read raises ValueError, KeyError, OSError, AssertionError ...
        text = str(exc)
        m = re.search(r"type mismatch: ([^\s:]+)\.output: (.*?) -> ([^\s:]+)\.input: (.*)", text)
        node = m.group(1) if m else None
        hint = ""
        batched = bool(m and re.match(r"\[\[\s*1\s", m.group(2)))
        if m and not batched:
            try:
                graph = nir.read(path, type_check=False)
            except Exception:  # noqa: BLE001 - fall through to the error below
                graph = None
            if graph is not None:
                if notes is not None:
                    notes.append(f"nir.read's type check failed ({text}); read without it, shapes checked here")
                return graph
        if batched:
            hint = (f"; node {m.group(1)!r} has a leading batch dimension of 1 ({m.group(2).strip()} feeding "
                    f"{m.group(3)!r} which takes {m.group(4).strip()}): the exporter was given a batched sample "
                    f"(Norse writes Input types [1, n] then); export again with an unbatched sample, e.g. sample[0]")
        raise NIRError(f"NIR file {str(path)!r}: nir.read cannot read it ({type(exc).__name__}: {text}){hint}",
                       node) from exc


@dataclass
class FlatGraph:
    """A NIR graph with nested graphs flattened: dotted node names -> node, edges, kinds.

    kind: 'input' (a top-level Input), 'output' (a top-level Output),
    'neuron' (:data:`NEURON_TYPES`) or 'map' (linear maps and identities,
    including the Input/Output nodes of nested graphs).
    """

    nodes: dict[str, object]
    edges: list[tuple[str, str]]
    kind: dict[str, str]
    type_name: dict[str, str]
    metadata: dict = field(default_factory=dict)

    def preds(self, name: str) -> list[str]:
        return [a for a, b in self.edges if b == name]

    def succs(self, name: str) -> list[str]:
        return [b for a, b in self.edges if a == name]

    @property
    def inputs(self) -> list[str]:
        return [n for n in self.nodes if self.kind[n] == "input"]

    @property
    def outputs(self) -> list[str]:
        return [n for n in self.nodes if self.kind[n] == "output"]


def _ports(graph, kind) -> list[str]:
    return [k for k, n in graph.nodes.items() if type(n).__name__ == kind]


def flatten(graph) -> FlatGraph:
    """Flatten nested graphs (see the module docstring); check node types and edge endpoints."""
    nodes, kind, tname, edges = {}, {}, {}, []

    def visit(g, prefix: str, top: bool) -> None:
        for k, node in g.nodes.items():
            name, t = prefix + str(k), type(node).__name__
            if t == "NIRGraph":
                visit(node, name + ".", False)
                continue
            if t not in SUPPORTED:
                raise NIRError(f"node {name!r}: NIR node type {t} is not supported; supported: "
                               f"{', '.join(s for s in SUPPORTED if s != 'NIRGraph')} and nested NIRGraph", name)
            nodes[name], tname[name] = node, t
            if t == "Input":
                kind[name] = "input" if top else "map"
            elif t == "Output":
                kind[name] = "output" if top else "map"
            else:
                kind[name] = "neuron" if t in NEURON_TYPES else "map"

        def end(e: str, side: str) -> str:
            e = str(e)
            sub = g.nodes.get(e)
            if sub is not None and type(sub).__name__ == "NIRGraph":
                ports = _ports(sub, "Output" if side == "src" else "Input")
                if len(ports) != 1:
                    raise NIRError(f"edge to nested graph {prefix + e!r}: it has {len(ports)} "
                                   f"{'Output' if side == 'src' else 'Input'} nodes; name one as '{e}.<node>'",
                                   prefix + e)
                return end_inner(sub, prefix + e + ".", ports[0], side)
            return prefix + e

        def end_inner(sub, pre: str, port: str, side: str) -> str:
            node = sub.nodes[port]
            if type(node).__name__ == "NIRGraph":
                ports = _ports(node, "Output" if side == "src" else "Input")
                return end_inner(node, pre + port + ".", ports[0], side)
            return pre + port

        for a, b in g.edges:
            edges.append((end(a, "src"), end(b, "dst")))

    visit(graph, "", True)
    for a, b in edges:
        for e in (a, b):
            if e not in nodes:
                raise NIRError(f"edge ({a!r}, {b!r}) names node {e!r}, which the graph does not have", e)
    seen = set()
    uniq = []
    for e in edges:
        if e not in seen:
            seen.add(e)
            uniq.append(e)
    meta = dict(getattr(graph, "metadata", None) or {})
    return FlatGraph(nodes, uniq, kind, tname, meta)


def _arr(node, key) -> np.ndarray | None:
    v = getattr(node, key, None)
    return None if v is None else np.asarray(v)


def own_shape(flat: FlatGraph, name: str) -> tuple[int, ...] | None:
    """The shape a node's own parameters fix (None: it follows its input)."""
    node, t = flat.nodes[name], flat.type_name[name]
    if t == "Input":
        shp = node.input_type.get("input") if isinstance(node.input_type, dict) else None
        return None if shp is None else tuple(int(s) for s in np.atleast_1d(shp))
    if t in NEURON_TYPES:
        keys = {"LIF": "tau", "CubaLIF": "tau_mem", "IF": "v_threshold", "LI": "tau", "CubaLI": "tau_mem", "I": "r"}
        best = None
        for k in ("tau", "tau_mem", "tau_syn", "r", "v_threshold", "v_leak", "v_reset", "w_in", keys[t]):
            a = _arr(node, k)
            if a is not None and a.size > 1 and (best is None or a.size > int(np.prod(best))):
                best = a.shape
        return best
    if t == "Scale":
        a = np.asarray(node.scale)
        return a.shape if a.size > 1 else None
    if t == "Delay":
        a = np.asarray(node.delay)
        return a.shape if a.size > 1 else None
    return None


def input_size(flat: FlatGraph, name: str) -> int | None:
    """The number of values a node takes (None: any)."""
    node, t = flat.nodes[name], flat.type_name[name]
    if t in ("Affine", "Linear"):
        return int(np.asarray(node.weight).shape[-1])
    shp = own_shape(flat, name)
    return None if shp is None else int(np.prod(shp))
