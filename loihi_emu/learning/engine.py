"""The learning engine's state and its per-step stages, as the emulator runs them.

Step t with learning (docs/learning-engine.md), in this order:

1. ``impulse``: the sources that spiked in step t-1 arrive (x0 = 1, x1/x2
   gain their impulses); the compartments that spiked in step t-1 set y0 and
   gain their y impulses; reward axons that spiked in step t-1 set r0 and
   raise r1 of their profiles (:mod:`loihi_emu.learning.reward`).
2. ``rule``: at the end of a learning epoch, dw/dd/dt of every plastic
   synapse, applied to its weight, delay and tag.
3. probes read the traces (after impulses, before decay);
4. ``decay``: every trace decays once.
5. (the CUBA update and the static delivery of step t run here)
6. ``deliver``: each plastic synapse of every source spiking in step t adds
   its current effective weight to ring slot t + 1 + delay.

Identical bits on the ``numba`` and ``numpy`` backends; a state array lives
in one place and each stage only touches what its docstring says.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import SOURCE_TRACES
from loihi_emu.image.weights import shift_exponent
from loihi_emu.learning.flat import M_WEXP, FlatLearning, learning_arrays
from loihi_emu.learning.random import keys_for_step
from loihi_emu.learning.reward import RewardState
from loihi_emu.learning.rule import (
    deliver_plastic_numba,
    deliver_plastic_numpy,
    rule_numba,
    rule_numba_parallel,
    rule_numpy,
)
from loihi_emu.learning.traces import decay_numba, decay_numba_parallel, decay_numpy, impulse_numba, impulse_numpy

STAGES = {
    "numba": (impulse_numba, rule_numba, decay_numba, deliver_plastic_numba),
    "numpy": (impulse_numpy, rule_numpy, decay_numpy, deliver_plastic_numpy),
    # rule and decay over numba's threads: synapses / trace entries split into disjoint runs
    "numba-parallel": (impulse_numba, rule_numba_parallel, decay_numba_parallel, deliver_plastic_numba),
}


def stages_for(backend: str, a, n_threads: int = 1) -> tuple[Callable, Callable, Callable, Callable]:
    """(impulse, rule, decay, deliver) for ``backend`` and the struct ``a`` (a LearningArrays).

    With ``n_threads`` > 1 on numba, the rule and decay stages run over
    numba's threads (each thread its own synapses / trace entries: the same
    bits for any thread count).

    On numba each is the compilation for ``a``'s type, resolved once here
    (as :func:`loihi_emu.runtime.kernels.step_for` does for the step): a
    call then skips numba's argument typing, which for a NamedTuple of 33
    fields runs in Python field by field. The array arguments must then be
    C-contiguous: src int64, keys uint64, ring int32, slot_base int64.
    """
    if backend == "numpy":
        return STAGES["numpy"]
    i64, u64, i32 = numba.types.int64, numba.types.uint64[::1], numba.types.int32[::1]
    src, ta = numba.types.int64[::1], numba.typeof(a)
    sigs = ((ta, i64, src), (ta, i64, u64), (ta, u64), (ta, src, i32, numba.types.int64[::1]))
    fns = STAGES["numba-parallel" if n_threads > 1 else "numba"]
    return tuple(fn.compile(sig) for fn, sig in zip(fns, sigs))


class LearningEngine:
    """Mutable learning state over a :class:`FlatLearning`.

    arrays: the kernels' :class:`~loihi_emu.learning.flat.LearningArrays`
    (tables and state). x_tr, y_tr (traces), w, d, tg (weight mantissa,
    delay in steps, tag of every plastic synapse, stable order) are its arrays.
    """

    def __init__(self, flat: FlatLearning, spec: HardwareSpec, seed: int, backend: str, n_threads: int = 1) -> None:
        self.flat = flat
        self.spec = spec
        self.seed = int(seed)
        self.arrays = a = learning_arrays(flat, spec)
        self._impulse, self._rule, self._decay, self._deliver = stages_for(backend, a, n_threads)
        self.x_tr, self.y_tr, self.w, self.d, self.tg = a.x_tr, a.y_tr, a.w, a.d, a.tg
        self._zero_keys = np.zeros(8, np.uint64)
        self._prev_src = np.zeros(0, np.int64)
        # reward channels (docs/reward.md); None when no profile has a reward axon
        rw = None
        if flat.prof_reward is not None and flat.prof_reward.size:
            rw = RewardState(flat.prof_reward, flat.prof_epoch, flat.prof_round, self.seed, spec.trace_max)
        self.reward = rw if rw is not None and rw.active else None

    def _keys(self, t: int) -> np.ndarray:
        return keys_for_step(self.seed, t) if self.flat.stochastic else self._zero_keys

    def before_update(self, t: int) -> None:
        """Stages 1-2 of step t (impulses of the sources of step t-1, then the rule)."""
        self._impulse(self.arrays, t, self._prev_src)
        if self.reward is not None:
            self.reward.arrive(t, self._prev_src, self.arrays.r_val)
        self._t = t
        self._step_keys = self._keys(t)
        self._rule(self.arrays, t, self._step_keys)

    def decay(self) -> None:
        """Stage 4 of the current step."""
        self._decay(self.arrays, self._step_keys)
        if self.reward is not None:
            self.reward.decay(self._t)

    def deliver(self, src: np.ndarray, ring: np.ndarray, slot_base: np.ndarray) -> int:
        """Stage 6: deliver the plastic synapses of ``src`` (the sources of this step); returns events."""
        self._prev_src = src.copy()
        if src.size == 0:
            return 0
        return int(self._deliver(self.arrays, src, ring, slot_base))

    # ------------------------------------------------------------------ probes
    def traces(self) -> dict[str, np.ndarray]:
        """Current traces: 'x1', 'x2' int32 [n_src], 'y1'..'y3' int32 [n]; -1 where a trace is off."""
        f = self.flat
        out = {}
        for k, name in enumerate(SOURCE_TRACES):
            out[name] = np.where(f.x_tau[k, :-1] > 0, self.x_tr[k, :-1], -1)
        for k, name in enumerate(("y1", "y2", "y3")):
            out[name] = np.where(f.y_tau[k] > 0, self.y_tr[k], -1)
        return out

    def effective_weights(self) -> np.ndarray:
        """int32 [P]: ``floor(w * 2^wexp) * 64`` of every plastic synapse (stable order)."""
        eff = shift_exponent(self.w, self.flat.fmts[self.arrays.fmt, M_WEXP])
        return (eff << self.spec.weight_shift).astype(np.int32)
