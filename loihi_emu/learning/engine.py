"""The learning engine's state and its per-step stages, as the emulator runs them.

Step t with learning (docs/learning-engine.md), in this order:

1. ``impulse``: the sources that spiked in step t-1 arrive (x0 = 1, x1/x2
   gain their impulses); the compartments that spiked in step t-1 set y0 and
   gain their y impulses.
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

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import SOURCE_TRACES
from loihi_emu.image.weights import shift_exponent
from loihi_emu.learning.flat import M_WEXP, FlatLearning
from loihi_emu.learning.random import keys_for_step
from loihi_emu.learning.rule import deliver_plastic_numba, deliver_plastic_numpy, rule_numba, rule_numpy
from loihi_emu.learning.traces import decay_numba, decay_numpy, impulse_numba, impulse_numpy

STAGES = {
    "numba": (impulse_numba, rule_numba, decay_numba, deliver_plastic_numba),
    "numpy": (impulse_numpy, rule_numpy, decay_numpy, deliver_plastic_numpy),
}
NEVER = -(1 << 62)
SYNAPSE_RECORD = np.dtype([("pre", np.int32), ("post", np.int32), ("prof", np.int16), ("fmt", np.int16),
                           ("w", np.int16), ("d", np.int8), ("tg", np.int8)])
"""Per plastic synapse, 16 bytes: source, target, global profile, plastic format, weight mantissa
(-256..255), delay (0..62 steps), tag (8-bit signed)."""  # arrival step of a source that has not spiked yet


class LearningEngine:
    """Mutable learning state over a :class:`FlatLearning`.

    x_tr: int32 [2, n_src + 1] x1, x2 per source; y_tr: int32 [3, n] y1..y3.
    x_last, y_last: int64 step of the latest arrival of each source /
    compartment spike (NEVER before the first). w, d, tg: int32 [P] weight
    mantissa, delay (steps) and tag of every plastic synapse, stable order.
    """

    def __init__(self, flat: FlatLearning, spec: HardwareSpec, seed: int, backend: str) -> None:
        self.flat = flat
        self.spec = spec
        self.seed = int(seed)
        self._impulse, self._rule, self._decay, self._deliver = STAGES[backend]
        f = flat
        self.x_tr = np.zeros((2, f.n_src + 1), np.int32)
        self.y_tr = np.zeros((3, f.n), np.int32)
        self.x_last = np.full(f.n_src + 1, NEVER, np.int64)
        self.y_last = np.full(f.n, NEVER, np.int64)
        # One record per plastic synapse: the rule reaches synapses in target
        # order while they are stored in source order, so keeping a synapse's
        # fields side by side costs one cache miss per visit instead of seven.
        rec = np.empty(f.n_plastic, SYNAPSE_RECORD)
        for field, hi in (("prof", f.prof_epoch.size), ("fmt", f.fmts.shape[0])):
            if hi > np.iinfo(np.int16).max:
                raise ImageError(f"{hi} distinct plastic {field}s in one image; the emulator holds at most 32767")
        for name, arr in (("pre", f.pl_pre), ("post", f.pl_post), ("prof", f.pl_prof), ("fmt", f.pl_fmt),
                          ("w", f.w0), ("d", f.d0), ("tg", f.t0)):
            rec[name] = arr
        self._rec = rec
        self._pre, self._post, self._prof, self._fmt = rec["pre"], rec["post"], rec["prof"], rec["fmt"]
        self.w, self.d, self.tg = rec["w"], rec["d"], rec["tg"]  # views: the state lives in the records
        self._x_imp = np.where(f.x_tau > 0, f.x_imp, 0).astype(np.int32)
        self._y_imp = np.where(f.y_tau > 0, f.y_imp, 0).astype(np.int32)
        self._zero_keys = np.zeros(8, np.uint64)
        self._prev_src = np.zeros(0, np.int64)
        self._todo = np.zeros(f.n_plastic, np.int64)
        self.tag_lo, self.tag_hi = spec.tag_range

    def _keys(self, t: int) -> np.ndarray:
        return keys_for_step(self.seed, t) if self.flat.stochastic else self._zero_keys

    def before_update(self, t: int, n_in: int) -> None:
        """Stages 1-2 of step t (impulses of the sources of step t-1, then the rule)."""
        f = self.flat
        self._impulse(t, self._prev_src, n_in, self.x_last, self.y_last, self.x_tr, self._x_imp, self.y_tr,
                      self._y_imp, self.spec.trace_max)
        self._step_keys = self._keys(t)
        self._rule(t, self._step_keys, self.x_last, self.y_last, self.x_tr, self.y_tr, f.prof_epoch, f.prof_round,
                   f.prof_prod, f.prods, f.facs, f.fmts, self._pre, self._post, self._prof, self._fmt, self.w, self.d,
                   self.tg, f.pl_ptr, f.post_ptr, f.post_idx, f.frac_bits, self.spec.max_delay, self.tag_lo,
                   self.tag_hi, self._todo)

    def decay(self) -> None:
        """Stage 4 of the current step."""
        f = self.flat
        self._decay(self.x_tr, f.x_tau, f.x_round, self.y_tr, f.y_tau, f.y_round, self._step_keys)

    def deliver(self, src: np.ndarray, ring: np.ndarray, slot_base: np.ndarray) -> int:
        """Stage 6: deliver the plastic synapses of ``src`` (the sources of this step); returns events."""
        f = self.flat
        self._prev_src = src.copy()
        if src.size == 0:
            return 0
        return int(self._deliver(src, f.pl_ptr, self._post, self._fmt, self.w, self.d, f.fmts, ring, slot_base))

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
        eff = shift_exponent(self.w, self.flat.fmts[self._fmt, M_WEXP])
        return (eff << self.spec.weight_shift).astype(np.int32)
