"""Export a compiler :class:`Network` as a NIR graph (docs/nir.md, "Export").

Each population becomes a unit-gain NIR neuron in the literal NIR reading
(convention 'nir', forward Euler with ``dt``): ``u`` without memory (tau_u =
1 step) is a ``LIF(tau = dt / (1 - keep_v), r = tau / dt)``, otherwise a
``CubaLIF(tau_syn = dt / (1 - keep_u), tau_mem = dt / (1 - keep_v), r =
tau_mem / dt, w_in = tau_syn / dt)``; a population that never decays v is an
``IF(r = 1 / dt)``. The bias becomes ``v_leak = bias * tau_mem / dt``. Loihi
delivers a spike one step after it is sent (plus the synaptic delay); NIR
frameworks in the same step, so each projection is written as ``pre ->
Delay((delay + 1) dt) -> Linear -> post`` (one branch per distinct delay):
the NIR graph means exactly what the chip computes, and importing it back
(:func:`compiler.from_nir`, which reads ``dt`` from the graph's metadata)
keeps every spike. A refractory register other than 1 is kept in the node's
metadata (``loihi_refractory``), which other NIR tools ignore; so is an
input population that spikes every step (a rate-1 encoder, such as the bias
axon of an imported network: ``loihi_always_on``). Other encoders are not
exported: their Input nodes take spikes from the caller.

quantized=True writes the values the chip computes instead of the float
ones: decays from the registers, thresholds, biases and weights from their
mantissas and the population's scale (:mod:`compiler.passes.quantize`).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from compiler.errors import NIRError, QuantizationWarning
from compiler.network.encoders import RateEncoder
from compiler.network.model import Network
from compiler.network.netfile import load_network
from compiler.network.nir import META_ALWAYS_ON, META_DT
from compiler.network.nir_graph import import_nir
from compiler.network.nir_neurons import META_REFRACTORY
from compiler.network.population import Population
from compiler.passes.quantize import quantize_network


def _keeps(pop: Population, one: float) -> tuple[np.ndarray, np.ndarray]:
    ku = (one - (pop.decay_u_reg + 1.0)) / one if pop.decay_u_reg is not None else 1.0 - pop.decay_fraction("u")
    kv = (one - pop.decay_v_reg) / one if pop.decay_v_reg is not None else 1.0 - pop.decay_fraction("v")
    return np.asarray(ku, np.float64), np.asarray(kv, np.float64)


def _check_name(name: str) -> None:
    if "/" in name or "." in name:
        raise NIRError(f"population {name!r}: a NIR node name cannot hold '/' or '.'; rename it", name)


def _neuron(nir, pop: Population, ku, kv, vth, bias, dt: float):
    label = pop.label
    a_s, a_m = 1.0 - ku, 1.0 - kv
    meta = {}
    if (pop.refractory != 1).any():
        meta[META_REFRACTORY] = pop.refractory.astype(np.int64)
    if pop.vmin is not None or pop.vmax is not None:
        raise NIRError(f"{label}: vmin/vmax have no NIR counterpart; remove them to export", pop.name)
    zero = np.zeros(pop.size)
    if (ku == 0).all():
        if (a_m == 0).all():
            if bias.any():
                raise NIRError(f"{label}: a perfect integrator (tau_v = inf) with a bias has no NIR node (IF has no "
                               f"leak term)", pop.name)
            return nir.IF(r=np.full(pop.size, 1.0 / dt), v_threshold=vth, v_reset=zero, metadata=meta)
        if (a_m == 0).any():
            raise NIRError(f"{label}: tau_v mixes inf and finite values; split the population to export it", pop.name)
        return nir.LIF(tau=dt / a_m, r=1.0 / a_m, v_leak=bias / a_m, v_threshold=vth, v_reset=zero, metadata=meta)
    if (a_s == 0).any() or (a_m == 0).any():
        raise NIRError(f"{label}: a CubaLIF needs finite tau_u and tau_v (u or v never decays here)", pop.name)
    return nir.CubaLIF(tau_syn=dt / a_s, tau_mem=dt / a_m, r=1.0 / a_m, w_in=1.0 / a_s, v_leak=bias / a_m,
                       v_threshold=vth, v_reset=zero, metadata=meta)


def to_nir(network: Network | str | os.PathLike, quantized: bool = False, dt: float = 1e-3,
           path: str | os.PathLike | None = None):
    """The NIR graph (``nir.NIRGraph``) of ``network`` (module docstring); written to ``path`` when given.

    dt: the step in seconds the graph's taus assume (stored in its metadata
    as ``loihi_emu_dt``). quantized: write the chip's values instead of the
    float ones. Raises :class:`NIRError` naming the population or projection
    that NIR cannot express.
    """
    nir = import_nir()
    net = network if isinstance(network, Network) else load_network(network)
    if not (isinstance(dt, (int, float)) and np.isfinite(dt) and dt > 0):
        raise NIRError(f"dt = {dt!r} must be a positive number of seconds")
    one = float(net.spec.decay_one)
    weights: dict[tuple[str, str], np.ndarray] = {}
    params = {}
    if quantized:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QuantizationWarning)
            q = quantize_network(net)
        shift = net.spec.weight_shift
        for reg in q.populations:
            s = reg.v_scale
            ku = (one - (reg.decay_u_reg + 1.0)) / one
            kv = (one - reg.decay_v) / one
            vth = reg.vth_mant * 2.0**net.spec.vth_shift / s
            params[reg.name] = (ku, kv, vth, reg.bias_mant * 2.0**reg.bias_exp / s)
        scale = {reg.name: reg.v_scale for reg in q.populations}
        for pw in q.projections:
            w = np.floor(pw.wmant * 2.0**pw.weight_exp) * 2.0**shift / scale[pw.post]
            weights[(pw.pre, pw.post)] = w
    else:
        for pop in net.populations:
            ku, kv = _keeps(pop, one)
            params[pop.name] = (ku, kv, pop.vth, pop.bias)
    nodes, edges = {}, []
    for p in net.inputs:
        _check_name(p.name)
        on = isinstance(p.encoder, RateEncoder) and bool((p.encoder.intensity >= 1).all())
        nodes[p.name] = nir.Input(input_type=np.array([p.size]), metadata={META_ALWAYS_ON: 1} if on else {})
    for pop in net.populations:
        _check_name(pop.name)
        nodes[pop.name] = _neuron(nir, pop, *params[pop.name], dt)
    for proj in net.projections:
        pre, post = net.population(proj.pre), net.population(proj.post)
        w = weights.get((proj.pre, proj.post), proj.weight)
        d = proj.delays().astype(np.int64)
        for dv in np.unique(d):
            sel = d == dv
            mat = np.zeros((post.size, pre.size))
            np.add.at(mat, (proj.post_index[sel], proj.pre_index[sel]), w[sel])
            base = f"{proj.pre}->{proj.post}"
            dn, wn = f"{base}.delay{int(dv)}", f"{base}.w{int(dv)}"
            nodes[dn] = nir.Delay(delay=np.full(pre.size, (int(dv) + 1) * dt))
            nodes[wn] = nir.Linear(weight=mat)
            edges += [(proj.pre, dn), (dn, wn), (wn, proj.post)]
    sinks = [p.name for p in net.populations if not any(pr.pre == p.name for pr in net.projections)]
    for name in sinks or [p.name for p in net.populations]:
        out = "output" if len(sinks) == 1 else f"output_{name}"
        nodes[out] = nir.Output(output_type=np.array([net.population(name).size]))
        edges.append((name, out))
    meta = {META_DT: float(dt), "loihi_emu_network": net.name, "loihi_emu_quantized": int(bool(quantized))}
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)
    if path is not None:
        nir.write(path, graph)
    return graph
