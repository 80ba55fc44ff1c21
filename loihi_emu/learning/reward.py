"""Reward channels of the learning engine (docs/reward.md): one reward trace per learning profile.

A profile with a reward axon (``LearningProfileTable.reward_axon`` >= 0, an
external input axon of the image) has, like the other traces,

* an arrival: a spike of the reward axon in step t-1 arrives in step t (the
  ``impulse`` stage): ``r_last = t`` and ``r1 <- min(r1 + impulse, 127)``;
* the rule's variables (read in the rule of step t): ``r0`` = 1 when a
  reward arrived in the epoch's steps t-T+1..t, else 0; ``r1`` = the trace;
* a decay (the ``decay`` stage): ``r1 <- floor(r1 * (tau - 1) / tau)``; with
  stochastic rounding the quotient rounds up with probability
  remainder / tau, ``((draw >> 32) * tau) >> 32 < remainder`` with the draw of
  (seed, step, stream :data:`STREAM_REWARD`, global profile index).

A profile without a reward axon reads r0 = r1 = 0. There are only a few
profiles, so this runs in numpy on both backends (one code path, nothing to twin).
"""

from __future__ import annotations

import numpy as np

from loihi_emu.learning.flat import NEVER
from loihi_emu.rng import draw_key, draw_numpy

STREAM_REWARD = 9  # 0..7 learning, 8 compartment noise


class RewardState:
    """r1 traces and latest arrivals of every global profile; writes r0/r1 into ``LearningArrays.r_val``."""

    def __init__(self, prof_reward: np.ndarray, prof_epoch: np.ndarray, prof_round: np.ndarray, seed: int,
                 trace_max: int) -> None:
        self.axon = prof_reward[:, 0].astype(np.int64)
        self.imp = np.where(prof_reward[:, 2] > 0, prof_reward[:, 1], 0).astype(np.int64)
        self.tau = prof_reward[:, 2].astype(np.int64)
        self.epoch = prof_epoch.astype(np.int64)
        self.stoch = prof_round != 0
        self.seed, self.trace_max = int(seed), int(trace_max)
        self.on = self.axon >= 0
        self.r1 = np.zeros(self.axon.size, np.int64)
        self.last = np.full(self.axon.size, NEVER, np.int64)

    @property
    def active(self) -> bool:
        """True when some profile has a reward axon."""
        return bool(self.on.any())

    def arrive(self, t: int, prev_src: np.ndarray, r_val: np.ndarray) -> None:
        """Impulses of the reward spikes of step t-1 (``prev_src``: that step's sources, ascending), then r0/r1."""
        hit = self.on & np.isin(self.axon, prev_src)
        self.last[hit] = t
        self.r1[hit] = np.minimum(self.r1[hit] + self.imp[hit], self.trace_max)
        r_val[:, 0] = self.last > t - self.epoch
        r_val[:, 1] = self.r1

    def decay(self, t: int) -> None:
        """One decay of every reward trace (stage ``decay`` of step t)."""
        tau = np.maximum(self.tau, 1)
        num = self.r1 * np.maximum(self.tau - 1, 0)
        q = np.where(self.tau > 0, num // tau, 0)
        rem = num - q * tau
        if (self.stoch & (rem > 0)).any():
            h = draw_numpy(draw_key(self.seed, t, STREAM_REWARD), np.arange(self.r1.size))
            up = self.stoch & (rem > 0) & (((h >> np.uint64(32)) * tau.astype(np.uint64)) >> np.uint64(32)
                                           < rem.astype(np.uint64))
            q = q + up
        self.r1 = q
