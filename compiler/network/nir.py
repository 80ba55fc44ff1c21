"""Import a NIR graph (snnTorch, Norse, ... exports) as a compiler :class:`Network` (docs/nir.md).

``from_nir(source, dt=..., convention=..., reset=...)`` returns a
:class:`~compiler.network.nir_result.NIRImport`. The float reference of the
network it builds steps like the producer (forward Euler with ``dt``); the
chip adds what its registers cost. Loihi semantics that differ from a
framework's are handled here:

* **One step per hop.** A spike acts one step after it is sent; frameworks
  pass it on in the same step. Each layer gets a *lag* (hops from the
  inputs, at least 1, less where NIR Delay nodes absorb it); a projection
  from a layer of lag ``Ls`` into one of lag ``Ln`` gets the synaptic delay
  ``Ln - Ls - 1 + d`` (``d``: the graph's own delay in steps), so every
  layer runs exactly its lag behind the producer. A recurrent edge (found by
  a depth-first search from the inputs) carries the previous step unless a
  Delay node on it already does: delay ``Ln - Ls - 1 + max(d, 1)``. Where that is negative (a loop through several layers)
  the import is not exact and the report says so.
* **Biases.** Affine biases and leak drives must start at the layer's
  producer step 0, i.e. at Loihi step ``lag``. They enter through one
  always-on input axon (population ``bias``) with synaptic delay ``lag - 1``:
  a bias in front of a CubaLIF enters the current ``u`` (as in the
  producer), a constant drive into ``v`` of a CubaLIF is two synapses
  (``c`` and ``-keep_u c`` one step later) so that ``u`` carries exactly ``c``.
* Neurons, gains and resets: :mod:`compiler.network.nir_neurons`; linear
  nodes: :mod:`compiler.network.nir_maps`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import networkx as nx
import numpy as np

from compiler.errors import NIRError
from compiler.network.encoders import RateEncoder
from compiler.network.model import Network
from compiler.network.nir_graph import FlatGraph, flatten, load_graph, own_shape
from compiler.network.nir_maps import IDENTITY_TYPES, Map, Terms, node_map
from compiler.network.nir_neurons import CONVENTIONS, RESETS, NeuronPlan, ReportRow, fmt, plan_neuron
from compiler.network.nir_result import Layer, NIRImport, NIRReport
from loihi_emu.hw import LOIHI1, HardwareSpec

META_DT = "loihi_emu_dt"  # graph metadata written by compiler.nir_export.to_nir
META_ALWAYS_ON = "loihi_always_on"  # Input node metadata (to_nir): an axon that spikes every step (a bias source)


def _meta_value(v):
    v = np.asarray(v)
    if v.dtype.kind in "SO":
        v = v.astype(str)
    return v.item() if v.ndim == 0 else v


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape)) if shape else 1


def infer_shapes(flat: FlatGraph, dt: float) -> tuple[dict[str, tuple[int, ...]], dict[str, Map]]:
    """Output shape of every node and the :class:`Map` of every map node; check that the shapes chain."""
    shapes: dict[str, tuple[int, ...]] = {}
    maps: dict[str, Map] = {}

    def from_preds(n: str):
        known = [shapes[p] for p in flat.preds(n) if p in shapes]
        return known[0] if known else None

    fallback = False
    for _ in range(2 * len(flat.nodes) + 2):
        changed = False
        for n in flat.nodes:
            if n in shapes:
                continue
            k = flat.kind[n]
            if k == "input":
                s = own_shape(flat, n)
                if s is None:
                    raise NIRError(f"Input node {n!r} has no shape", n)
            elif k == "neuron":  # the input's shape (e.g. [C, H, W]) when it has the neuron's size, else its own
                own, ins = own_shape(flat, n), from_preds(n)
                s = ins if ins is not None and (own is None or _size(ins) == _size(own)) else None
                if s is None and (fallback or not flat.preds(n)):
                    s = own or (None if flat.preds(n) else (1,))
            elif k == "output":
                s = from_preds(n)
            else:
                ins = from_preds(n)
                if ins is None:
                    continue
                maps[n] = node_map(n, flat.type_name[n], flat.nodes[n], ins, dt)
                s = maps[n].out_shape
            if s is not None:
                shapes[n] = tuple(int(v) for v in s)
                changed = True
        if changed:
            fallback = False
        elif fallback:
            break
        else:
            fallback = True
    for n in flat.nodes:
        if n not in shapes:
            raise NIRError(f"node {n!r} ({flat.type_name[n]}): cannot infer its shape (no Input reaches it)", n)
    for a, b in flat.edges:
        if flat.kind[b] == "input":
            raise NIRError(f"edge ({a!r}, {b!r}) ends on Input node {b!r}", b)
        if flat.kind[a] == "output":
            raise NIRError(f"edge ({a!r}, {b!r}) starts on Output node {a!r}", a)
        want = maps[b].n_in if b in maps else _size(shapes[b])
        if _size(shapes[a]) != want:
            raise NIRError(f"shapes do not chain: node {a!r} ({flat.type_name[a]}) gives {list(shapes[a])} "
                           f"({_size(shapes[a])} values) but node {b!r} ({flat.type_name[b]}) takes {want}", b)
    return shapes, maps


class _Exprs:
    """Synapses (per source population) and constant input reaching each node through the map nodes."""

    def __init__(self, flat: FlatGraph, shapes, maps) -> None:
        self.flat, self.shapes, self.maps = flat, shapes, maps
        self._cache: dict[str, tuple[dict[str, Terms], np.ndarray]] = {}

    def output(self, n: str, stack: frozenset = frozenset()):
        if self.flat.kind[n] in ("input", "neuron"):
            size = _size(self.shapes[n])
            return {n: Terms.identity(size)}, np.zeros(size)
        if n in self._cache:
            return self._cache[n]
        if n in stack:
            raise NIRError(f"node {n!r}: a cycle of linear nodes with no neuron in it (an algebraic loop)", n)
        terms, bias = self.input(n, stack | {n})
        m = self.maps[n]
        res = ({s: m.apply(t) for s, t in terms.items()}, m.apply_bias(bias))
        self._cache[n] = res
        return res

    def input(self, n: str, stack: frozenset = frozenset()):
        parts: dict[str, list[Terms]] = defaultdict(list)
        size = self.maps[n].n_in if n in self.maps else _size(self.shapes[n])
        bias = np.zeros(size)
        for p in self.flat.preds(n):
            t, b = self.output(p, stack)
            for s, tt in t.items():
                parts[s].append(tt)
            bias = bias + b
        return {s: (Terms.cat(v).merged() if len(v) > 1 else v[0]) for s, v in parts.items()}, bias


def _back_edges(order: list[str], adj: dict[str, list[str]], roots: list[str]) -> set[tuple[str, str]]:
    """Edges that close a cycle in a depth-first search from ``roots`` (then every other node, in ``order``)."""
    state: dict[str, int] = {}
    back = set()
    for root in roots + order:
        if state.get(root):
            continue
        state[root] = 1
        stack = [(root, iter(adj.get(root, [])))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            st = state.get(nxt, 0)
            if st == 1:
                back.add((node, nxt))
            elif st == 0:
                state[nxt] = 1
                stack.append((nxt, iter(adj.get(nxt, []))))
    return back


def _output_sources(flat: FlatGraph) -> dict[str, str]:
    """Output node -> the node that feeds it, walking back through identity maps."""
    out = {}
    for o in flat.outputs:
        preds = flat.preds(o)
        src = preds[0] if len(preds) == 1 else o
        while flat.kind.get(src) == "map" and flat.type_name[src] in IDENTITY_TYPES and len(flat.preds(src)) == 1:
            src = flat.preds(src)[0]
        out[o] = src
    return out


def from_nir(
    source,
    dt: float | None = None,
    convention: str = "nir",
    reset: str = "zero",
    *,
    name: str | None = None,
    spec: HardwareSpec = LOIHI1,
) -> NIRImport:
    """Import a NIR graph (a ``.nir`` path or a ``nir.NIRGraph``) as a Network.

    dt: the producer's step in seconds (NIR files store none; snnTorch's
    exporter assumes 1e-4; for convention 'norse' give Norse's own dt, e.g.
    1e-3). Files written by :func:`compiler.to_nir` carry their dt.
    convention: 'nir', 'snntorch', 'norse' (1.1.0 files) or 'norse-seconds'
    (:data:`~compiler.network.nir_neurons.CONVENTIONS`, docs/nir.md).
    reset: 'zero' (NIR's immediate reset to v_reset) or 'subtract'
    (snnTorch's default; refused with a :class:`NIRError`: Loihi 1 cannot
    express it). Raises :class:`NIRError` naming the node for bad input and
    warns (:class:`NIRWarning`) where dt/tau > 1.
    """
    read_notes: list[str] = []
    graph = load_graph(source, read_notes)
    flat = flatten(graph)
    meta = {k: _meta_value(v) for k, v in flat.metadata.items()}
    if dt is None:
        if META_DT not in meta:
            raise NIRError("dt missing: a NIR file stores no time step; give dt= in seconds (the producer's step: "
                           "snnTorch's exporter assumes 1e-4, Norse's LIFCell 1e-3)")
        dt = float(meta[META_DT])
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)) or not np.isfinite(dt) \
            or dt <= 0:
        raise NIRError(f"dt = {dt!r} must be a positive number of seconds")
    dt = float(dt)
    if convention not in CONVENTIONS:
        raise NIRError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    if reset not in RESETS:
        raise NIRError(f"unknown reset {reset!r}; known: {', '.join(RESETS)}")
    conv = CONVENTIONS[convention]
    if not flat.inputs:
        raise NIRError("the graph has no Input node")
    shapes, maps = infer_shapes(flat, dt)
    neurons = [n for n in flat.nodes if flat.kind[n] == "neuron"]
    plans: dict[str, NeuronPlan] = {}
    for n in neurons:
        plans[n] = plan_neuron(n, flat.type_name[n], flat.nodes[n], shapes[n], dt, conv, reset, spec)
    exprs = _Exprs(flat, shapes, maps)
    incoming = {n: exprs.input(n) for n in neurons}
    inputs = flat.inputs
    order = inputs + neurons
    index = {n: i for i, n in enumerate(order)}
    adj = {s: sorted({n for n in neurons if s in incoming[n][0]}, key=index.get) for s in order}
    back = _back_edges(order, adj, inputs)
    dag = nx.DiGraph()
    dag.add_nodes_from(order)
    dag.add_edges_from((s, n) for s in order for n in adj[s] if (s, n) not in back)
    lag = {n: 0 for n in inputs}
    for n in nx.lexicographical_topological_sort(dag, key=index.get):
        if n in lag:
            continue
        cands = [1] + [lag[s] + 1 - int(incoming[n][0][s].d.min()) for s in dag.predecessors(n)
                       if incoming[n][0][s].d.size]
        lag[n] = max(cands)
    rows: list[ReportRow] = []
    notes: list[str] = list(read_notes)
    default = Path(source).stem if isinstance(source, (str, os.PathLike)) else str(meta.get("loihi_emu_network", "nir"))
    net = Network(name or default, spec)
    always_on = [n for n in inputs if (getattr(flat.nodes[n], "metadata", None) or {}).get(META_ALWAYS_ON) is not None]
    for n in inputs:
        if n in always_on:
            net.add_input(n, encoder=RateEncoder(1.0, size=_size(shapes[n])))
        else:
            net.add_input(n, _size(shapes[n]))
    consts = {}
    for n in neurons:
        p = plans[n]
        c_u = incoming[n][1] * p.gain
        consts[n] = (c_u + p.v_const, -p.keep_u * p.v_const)
        if incoming[n][1].any():
            rows.append(ReportRow(n, f"bias in front = {fmt(incoming[n][1])}",
                                  f"enters u: bias axon x gain = {fmt(c_u)}, delay {lag[n] - 1}"))
    bias_name = None
    if any(a.any() or b.any() for a, b in consts.values()):
        bias_name = "bias"
        while bias_name in flat.nodes:
            bias_name += "_"
        net.add_input(bias_name, encoder=RateEncoder(1.0, size=1))
    topo = sorted(neurons, key=lambda n: (lag[n], index[n]))
    for n in topo:
        p = plans[n]
        vth = p.vth
        if vth is None:  # non-spiking: a threshold the bounded input cannot reach
            s = np.zeros(p.size)
            for t in incoming[n][0].values():
                s += np.bincount(t.post, weights=np.abs(t.w), minlength=p.size) * p.gain
            s += np.abs(consts[n][0]) + np.abs(consts[n][1])
            bu = s / np.maximum(1.0 - p.keep_u, 1e-12)
            kv = 1.0 - 1.0 / p.tau_v
            bv = np.where(kv < 1, bu / np.maximum(1.0 - kv, 1e-12), bu * 1e4)
            vth = np.full(p.size, max(2.0 * float(bv.max()), 1e-6))
            notes.append(f"{n}: non-spiking {p.type}: vth = {vth[0]:.6g}, twice the largest |v| its input can reach"
                         + (" in 10^4 steps (an integrator)" if (kv >= 1).any() else "") + "; read its v")
        net.add_population(n, p.size, tau_u=p.tau_u, tau_v=p.tau_v, vth=vth, refractory=p.refractory)
        rows.extend(p.rows)
        notes.extend(f"{n}: {x}" for x in p.notes)
    for n in topo:
        p = plans[n]
        for s, t in incoming[n][0].items():
            is_back = (s, n) in back
            # a recurrent edge carries the previous step unless a Delay node on the loop already does
            d = lag[n] - lag[s] - 1 + (np.maximum(t.d, 1) if is_back else t.d)
            if (d < 0).any():
                notes.append(f"inexact: {'recurrent ' if is_back else ''}edge {s!r} -> {n!r} needs delay "
                             f"{int(d.min())} steps on Loihi (a loop through several layers); it arrives "
                             f"{int(-d.min())} step(s) late")
                d = np.maximum(d, 0)
            if (d > spec.max_delay).any():
                raise NIRError(f"edge {s!r} -> {n!r}: needs a synaptic delay of {int(d.max())} steps; Loihi 1 allows "
                               f"0..{spec.max_delay}", n)
            w = t.w * p.gain[t.post]
            keep = w != 0
            if not keep.any():
                continue
            net.connect(s, n, sparse=(t.pre[keep], t.post[keep], w[keep]), delay=d[keep].astype(np.int64))
            rows.append(ReportRow(n, f"from {s}: {int(keep.sum())} synapses", f"projection {s!r} -> {n!r}, delay "
                                  f"{fmt(d[keep]) if keep.any() else '-'}", note="recurrent" if is_back else ""))
        c0, c1 = consts[n]
        if bias_name and (c0.any() or c1.any()):
            if lag[n] > spec.max_delay:
                raise NIRError(f"node {n!r}: its bias would need a delay of {lag[n]} steps (lag {lag[n]}); "
                               f"Loihi 1 allows 0..{spec.max_delay}", n)
            idx = np.arange(p.size)
            parts = Terms.cat([Terms(np.zeros(p.size, np.int64), idx, c0, np.full(p.size, lag[n] - 1)),
                               Terms(np.zeros(p.size, np.int64), idx, c1, np.full(p.size, lag[n]))]).merged()
            net.connect(bias_name, n, sparse=(parts.pre, parts.post, parts.w), delay=parts.d)
    layers: dict[str, Layer] = {}
    for n in inputs:
        layers[n] = Layer(n, "Input" if n not in always_on else "AlwaysOn", n, shapes[n], 0)
    for n in topo:
        layers[n] = Layer(n, flat.type_name[n], n, shapes[n], lag[n], plans[n].spiking)
    outs = _output_sources(flat)
    for o, src in outs.items():
        if src not in layers:
            notes.append(f"Output {o!r} is fed by {src!r} ({flat.type_name.get(src, '?')}), not by a neuron layer; "
                         f"imp.outputs cannot read it")
    for m in maps:
        if flat.type_name[m] in ("Affine", "Linear", "Conv1d", "Conv2d", "AvgPool2d", "SumPool2d", "Scale"):
            rows.append(ReportRow(m, f"{flat.type_name[m]} {list(shapes[flat.preds(m)[0]]) if flat.preds(m) else []}"
                                  f" -> {list(shapes[m])}", f"{maps[m].rows.size} weights folded into projections"))
    if any(ly.lag > 1 for ly in layers.values()) or len(layers) > len(inputs):
        notes.append("Loihi adds one step per hop: layer k runs `lag` steps behind the producer "
                     "(imp.outputs drops them)")
    src_name = str(source) if isinstance(source, (str, os.PathLike)) else "a NIRGraph"
    report = NIRReport(src_name, conv.name, dt, reset, rows, layers, notes)
    shapes_out = {o: shapes[o] for o in outs}
    offsets = {n: plans[n].v_offset for n in neurons}
    return NIRImport(net, report, layers, outs, shapes_out, offsets)
