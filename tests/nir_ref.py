"""A framework-style NIR evaluator for the tests: no delay per layer, written independently of the importer.

Nodes run in the order given (the graph's insertion order by default); an
edge from a node that comes later in that order carries its output of the
previous step (a recurrent edge), every other edge the same step's. Neurons
step with forward Euler (``a = dt_eff / tau``), as snnTorch and Norse do.
"""

from __future__ import annotations

import numpy as np


def _conv(x: np.ndarray, w: np.ndarray, stride, padding, dilation, groups: int) -> np.ndarray:
    """Direct (loop) N-d convolution, PyTorch's cross-correlation; x [C, *sp], w [Co, Cg, *k]."""
    nd = w.ndim - 2
    st = np.broadcast_to(np.atleast_1d(stride), (nd,)).astype(int)
    dil = np.broadcast_to(np.atleast_1d(dilation), (nd,)).astype(int)
    pad = np.broadcast_to(np.atleast_1d(padding), (nd,)).astype(int)
    xp = np.pad(x, [(0, 0)] + [(p, p) for p in pad])
    co, cg, k = w.shape[0], w.shape[1], w.shape[2:]
    out_sp = [(xp.shape[1 + i] - dil[i] * (k[i] - 1) - 1) // st[i] + 1 for i in range(nd)]
    out = np.zeros((co, *out_sp))
    per = co // groups
    for o in range(co):
        g = o // per
        for pos in np.ndindex(*out_sp):
            acc = 0.0
            for c in range(cg):
                for kk in np.ndindex(*k):
                    idx = tuple(pos[i] * st[i] + kk[i] * dil[i] for i in range(nd))
                    acc += w[(o, c, *kk)] * xp[(g * cg + c, *idx)]
            out[(o, *pos)] = acc
    return out


def run_graph(graph, x: np.ndarray, dt: float, style: str = "nir", order: list[str] | None = None) -> dict:
    """Spikes (or v) of every node per step: {node: [T, *shape]}. style: 'nir', 'snntorch' or 'norse'."""
    nodes = graph.nodes
    order = list(order or nodes)
    pos = {n: i for i, n in enumerate(order)}
    preds = {n: [a for a, b in graph.edges if b == n] for n in order}
    state: dict = {}
    prev: dict = {}
    rec: dict = {n: [] for n in order}
    dt_eff = dt * dt if style == "norse" else dt
    for t in range(x.shape[0]):
        cur: dict = {}
        for n in order:
            node = nodes[n]
            kind = type(node).__name__
            if kind == "Input":
                cur[n] = np.asarray(x[t], float).ravel()
                rec[n].append(cur[n])
                continue
            ins = [cur[p] if pos[p] < pos[n] else prev.get(p) for p in preds[n]]
            ins = [i for i in ins if i is not None]
            inp = sum(ins) if ins else 0.0
            if kind in ("Affine", "Linear"):
                y = np.asarray(node.weight) @ np.ravel(inp) + (np.asarray(node.bias) if kind == "Affine" else 0.0)
            elif kind == "Scale":
                y = np.asarray(node.scale).ravel() * np.ravel(inp)
            elif kind in ("Flatten", "Output", "Identity"):
                y = np.ravel(inp)
            elif kind == "Delay":
                buf = state.setdefault(n, [])
                buf.append(np.ravel(inp))
                k = int(round(float(np.asarray(node.delay).ravel()[0]) / dt))
                y = buf[-1 - k] if len(buf) > k else np.zeros_like(np.ravel(inp))
            elif kind in ("Conv1d", "Conv2d"):
                w = np.asarray(node.weight)
                shp = (w.shape[1] * node.groups, *np.atleast_1d(node.input_shape))
                y = _conv(np.reshape(inp, shp), w, node.stride, node.padding, node.dilation, node.groups)
                y = (y + np.asarray(node.bias).reshape(-1, *([1] * (w.ndim - 2)))).ravel()
            elif kind in ("AvgPool2d", "SumPool2d"):
                c, h, wd = node.metadata["test_shape"]
                k = np.broadcast_to(np.atleast_1d(node.kernel_size), (2,))
                w = np.ones((c, 1, *k)) / (k[0] * k[1] if kind == "AvgPool2d" else 1)
                y = _conv(np.reshape(inp, (c, h, wd)), w, node.stride, node.padding, 1, c).ravel()
            else:
                y = _neuron(n, node, kind, np.ravel(inp), state, dt, dt_eff, style)
            cur[n] = y
            rec[n].append(y)
        prev = cur
    return {n: np.array(v) for n, v in rec.items()}


def _neuron(n, node, kind, inp, state, dt, dt_eff, style):
    st = state.setdefault(n, {"v": 0.0, "i": 0.0, "s": 0.0})
    g = lambda k, d=0.0: np.asarray(getattr(node, k, d) if getattr(node, k, None) is not None else d, float)  # noqa: E731
    if kind in ("LIF", "LI"):
        a = dt_eff / g("tau")
        v = st["v"] + a * (g("v_leak") - st["v"] + g("r") * inp)
    elif kind in ("CubaLIF", "CubaLI"):
        a_s, a_m = dt_eff / g("tau_syn"), dt_eff / g("tau_mem")
        if style == "norse":
            i_new = st["i"] + g("w_in", 1.0) * inp
            v = st["v"] + a_m * (g("v_leak") - st["v"] + g("r") * i_new)
            st["i"] = i_new * (1 - a_s)
        else:
            st["i"] = st["i"] + a_s * (g("w_in", 1.0) * inp - st["i"])
            v = st["v"] + a_m * (g("v_leak") - st["v"] + g("r") * st["i"])
            if style == "snntorch" and kind == "CubaLIF":
                v = v * (1 - st["s"])  # Synaptic, reset 'zero': mem = (1 - reset) * (beta mem + syn)
    else:  # IF, I
        v = st["v"] + (g("r") * inp if style != "nir" else dt * g("r") * inp)
    if kind in ("LI", "CubaLI", "I"):
        st["v"] = v
        return v
    s = (v > g("v_threshold")).astype(float)
    st["s"] = s
    st["v"] = np.where(s > 0, g("v_reset"), v)
    return s
