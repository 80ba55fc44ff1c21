"""Random register-level networks for tests (seeded numpy, so hypothesis can drive the seed)."""

from __future__ import annotations

import numpy as np

from loihi_emu import LOIHI1, build_image


def random_network(seed: int, n: int = 40, n_in: int = 6, n_syn: int = 300, max_delay: int = 0, extreme: bool = False):
    """Global register arrays and synapses of a random network.

    extreme=True draws registers over their whole ranges (wraps and clips happen).
    """
    rng = np.random.default_rng(seed)
    s = LOIHI1
    if extreme:
        regs = dict(
            decay_u_reg=rng.integers(0, s.decay_max + 1, n),
            decay_v=rng.integers(0, s.decay_max + 1, n),
            vth_mant=rng.integers(1, s.vth_mant_max + 1, n),
            bias_mant=rng.integers(-s.bias_mant_max, s.bias_mant_max + 1, n),
            bias_exp=rng.integers(0, s.bias_exp_max + 1, n),
            refract=rng.integers(1, s.refract_max + 1, n),
            vmin=rng.integers(s.v_min_limit, 1, n),
            vmax=rng.integers(0, s.v_max_limit + 1, n),
        )
        wexp = rng.integers(s.weight_exp_min, s.weight_exp_max + 1, n_syn)
    else:
        regs = dict(
            decay_u_reg=rng.integers(100, 1000, n),
            decay_v=rng.integers(50, 800, n),
            vth_mant=rng.integers(20, 400, n),
            bias_mant=rng.integers(-100, 400, n),
            bias_exp=rng.integers(0, 4, n),
            refract=rng.integers(1, 5, n),
            vmin=np.full(n, s.v_min_limit),
            vmax=np.full(n, s.v_max_limit),
        )
        wexp = rng.integers(-2, 3, n_syn)
    syn = dict(
        syn_pre=rng.integers(0, n_in + n, n_syn),
        syn_post=rng.integers(0, n, n_syn),
        syn_wmant=rng.integers(s.weight_mant_min, s.weight_mant_max + 1, n_syn),
        syn_wexp=wexp,
        syn_delay=rng.integers(0, max_delay + 1, n_syn),
    )
    inputs = (rng.random((60, n_in)) < 0.2).astype(np.uint8)
    return regs, syn, inputs


def image_on_cores(regs, syn, n_in, core_of):
    return build_image(regs, np.asarray(core_of), n_in=n_in, **syn)
