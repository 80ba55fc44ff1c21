"""Float reference: a float64 simulator of a compiler :class:`~compiler.network.model.Network`.

The step is the chip's (docs/semantics.md, "One timestep"), with float parameters and no
quantization, wrap or clip of ``q``/``u``. Units: time in steps; ``u``, ``v``,
thresholds, biases and weights in the post population's *model unit* (the
emulator's ``v`` divided by the population's scale is the same quantity).

One step ``t``, per compartment, in the emulator's order::

    q  = sum of the weights of synapses whose source spiked in step t - 1 - delay
    u  = keep_u * u + q (+ noise)        # no wrap; noise: docs/noise.md
    u2 = u + bias (+ noise)              # transient, never stored
    v  = clip(keep_v * v + u2, vmin, vmax)   # clip only where vmin/vmax are given
    v  = 0                  where counter > 0        # refractory
    spike = v > vth;  on spike: v = 0, counter = refractory
    counter = counter - 1   where counter > 0

Dendritic trees (docs/dendrites.md) follow the emulator's joins in float,
through the very numpy twin the emulator uses (``loihi_emu.runtime.joins``).

Decay factors (the "keep" factors the quantizer approximates, see
``compiler/passes/quantize.py``): ``keep = 1 - d`` with ``d`` the population's
per-step decay fraction: ``1/tau`` (``tau_convention="euler"``, the default),
``1 - exp(-1/tau)`` (``"exp"``) or ``decay_u``/``decay_v`` as given
(``tau = inf`` keeps 1: unlike the chip, u *can* be a perfect integrator here). The chip keeps ``(4096 - (decay_u_reg + 1)) / 4096``
with ``decay_u_reg = rint(4096/tau_u) - 1`` and ``(4096 - decay_v) / 4096``
with ``decay_v = rint(4096/tau_v)``, truncating the product toward zero. When
a population gives the registers (``decay_u_reg=``, ``decay_v_reg=``) the
reference uses exactly those factors, without truncation.

Learning (plastic projections, ``learning_rule=``) runs on the chip's schedule
with learning epoch 1 (docs/semantics.md (learning), docs/learning-engine.md), in
float: see :class:`FloatLearning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from compiler.errors import CompilerError
from compiler.network.input_population import InputPopulation
from compiler.network.model import Network
from compiler.passes.quantize import quantize_network
from compiler.precision.float_noise import FloatNoise
from loihi_emu.image.core import TRACES
from loihi_emu.image.input_eval import program_array
from loihi_emu.runtime.joins import join_arrays, join_update_numpy
from loihi_emu.runtime.probes import Probe, ProbeData, normalize_probes
from microcode import parse

FLOAT_QUANTITIES = ("spikes", "u", "v", "w")
TRACE_NAMES = TRACES


class FloatReferenceError(CompilerError):
    """The float reference cannot run a network, input or probe; the message names the item."""


@dataclass(frozen=True)
class FloatLearning:
    """Float settings of one plastic projection (overriding the projection's own ``traces``).

    traces: trace name ('x1', 'x2', 'y1', 'y2', 'y3') -> (impulse, tau in
    steps), in the chip's trace units (0..127 on the chip). Each step a trace
    decays by ``(tau - 1) / tau`` (no flooring) and each spike adds its
    impulse (no saturation at 127: the float trace is the unclipped sum).
    weight_unit: model units per weight-mantissa step, the unit in which the
    rule's ``dw`` and ``w`` are read. None: the compiler's, ``2^(6 + wexp) /
    v_scale`` of the quantized projection.

    The rule's ``dw`` is added as is (no rounding to the format's step); the
    weight is only kept on its sign (>= 0 excitatory, <= 0 inhibitory), the
    one bound that is physical. ``d`` reads the synapse's delay, ``t`` reads
    0, ``r0``/``r1`` the reward of the projection's ``reward`` input (spike
    indicator in the epoch, float trace with the ``r1`` (impulse, tau) of its
    traces, docs/reward.md; 0 without one); ``dd``/``dt`` rules are not
    evaluated (an error). The projection's ``learning_epoch`` T is followed
    (``x0``, ``y0``, ``uK``: at least once in the epoch; the rule runs at the
    epoch's last step); ``stochastic_rounding`` has no float meaning.
    """

    traces: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    weight_unit: float | None = None


@dataclass
class _Plastic:
    """Run-time state of one plastic projection (arrays over its synapses, its sources, its targets)."""

    label: str
    program: object
    pos: np.ndarray  # int64 [m]: index of each synapse in the global weight array
    pre: np.ndarray  # int64 [m]: local pre index
    post: np.ndarray  # int64 [m]: local post index
    src0: int  # global source id of pre index 0
    cx0: int  # global compartment of post index 0
    pre_size: int
    post_size: int
    delay: np.ndarray
    unit: float
    sign: int  # +1 keep >= 0, -1 keep <= 0, 0 free
    traces: dict[str, tuple[float, float]]
    state: dict[str, np.ndarray]
    epoch: int = 1
    x0_acc: np.ndarray | None = None  # any arrival in the current epoch (per pre index)
    y0_acc: np.ndarray | None = None
    u_acc: dict[int, bool] = field(default_factory=dict)
    reward_src: int = -1  # global source id of the reward axon, -1: none (r0 = r1 = 0)
    r1: tuple[float, float] = (0.0, 0.0)  # (impulse, tau) of the reward trace
    r_tr: float = 0.0
    r0_acc: float = 0.0


def keep_factors(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Per global compartment, the float keep factors (keep_u, keep_v) per step (module docstring)."""
    one = float(net.spec.decay_one)
    ku, kv = [], []
    for pop in net.populations:
        if pop.decay_u_reg is not None:
            ku.append((one - (pop.decay_u_reg + 1.0)) / one)
        else:
            ku.append(1.0 - pop.decay_fraction("u"))
        kv.append((one - pop.decay_v_reg) / one if pop.decay_v_reg is not None else 1.0 - pop.decay_fraction("v"))
    return np.concatenate(ku).astype(np.float64), np.concatenate(kv).astype(np.float64)


def _ranges(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(indptr[r], indptr[r + 1])`` for every r in ``rows`` (vectorised)."""
    starts, stops = indptr[rows], indptr[rows + 1]
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return offsets + np.arange(total, dtype=np.int64)


class FloatSimulator:
    """Run a :class:`Network` in float64 with the chip's step (module docstring).

    probes: 'spikes', 'u', 'v' (model units, end of step, like the emulator's
    probes over global compartments in population order) and 'w' (float
    weights of the plastic synapses in model units, projection order then
    synapse order), as names or :class:`loihi_emu.Probe`.
    learning: per plastic projection ``"pre->post"``, its :class:`FloatLearning`
    (or one FloatLearning for all). plastic: False runs every projection with
    its initial, static weights (learning rules ignored). seed: the
    emulator's seed, for the noise of populations that have it (the same
    sequence, in model units: :mod:`compiler.precision.float_noise`).
    """

    def __init__(
        self,
        network: Network,
        probes: Iterable[str | Probe] = ("spikes",),
        learning: Mapping[str, FloatLearning] | FloatLearning | None = None,
        plastic: bool = True,
        seed: int = 0,
    ) -> None:
        net = self.network = network
        self._noise = FloatNoise(net, seed) if any(p.noisy for p in net.populations) else None
        self.n = n = net.n_compartments
        self.n_in = n_in = net.n_inputs
        self.keep_u, self.keep_v = keep_factors(net)
        self._program = net.input_program()
        pops = net.populations
        cat = lambda key: np.concatenate([getattr(p, key) for p in pops]).astype(np.float64)  # noqa: E731
        self.vth, self.bias = cat("vth"), cat("bias")
        self.refract = np.concatenate([p.refractory for p in pops]).astype(np.int64)
        self.vmin = np.concatenate([p.vmin if p.vmin is not None else np.full(p.size, -np.inf) for p in pops])
        self.vmax = np.concatenate([p.vmax if p.vmax is not None else np.full(p.size, np.inf) for p in pops])
        jr = net.join_registers()
        self._joins = None if jr is None else join_arrays(*jr)
        cx, ax = net.compartment_ranges(), net.input_axons()

        def src_offset(name: str) -> int:
            return ax[name][0] if isinstance(net.population(name), InputPopulation) else n_in + cx[name][0]

        srcs, tgts, ws, ds, owner = [], [], [], [], []
        for k, proj in enumerate(net.projections):
            srcs.append(proj.pre_index.astype(np.int64) + src_offset(proj.pre))
            tgts.append(proj.post_index.astype(np.int64) + cx[proj.post][0])
            ws.append(proj.weight)
            ds.append(proj.delays().astype(np.int64))
            owner.append(np.full(proj.n, k, np.int64))
        z = np.zeros(0, np.int64)
        src = np.concatenate(srcs) if srcs else z
        order = np.argsort(src, kind="stable")
        self._tgt = (np.concatenate(tgts) if tgts else z)[order]
        self._delay = (np.concatenate(ds) if ds else z)[order]
        self.w = (np.concatenate(ws) if ws else np.zeros(0))[order].astype(np.float64)
        self._indptr = np.searchsorted(src[order], np.arange(n_in + n + 1)).astype(np.int64)
        self.n_slots = int(self._delay.max()) + 1 if self._delay.size else 1
        self._ring = np.zeros(self.n_slots * n)
        pos_of = np.empty(order.size, np.int64)
        pos_of[order] = np.arange(order.size)
        self._plastic = self._build_plastic(learning, pos_of, owner, src_offset, cx) if plastic else []
        n_plastic = sum(p.pos.size for p in self._plastic)
        self._sizes = {"spikes": n, "u": n, "v": n, "w": n_plastic}
        plist = list(probes)
        for p in plist:
            q = p.quantity if isinstance(p, Probe) else p
            if q not in FLOAT_QUANTITIES:
                raise FloatReferenceError(f"probe {q!r}: the float reference records {', '.join(FLOAT_QUANTITIES)}")
        self._probes = normalize_probes(plist, n, self._sizes)
        self.data = ProbeData(self._probes, self._sizes["spikes"], self._sizes, value_dtype=np.float64)
        self.u = np.zeros(n)
        self.v = np.zeros(n)
        self.counter = np.zeros(n, np.int64)
        self._prev_src = np.zeros(n_in + n, bool)
        self.spike_counts = np.zeros(n, np.int64)
        self.t = 0

    def plastic_synapses(self) -> dict[str, np.ndarray]:
        """Per plastic synapse, in the order of the 'w' probe: 'source' (input i, or n_in + g for compartment g),
        'target' (global compartment), 'projection' (index in ``network.projections``' plastic ones), int64 each."""
        z = np.zeros(0, np.int64)
        if not self._plastic:
            return {"source": z, "target": z, "projection": z}
        return {
            "source": np.concatenate([p.pre + p.src0 for p in self._plastic]),
            "target": np.concatenate([p.post + p.cx0 for p in self._plastic]),
            "projection": np.concatenate([np.full(p.pos.size, k, np.int64) for k, p in enumerate(self._plastic)]),
        }

    # ------------------------------------------------------------------ learning set-up
    def _build_plastic(self, learning, pos_of, owner, src_offset, cx) -> list[_Plastic]:

        out, units = [], None
        owner_all = np.concatenate(owner) if owner else np.zeros(0, np.int64)
        for k, proj in enumerate(self.network.projections):
            if proj.learning_rule is None:
                continue
            label = proj.label
            key = f"{proj.pre}->{proj.post}"
            cfg = learning if isinstance(learning, FloatLearning) else (learning or {}).get(key)
            proj_traces = dict(getattr(proj, "traces", None) or {})
            if cfg is None:
                cfg = FloatLearning(traces=proj_traces)
            elif not cfg.traces and proj_traces:
                cfg = FloatLearning(traces=proj_traces, weight_unit=cfg.weight_unit)
            epoch = int(getattr(proj, "learning_epoch", 1) or 1)
            program = parse(proj.learning_rule, spec=self.network.spec)
            for rule in program.rules:
                if rule.target != "dw":
                    raise FloatReferenceError(f"{label}: the float reference evaluates dw rules only, not {rule.target}")
            used = {f.variable for r in program.rules for p in r.products for f in p.factors}
            for tr in TRACE_NAMES:
                if tr in used and tr not in cfg.traces:
                    raise FloatReferenceError(
                        f"{label}: the rule reads {tr} but no (impulse, tau) is given for it; pass "
                        f"learning={{'{key}': FloatLearning(traces={{'{tr}': (impulse, tau)}})}}"
                    )
            unit = cfg.weight_unit
            if unit is None:
                if units is None:

                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        q = quantize_network(self.network)
                    scale = {p.name: p.v_scale for p in q.populations}
                    units = [2.0 ** (pw.weight_exp + self.network.spec.weight_shift) / scale[pw.post]
                             for pw in q.projections]
                unit = units[k]
            w = proj.weight
            sign = {"excitatory": 1, "inhibitory": -1, "mixed": 0}.get(proj.sign_mode or "", 0)
            if proj.sign_mode is None and w.size:
                sign = 1 if (w >= 0).all() else (-1 if (w <= 0).all() else 0)
            pre_pop, post_pop = self.network.population(proj.pre), self.network.population(proj.post)
            state = {}
            for tr, (_, tau) in cfg.traces.items():
                if tr == "r1":
                    continue
                if tr not in TRACE_NAMES or tau < 0:
                    raise FloatReferenceError(f"{label}: trace {tr!r} with tau {tau} (traces {TRACE_NAMES}, tau >= 0)")
                state[tr] = np.zeros(pre_pop.size if tr.startswith("x") else post_pop.size)
            out.append(_Plastic(label, program, pos_of[owner_all == k], proj.pre_index.astype(np.int64),
                                proj.post_index.astype(np.int64), src_offset(proj.pre), cx[proj.post][0],
                                pre_pop.size, post_pop.size, proj.delays().astype(np.float64), float(unit), sign,
                                {t: (float(i), float(tau)) for t, (i, tau) in cfg.traces.items() if t != "r1"}, state,
                                epoch, reward_src=src_offset(proj.reward) if proj.reward else -1,
                                r1=tuple(float(x) for x in cfg.traces.get("r1", (0, 0)))))
        return out

    def _learn(self, t: int) -> None:
        """Impulses of step t-1's spikes, the dw rule, then trace decay (the chip's learning part of step t)."""
        n_in = self.n_in
        for pl in self._plastic:
            x0 = self._prev_src[pl.src0 : pl.src0 + pl.pre_size].astype(np.float64)
            y0 = self._prev_src[n_in + pl.cx0 : n_in + pl.cx0 + pl.post_size].astype(np.float64)
            for tr, (imp, _) in pl.traces.items():
                pl.state[tr] += imp * (x0 if tr.startswith("x") else y0)
            r_hit = float(pl.reward_src >= 0 and self._prev_src[pl.reward_src])
            pl.r_tr += pl.r1[0] * r_hit
            # learning epoch T: x0 / y0 / uK mean "at least once in the epoch"; the rule runs at its last step
            if pl.x0_acc is None or t % pl.epoch == 0:
                pl.x0_acc, pl.y0_acc, pl.u_acc = np.zeros(pl.pre_size), np.zeros(pl.post_size), {}
                pl.r0_acc = 0.0
            pl.x0_acc = np.maximum(pl.x0_acc, x0)
            pl.y0_acc = np.maximum(pl.y0_acc, y0)
            pl.r0_acc = max(pl.r0_acc, r_hit)
            for k in range(10):
                pl.u_acc[k] = pl.u_acc.get(k, False) or t % (1 << k) == 0
            if (t + 1) % pl.epoch:
                self._decay_traces(pl)
                continue
            w = self.w[pl.pos] / pl.unit
            values = {"x0": pl.x0_acc[pl.pre], "y0": pl.y0_acc[pl.post], "w": w, "d": pl.delay,
                      "t": np.zeros_like(w), "r0": np.full_like(w, pl.r0_acc), "r1": np.full_like(w, pl.r_tr)}
            values.update({f"u{k}": float(v) for k, v in pl.u_acc.items()})
            for tr in TRACE_NAMES:
                arr = pl.state.get(tr)
                idx = pl.pre if tr.startswith("x") else pl.post
                values[tr] = arr[idx] if arr is not None else np.zeros_like(w)
            rule = pl.program.rule("dw")
            if rule is not None:
                dw = np.zeros_like(w)
                for prod in rule.products:
                    term = np.full_like(w, prod.scale_mant * 2.0**prod.scale_exp)
                    for f in prod.factors:
                        term *= _factor(f, values)
                    dw += term
                w = w + dw
                if pl.sign > 0:
                    w = np.maximum(w, 0.0)
                elif pl.sign < 0:
                    w = np.minimum(w, 0.0)
                self.w[pl.pos] = w * pl.unit
            self._decay_traces(pl)

    @staticmethod
    def _decay_traces(pl: _Plastic) -> None:
        for tr, (_, tau) in pl.traces.items():
            pl.state[tr] *= (tau - 1.0) / tau if tau > 0 else 0.0
        pl.r_tr *= (pl.r1[1] - 1.0) / pl.r1[1] if pl.r1[1] > 0 else 0.0

    # ------------------------------------------------------------------ running
    def _inputs(self, steps: int, inputs) -> np.ndarray:
        if inputs is None:  # the network's own inputs, as the emulator plays them from the image
            return program_array(self._program, self.t, self.t + steps).astype(bool)
        arr = np.asarray(inputs)
        if arr.ndim == 2 and arr.shape == (steps, self.n_in) and (arr.dtype.kind == "b" or arr.shape[1] != 2
                                                                 or arr.dtype == np.uint8):
            if arr.dtype.kind not in "biu" or (arr.size and (arr.min() < 0 or arr.max() > 1)):
                raise FloatReferenceError("input spike array must hold booleans or 0/1 integers")
            return arr.astype(bool)
        if arr.size == 0 or (arr.ndim == 2 and arr.shape[1] == 2 and arr.dtype.kind in "iu"):
            pairs = arr.reshape(-1, 2).astype(np.int64)
            bad = (pairs[:, 0] < 0) | (pairs[:, 0] >= steps) | (pairs[:, 1] < 0) | (pairs[:, 1] >= self.n_in)
            if bad.any():
                raise FloatReferenceError(f"input pair {tuple(pairs[np.flatnonzero(bad)[0]])} is outside "
                                          f"steps 0..{steps - 1}, axons 0..{self.n_in - 1}")
            out = np.zeros((steps, self.n_in), bool)
            out[pairs[:, 0], pairs[:, 1]] = True
            return out
        raise FloatReferenceError(
            f"inputs must be an array [steps={steps}, n_axons={self.n_in}] or (step, axon) pairs [k, 2]; "
            f"got shape {arr.shape}"
        )

    def run(self, steps: int, inputs: np.ndarray | None = None) -> None:
        """Advance ``steps`` steps; ``inputs`` as for :meth:`loihi_emu.Emulator.run` (steps count from this call;
        None: the network's own encoders and spike trains, from the current step)."""
        steps = int(steps)
        if steps < 0:
            raise FloatReferenceError(f"steps must be >= 0, got {steps}")
        sched = self._inputs(steps, inputs)
        for s in range(steps):
            self._step(sched[s])

    def _step(self, in_spikes: np.ndarray) -> np.ndarray:
        n, t = self.n, self.t
        if self._plastic:
            self._learn(t)
        slot = t % self.n_slots
        q = self._ring[slot * n : (slot + 1) * n].copy()
        self._ring[slot * n : (slot + 1) * n] = 0.0
        nq = nu2 = 0.0
        if self._noise is not None:
            nq, nu2 = self._noise.step(t)
        self.u = self.keep_u * self.u + q + nq
        if self._joins is not None:  # dendritic trees, leaves first (docs/dendrites.md)
            a = SimpleNamespace(**self._joins, vth=self.vth, cnt=self.counter)
            _, _, v, spiked = join_update_numpy(a, self.u + self.bias + nu2, self.keep_v * self.v,
                                                lambda x: x, self.vmin, self.vmax)
        else:
            v = np.clip(self.keep_v * self.v + self.u + self.bias + nu2, self.vmin, self.vmax)
            v[self.counter > 0] = 0.0
            spiked = v > self.vth
        v[spiked] = 0.0
        self.counter[spiked] = self.refract[spiked]
        self.counter[self.counter > 0] -= 1
        self.v = v
        src_spk = np.concatenate([in_spikes, spiked])
        rows = np.flatnonzero(src_spk)
        idx = _ranges(self._indptr, rows)
        if idx.size:
            key = ((t + 1 + self._delay[idx]) % self.n_slots) * n + self._tgt[idx]
            self._ring += np.bincount(key, weights=self.w[idx], minlength=self._ring.size)
        self._prev_src = src_spk
        spike_idx = np.flatnonzero(spiked)
        self.spike_counts[spike_idx] += 1
        if self._probes:
            state = {"spikes": spiked.astype(np.uint8), "u": self.u, "v": self.v}
            if "w" in {p.quantity for p, _ in self._probes}:
                state["w"] = np.concatenate([self.w[p.pos] for p in self._plastic]) if self._plastic else np.zeros(0)
            self.data.record(t, state, spike_idx)
        self.t = t + 1
        return spike_idx


def _factor(f, values: Mapping[str, np.ndarray | float]) -> np.ndarray | float:
    """Float value of one rule factor (microcode IR ``Factor``) over the synapses."""
    if f.kind == "const":
        return float(f.constant)
    x = values[f.variable]
    if f.kind == "sgn":
        return np.sign(x)
    return x + f.constant
