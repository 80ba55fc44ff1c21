"""The nouns of a network: populations and projections (input populations: :mod:`.input_population`).

Each is a frozen dataclass that checks and normalises itself on construction
(scalars broadcast to per-compartment arrays, shapes and ranges checked), so a
bad value raises a typed error naming the item before anything changes.

Units: time in steps. ``vth``, ``bias``, ``vmin``, ``vmax`` of a population
and the weights of every projection *into* it share one voltage unit, the
population's *model unit*; the quantizer maps it to register units with one
scale per population (``v_scale``: v units per model unit, where a threshold
of ``vth_mant`` is ``vth_mant * 2^6`` v units).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from compiler.errors import LearningError, LearningRuleError, ParameterError, ShapeError
from compiler.network.checks import (  # noqa: F401  (per_compartment, MAX_SIZE: re-exported)
    MAX_SIZE,
    _check_name,
    _check_size,
    _first_bad,
    per_compartment,
    real,
    whole_or_none,
)
from compiler.network.noise import check_noise
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.core import COMPARTMENT_TRACES, SOURCE_TRACES, TRACES
from loihi_emu.image.profiles import LearningProfile
from microcode import Program, RuleError, assemble, parse

SIGN_MODE_NAMES = ("mixed", "excitatory", "inhibitory")
TRACE_NAMES = TRACES
TAU_CONVENTIONS = ("euler", "exp")



@dataclass(frozen=True, eq=False)
class Population:
    """CUBA compartments with float parameters (all [size] after construction).

    tau_u, tau_v: current and voltage time constants in steps, >= 1 or inf
    (tau_u = 1: u holds this step's input only; tau_v = inf: perfect integrator).
    tau_convention: how a tau becomes the fraction ``d`` of u or v lost per
    step: ``"euler"`` (default, forward Euler: ``d = 1/tau``) or ``"exp"``
    (exact exponential decay, as nengo and Brian write it: ``d = 1 - exp(-1/tau)``).
    decay_u, decay_v: the per-step fractions ``d`` directly (0..1; x <- x (1 - d)),
    instead of a tau.
    decay_u_reg, decay_v_reg: the registers directly (0..4095), instead of either.
    vth: threshold (> 0), bias, vmin (<= 0), vmax (>= 0): model units.
    refractory: refractory delay register in steps, 1..63 (r leaves r - 1
    silent steps after the spike step).
    v_scale: fix the scale (v units per model unit) instead of letting the
    quantizer choose it.
    noise_exp, noise_offset, noise_target: compartment noise, one setting
    for the whole population (docs/noise.md). ``noise_exp`` (0..23; None,
    the default, = no noise) and ``noise_offset`` (-128..127) are the
    hardware integers: every step each compartment adds
    ``trunc((r + 64 * noise_offset) * 2^(noise_exp - 7))`` v units, r uniform
    in -127..127, to its current's input (``noise_target="u"``) or to its
    voltage's input (``"v"``, the default).
    """

    name: str
    size: int
    tau_u: np.ndarray | float | None = 1.0
    tau_v: np.ndarray | float | None = np.inf
    vth: np.ndarray | float = 1.0
    bias: np.ndarray | float = 0.0
    refractory: np.ndarray | int = 1
    vmin: np.ndarray | float | None = None
    vmax: np.ndarray | float | None = None
    decay_u_reg: np.ndarray | int | None = None
    decay_v_reg: np.ndarray | int | None = None
    v_scale: float | None = None
    decay_u: np.ndarray | float | None = None
    decay_v: np.ndarray | float | None = None
    tau_convention: str = "euler"
    noise_exp: int | None = None
    noise_offset: int = 0
    noise_target: str = "v"
    spec: HardwareSpec = field(default=LOIHI1, repr=False)

    @property
    def label(self) -> str:
        return f"population {self.name!r}"

    def __post_init__(self) -> None:
        _check_name("population", self.name)
        n = _check_size(f"population {self.name!r}", self.size)
        w, s, set_ = self.label, self.spec, lambda k, v: object.__setattr__(self, k, v)
        if self.tau_convention not in TAU_CONVENTIONS:
            raise ParameterError(f"{w}: tau_convention {self.tau_convention!r} is not one of {list(TAU_CONVENTIONS)} "
                                 "(euler: decay = 1/tau per step; exp: decay = 1 - exp(-1/tau))")
        for tau_name, reg_name, d_name in (("tau_u", "decay_u_reg", "decay_u"), ("tau_v", "decay_v_reg", "decay_v")):
            reg, frac = getattr(self, reg_name), getattr(self, d_name)
            if reg is not None and frac is not None:
                raise ParameterError(f"{w}: give {d_name} (a fraction per step) or {reg_name} (the register), not both")
            if frac is not None:
                arr = per_compartment(w, d_name, frac, n)
                _first_bad(w, d_name, arr, ~np.isfinite(arr) | (arr < 0) | (arr > 1),
                           f"is outside 0..1 (the fraction of {tau_name[-1]} lost per step; the register "
                           f"0..{s.decay_max} is {reg_name})")
                set_(d_name, arr)
                set_(tau_name, None)
            elif reg is not None:
                arr = per_compartment(w, reg_name, reg, n, integer=True)
                _first_bad(w, reg_name, arr, (arr < 0) | (arr > s.decay_max), f"is outside 0..{s.decay_max}")
                set_(reg_name, arr)
                set_(tau_name, None)
            else:
                if getattr(self, tau_name) is None:
                    raise ParameterError(f"{w}: give {tau_name} or {reg_name}")
                arr = per_compartment(w, tau_name, getattr(self, tau_name), n)
                _first_bad(w, tau_name, arr, arr < 1, "must be >= 1 step (1 = no memory, inf = no decay)")
                set_(tau_name, arr)
        vth = per_compartment(w, "vth", self.vth, n)
        _first_bad(w, "vth", vth, ~np.isfinite(vth) | (vth <= 0), "must be finite and > 0")
        bias = per_compartment(w, "bias", self.bias, n)
        _first_bad(w, "bias", bias, ~np.isfinite(bias), "must be finite")
        ref = per_compartment(w, "refractory", self.refractory, n, integer=True)
        _first_bad(w, "refractory", ref, (ref < s.refract_min) | (ref > s.refract_max),
                   f"is outside {s.refract_min}..{s.refract_max} steps")
        set_("vth", vth)
        set_("bias", bias)
        set_("refractory", ref)
        for name, sign in (("vmin", -1), ("vmax", 1)):
            val = getattr(self, name)
            if val is not None:
                arr = per_compartment(w, name, val, n)
                _first_bad(w, name, arr, ~np.isfinite(arr) | (sign * arr < 0),
                           f"must be finite and {'<=' if sign < 0 else '>='} 0")
                set_(name, arr)
        if self.v_scale is not None and not (np.isfinite(real(w, "v_scale", self.v_scale)) and self.v_scale > 0):
            raise ParameterError(f"{w}: v_scale = {self.v_scale} must be finite and > 0 (v units per model unit)")
        self._check_noise()

    def _check_noise(self) -> None:
        exp, off = check_noise(self.label, self.spec, self.noise_exp, self.noise_offset, self.noise_target)
        object.__setattr__(self, "noise_exp", exp)
        object.__setattr__(self, "noise_offset", off)

    @property
    def noisy(self) -> bool:
        """True when the population's compartments have noise."""
        return self.noise_exp is not None

    def decay_fraction(self, which: str) -> np.ndarray | None:
        """Fraction of ``which`` ('u' or 'v') lost per step, float [size]; None when the register is given."""
        frac = getattr(self, f"decay_{which}")
        if frac is not None:
            return frac
        tau = getattr(self, f"tau_{which}")
        if tau is None:
            return None
        return 1.0 / tau if self.tau_convention == "euler" else -np.expm1(-1.0 / tau)

    def params(self) -> dict:
        """The parameters as given to the constructor (normalised arrays), for files and copies."""
        keys = ("tau_u", "tau_v", "vth", "bias", "refractory", "vmin", "vmax", "decay_u_reg", "decay_v_reg",
                "decay_u", "decay_v", "v_scale")
        out = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        if self.tau_convention != "euler":
            out["tau_convention"] = self.tau_convention
        if self.noisy:
            out.update(noise_exp=self.noise_exp, noise_offset=self.noise_offset, noise_target=self.noise_target)
        return out


@dataclass(frozen=True, eq=False)
class Projection:
    """Synapses from population ``pre`` to ``post`` as parallel arrays (never one object each).

    pre_index, post_index: int32 [m] compartment indices; weight: float64 [m]
    in the post population's model unit; delay: uint8 [m] steps (0..62; 0
    acts in the step after the spike). weight_bits (1..9, or 1..8 for a
    single-sign format), sign_mode ('mixed', 'excitatory', 'inhibitory') and
    weight_exp (0..7) are chosen by the quantizer when None.

    Learning (all None/defaults: a static projection):

    learning_rule: rule text in the language of docs/learning-language.md,
    a full program (``"dw = 2^-2*x1*y0 - 2^-2*y1*x0; dd = ..."``) or a bare
    right-hand side meaning ``dw = <text>``; stored as the program text
    (``"dw = " + text.strip()`` for a bare one). It must parse and check
    (else :class:`LearningRuleError`, with the line and column in that text).
    traces: trace name (``x1``, ``x2``: per source; ``y1``..``y3``: per target
    compartment) -> ``(impulse, tau)``: impulse 0..127 (trace units added per
    spike), tau 1..4095 steps (``x <- floor(x (tau - 1) / tau)`` per step).
    Traces not named are off; a rule that reads a trace not named is an error.
    Stored as a dict in trace order.
    learning_epoch: steps per learning epoch T, 1..63 (the rule runs once per T steps).
    stochastic_rounding: round trace decay and weight steps stochastically.
    w_max: the largest |weight| learning may reach, in model units (default:
    the largest initial |weight|). The quantizer sizes the synapse format for
    it, so learned weights have room to grow before the format clips them.
    reward: the name of a one-axon input population whose spikes are the
    rule's reward (r0, r1; docs/reward.md); traces ``"r1": (impulse, tau)``
    sets its trace. The network checks the name (Network.connect).
    """

    pre: str
    post: str
    pre_size: int
    post_size: int
    pre_index: np.ndarray
    post_index: np.ndarray
    weight: np.ndarray
    delay: np.ndarray | int = 0
    weight_bits: int | None = None
    sign_mode: str | None = None
    weight_exp: int | None = None
    learning_rule: str | None = None
    traces: Mapping[str, tuple[int, int]] | None = None
    learning_epoch: int = 1
    stochastic_rounding: bool = False
    w_max: float | None = None
    reward: str | None = None
    spec: HardwareSpec = field(default=LOIHI1, repr=False)

    @property
    def label(self) -> str:
        return f"projection {self.pre!r} -> {self.post!r}"

    @property
    def weight_range(self) -> float:
        """Largest |weight| the format must hold, in model units: initial weights, or ``w_max`` when larger."""
        wmax = float(np.abs(self.weight).max()) if self.weight.size else 0.0
        return max(wmax, self.w_max or 0.0)

    @property
    def key(self) -> str:
        """``"pre->post"``, the projection's name in reports."""
        return f"{self.pre}->{self.post}"

    @property
    def plastic(self) -> bool:
        """True when the projection has a learning rule."""
        return self.learning_rule is not None

    @property
    def learning_profile(self) -> LearningProfile | None:
        """The :class:`~loihi_emu.image.profiles.LearningProfile` the rule, traces, epoch and rounding make.

        Projections with identical settings (the same microcode, traces, epoch
        and rounding) have equal profiles; None for a static projection.
        """
        return self._profile

    @property
    def program(self) -> Program | None:
        """The parsed rule program (:class:`microcode.Program`), None for a static projection."""
        return self._program

    def x_settings(self) -> tuple:
        """What a source's presynaptic traces follow: (x1, x2 (impulse, tau), rounding); (0, 0) = off."""
        tr = self.traces or {}
        return tuple(tr.get(n, (0, 0)) for n in SOURCE_TRACES) + (bool(self.stochastic_rounding),)

    def y_settings(self) -> tuple:
        """What a target compartment's postsynaptic traces follow: (y1, y2, y3 (impulse, tau), rounding)."""
        tr = self.traces or {}
        return tuple(tr.get(n, (0, 0)) for n in COMPARTMENT_TRACES) + (bool(self.stochastic_rounding),)

    def _check_learning(self) -> None:
        """Validate and normalise the learning fields; build the learning profile (see the class doc)."""
        w, s, set_ = self.label, self.spec, lambda k, v: object.__setattr__(self, k, v)
        set_("_program", None)
        set_("_profile", None)
        rule = self.learning_rule
        if self.w_max is not None:
            ok = isinstance(self.w_max, (int, float, np.integer, np.floating)) and not isinstance(self.w_max, bool)
            if not ok or not np.isfinite(self.w_max) or self.w_max <= 0:
                raise LearningError(f"{w}: w_max = {self.w_max!r} must be a positive finite weight (model units)")
            if rule is None:
                raise LearningError(f"{w}: w_max is given without a learning_rule (static weights never grow)")
            set_("w_max", float(self.w_max))
        if rule is None:
            if self.traces:
                raise LearningError(f"{w}: traces are given without a learning_rule")
            if self.learning_epoch != 1 or self.stochastic_rounding:
                raise LearningError(f"{w}: learning_epoch / stochastic_rounding are given without a learning_rule")
            return
        if not isinstance(rule, str):
            raise LearningError(f"{w}: learning_rule must be rule text (str), got {type(rule).__name__}")
        bare = not any("=" in line.split("#")[0] for line in rule.splitlines())
        text = f"dw = {rule.strip()}" if bare else rule
        try:
            program = parse(text, spec=s)
            code = assemble(program, s).to_bytes()
        except RuleError as exc:
            raise LearningRuleError(f"{w}: learning rule error: {exc}", exc) from exc
        ep = self.learning_epoch
        if isinstance(ep, bool) or not isinstance(ep, (int, np.integer)) or not 1 <= ep <= s.max_learning_epoch:
            raise LearningError(f"{w}: learning_epoch = {ep!r} is outside 1..{s.max_learning_epoch} steps")
        if not isinstance(self.stochastic_rounding, (bool, np.bool_)):
            raise LearningError(f"{w}: stochastic_rounding must be True or False, got {self.stochastic_rounding!r}")
        traces = self.traces or {}
        if not isinstance(traces, Mapping):
            raise LearningError(f"{w}: traces must map a trace name to (impulse, tau)")
        norm: dict[str, tuple[int, int]] = {}
        for name, val in traces.items():
            if name not in (*TRACE_NAMES, "r1"):
                raise LearningError(f"{w}: unknown trace {name!r}; traces are {', '.join(TRACE_NAMES)}, r1")
            try:
                imp, tau = val
            except (TypeError, ValueError):
                raise LearningError(f"{w}: trace {name} must be (impulse, tau), got {val!r}") from None
            for what, v, hi, unit in (("impulse", imp, s.trace_impulse_max, ""),
                                      ("tau", tau, s.trace_tau_max, " steps")):
                lo = 0 if what == "impulse" else 1
                if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer, float, np.floating)) \
                        or not np.isfinite(v) or v != int(v) or not lo <= v <= hi:
                    raise LearningError(f"{w}: trace {name} {what} = {v!r} is outside {lo}..{hi}{unit}"
                                        + (" (leave the trace out to switch it off)" if what == "tau" else ""))
            norm[name] = (int(imp), int(tau))
        norm = {n: norm[n] for n in (*TRACE_NAMES, "r1") if n in norm}
        read = {f.variable for r in program.rules for p in r.products for f in p.factors}
        missing = [t for t in TRACE_NAMES if t in read and t not in norm]
        if missing:
            raise LearningError(
                f"{w}: the learning rule reads {', '.join(missing)} but traces gives no (impulse, tau) for "
                f"{'it' if len(missing) == 1 else 'them'}; add traces={{'{missing[0]}': (impulse, tau), ...}}"
            )
        set_("learning_rule", text)
        set_("traces", norm)
        set_("learning_epoch", int(ep))
        set_("stochastic_rounding", bool(self.stochastic_rounding))
        set_("_program", program)
        set_("_profile", LearningProfile(code, tuple((n, i, t) for n, (i, t) in norm.items() if n != "r1"), int(ep),
                                         "stochastic" if self.stochastic_rounding else "det",
                                         reward=norm.get("r1", (0, 0))))  # the reward axon: quantize_network

    @property
    def n(self) -> int:
        return self.weight.size

    def __post_init__(self) -> None:
        w, s, set_ = self.label, self.spec, lambda k, v: object.__setattr__(self, k, v)
        arrays = {}
        for name in ("pre_index", "post_index", "weight"):
            try:
                arr = np.asarray(getattr(self, name))
            except (ValueError, TypeError):
                raise ShapeError(f"{w}: {name} is not a rectangular array of numbers") from None
            if arr.ndim != 1:
                raise ShapeError(f"{w}: {name} must be 1-D, got shape {arr.shape}")
            arrays[name] = arr
        m = arrays["weight"].size
        for name, arr in arrays.items():
            if arr.size != m:
                raise ShapeError(f"{w}: {name} has {arr.size} entries, weight has {m}")
        for name, hi in (("pre_index", self.pre_size), ("post_index", self.post_size)):
            arr = arrays[name]
            if arr.size and arr.dtype.kind not in "iu":
                raise ParameterError(f"{w}: {name} must be integers, got {arr.dtype}")
            _first_bad(w, name, arr, (arr < 0) | (arr >= hi), f"is outside 0..{hi - 1}")
            set_(name, arr.astype(np.int32))
        wt = arrays["weight"]
        if wt.size and wt.dtype.kind not in "iuf":
            raise ParameterError(f"{w}: weight must be numeric, got {wt.dtype}")
        wt = wt.astype(np.float64)
        _first_bad(w, "weight", wt, ~np.isfinite(wt), "is not finite")
        set_("weight", wt)
        try:
            d = np.asarray(self.delay)
        except (ValueError, TypeError):
            raise ParameterError(f"{w}: delay is not a rectangular array of numbers") from None
        if d.ndim not in (0, 1) or (d.ndim == 1 and d.size != m):
            raise ShapeError(f"{w}: delay has shape {d.shape}, expected a scalar or ({m},)")
        if d.size and (d.dtype.kind not in "iuf" or not np.all(np.isfinite(d)) or np.any(d != np.round(d))):
            raise ParameterError(f"{w}: delays must be whole numbers of steps")
        dd = np.atleast_1d(d)
        _first_bad(w, "delay", dd, (dd < 0) | (dd > s.max_delay), f"is outside 0..{s.max_delay} steps")
        set_("delay", int(d) if d.ndim == 0 else d.astype(np.uint8))
        if self.sign_mode is not None and (not isinstance(self.sign_mode, str) or self.sign_mode not in SIGN_MODE_NAMES):
            raise ParameterError(f"{w}: sign_mode {self.sign_mode!r} is not one of {SIGN_MODE_NAMES}")
        if self.sign_mode == "excitatory":
            _first_bad(w, "weight", wt, wt < 0, "is negative in an excitatory projection")
        if self.sign_mode == "inhibitory":
            _first_bad(w, "weight", wt, wt > 0, "is positive in an inhibitory projection")
        set_("weight_bits", whole_or_none(w, "weight_bits", self.weight_bits, 1, s.max_weight_bits, " bits"))
        set_("weight_exp", whole_or_none(w, "weight_exp", self.weight_exp, 0, s.weight_exp_max))
        if self.weight_bits is not None:
            single = self.sign_mode in ("excitatory", "inhibitory") or (
                self.sign_mode is None and (wt.size == 0 or (wt >= 0).all() or (wt <= 0).all())
            )
            hi = s.max_weight_bits - (1 if single else 0)
            if int(self.weight_bits) != self.weight_bits or not 1 <= self.weight_bits <= hi:
                raise ParameterError(f"{w}: weight_bits = {self.weight_bits} is outside 1..{hi} for this sign mode")
        if self.weight_exp is not None and (
            int(self.weight_exp) != self.weight_exp or not 0 <= self.weight_exp <= s.weight_exp_max
        ):
            raise ParameterError(f"{w}: weight_exp = {self.weight_exp} is outside 0..{s.weight_exp_max}")
        self._check_learning()

    def delays(self) -> np.ndarray:
        """Per-synapse delays in steps, uint8 [m]."""
        if isinstance(self.delay, np.ndarray):
            return self.delay
        return np.full(self.n, self.delay, np.uint8)

    @property
    def has_delays(self) -> bool:
        return bool(np.any(self.delay))
