"""The noise parameters of a population (docs/noise.md): checked here, lowered by the quantizer."""

from __future__ import annotations

import numpy as np

from compiler.errors import ParameterError
from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import NOISE_TARGETS


def check_noise(label: str, spec: HardwareSpec, noise_exp, noise_offset, noise_target) -> tuple[int | None, int]:
    """``(noise_exp, noise_offset)`` as ints after checking them; raises :class:`ParameterError` naming ``label``.

    noise_exp: 0..23 or None (no noise); noise_offset: -128..127; noise_target: 'u' or 'v'.
    """
    if noise_target not in NOISE_TARGETS:
        raise ParameterError(f"{label}: noise_target {noise_target!r} is not one of {sorted(NOISE_TARGETS)} "
                             "(u: into the current's input q, v: into the voltage's input u2)")
    lo, hi = spec.noise_offset_range
    out = []
    for name, value, a, b in (("noise_exp", noise_exp, spec.noise_exp_min, spec.noise_exp_max),
                              ("noise_offset", noise_offset, lo, hi)):
        if value is None and name == "noise_exp":
            out.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not a <= value <= b:
            raise ParameterError(f"{label}: {name} = {value!r} must be an integer in {a}..{b}")
        out.append(int(value))
    if out[0] is None and out[1] != 0:
        raise ParameterError(f"{label}: noise_offset = {out[1]} needs noise_exp (None means no noise)")
    return out[0], out[1]


def noise_registers(pop, spec: HardwareSpec) -> dict[str, np.ndarray]:
    """The image's noise fields of ``pop``'s compartments (int64 [size] each): mode, exp, offset."""
    n = pop.size
    if pop.noise_exp is None:
        return {k: np.zeros(n, np.int64) for k in ("noise_mode", "noise_exp", "noise_offset")}
    return {"noise_mode": np.full(n, NOISE_TARGETS[pop.noise_target], np.int64),
            "noise_exp": np.full(n, pop.noise_exp, np.int64), "noise_offset": np.full(n, pop.noise_offset, np.int64)}


def noise_scale(exp: int, offset: int, spec: HardwareSpec) -> tuple[float, float]:
    """(mean, half-width) of the noise in v units, ignoring truncation: (64 * offset, 127) * 2^(exp - 7)."""
    k = 2.0 ** (exp - spec.noise_frac_bits)
    return (offset << spec.noise_offset_shift) * k, spec.noise_r_max * k
