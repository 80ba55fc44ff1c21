"""Float parameters -> Loihi registers, with the error every choice costs.

Rules (``spec`` = :data:`loihi_emu.hw.LOIHI1` unless given; ``one`` = 4096):

* **Decays.** A time constant ``tau`` (steps, >= 1, inf = no decay) is a decay
  fraction ``d = 1/tau`` per step (forward Euler: ``x <- x (1 - 1/tau)``), or
  ``d = 1 - exp(-1/tau)`` with ``tau_convention="exp"``; ``decay_u``/``decay_v``
  give ``d`` directly, and the registers below use ``tau = 1/d``.
  ``decay_v = rint(one / tau_v)`` and ``decay_u_reg = rint(one / tau_u) - 1``,
  both clipped to 0..4095 (``rint``: nearest, ties to even). The ``- 1`` is
  because the emulator decays u with ``decay_u_reg + 1`` (docs/semantics.md, "One timestep"):
  ``tau_u = 1`` gives 4095 (u holds only this step's input); u can never be a
  perfect integrator (register 0 keeps 4095/4096 per step, tau 4096).
* **Scale.** One scale ``s`` per population (v units per model unit) maps its
  threshold, bias, vmin, vmax and the weights of every projection into it.
  ``s`` is chosen so the largest incoming weight of the *strongest*
  projection fills the mantissa at exponent 0: ``s = min_proj(M_proj * 2^6 /
  max|w_proj|)`` with ``M = P * floor(255 / P)`` the largest mantissa of the
  projection's format (mantissa step ``P``). Without incoming weights ``s`` is
  the largest value the threshold and bias ranges allow. ``s`` is then
  lowered to stay within every range: ``s * vth <= (2^17 - 1) * 2^6``,
  ``s * |bias| <= 4095 * 2^7``, ``s * |w| <= M * 2^(7 + 6)``. ``v_scale``
  fixes ``s`` (values out of range then raise :class:`QuantizationError`).
* **Threshold.** ``vth_mant = rint(s * vth / 2^6)``; below 1 is an error.
* **Bias.** ``bias_exp`` = the smallest exponent 0..7 with
  ``|rint(s * bias / 2^e)| <= 4095``; ``bias_mant = rint(s * bias / 2^e)``.
* **vmin, vmax.** ``rint(s * v)``, clipped to ``-2^23 .. 2^23 - 1``; absent
  means the hardware limit.
* **Weights.** Per projection (= per synapse format): sign mode excitatory
  when every weight is >= 0, inhibitory when every weight is <= 0, else mixed;
  weight bits 8 (single sign) or 9 (mixed) unless given, so ``P = 1``. With
  ``x = s * w / 2^6`` the exponent is the smallest ``e`` in 0..7 with
  ``max|x| / 2^e <= M`` (the most mantissa bits without overflow; negative
  exponents only lose bits, since weights are ``floor(wmant * 2^e) * 2^6``),
  and ``wmant = P * rint(x / (2^e P))``. The model weight it stands for is
  ``wmant * 2^(e + 6) / s``.
* **Plastic projections** (``learning_rule``): the same rules, with the
  format's weight bits setting the learning step ``P`` (full width, ``P =
  1``, unless ``weight_bits`` is given) and, for a mixed format, ``M = P *
  floor(254 / P)`` because a plastic mixed mantissa stays in -256..254. A
  plastic projection with all-positive initial weights is excitatory (its
  weights can never turn negative) unless ``sign_mode="mixed"`` is given.

:class:`QuantizationTable` lists, per population and projection and per
quantity, the worst absolute and relative error and where it is.
Unavoidable losses emit :class:`QuantizationWarning`: a decay fraction or
threshold off by more than ``warn_rel`` (relative), a bias off by more than
``warn_rel`` of the population's largest bias, more than 1 % of a
projection's nonzero weights rounded to zero, a clipped vmin/vmax, a scale
that ranges force more than a bit below what the weights want.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from compiler.errors import QuantizationError, QuantizationWarning
from compiler.network.population import Population, Projection
from compiler.passes.errortable import ErrorRow, QuantizationTable, error_row, merge_error_rows  # noqa: F401
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.core import SIGN_EXCITATORY, SIGN_INHIBITORY, SIGN_MIXED
from loihi_emu.image.profiles import LearningProfile

SIGN_CODES = {"mixed": SIGN_MIXED, "excitatory": SIGN_EXCITATORY, "inhibitory": SIGN_INHIBITORY}


# ---------------------------------------------------------------- primitives
def decay_v_register(tau: np.ndarray, spec: HardwareSpec = LOIHI1) -> np.ndarray:
    """``decay_v = clip(rint(4096 / tau_v), 0, 4095)``; tau in steps (inf -> 0, a perfect integrator)."""
    return np.clip(np.rint(spec.decay_one / np.asarray(tau, np.float64)), 0, spec.decay_max).astype(np.int64)


def decay_u_register(tau: np.ndarray, spec: HardwareSpec = LOIHI1) -> np.ndarray:
    """``decay_u_reg = clip(rint(4096 / tau_u) - 1, 0, 4095)``: the emulator decays u by ``(reg + 1) / 4096``."""
    return np.clip(np.rint(spec.decay_one / np.asarray(tau, np.float64)) - 1, 0, spec.decay_max).astype(np.int64)


def format_step(weight_bits: int, sign_mode: int, spec: HardwareSpec = LOIHI1) -> int:
    """Mantissa step P of a synapse format: ``2^(8 - (bits - mixed))``."""
    return spec.weight_step(weight_bits, sign_mode == SIGN_MIXED)


def max_mantissa(weight_bits: int, sign_mode: int, spec: HardwareSpec = LOIHI1, plastic: bool = False) -> int:
    """Largest mantissa magnitude M a format holds for both signs: ``P * floor(255 / P)``.

    A plastic mixed format keeps its mantissa in -256..254 (SEMANTICS-learning
    "Sign modes"), so its M is ``P * floor(254 / P)``.
    """
    p = format_step(weight_bits, sign_mode, spec)
    top = spec.plastic_mixed_wmant_max if plastic and sign_mode == SIGN_MIXED else spec.weight_mant_max
    return p * (top // p)


def quantize_bias(x: np.ndarray, spec: HardwareSpec = LOIHI1) -> tuple[np.ndarray, np.ndarray]:
    """Bias in v units -> (bias_mant, bias_exp), the smallest exponent that fits; error if none does."""
    x = np.asarray(x, np.float64)
    exp = np.zeros(x.shape, np.int64)
    mant = np.rint(x)
    for e in range(1, spec.bias_exp_max + 1):
        over = np.abs(mant) > spec.bias_mant_max
        if not over.any():
            break
        exp[over] = e
        mant[over] = np.rint(x[over] / 2.0**e)
    if (np.abs(mant) > spec.bias_mant_max).any():
        i = int(np.flatnonzero(np.abs(mant) > spec.bias_mant_max)[0])
        raise QuantizationError(f"bias[{i}] = {x[i]:g} v units exceeds {spec.bias_mant_max} * 2^{spec.bias_exp_max}")
    return mant.astype(np.int64), exp


def weight_exponent(max_abs_x: float, mant_max: int, spec: HardwareSpec = LOIHI1) -> int | None:
    """Smallest exponent e in 0..7 with ``max_abs_x / 2^e <= mant_max`` (x in units of 2^6); None if none."""
    for e in range(0, spec.weight_exp_max + 1):
        if max_abs_x <= mant_max * 2.0**e:
            return e
    return None


@dataclass(frozen=True, eq=False)
class PopulationRegisters:
    """The CUBA registers of one population (int64 [size] each) and its scale (v units per model unit)."""

    name: str
    v_scale: float
    decay_u_reg: np.ndarray
    decay_v: np.ndarray
    vth_mant: np.ndarray
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    refract: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    scales: np.ndarray | None = None  # dense packing: per compartment scale (float64 [size]); None: v_scale

    def compartment_scales(self) -> np.ndarray:
        """v units per model unit of each compartment (float64 [size])."""
        return self.scales if self.scales is not None else np.full(self.vth_mant.size, self.v_scale)


@dataclass(frozen=True, eq=False)
class ProjectionWeights:
    """One projection's synapse format and mantissas: wmant int16 [m], weight_exp 0..7, bits, sign code.

    learning: the learning profile a plastic projection's synapses follow
    (None: static). A core holds one synapse format per distinct
    :attr:`format_key`; for a plastic format the weight bits set the learning
    step ``P = 2^(8 - (bits - mixed))`` of the weight mantissa.
    """

    pre: str
    post: str
    wmant: np.ndarray
    weight_exp: int
    weight_bits: int
    sign_mode: int
    learning: LearningProfile | None = None
    wexp: np.ndarray | None = None  # dense packing: per synapse exponent (int8 [m]); None: weight_exp for all

    @property
    def format_key(self) -> tuple:
        """(weight bits, exponent, sign code, learning profile or None): one synapse format."""
        return (self.weight_bits, self.weight_exp, self.sign_mode, self.learning)

    def format_keys(self) -> frozenset:
        """Every synapse format this projection's synapses use (one unless exponents are per synapse)."""
        if self.wexp is None or self.wexp.size == 0:
            return frozenset({self.format_key})
        return frozenset((self.weight_bits, int(e), self.sign_mode, self.learning) for e in np.unique(self.wexp))

    def exponents(self) -> np.ndarray:
        """Exponent of every synapse (int8 [m])."""
        return self.wexp if self.wexp is not None else np.full(self.wmant.size, self.weight_exp, np.int8)



@dataclass
class QuantizedNetwork:
    populations: list[PopulationRegisters]
    projections: list[ProjectionWeights]
    table: QuantizationTable

    def learning_profiles(self) -> tuple[list[LearningProfile], list[int]]:
        """The distinct learning profiles (in order of first use) and, per projection, its index (-1: static).

        Projections with identical settings (equal :class:`LearningProfile`:
        same microcode, traces, epoch and rounding) share one profile.
        """
        ids: dict[LearningProfile, int] = {}
        per = [-1 if pw.learning is None else ids.setdefault(pw.learning, len(ids)) for pw in self.projections]
        return list(ids), per


# ---------------------------------------------------------------- per population / projection
def projection_format(proj: Projection, spec: HardwareSpec = LOIHI1) -> tuple[int, int]:
    """(weight bits, sign code) of a projection: as given, else the widest for its sign."""
    w = proj.weight
    if proj.sign_mode is not None:
        sign = SIGN_CODES[proj.sign_mode]
    elif w.size == 0 or (w >= 0).all():
        sign = SIGN_EXCITATORY
    elif (w <= 0).all():
        sign = SIGN_INHIBITORY
    else:
        sign = SIGN_MIXED
    bits = proj.weight_bits or (spec.max_weight_bits if sign == SIGN_MIXED else spec.max_weight_bits - 1)
    return int(bits), sign


def choose_scale(pop: Population, incoming: list[Projection], spec: HardwareSpec = LOIHI1) -> tuple[float, str]:
    """The population's scale s (v units per model unit) and what bounded it (see module doc)."""
    bounds = {"vth": spec.vth_mant_max * 2.0**spec.vth_shift / float(pop.vth.max())}
    bmax = float(np.abs(pop.bias).max())
    if bmax > 0:
        bounds["bias"] = spec.bias_mant_max * 2.0**spec.bias_exp_max / bmax
    fill = []
    for proj in incoming:
        wmax = proj.weight_range
        if wmax == 0:
            continue
        m = max_mantissa(*projection_format(proj, spec), spec, plastic=proj.plastic)
        top = proj.weight_exp if proj.weight_exp is not None else spec.weight_exp_max
        bounds[f"weights from {proj.pre!r}"] = m * 2.0 ** (top + spec.weight_shift) / wmax
        fill.append(m * 2.0**spec.weight_shift / wmax)
    upper = min(bounds.values())
    limiter = min(bounds, key=bounds.get)
    if pop.v_scale is not None:
        if pop.v_scale > upper * (1 + 1e-12):
            raise QuantizationError(
                f"{pop.label}: v_scale = {pop.v_scale:g} puts {limiter} out of range (largest scale {upper:g}); "
                f"lower v_scale or leave it unset"
            )
        return float(pop.v_scale), "v_scale"
    if not fill:
        return upper, limiter
    want = min(fill)
    if want > upper:
        if want > 2 * upper:
            warnings.warn(
                f"{pop.label}: the range of {limiter} limits the scale to {upper:g} (weights want {want:g}); "
                f"incoming weights keep {np.log2(want / upper):.1f} fewer mantissa bits",
                QuantizationWarning, stacklevel=4,
            )
        return upper, limiter
    return want, "weights"


def _warn_rel(row: ErrorRow, warn_rel: float, scale: float | None = None) -> None:
    """Warn when the worst error exceeds ``warn_rel`` of the value (or of ``scale`` when given)."""
    if (row.max_rel if scale is None else row.max_abs / scale) > warn_rel:
        warnings.warn(
            f"{row.item}: {row.quantity}[{row.worst}] = {row.model:.6g} {row.unit} becomes "
            f"{row.quantized:.6g} (relative error {row.max_rel:.3g})",
            QuantizationWarning, stacklevel=4,
        )


def _register_tau(pop: Population, which: str, frac: np.ndarray) -> np.ndarray:
    """The tau the register formulas take: the given tau (forward Euler), else ``1 / d``."""
    if getattr(pop, f"decay_{which}") is None and pop.tau_convention == "euler":
        return getattr(pop, f"tau_{which}")
    with np.errstate(divide="ignore"):
        return 1.0 / frac


def quantize_population(
    pop: Population, incoming: list[Projection], spec: HardwareSpec = LOIHI1, warn_rel: float = 0.01
) -> tuple[PopulationRegisters, list[ErrorRow]]:
    """Registers of one population and its error rows (decays, vth, bias, vmin, vmax)."""
    s, _ = choose_scale(pop, incoming, spec)
    rows, item, one = [], pop.label, spec.decay_one
    if pop.decay_u_reg is not None:
        du = pop.decay_u_reg
    else:
        fu = pop.decay_fraction("u")
        du = decay_u_register(_register_tau(pop, "u", fu), spec)
        rows.append(error_row(item, "decay_u", "1/step", fu, (du + 1) / one))
        _warn_rel(rows[-1], warn_rel)
    if pop.decay_v_reg is not None:
        dv = pop.decay_v_reg
    else:
        fv = pop.decay_fraction("v")
        dv = decay_v_register(_register_tau(pop, "v", fv), spec)
        rows.append(error_row(item, "decay_v", "1/step", fv, dv / one))
        _warn_rel(rows[-1], warn_rel)
    vth_mant = np.rint(s * pop.vth / 2.0**spec.vth_shift).astype(np.int64)
    if (vth_mant < 1).any():
        i = int(np.flatnonzero(vth_mant < 1)[0])
        raise QuantizationError(
            f"{item}: vth[{i}] = {pop.vth[i]:g} is below one threshold step ({2.0**spec.vth_shift / s:.4g} model "
            f"units at scale {s:.4g}, set by the largest incoming weight); raise vth, scale the incoming weights "
            f"down, or set v_scale"
        )
    rows.append(error_row(item, "vth", "model", pop.vth, vth_mant * 2.0**spec.vth_shift / s))
    _warn_rel(rows[-1], warn_rel)
    try:
        bias_mant, bias_exp = quantize_bias(s * pop.bias, spec)
    except QuantizationError as exc:
        raise QuantizationError(f"{item}: {exc} at scale {s:.4g}; lower the bias or v_scale") from None
    rows.append(error_row(item, "bias", "model", pop.bias, bias_mant * 2.0**bias_exp / s))
    if np.abs(pop.bias).max() > 0:
        _warn_rel(rows[-1], warn_rel, float(np.abs(pop.bias).max()))
    lims = {"vmin": spec.v_min_limit, "vmax": spec.v_max_limit}
    v = {}
    for name, limit in lims.items():
        model = getattr(pop, name)
        if model is None:
            v[name] = np.full(pop.size, limit, np.int64)
            continue
        raw = np.rint(s * model)
        v[name] = np.clip(raw, spec.v_min_limit, spec.v_max_limit).astype(np.int64)
        if (v[name] != raw).any():
            i = int(np.flatnonzero(v[name] != raw)[0])
            warnings.warn(f"{item}: {name}[{i}] = {model[i]:g} is beyond the voltage range; clipped to "
                          f"{limit / s:.6g}", QuantizationWarning, stacklevel=3)
        rows.append(error_row(item, name, "model", model, v[name] / s))
    regs = PopulationRegisters(pop.name, s, du, dv, vth_mant, bias_mant, bias_exp, pop.refractory.astype(np.int64),
                               v["vmin"], v["vmax"])
    return regs, rows


CHUNK = 1 << 20
"""Synapses quantized at once (memory only: results never depend on it)."""


def quantize_projection(
    proj: Projection, v_scale: float, spec: HardwareSpec = LOIHI1, warn_zero: float = 0.01
) -> tuple[ProjectionWeights, ErrorRow]:
    """Mantissas and format of one projection into a population of scale ``v_scale``."""
    bits, sign = projection_format(proj, spec)
    p, m = format_step(bits, sign, spec), max_mantissa(bits, sign, spec, plastic=proj.plastic)
    mx = proj.weight_range * (v_scale / 2.0**spec.weight_shift)
    e = proj.weight_exp if proj.weight_exp is not None else weight_exponent(mx, m, spec)
    if e is None or mx > m * 2.0**e:
        raise QuantizationError(
            f"{proj.label}: the largest weight ({mx * 2.0**spec.weight_shift / v_scale:g}) needs more than "
            f"{m} * 2^{e if e is not None else spec.weight_exp_max} units at the scale of {proj.post!r}; "
            f"lower it, raise weight_exp, or lower v_scale of {proj.post!r}"
        )
    # memory: the float temporaries exist for one chunk of synapses at a time
    w = proj.weight
    wmant = np.empty(w.size, np.int16)
    rows, lost, nz = [], 0, 0
    for lo in range(0, max(w.size, 1), CHUNK):
        wc = w[lo : lo + CHUNK]
        wm = wmant[lo : lo + CHUNK]
        wm[...] = np.rint(wc * (v_scale / 2.0**spec.weight_shift) / (2.0**e * p)) * p
        rows.append(error_row(proj.label, "weight", "model", wc, wm * (2.0 ** (e + spec.weight_shift) / v_scale)))
        lost += int(np.count_nonzero((wm == 0) & (wc != 0)))
        nz += int(np.count_nonzero(wc))
    row = merge_error_rows(rows, CHUNK)
    if nz and lost > warn_zero * nz:
        warnings.warn(
            f"{proj.label}: {lost} of {nz} nonzero weights round to 0 (one mantissa step is "
            f"{p * 2.0 ** (e + spec.weight_shift) / v_scale:.4g} model units); use more weight bits or split "
            f"weak and strong weights into different populations", QuantizationWarning, stacklevel=3,
        )
    return ProjectionWeights(proj.pre, proj.post, wmant, int(e), bits, sign, proj.learning_profile), row


def tree_scales(net, incoming: dict[str, list[Projection]], spec: HardwareSpec) -> dict[str, float]:
    """Population name -> the one scale of its dendritic tree (docs/dendrites.md): the smallest any member allows."""
    out: dict[str, float] = {}
    for tree in getattr(net, "trees", {}).values():
        pops = [net.population(m.population) for m in tree.members]
        s = min(choose_scale(p, incoming.get(p.name, []), spec)[0] for p in pops)
        out.update({p.name: s for p in pops})
    return out


def quantize_network(net, spec: HardwareSpec | None = None, warn_rel: float = 0.01) -> QuantizedNetwork:
    """Quantize every population and projection of a :class:`~compiler.network.model.Network`."""
    spec = spec or net.spec
    incoming: dict[str, list[Projection]] = {}
    for proj in net.projections:
        incoming.setdefault(proj.post, []).append(proj)
    pops, rows, scale = [], [], {}
    shared = tree_scales(net, incoming, spec)
    for pop in net.populations:
        if pop.name in shared:  # a dendritic tree: one scale, so a child's v adds into its parent in model units
            pop = replace(pop, v_scale=shared[pop.name])
        regs, r = quantize_population(pop, incoming.get(pop.name, []), spec, warn_rel)
        pops.append(regs)
        rows += r
        scale[pop.name] = regs.v_scale
    projs = []
    axons = net.input_axons()
    for proj in net.projections:
        pw, row = quantize_projection(proj, scale[proj.post], spec)
        if proj.reward is not None:  # the profile's reward channel: the input axon of that population
            pw = replace(pw, learning=replace(pw.learning, reward_axon=int(axons[proj.reward][0])))
        projs.append(pw)
        rows.append(row)
    return QuantizedNetwork(pops, projs, QuantizationTable(rows))
