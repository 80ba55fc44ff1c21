"""The run time: flat arrays built from an image, kernels, probes and the ``Emulator``."""

from loihi_emu.runtime.distributed import DistributedEmulator  # registers Emulator(comm=...)
from loihi_emu.runtime.emulator import Emulator
from loihi_emu.runtime.probes import Probe, ProbeData

__all__ = ["DistributedEmulator", "Emulator", "Probe", "ProbeData"]
