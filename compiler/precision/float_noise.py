"""The float reference's compartment noise: the emulator's integer noise sequence in model units (docs/noise.md).

Step t, compartment g: the same integer ``noise(seed, t, g)`` (v units) the
emulator adds (:mod:`loihi_emu.runtime.noise`), divided by the population's
scale (v units per model unit, the quantizer's), added to ``q`` (target
``"u"``) or to ``u2`` (target ``"v"``). Nothing is wrapped or truncated after
the division.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np

from compiler.network.model import Network
from compiler.network.noise import noise_registers
from compiler.passes.quantize import quantize_network
from loihi_emu.image.core import NOISE_U, NOISE_V
from loihi_emu.runtime.noise import noise_base, noise_numpy


class FloatNoise:
    """Per step, the model-unit noise added to q and to u2 of every compartment (global order)."""

    def __init__(self, net: Network, seed: int) -> None:
        spec = net.spec
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scale = {p.name: p.v_scale for p in quantize_network(net).populations}
        regs = [noise_registers(p, spec) for p in net.populations]
        mode = np.concatenate([r["noise_mode"] for r in regs]).astype(np.uint8)
        self.arrays = SimpleNamespace(
            noise_mode=mode,
            noise_shift=np.concatenate([r["noise_exp"] for r in regs]) - spec.noise_frac_bits,
            noise_off=np.concatenate([r["noise_offset"] for r in regs]) << spec.noise_offset_shift,
            noise_base=noise_base(seed),
        )
        self.inv_scale = np.concatenate([np.full(p.size, 1.0 / scale[p.name]) for p in net.populations])
        self.to_q, self.to_u2 = mode == NOISE_U, mode == NOISE_V

    def step(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(noise into q, noise into u2) of step t, float64 [n] in model units."""
        nz = noise_numpy(self.arrays, t) * self.inv_scale
        return np.where(self.to_q, nz, 0.0), np.where(self.to_u2, nz, 0.0)
