"""External input populations: spikes from an array or an encoder, and their board-image input group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compiler.errors import ParameterError, ShapeError
from compiler.network.checks import _check_name, _check_size
from compiler.network.encoders import ENCODERS, Encoder, check_steps, stable_id
from loihi_emu.image.inputs import InputGroup
from loihi_emu.sizes import check_alloc


@dataclass(frozen=True, eq=False)
class InputPopulation:
    """External input axons: spikes from an array or an encoder (see :mod:`compiler.network.encoders`).

    spikes: bool [steps, size] played from step 0 (later steps are silent).
    encoder: a seeded encoder; the population's stream is ``stable_id(name)``.
    With neither, the input is silent unless spikes are passed at run time.
    """

    name: str
    size: int | None = None
    spikes: np.ndarray | None = None
    encoder: Encoder | None = None

    @property
    def label(self) -> str:
        return f"input population {self.name!r}"

    @property
    def stream(self) -> int:
        return stable_id(self.name)

    def __post_init__(self) -> None:
        _check_name("input population", self.name)
        if self.spikes is not None and self.encoder is not None:
            raise ParameterError(f"{self.label}: give spikes or an encoder, not both")
        size = self.size
        if size is not None:
            _check_size(self.label, size)
        if self.encoder is not None and not isinstance(self.encoder, tuple(ENCODERS.values())) and not (
                callable(getattr(self.encoder, "encode", None)) and isinstance(getattr(self.encoder, "size", None), int)):
            raise ParameterError(f"{self.label}: encoder must be an encoder object such as RateEncoder(...), "
                                 f"got {self.encoder!r}")
        if self.encoder is not None:
            if size is not None and size != self.encoder.size:
                raise ShapeError(f"{self.label}: size {size} but the encoder makes {self.encoder.size} channels")
            size = self.encoder.size
        if self.spikes is not None:
            try:
                sp = np.asarray(self.spikes)
            except (ValueError, TypeError):
                raise ParameterError(f"{self.label}: spikes must be an array [steps, size] of 0/1") from None
            if sp.ndim != 2 or (size is not None and sp.shape[1] != size):
                raise ShapeError(f"{self.label}: spikes have shape {sp.shape}, expected [steps, {size or 'size'}]")
            if sp.dtype.kind not in "biu" or (sp.size and (sp.min() < 0 or sp.max() > 1)):
                raise ParameterError(f"{self.label}: spikes must be booleans or 0/1 integers")
            size = sp.shape[1]
            object.__setattr__(self, "spikes", sp.astype(bool))
        object.__setattr__(self, "size", _check_size(self.label, size))

    def to_group(self, first: int) -> InputGroup:
        """The board image's input group of this population, on axons ``first .. first + size - 1``."""
        if self.encoder is not None:
            return self.encoder.to_group(self.name, first, self.stream)
        if self.spikes is None:
            return InputGroup(self.name, first, self.size, "silent", 0, self.stream)
        step, channel = np.nonzero(self.spikes)
        return InputGroup(self.name, first, self.size, "spikes", 0, self.stream, {"length": self.spikes.shape[0]},
                          {"step": step.astype(np.int64), "channel": channel.astype(np.int64)})

    def spikes_for(self, steps: int) -> np.ndarray:
        """Boolean spikes [steps, size] of this input."""
        steps = check_steps(steps)
        check_alloc(f"{self.label}: spikes of {steps} steps", steps * self.size, 9)
        if self.encoder is not None:
            return np.asarray(self.encoder.encode(steps, self.stream), bool)
        out = np.zeros((steps, self.size), bool)
        if self.spikes is not None:
            k = min(steps, self.spikes.shape[0])
            out[:k] = self.spikes[:k]
        return out
