"""A plain per-compartment ``networkx.DiGraph`` -> :class:`~compiler.network.model.Network`.

For small networks. Every node is a compartment; node attributes are
:class:`~compiler.network.population.Population` parameters (``tau_u``, ``tau_v``,
``decay_u_reg``, ``decay_v_reg``, ``vth``, ``bias``, ``refractory``, ``vmin``,
``vmax``; missing ones take the population default). A node with
``kind="input"`` is an external input axon instead; its optional
``spike_times`` (a list of steps) give its spikes. Edges carry ``weight``
(required, model units) and optional ``delay`` (steps).

All compartment nodes become one population ``"compartments"`` (one scale
for the whole graph) and all input nodes one input population ``"inputs"``,
both in node order; ``network.node_index[node] = (population, index)``.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from compiler.errors import NetworkError, ParameterError
from compiler.network.model import Network
from loihi_emu.sizes import check_alloc

NODE_PARAMS = ("tau_u", "tau_v", "decay_u_reg", "decay_v_reg", "vth", "bias", "refractory", "vmin", "vmax")
DEFAULTS = {"tau_u": 1.0, "tau_v": np.inf, "vth": 1.0, "bias": 0.0, "refractory": 1}
EDGE_ATTRS = ("weight", "delay")
NUMBER = (int, float, np.integer, np.floating)
MAX_STEP = 2**31 - 1
"""Largest spike time of an input node (steps)."""


def from_compartment_graph(g: nx.DiGraph, name: str | None = None) -> Network:
    """Convert (see the module docstring); raises a typed error naming the bad node or edge."""
    if not isinstance(g, nx.DiGraph):
        raise NetworkError(f"expected a networkx.DiGraph, got {type(g).__name__}")
    inputs, comps = [], []
    for node, attrs in g.nodes(data=True):
        kind = attrs.get("kind", "compartment")
        if kind not in ("input", "compartment"):
            raise ParameterError(f"node {node!r}: kind {kind!r} is not 'input' or 'compartment'")
        allowed = {"kind", "spike_times"} if kind == "input" else {"kind", *NODE_PARAMS}
        extra = set(attrs) - allowed
        if extra:
            raise ParameterError(f"node {node!r}: unknown attribute(s) {sorted(extra)}; allowed: {sorted(allowed)}")
        (inputs if kind == "input" else comps).append(node)
    net = Network(name or str(g.graph.get("name", "graph")))
    index = {n: ("inputs", i) for i, n in enumerate(inputs)} | {n: ("compartments", i) for i, n in enumerate(comps)}
    for n in comps:
        for key in NODE_PARAMS:
            v = g.nodes[n].get(key)
            if key in g.nodes[n] and (isinstance(v, (bool, np.bool_)) or not isinstance(v, NUMBER)
                                      or np.isnan(float(v))):
                raise ParameterError(f"node {n!r}: {key} = {v!r} must be a number")
    if inputs:
        times = []
        for n in inputs:
            t = g.nodes[n].get("spike_times", [])
            if isinstance(t, np.ndarray):
                t = t.tolist()
            if not isinstance(t, (list, tuple)) or not all(
                    isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)) and 0 <= s <= MAX_STEP
                    for s in t):
                raise ParameterError(f"node {n!r}: spike_times must be a list of whole steps in 0..{MAX_STEP}, "
                                     f"got {t!r}"[:200])
            times.append([int(s) for s in t])
        steps = max((max(t) + 1 for t in times if t), default=0)
        check_alloc(f"input spikes of {len(inputs)} input nodes over {steps} steps", steps * len(inputs), 1)
        spikes = np.zeros((steps, len(inputs)), bool)
        for i, t in enumerate(times):
            spikes[np.asarray(t, np.int64), i] = True
        net.add_input("inputs", len(inputs), spikes=spikes)
    if comps:
        params = {}
        present = {k for n in comps for k in g.nodes[n] if k in NODE_PARAMS}
        for key in sorted(present):
            missing = [n for n in comps if key not in g.nodes[n]]
            if missing and key not in DEFAULTS:
                raise ParameterError(f"node {missing[0]!r}: has no {key!r} while other nodes do")
            params[key] = np.array([g.nodes[n].get(key, DEFAULTS.get(key)) for n in comps], np.float64)
        for tau, reg in (("tau_u", "decay_u_reg"), ("tau_v", "decay_v_reg")):
            if reg in params:
                if tau in params:
                    raise ParameterError(f"nodes mix {tau!r} and {reg!r}; give one of them for every node")
                params[tau] = None
        net.add_population("compartments", len(comps), **params)
    pre_i, post_i, w, d = ([] for _ in range(4))
    for u, v, attrs in g.edges(data=True):
        extra = set(attrs) - set(EDGE_ATTRS)
        if extra:
            raise ParameterError(f"edge {u!r} -> {v!r}: unknown attribute(s) {sorted(extra)}")
        if "weight" not in attrs:
            raise ParameterError(f"edge {u!r} -> {v!r} has no 'weight'")
        if index[v][0] == "inputs":
            raise NetworkError(f"edge {u!r} -> {v!r}: node {v!r} is an input and cannot receive synapses")
        wt, dl = attrs["weight"], attrs.get("delay", 0)
        if isinstance(wt, (bool, np.bool_)) or not isinstance(wt, NUMBER) or not np.isfinite(float(wt)):
            raise ParameterError(f"edge {u!r} -> {v!r}: weight {wt!r} is not a finite number")
        if isinstance(dl, (bool, np.bool_)) or not isinstance(dl, (int, np.integer)) or not 0 <= dl <= net.spec.max_delay:
            raise ParameterError(f"edge {u!r} -> {v!r}: delay {dl!r} is not a whole number of steps in "
                                 f"0..{net.spec.max_delay}")
        pre_i.append(index[u][1])
        post_i.append(index[v][1])
        w.append(wt)
        d.append(dl)
    pre_a, post_a = np.asarray(pre_i, np.int64), np.asarray(post_i, np.int64)
    w_a, d_a = np.asarray(w, np.float64), np.asarray(d, np.int64)
    src = np.array([index[u][0] == "inputs" for u, _ in g.edges()], bool)
    for pre_pop, sel in (("inputs", src), ("compartments", ~src)):
        if sel.any():
            net.connect(pre_pop, "compartments", sparse=(pre_a[sel], post_a[sel], w_a[sel]), delay=d_a[sel])
    net.node_index = index
    return net
