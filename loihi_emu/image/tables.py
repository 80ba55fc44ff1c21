"""Board-image tables: parallel integer arrays that validate themselves.

Each table is a frozen dataclass of 1-D arrays with fixed dtypes
(``DTYPES``); on construction it coerces its arrays without losing a value,
and checks shapes, CSR pointers and register ranges, raising
:class:`~loihi_emu.errors.ImageError` that names the core (``where``), table,
field, index, value and limit. How the tables fit together is in
:mod:`loihi_emu.image.core`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.image.joins import JOIN_FIELDS, check_joins
from loihi_emu.image.table_base import Table, check_range  # noqa: F401  (re-exported)
from microcode import RuleError, disassemble

# The CUBA registers of a compartment, in table order (the one list of them).
REGISTERS = ("decay_u_reg", "decay_v", "vth_mant", "bias_mant", "bias_exp", "refract", "vmin", "vmax")
# The learning traces: x1, x2 per source, y1..y3 per compartment (the one list of them).
TRACES = ("x1", "x2", "y1", "y2", "y3")
SOURCE_TRACES, COMPARTMENT_TRACES = TRACES[:2], TRACES[2:]

# Compartment noise (docs/noise.md): the optional fields, and what noise_mode means.
NOISE_FIELDS = ("noise_mode", "noise_exp", "noise_offset")
NOISE_OFF, NOISE_U, NOISE_V = 0, 1, 2  # no noise; added to q (the current's input); added to u2 (the voltage's)
NOISE_TARGETS = {"u": NOISE_U, "v": NOISE_V}

# Reward (docs/reward.md): the optional learning-profile fields.
REWARD_FIELDS = ("reward_axon", "r1_impulse", "r1_tau")

SIGN_MIXED, SIGN_EXCITATORY, SIGN_INHIBITORY = 1, 2, 3
SIGN_MODES = {SIGN_MIXED: "mixed", SIGN_EXCITATORY: "excitatory", SIGN_INHIBITORY: "inhibitory"}


@dataclass(frozen=True, eq=False)
class CompartmentTable(Table):
    """CUBA registers, one entry per compartment of a core.

    decay_u_reg: current decay register, 0..4095; u keeps (4095 - reg)/4096.
    decay_v: voltage decay register, 0..4095; v keeps (4096 - reg)/4096.
    vth_mant: threshold mantissa, 1..2^17-1; vth = vth_mant << 6.
    bias_mant, bias_exp: bias = bias_mant << bias_exp (mantissa +-4095, exp 0..7).
    refract: refractory delay in steps, 1..63.
    vmin, vmax: voltage clip bounds in v units, -2^23..0 and 0..2^23-1.
    global_index: this compartment's index in the image's global numbering.
    noise_mode, noise_exp, noise_offset (optional; default 0 = no noise):
    0 no noise, 1 noise added to q (the current's input), 2 to u2 (the
    voltage's input); exponent 0..23 and signed offset mantissa -128..127
    of ``trunc((r + 64 * offset) * 2^(exp - 7))``, r uniform in -127..127
    (docs/noise.md). A core holds one noise setting (limits.validate).
    join_op, join_offset (optional; default 0 = a root): how the compartment
    joins its parent (1 add, 2 block, 3 pass, 4 or, 5 and) and the parent's
    local index minus its own (>= 1); docs/dendrites.md, :mod:`.joins`.
    """

    decay_u_reg: np.ndarray
    decay_v: np.ndarray
    vth_mant: np.ndarray
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    refract: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    global_index: np.ndarray
    noise_mode: np.ndarray | None = None
    noise_exp: np.ndarray | None = None
    noise_offset: np.ndarray | None = None
    join_op: np.ndarray | None = None
    join_offset: np.ndarray | None = None

    DTYPES: ClassVar[dict[str, str]] = {**dict.fromkeys(REGISTERS, "int32"), "global_index": "int64",
                                        "noise_mode": "uint8", "noise_exp": "int8", "noise_offset": "int8",
                                        "join_op": "uint8", "join_offset": "uint16"}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset(NOISE_FIELDS + JOIN_FIELDS)

    def __post_init__(self) -> None:
        for f in NOISE_FIELDS + JOIN_FIELDS:
            if getattr(self, f) is None:
                object.__setattr__(self, f, np.zeros(np.asarray(self.decay_u_reg).size, self.DTYPES[f]))
        super().__post_init__()

    @property
    def n(self) -> int:
        return self.decay_u_reg.size

    @property
    def noisy(self) -> np.ndarray:
        """bool [n]: compartments with noise."""
        return self.noise_mode != NOISE_OFF

    def check(self) -> None:
        s, w, t = self.spec, self.where, self.table_name
        self._same_length(tuple(self.DTYPES))
        check_range(w, t, "decay_u_reg", self.decay_u_reg, 0, s.decay_max)
        check_range(w, t, "decay_v", self.decay_v, 0, s.decay_max)
        check_range(w, t, "vth_mant", self.vth_mant, 1, s.vth_mant_max)
        check_range(w, t, "bias_mant", self.bias_mant, -s.bias_mant_max, s.bias_mant_max)
        check_range(w, t, "bias_exp", self.bias_exp, 0, s.bias_exp_max)
        check_range(w, t, "refract", self.refract, s.refract_min, s.refract_max, " steps")
        check_range(w, t, "vmin", self.vmin, s.v_min_limit, 0)
        check_range(w, t, "vmax", self.vmax, 0, s.v_max_limit)
        check_range(w, t, "global_index", self.global_index, 0, np.iinfo(np.int64).max)
        check_range(w, t, "noise_mode", self.noise_mode, NOISE_OFF, NOISE_V, " (0 off, 1 u, 2 v)")
        check_range(w, t, "noise_exp", self.noise_exp, s.noise_exp_min, s.noise_exp_max)
        check_range(w, t, "noise_offset", self.noise_offset, *s.noise_offset_range)
        check_joins(w, t, self.join_op, self.join_offset)


@dataclass(frozen=True, eq=False)
class SynapseFormatTable(Table):
    """Synapse formats of a core, referred to by index from the synapse table.

    weight_bits: mantissa bits kept, 1..9 (mixed formats count the sign bit);
    the mantissa step is P = 2^(8 - (weight_bits - mixed)).
    weight_exp: weight exponent, -7..7; weight = floor(wmant * 2^exp) << 6.
    sign_mode: 1 mixed, 2 excitatory, 3 inhibitory.
    learning_profile: row of the core's :class:`LearningProfileTable` that
    the synapses of a *plastic* format follow; -1 (the default) = not plastic.
    A plastic format's P is the learning step of the weight mantissa, and its
    synapses' effective weight is ``floor(wmant * 2^exp) << 6`` with no bits
    dropped (SEM-L step 3).
    """

    weight_bits: np.ndarray
    weight_exp: np.ndarray
    sign_mode: np.ndarray
    learning_profile: np.ndarray | None = None

    DTYPES: ClassVar[dict[str, str]] = {
        "weight_bits": "uint8", "weight_exp": "int8", "sign_mode": "uint8", "learning_profile": "int8",
    }
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"learning_profile"})

    def __post_init__(self) -> None:
        if self.learning_profile is None:
            object.__setattr__(self, "learning_profile", np.full(np.asarray(self.weight_bits).size, -1, np.int8))
        super().__post_init__()

    @property
    def n(self) -> int:
        return self.weight_bits.size

    @property
    def plastic(self) -> np.ndarray:
        """bool [n]: formats whose synapses learn."""
        return self.learning_profile >= 0

    def check(self) -> None:
        s, w, t = self.spec, self.where, self.table_name
        self._same_length(tuple(self.DTYPES))
        # the field's range; how many profiles a core may hold is limits.validate's business
        check_range(w, t, "learning_profile", self.learning_profile, -1, np.iinfo(np.int8).max, " (-1 = not plastic)")
        check_range(w, t, "weight_bits", self.weight_bits, 1, s.max_weight_bits)
        check_range(w, t, "weight_exp", self.weight_exp, s.weight_exp_min, s.weight_exp_max)
        check_range(w, t, "sign_mode", self.sign_mode, SIGN_MIXED, SIGN_INHIBITORY)
        excl = (self.sign_mode != SIGN_MIXED) & (self.weight_bits > s.max_weight_bits - 1)
        if excl.any():
            i = int(np.flatnonzero(excl)[0])
            raise ImageError(
                f"{w}{t}.weight_bits[{i}] = {int(self.weight_bits[i])}: a single-sign format "
                f"keeps at most {s.max_weight_bits - 1} bits"
            )

    def mantissa_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per format, the lowest and highest weight mantissa it can hold."""
        lo = np.where(self.sign_mode == SIGN_EXCITATORY, 0, self.spec.weight_mant_min)
        hi = np.where(self.sign_mode == SIGN_INHIBITORY, 0, self.spec.weight_mant_max)
        return lo.astype(np.int32), hi.astype(np.int32)

    def step_shift(self) -> np.ndarray:
        """Per format, log2 of the mantissa step P (low mantissa bits dropped)."""
        mixed = (self.sign_mode == SIGN_MIXED).astype(np.int32)
        return (self.spec.weight_mant_bits - 1 - (self.weight_bits.astype(np.int32) - mixed)).astype(np.int32)


@dataclass(frozen=True, eq=False)
class SynapseTable(Table):
    """Synapses of a core, grouped into rows by input axon (CSR).

    axon_ptr: [n_axons + 1]; the synapses of input axon a are axon_ptr[a]..axon_ptr[a+1].
    target: local index of the target compartment.
    wmant: weight mantissa, -256..255 (range narrowed by the format's sign mode).
    fmt: index into the core's synapse formats.
    delay: synaptic delay in steps, 0..62 (0 acts in the step after the spike).
    tag: synaptic tag (learning variable ``t``), signed, ``tag_bits`` wide
    (-128..127); default 0. Plastic synapses start from these wmant, delay
    and tag; learning changes the emulator's copy, never the image.
    """

    axon_ptr: np.ndarray
    target: np.ndarray
    wmant: np.ndarray
    fmt: np.ndarray
    delay: np.ndarray
    tag: np.ndarray | None = None

    DTYPES: ClassVar[dict[str, str]] = {
        "axon_ptr": "int64", "target": "uint16", "wmant": "int16", "fmt": "uint8", "delay": "uint8",
        "tag": "int16",
    }
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"tag"})

    def __post_init__(self) -> None:
        if self.tag is None:
            object.__setattr__(self, "tag", np.zeros(np.asarray(self.target).size, np.int16))
        super().__post_init__()

    @property
    def n_axons(self) -> int:
        return self.axon_ptr.size - 1

    @property
    def n(self) -> int:
        return self.target.size

    def check(self) -> None:
        n = self._same_length(("target", "wmant", "fmt", "delay", "tag"))
        if self.axon_ptr.size == 0:
            raise ImageError(f"{self.where}{self.table_name}.axon_ptr must hold at least one entry")
        self._check_ptr("axon_ptr", self.axon_ptr.size - 1, n)
        s = self.spec
        check_range(self.where, self.table_name, "wmant", self.wmant, s.weight_mant_min, s.weight_mant_max)
        check_range(self.where, self.table_name, "delay", self.delay, 0, s.max_delay, " steps")
        check_range(self.where, self.table_name, "tag", self.tag, *s.tag_range)

    def axon_of_synapse(self) -> np.ndarray:
        """For every synapse, the input axon (row) it belongs to."""
        return np.repeat(np.arange(self.n_axons, dtype=np.int64), np.diff(self.axon_ptr))


@dataclass(frozen=True, eq=False)
class RouteTable(Table):
    """Routes from sources to input axons, a CSR over sources.

    In a core: one row per compartment (its output axons). In the image:
    one row per external input axon. Row i sends to (dest_chip, dest_core,
    dest_axon)[ptr[i]:ptr[i+1]].
    """

    ptr: np.ndarray
    dest_chip: np.ndarray
    dest_core: np.ndarray
    dest_axon: np.ndarray

    DTYPES: ClassVar[dict[str, str]] = {
        "ptr": "int64", "dest_chip": "int32", "dest_core": "int32", "dest_axon": "int32",
    }

    @property
    def n_sources(self) -> int:
        return self.ptr.size - 1

    @property
    def n(self) -> int:
        return self.dest_axon.size

    def check(self) -> None:
        n = self._same_length(("dest_chip", "dest_core", "dest_axon"))
        if self.ptr.size == 0:
            raise ImageError(f"{self.where}{self.table_name}.ptr must hold at least one entry")
        self._check_ptr("ptr", self.ptr.size - 1, n)
        for name in ("dest_chip", "dest_core", "dest_axon"):
            check_range(self.where, self.table_name, name, getattr(self, name), 0, np.iinfo(np.int32).max)

    @classmethod
    def empty(cls, n_sources: int, **kw) -> RouteTable:
        z = np.zeros(0, np.int32)
        return cls(np.zeros(n_sources + 1, np.int64), z, z, z, **kw)


ROUND_DETERMINISTIC, ROUND_STOCHASTIC = 0, 1


@dataclass(frozen=True, eq=False)
class LearningProfileTable(Table):
    """Learning profiles of a core; a plastic synapse format names one by row.

    code_ptr: [n + 1]; the microcode of profile i (bytes of
    ``microcode.assemble(program).to_bytes()``) is code[code_ptr[i]:code_ptr[i+1]].
    code: the microcode bytes of every profile, concatenated.
    epoch: learning epoch T in steps, 1..max_learning_epoch (the rule runs once per T steps).
    rounding: 0 deterministic, 1 stochastic (trace decay and the rule's steps).
    <trace>_impulse: added to the trace per spike, 0..127 (saturating at 127).
    <trace>_tau: decay time constant in steps, 1..trace_tau_max
    (``x <- floor(x * (tau - 1) / tau)`` per step); 0 = trace off (reads 0).
    x1, x2 belong to the synapses' sources, y1..y3 to their target compartments.
    reward_axon, r1_impulse, r1_tau (optional; docs/reward.md): the image's
    external input axon whose spikes are the profile's reward (-1, the
    default: none), and the impulse (0..127) and tau (steps, 0 = off) of its
    reward trace r1.
    """

    code_ptr: np.ndarray
    code: np.ndarray
    epoch: np.ndarray
    rounding: np.ndarray
    x1_impulse: np.ndarray
    x1_tau: np.ndarray
    x2_impulse: np.ndarray
    x2_tau: np.ndarray
    y1_impulse: np.ndarray
    y1_tau: np.ndarray
    y2_impulse: np.ndarray
    y2_tau: np.ndarray
    y3_impulse: np.ndarray
    y3_tau: np.ndarray
    reward_axon: np.ndarray | None = None
    r1_impulse: np.ndarray | None = None
    r1_tau: np.ndarray | None = None

    DTYPES: ClassVar[dict[str, str]] = {
        "code_ptr": "int64", "code": "uint8", "epoch": "uint8", "rounding": "uint8",
        **{f"{tr}_{k}": dt for tr in TRACES for k, dt in (("impulse", "uint8"), ("tau", "uint16"))},
        "reward_axon": "int32", "r1_impulse": "uint8", "r1_tau": "uint16",
    }
    OPTIONAL: ClassVar[frozenset[str]] = frozenset(REWARD_FIELDS)

    def __post_init__(self) -> None:
        for f, fill in zip(REWARD_FIELDS, (-1, 0, 0)):
            if getattr(self, f) is None:
                object.__setattr__(self, f, np.full(np.asarray(self.epoch).size, fill, self.DTYPES[f]))
        super().__post_init__()

    @property
    def n(self) -> int:
        return self.epoch.size

    def microcode(self, i: int) -> bytes:
        """The microcode bytes of profile ``i``."""
        return self.code[int(self.code_ptr[i]) : int(self.code_ptr[i + 1])].tobytes()

    def trace_settings(self, i: int) -> tuple[int, ...]:
        """(impulse, tau) of x1, x2, y1, y2, y3 of profile ``i``, flattened."""
        return tuple(int(getattr(self, f"{tr}_{k}")[i]) for tr in TRACES for k in ("impulse", "tau"))

    def reward_settings(self, i: int) -> tuple[int, int, int]:
        """(reward_axon, r1 impulse, r1 tau) of profile ``i``; reward_axon -1 = no reward input."""
        return int(self.reward_axon[i]), int(self.r1_impulse[i]), int(self.r1_tau[i])

    def program(self, i: int):
        """Profile ``i``'s rules as a :class:`microcode.Program`, decoded once when the table was built."""
        return self._programs[int(i)]

    def _decode(self, n: int) -> None:
        """Decode every profile's microcode once; everything downstream reads ``program(i)``."""
        programs = []
        for i in range(n):
            try:
                programs.append(disassemble(self.microcode(i), self.spec))
            except RuleError as exc:
                raise ImageError(f"{self.where}{self.table_name}.code of profile {i}: bad microcode ({exc})") from None
        object.__setattr__(self, "_programs", tuple(programs))

    def check(self) -> None:
        s, w, t = self.spec, self.where, self.table_name
        n = self._same_length(tuple(k for k in self.DTYPES if k not in ("code_ptr", "code")))
        check_range(w, t, "reward_axon", self.reward_axon, -1, np.iinfo(np.int32).max, " (-1 = no reward)")
        check_range(w, t, "r1_impulse", self.r1_impulse, 0, s.trace_impulse_max)
        check_range(w, t, "r1_tau", self.r1_tau, 0, s.trace_tau_max, " steps (0 = off)")
        if self.code_ptr.size == 0:
            raise ImageError(f"{w}{t}.code_ptr must hold at least one entry")
        self._check_ptr("code_ptr", n, self.code.size)
        check_range(w, t, "epoch", self.epoch, 1, s.max_learning_epoch, " steps")
        check_range(w, t, "rounding", self.rounding, 0, s.learning_rounding_modes - 1)
        for tr in TRACES:
            check_range(w, t, f"{tr}_impulse", getattr(self, f"{tr}_impulse"), 0, s.trace_impulse_max)
            check_range(w, t, f"{tr}_tau", getattr(self, f"{tr}_tau"), 0, s.trace_tau_max, " steps (0 = off)")
        self._decode(n)

    @classmethod
    def empty(cls, **kw) -> LearningProfileTable:
        z8, z16 = np.zeros(0, np.uint8), np.zeros(0, np.uint16)
        traces = {f"{tr}_{k}": (z8 if k == "impulse" else z16) for tr in TRACES for k in ("impulse", "tau")}
        return cls(np.zeros(1, np.int64), z8, z8, z8, **traces, **kw)


TABLE_CLASSES: tuple[type[Table], ...] = (
    CompartmentTable, SynapseFormatTable, SynapseTable, RouteTable, LearningProfileTable,
)

CORE_TABLES: dict[str, type[Table]] = {
    "compartments": CompartmentTable,
    "formats": SynapseFormatTable,
    "synapses": SynapseTable,
    "routes": RouteTable,
    "learning": LearningProfileTable,
}
"""Core attribute -> table class, in file order."""
OPTIONAL_TABLES: frozenset[str] = frozenset({"learning"})
"""Core tables an older image file may lack (they default to empty)."""


def table_fields(cls: type[Table]) -> list[str]:
    """Data fields of a table class, in declaration order."""
    return [f.name for f in fields(cls) if f.name in cls.DTYPES]
