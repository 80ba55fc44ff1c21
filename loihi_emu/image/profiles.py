"""A learning profile as a user states it, and its rows in a core's :class:`LearningProfileTable`.

A :class:`LearningProfile` holds one rule program (as microcode bytes), the
settings of the five traces, the learning epoch and the rounding mode. Give
:func:`loihi_emu.build_image` a list of them and, per synapse, the index of
the profile it follows (-1: not plastic); it lays them out per core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.core import ROUND_DETERMINISTIC, ROUND_STOCHASTIC, TRACES, LearningProfileTable
from microcode import Program, assemble, parse

ROUNDING_NAMES = {"det": ROUND_DETERMINISTIC, "stochastic": ROUND_STOCHASTIC}


@dataclass(frozen=True)
class LearningProfile:
    """One learning profile.

    microcode: the rule program's bytes (``microcode.assemble(p).to_bytes()``).
    traces: name -> (impulse 0..127, tau in steps); traces not named are off.
    epoch: learning epoch T in steps (the rule runs once per T steps).
    rounding: 'det' (default) or 'stochastic'.
    reward_axon: the image's external input axon whose spikes are this
    profile's reward (docs/reward.md); -1 (default): none, r0 = r1 = 0.
    reward: (impulse 0..127, tau in steps) of the reward trace r1; (0, 0) = off.
    """

    microcode: bytes
    traces: tuple[tuple[str, int, int], ...] = ()
    epoch: int = 1
    rounding: str = "det"
    reward_axon: int = -1
    reward: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        if self.rounding not in ROUNDING_NAMES:
            raise ImageError(f"learning profile: rounding {self.rounding!r} is not one of {sorted(ROUNDING_NAMES)}")
        for name, _, _ in self.traces:
            if name not in TRACES:
                raise ImageError(f"learning profile: unknown trace {name!r}; traces are {', '.join(TRACES)}")

    @classmethod
    def from_rule(
        cls,
        text: str,
        traces: Mapping[str, tuple[int, int] | Mapping[str, int]] | None = None,
        epoch: int = 1,
        rounding: str = "det",
        spec: HardwareSpec = LOIHI1,
        reward_axon: int = -1,
    ) -> LearningProfile:
        """Parse and assemble rule ``text`` (e.g. ``"dw = 2^-2*x1*y0 - 2^-2*y1*x0"``).

        traces: name -> (impulse, tau) or {"imp": impulse, "tau": tau}; the
        name ``"r1"`` sets the reward trace. reward_axon: see the class doc.
        """
        return cls.from_program(parse(text, spec=spec), traces, epoch, rounding, spec, reward_axon)

    @classmethod
    def from_program(
        cls,
        program: Program,
        traces: Mapping[str, tuple[int, int] | Mapping[str, int]] | None = None,
        epoch: int = 1,
        rounding: str = "det",
        spec: HardwareSpec = LOIHI1,
        reward_axon: int = -1,
    ) -> LearningProfile:
        """Assemble a checked rule :class:`microcode.Program` (the IR, no text round trip)."""
        code = assemble(program, spec).to_bytes()
        items, reward = [], (0, 0)
        for name, val in (traces or {}).items():
            imp, tau = (val["imp"], val["tau"]) if isinstance(val, Mapping) else val
            if name == "r1":
                reward = (int(imp), int(tau))
            else:
                items.append((name, int(imp), int(tau)))
        return cls(code, tuple(sorted(items)), int(epoch), rounding, int(reward_axon), reward)

    def trace(self, name: str) -> tuple[int, int]:
        """(impulse, tau) of trace ``name``; (0, 0) when off."""
        for n, imp, tau in self.traces:
            if n == name:
                return imp, tau
        return 0, 0


def learning_table(
    profiles: Sequence[LearningProfile], where: str = "", spec: HardwareSpec = LOIHI1
) -> LearningProfileTable:
    """The :class:`LearningProfileTable` holding ``profiles`` as rows 0..len-1 (validated)."""
    codes = [np.frombuffer(p.microcode, np.uint8) for p in profiles]
    ptr = np.concatenate([[0], np.cumsum([c.size for c in codes])]).astype(np.int64)
    cols: dict[str, list[int]] = {f"{tr}_{k}": [] for tr in TRACES for k in ("impulse", "tau")}
    cols.update({"reward_axon": [p.reward_axon for p in profiles], "r1_impulse": [p.reward[0] for p in profiles],
                 "r1_tau": [p.reward[1] for p in profiles]})
    for p in profiles:
        for tr in TRACES:
            imp, tau = p.trace(tr)
            cols[f"{tr}_impulse"].append(imp)
            cols[f"{tr}_tau"].append(tau)
    return LearningProfileTable(
        ptr,
        np.concatenate(codes) if codes else np.zeros(0, np.uint8),
        np.array([p.epoch for p in profiles], np.int64),
        np.array([ROUNDING_NAMES[p.rounding] for p in profiles], np.int64),
        **{k: np.array(v, np.int64) for k, v in cols.items()},
        where=where,
        spec=spec,
    )
