"""NIR neuron nodes -> Loihi compartments, per producer convention (docs/nir.md has the tables).

Every neuron becomes a CUBA population whose float step (the compiler's
float reference) is the producer's forward-Euler step:

* ``keep_v = 1 - a_mem`` with ``a = dt_eff / tau`` per step (``tau_v = 1/a``
  steps), ``keep_u = 1 - a_syn`` for a CubaLIF (``tau_u = 1`` otherwise:
  ``u`` holds this step's input only);
* the producer's input gains fold into the weights per target neuron
  (:attr:`NeuronPlan.gain`): LIF ``a r``; CubaLIF ``a_mem r a_syn w_in``
  (Euler, NIR and snnTorch) or ``a_mem r w_in`` (Norse: the current jumps by
  the input); IF ``r`` per step (``dt r`` in the literal NIR reading);
* ``v_reset`` shifts the voltage (``v' = v - v_reset``), so the threshold is
  ``v_threshold - v_reset`` and the leak drive is ``a_mem (v_leak - v_reset)``
  per step (:attr:`NeuronPlan.v_const`);
* reset "zero" (NIR's immediate reset) is Loihi's reset with refractory 1;
  snnTorch's ``Synaptic`` also holds v at 0 for one step: refractory 2.

``dt_eff`` is ``dt`` for exporters that write seconds and ``dt * dt`` for
Norse 1.1.0 (which writes ``tau = dt * tau_true``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from compiler.errors import NIRError, NIRWarning
from compiler.network.nir_graph import NON_SPIKING
from loihi_emu.hw import LOIHI1, HardwareSpec


@dataclass(frozen=True)
class Convention:
    """How a producer steps the NIR ODEs.

    tau: 'seconds' (taus are seconds) or 'dt*tau' (Norse 1.1.0 writes dt times the true tau).
    cuba_input: 'euler' (``I += a_syn (w_in x - I)``) or 'jump' (Norse: ``I += w_in x``, then decays).
    if_per_step: IF/I integrate ``r x`` per step (True) or ``dt r x`` (False, the literal ODE).
    cuba_zero_refractory: refractory register of a CubaLIF under reset 'zero'.
    """

    name: str
    tau: str
    cuba_input: str
    if_per_step: bool
    cuba_zero_refractory: int
    summary: str


CONVENTIONS = {
    "nir": Convention("nir", "seconds", "euler", False, 1,
                      "the literal NIR ODEs, forward Euler with dt, immediate reset to v_reset"),
    "snntorch": Convention("snntorch", "seconds", "euler", True, 2,
                           "snnTorch 1.0 Leaky/Synaptic (export dt 1e-4 s); Synaptic's zero reset holds v one step"),
    "norse": Convention("norse", "dt*tau", "jump", True, 1,
                        "Norse 1.1.0 LIFCell/LIFBoxCell: dt = Norse's dt, file taus are dt * tau"),
    "norse-seconds": Convention("norse-seconds", "seconds", "jump", True, 1,
                                "Norse with an exporter that writes taus in seconds"),
}
RESETS = ("zero", "subtract")
META_REFRACTORY = "loihi_refractory"  # node metadata (written by compiler.to_nir): the refractory register


@dataclass
class ReportRow:
    """One line of the mapping report: a NIR parameter, the Loihi value it became, and what that costs.

    mapping_error: relative error of the float import (0 = exact; NaN = not a
    number, see note); chip_error: relative error of the chip's register
    (decay fraction per step) where the importer can tell, else None.
    """

    node: str
    nir: str
    loihi: str
    mapping_error: float = 0.0
    chip_error: float | None = None
    note: str = ""


@dataclass
class NeuronPlan:
    """What one NIR neuron node becomes (arrays [size]; taus in steps)."""

    name: str
    type: str
    shape: tuple[int, ...]
    tau_u: np.ndarray
    tau_v: np.ndarray
    vth: np.ndarray | None  # None: non-spiking, set from the inputs by the importer
    refractory: int | np.ndarray
    gain: np.ndarray
    v_const: np.ndarray
    v_offset: np.ndarray
    spiking: bool
    rows: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def keep_u(self) -> np.ndarray:
        return 1.0 - 1.0 / self.tau_u


def fmt(a) -> str:
    """Short summary of a parameter: the value, or min..max, with the count."""
    a = np.asarray(a, np.float64).ravel()
    if a.size == 0:
        return "[]"
    lo, hi = float(a.min()), float(a.max())
    same = f"{lo:.6g}" == f"{hi:.6g}"
    val = f"{lo:.6g}" if same else f"{lo:.6g}..{hi:.6g}"
    return val if a.size == 1 else f"{val} (x{a.size})"


def _param(plan_notes: list[str], name: str, node, key: str, n: int, default=None) -> np.ndarray:
    v = getattr(node, key, None)
    if v is None:
        if default is None:
            raise NIRError(f"node {name!r}: parameter {key} is missing", name)
        v = default
    a = np.asarray(v, np.float64)
    if a.size == 1 and n != 1:
        plan_notes.append(f"{key} = {float(a.ravel()[0]):.6g} broadcast to {n} neurons")
        a = np.full(n, float(a.ravel()[0]))
    a = a.ravel()
    if a.size != n:
        raise NIRError(f"node {name!r}: shapes do not chain: {key} has {a.size} values for {n} neurons", name)
    if np.isnan(a).any():
        raise NIRError(f"node {name!r}: {key}[{int(np.flatnonzero(np.isnan(a))[0])}] is NaN", name)
    return a


def _rate(name: str, key: str, tau: np.ndarray, dt_eff: float, notes: list[str], warn: bool = True) -> np.ndarray:
    """a = dt_eff / tau per step, clamped to 1 with a warning where it is above (forward Euler is unstable there)."""
    if (tau <= 0).any():
        i = int(np.flatnonzero(tau <= 0)[0])
        raise NIRError(f"node {name!r}: {key}[{i}] = {tau[i]} must be > 0 (seconds)", name)
    a = dt_eff / tau
    if (a > 1).any():
        i = int(np.argmax(a))
        msg = (f"node {name!r}: dt/{key} = {a[i]:.6g} > 1 for {int((a > 1).sum())} neuron(s): forward Euler is "
               f"unstable there; clamped to 1 (no memory). Check dt and the convention (Norse 1.1.0 files need "
               f"convention='norse')")
        if warn:
            warnings.warn(msg, NIRWarning, stacklevel=4)
        notes.append("inexact: " + msg)
        a = np.minimum(a, 1.0)
    return a


def _chip_decay_error(a: np.ndarray, current: bool, spec: HardwareSpec) -> float:
    """Largest relative error of the chip's decay fraction per step against ``a``."""
    one = spec.decay_one
    reg = np.clip(np.rint(one * a) - (1 if current else 0), 0, spec.decay_max)
    chip = (reg + (1 if current else 0)) / one
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(a > 0, np.abs(chip - a) / a, np.where(chip > 0, np.inf, 0.0))
    return float(rel.max()) if rel.size else 0.0


def plan_neuron(name: str, t: str, node, shape: tuple[int, ...], dt: float, conv: Convention, reset: str,
                spec: HardwareSpec = LOIHI1) -> NeuronPlan:
    """The :class:`NeuronPlan` of neuron node ``name`` (type ``t``) with ``shape`` (module docstring)."""
    n = int(np.prod(shape)) if shape else 1
    notes: list[str] = []
    dt_eff = dt * dt if conv.tau == "dt*tau" else dt
    spiking = t not in NON_SPIKING
    p = lambda key, default=None: _param(notes, name, node, key, n, default)  # noqa: E731
    zero = np.zeros(n)
    r = p("r", 1.0)
    vleak = p("v_leak", 0.0) if t in ("LIF", "CubaLIF", "LI", "CubaLI") else zero
    vreset = p("v_reset", 0.0) if spiking else zero
    rows: list[ReportRow] = []
    ones = np.ones(n)
    if t in ("LIF", "LI"):
        tau = p("tau")
        a = _rate(name, "tau", tau, dt_eff, notes)
        tau_u, tau_v = ones, 1.0 / a
        gain = a * r
        rows.append(ReportRow(name, f"tau = {fmt(tau)} s", f"tau_v = {fmt(tau_v)} steps (decay_v/4096 = dt/tau)",
                              0.0, _chip_decay_error(a, False, spec)))
        rows.append(ReportRow(name, f"r = {fmt(r)}", f"weights x r*dt/tau = {fmt(gain)}"))
        rows.append(ReportRow(name, "(no synaptic current)", "tau_u = 1 step (decay_u_reg 4095: u = this step's input)"))
        v_const = a * (vleak - vreset)
    elif t in ("CubaLIF", "CubaLI"):
        ts, tm = p("tau_syn"), p("tau_mem")
        w_in = p("w_in", 1.0)
        a_s, a_m = _rate(name, "tau_syn", ts, dt_eff, notes), _rate(name, "tau_mem", tm, dt_eff, notes)
        tau_u, tau_v = 1.0 / a_s, 1.0 / a_m
        if conv.cuba_input == "euler":
            gain, how = a_m * r * a_s * w_in, "r*w_in*(dt/tau_mem)*(dt/tau_syn)"
        else:
            gain, how = a_m * r * w_in, "r*w_in*dt/tau_mem (the current jumps by the input)"
        rows.append(ReportRow(name, f"tau_syn = {fmt(ts)} s", f"tau_u = {fmt(tau_u)} steps", 0.0,
                              _chip_decay_error(a_s, True, spec)))
        rows.append(ReportRow(name, f"tau_mem = {fmt(tm)} s", f"tau_v = {fmt(tau_v)} steps", 0.0,
                              _chip_decay_error(a_m, False, spec)))
        rows.append(ReportRow(name, f"r = {fmt(r)}, w_in = {fmt(w_in)}", f"weights x {how} = {fmt(gain)}"))
        v_const = a_m * (vleak - vreset)
    else:  # IF, I
        tau_u, tau_v = ones, np.full(n, np.inf)
        gain = r.copy() if conv.if_per_step else dt * r
        rows.append(ReportRow(name, f"r = {fmt(r)}", f"tau_v = inf (decay_v 0); weights x "
                              f"{'r' if conv.if_per_step else 'dt*r'} = {fmt(gain)}"))
        v_const = zero
    if vleak.any() or vreset.any():
        rows.append(ReportRow(name, f"v_leak = {fmt(vleak)}, v_reset = {fmt(vreset)}",
                              f"drive into v {fmt(v_const)} per step (bias axon)"))
    vth = None
    refractory = 1
    if spiking:
        thr = p("v_threshold")
        vth = thr - vreset
        if (vth <= 0).any():
            i = int(np.flatnonzero(vth <= 0)[0])
            raise NIRError(f"node {name!r}: v_threshold[{i}] - v_reset[{i}] = {vth[i]} must be > 0 (Loihi fires on "
                           f"v > vth > 0 and resets to 0)", name)
        if reset == "subtract":
            raise NIRError(
                f"node {name!r} ({t}): reset='subtract' (snnTorch's default: v -= threshold one step after the "
                f"spike) has no exact Loihi 1 counterpart: a firing compartment always sets v to 0, and no synapse "
                f"can carry the v it had above the threshold; import with reset='zero' to approximate it "
                f"(docs/nir.md measures the cost)", name)
        refractory = conv.cuba_zero_refractory if t == "CubaLIF" else 1
        ref = (getattr(node, "metadata", None) or {}).get(META_REFRACTORY)
        if ref is not None:
            r_arr = np.asarray(ref).ravel().astype(np.int64)
            refractory = r_arr if r_arr.size == n else int(r_arr[0])
            notes.append(f"refractory {fmt(r_arr)} from the node's metadata ({META_REFRACTORY})")
        rows.append(ReportRow(name, f"v_threshold = {fmt(thr)}", f"vth = {fmt(vth)} (model units)"))
        rows.append(ReportRow(name, f"reset '{reset}' to v_reset", f"reset to 0, refractory {fmt(refractory)}",
                              note="exact" if np.all(np.asarray(refractory) == 1) else "v held at 0 after the spike"))
        if vreset.any():
            notes.append("v is shifted by v_reset: it starts at v_reset (0 in the compartment), exact for Norse "
                         "when v_reset == v_leak")
        if conv.cuba_input == "jump" and (vleak != vreset).any():
            notes.append("inexact: Norse starts v at v_leak, the import at v_reset; the first steps differ")
    return NeuronPlan(name, t, tuple(shape), np.asarray(tau_u, np.float64), np.asarray(tau_v, np.float64), vth,
                      refractory, np.asarray(gain, np.float64), np.asarray(v_const, np.float64), vreset, spiking,
                      rows, notes)
