"""The one place for every Loihi bit width and limit.

Every other module reads these numbers from a :class:`HardwareSpec` (usually
:data:`LOIHI1`); none writes them as literals. Each field says its unit and its
source: ``SEM §n`` is a section of ``docs/semantics.md`` (§1 one timestep,
§2 fixed-point fields, §3 limits), ``SEM-L`` its learning section, ``ours`` marks a choice of this project's
microcode or runtime where the chip documentation gives no number.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HardwareSpec:
    """Bit widths, register ranges and per-core limits of one Loihi generation."""

    name: str

    # --- chip geometry (SEM §3) -------------------------------------------------
    cores_per_chip: int  # neuro cores per chip
    compartments_per_core: int  # compartments per core
    input_axons_per_core: int  # input axons (synapse rows) per core
    output_axons_per_core: int  # output axons (routes) per core
    synapse_memory_words: int  # synapse memory per core, in words
    synapse_word_bits: int  # bits per synapse memory word

    # --- profile tables per core (SEM §3, as the public Loihi 1 toolchain enforces)
    max_compartment_profiles: int  # distinct (decay_u, decay_v, refract, noise)
    max_threshold_profiles: int  # distinct vth_mant
    max_synapse_formats: int  # distinct synapse formats
    max_trace_profiles: int  # distinct trace settings
    max_vminmax_profiles: int  # distinct (vmin, vmax) pairs

    # --- compartment registers (SEM §1-2) -------------------------------------
    decay_bits: int  # decay_u_reg and decay_v registers: 0 .. 2^bits - 1, in 1/4096 per step
    decay_one: int  # 4096: the decay denominator, decay(x, d) keeps (one - d)/one
    vth_mant_bits: int  # vth_mant: 1 .. 2^bits - 1
    vth_shift: int  # vth = vth_mant << vth_shift
    bias_mant_max: int  # |bias_mant| <= this
    bias_exp_max: int  # bias_exp: 0 .. this; bias = bias_mant << bias_exp
    refract_min: int  # refractory delay register, in steps
    refract_max: int
    q_bits: int  # input accumulator: magnitude bits (plus a sign bit)
    u_bits: int  # current u and u2: magnitude bits (plus a sign bit)
    v_bits: int  # voltage bounds: vmin >= -2^v_bits, vmax <= 2^v_bits - 1

    # --- synapses (SEM §2) ----------------------------------------------------
    weight_mant_bits: int  # signed mantissa field: -2^(bits-1) .. 2^(bits-1) - 1
    weight_exp_min: int  # synapse-format weight exponent range
    weight_exp_max: int
    weight_shift: int  # effective weight = floor(wmant * 2^wexp) << weight_shift
    max_weight_bits: int  # bits a synapse format may keep (1 .. this)
    delay_bits: int  # synaptic delay field width
    max_delay: int  # largest synaptic delay, in steps
    tag_bits: int  # synaptic tag field width (learning target `t`)

    # synapse memory cost (SEM §3), as the public Loihi 1 toolchain counts it:
    # a row is stored in blocks of up to `synapses_per_block` synapses; each
    # block costs a header plus, per synapse, weight + delay + tag + target
    # index bits, rounded up to whole words.
    synapse_header_bits: int  # per block: 4 bits format index + 6 bits count
    synapses_per_block: int  # synapses per block (6-bit count + 1)
    target_index_bits_min: int  # narrowest target-index field of a sparse row
    target_index_bits_max: int  # widest target-index field

    # --- learning (SEM-L) -----------------------------------------------------
    trace_bits: int  # traces are unsigned 0 .. 2^bits - 1
    trace_impulse_max: int  # impulse added per spike
    trace_tau_max: int  # ours: largest trace time constant, in steps
    max_u_index: int  # uK: K = 0 .. this (1 every 2^K steps)
    scale_mant_bits: int  # product scale mantissa, signed
    scale_exp_bits: int  # product scale exponent, signed
    constant_bits: int  # factor constants, signed
    max_products_per_rule: int  # ours
    max_factors_per_product: int  # ours
    max_learning_profiles: int  # ours: distinct learning profiles per core
    max_learning_epoch: int  # ours: learning epoch T, in steps (1 .. this)
    microcode_nibbles: int  # ours: nibbles of microcode per learning profile
    plastic_mixed_wmant_max: int  # SEM-L "Sign modes": a mixed plastic weight mantissa stays in min..254
    learning_rounding_modes: int  # ours: 0 deterministic, 1 stochastic (SEM-L "Stochastic rounding")

    # --- compartment noise (SEM §1 "Noise"; docs/noise.md) ------------------------
    # noise = trunc((r + noise_offset * 2^noise_offset_shift) * 2^(noise_exp - noise_frac_bits)),
    # r uniform in -noise_r_max..noise_r_max, truncated toward zero (as nengo-loihi's emulator).
    max_noise_settings: int = 1  # distinct (target, exp, offset) of noisy compartments per core
    noise_r_max: int = 127  # the uniform draw r: -127..127
    noise_frac_bits: int = 7  # r is a fraction in 1/128
    noise_offset_shift: int = 6  # the offset mantissa counts 64 draw units
    noise_exp_min: int = 0  # ours: exponent range 0..23 (no public number)
    noise_exp_max: int = 23
    noise_offset_bits: int = 8  # ours: signed offset mantissa -128..127

    # --- derived ranges (all in register units) --------------------------------
    @property
    def decay_max(self) -> int:
        """Largest decay register value (4095)."""
        return (1 << self.decay_bits) - 1

    @property
    def vth_mant_max(self) -> int:
        return (1 << self.vth_mant_bits) - 1

    @property
    def weight_mant_min(self) -> int:
        return -(1 << (self.weight_mant_bits - 1))

    @property
    def weight_mant_max(self) -> int:
        return (1 << (self.weight_mant_bits - 1)) - 1

    @property
    def v_min_limit(self) -> int:
        """Lowest allowed vmin: -2^23."""
        return -(1 << self.v_bits)

    @property
    def v_max_limit(self) -> int:
        """Highest allowed vmax: 2^23 - 1."""
        return (1 << self.v_bits) - 1

    @property
    def trace_max(self) -> int:
        return (1 << self.trace_bits) - 1

    @property
    def synapse_memory_bits(self) -> int:
        return self.synapse_memory_words * self.synapse_word_bits

    @property
    def scale_mant_range(self) -> tuple[int, int]:
        return signed_range(self.scale_mant_bits)

    @property
    def scale_exp_range(self) -> tuple[int, int]:
        return signed_range(self.scale_exp_bits)

    @property
    def constant_range(self) -> tuple[int, int]:
        return signed_range(self.constant_bits)

    @property
    def noise_offset_range(self) -> tuple[int, int]:
        """Noise offset mantissa: signed, ``noise_offset_bits`` wide."""
        return signed_range(self.noise_offset_bits)

    @property
    def tag_range(self) -> tuple[int, int]:
        """Synaptic tag ``t``: signed, ``tag_bits`` wide (-128..127 on Loihi 1)."""
        return signed_range(self.tag_bits)

    @property
    def learning_frac_bits(self) -> int:
        """Fraction bits of the rule sum in fixed point: -(lowest scale exponent), 8 on Loihi 1.

        Every product ``mant * 2^exp * prod(V + C)`` is an integer times
        ``2^-learning_frac_bits`` exactly, so a rule sum is an exact int64.
        """
        return -self.scale_exp_range[0]

    def plastic_mantissa_range(self, sign_mode: int) -> tuple[int, int]:
        """Clip range of a plastic weight mantissa by sign mode (1 mixed, 2 exc, 3 inh); SEM-L step 3."""
        if sign_mode == 2:
            return 0, self.weight_mant_max
        if sign_mode == 3:
            return self.weight_mant_min, 0
        return self.weight_mant_min, self.plastic_mixed_wmant_max

    def weight_step(self, weight_bits: int, mixed: bool) -> int:
        """Mantissa step P kept by a synapse format: 2^(8 - (weight_bits - mixed)).

        A 9-bit mixed format keeps every mantissa (P = 1); an 8-bit mixed
        format keeps even mantissas only (P = 2). SEM-L, step 3.
        """
        return 1 << (self.weight_mant_bits - 1 - (weight_bits - int(mixed)))


def signed_range(bits: int) -> tuple[int, int]:
    """Two's-complement range of a ``bits``-wide signed field."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


LOIHI1 = HardwareSpec(
    name="loihi1",
    cores_per_chip=128,
    compartments_per_core=1024,
    input_axons_per_core=4096,
    output_axons_per_core=4096,
    synapse_memory_words=16384,
    synapse_word_bits=64,
    max_compartment_profiles=32,
    max_threshold_profiles=8,
    max_synapse_formats=16,
    max_trace_profiles=3,
    max_vminmax_profiles=1,
    decay_bits=12,
    decay_one=4096,
    vth_mant_bits=17,
    vth_shift=6,
    bias_mant_max=4095,
    bias_exp_max=7,
    refract_min=1,
    refract_max=63,
    q_bits=21,
    u_bits=23,
    v_bits=23,
    weight_mant_bits=9,
    weight_exp_min=-7,
    weight_exp_max=7,
    weight_shift=6,
    max_weight_bits=9,
    delay_bits=6,
    max_delay=62,
    tag_bits=8,
    synapse_header_bits=10,
    synapses_per_block=64,
    target_index_bits_min=6,
    target_index_bits_max=12,
    trace_bits=7,
    trace_impulse_max=127,
    trace_tau_max=4095,
    max_u_index=9,
    scale_mant_bits=4,
    scale_exp_bits=4,
    constant_bits=8,
    max_products_per_rule=16,
    max_factors_per_product=4,
    max_learning_profiles=8,
    max_learning_epoch=63,
    microcode_nibbles=512,
    plastic_mixed_wmant_max=254,
    learning_rounding_modes=2,
)
"""Loihi 1, as docs/semantics.md states it (fields, limits, learning)."""

SPECS = {LOIHI1.name: LOIHI1}
