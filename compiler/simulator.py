"""``Simulator``: compile a network, run it bit-exactly, read the results by population in model units.

::

    sim = Simulator(net, probes=[("exc", "spikes"), ("exc", "v", 10)], seed=0)
    sim.run(1000)                 # steps; repeated calls continue exactly
    sim.data["exc", "v"]          # float64 [1000 // 10, n_exc], model units
    sim.raw["exc", "v"]           # the registers the emulator recorded
    sim.spikes("exc")             # int64 [k, 2]: (step, index local to "exc")
    ref = sim.reference()         # the float reference of the same steps, inputs and probes
    sim.report                    # the CompileReport

A probe is ``(selector, quantity)`` or ``(selector, quantity, every)``
(or the string ``"selector:quantity"``): the selector names a population and
optionally a slice (``"exc"``, ``"exc[0:10]"``; for plastic synapses a
projection ``"in->exc"``), the quantity one of the emulator's (``spikes``,
``u``, ``v``, traces ``x1``..``y3``, plastic ``w``, ``wmant``, ``delay``,
``tag``), ``every`` records every k-th step. ``run`` without inputs plays the
network's own inputs (its encoders and spike trains, carried in the image).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np

from compiler.errors import CompilerError
from compiler.network.model import Network
from compiler.pipeline import as_network, compile
from compiler.precision.reference import FLOAT_QUANTITIES, FloatSimulator
from loihi_emu.energy import EnergyReport, estimate_energy
from loihi_emu.errors import ProbeError
from loihi_emu.image.digest import image_digest
from loihi_emu.image.input_eval import program_array
from loihi_emu.plots import plot_results
from loihi_emu.results import ProbeRecord, Results, results_from
from loihi_emu.runtime.emulator import Emulator
from loihi_emu.runtime.energy_counts import energy_probes
from loihi_emu.runtime.probes import Probe

ProbeSpec = tuple[str, str] | tuple[str, str, int] | str


def parse_probe(spec: ProbeSpec) -> tuple[str, str, int]:
    """``("exc", "v", 10)`` / ``("exc", "v")`` / ``"exc:v"`` -> (selector, quantity, every)."""
    if isinstance(spec, str):
        if ":" not in spec:
            raise ProbeError(f"probe {spec!r}: write 'population:quantity', e.g. 'exc:v'")
        sel, q = spec.rsplit(":", 1)
        return sel.strip(), q.strip(), 1
    if isinstance(spec, tuple) and len(spec) in (2, 3) and all(isinstance(x, str) for x in spec[:2]):
        every = spec[2] if len(spec) == 3 else 1
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ProbeError(f"probe {spec!r}: every must be a positive integer (steps)")
        return spec[0], spec[1], every
    raise ProbeError(f"probe {spec!r}: expected (population, quantity) or (population, quantity, every)")


def probe_key(selector: str, quantity: str) -> str:
    return f"{selector}:{quantity}"


class Simulator:
    """Compile ``network`` and run it on the emulator (see the module docstring).

    network: a :class:`Network`, a per-compartment ``networkx.DiGraph`` or a
    JSON file path. probes: see the module docstring (default: every
    population's spikes). seed: the seed of every random choice of the
    emulator (stochastic rounding). placement, n_chips, spec: as for
    :func:`compiler.compile`. backend: 'numba' or 'numpy'. energy: also
    record what :meth:`energy` counts (spikes and v of every compartment).
    """

    def __init__(self, network: Network | nx.DiGraph | str | os.PathLike, probes: Iterable[ProbeSpec] | None = None,
                 seed: int = 0, *, placement: str = "sequential", n_chips: int | None = None, spec=None,
                 backend: str = "numba", energy: bool = False) -> None:
        self.network = as_network(network)
        self.image, self.report = compile(self.network, spec, placement, n_chips)
        self.seed = int(seed)
        if probes is None:
            probes = [(p.name, "spikes") for p in self.network.populations]
        self._specs = [parse_probe(p) for p in probes]
        keys = [probe_key(s, q) for s, q, _ in self._specs]
        if len(set(keys)) != len(keys):
            raise ProbeError(f"a probe is given twice: {sorted(k for k in keys if keys.count(k) > 1)}")
        self._selectors = {probe_key(s, q): s for s, q, _ in self._specs}
        emu_probes = [Probe(q, s, every, probe_key(s, q)) for s, q, every in self._specs]
        self._energy = bool(energy)
        if self._energy:
            emu_probes = energy_probes(emu_probes)
        self.emulator = Emulator(self.image, seed=self.seed, probes=emu_probes, backend=backend)
        self.image_hash = image_digest(self.image)
        self._segments: list[tuple[int, int, np.ndarray | None]] = []

    @property
    def steps(self) -> int:
        """Steps run so far."""
        return self.emulator.t

    @property
    def populations(self):
        """The image's :class:`~loihi_emu.image.popmap.PopulationMap`."""
        return self.image.populations

    def run(self, steps: int, inputs: np.ndarray | None = None, progress: bool = False) -> None:
        """Advance ``steps`` steps; ``inputs`` ([steps, n_axons] or (step, axon) pairs, steps counted from
        this call) override the network's own inputs for these steps."""
        t0 = self.emulator.t
        self.emulator.run(steps, inputs, progress=progress)
        self._segments.append((t0, int(steps), None if inputs is None else np.asarray(inputs)))

    # ------------------------------------------------------------------ results
    def results(self) -> Results:
        """The emulator's results so far (:class:`loihi_emu.results.Results`)."""
        return results_from(self.emulator.data, self.image.populations, self.steps, self.seed, self.image_hash,
                            self._selectors)

    @property
    def data(self) -> Mapping:
        """(selector, quantity) -> float64 array in model units (v, u, w converted; see loihi_emu.results)."""
        return self.results().data

    @property
    def raw(self) -> Mapping:
        """(selector, quantity) -> the emulator's registers as recorded."""
        return self.results().raw

    def spikes(self, selector: str) -> np.ndarray:
        """int64 [k, 2]: (step, index local to the population) of the spikes of ``selector``."""
        return self.results().spikes(selector)

    def save(self, path: str | os.PathLike) -> None:
        """Write a results file (the format of ``loihi-emu run -o``)."""
        self.results().save(path)

    def plot(self, path: str | os.PathLike | None = None, v: str | None = None, weights: bool = False):
        """Raster coloured by population (and v of ``v``, plastic weights with ``weights``); see
        :func:`loihi_emu.plots.plot_results`. Returns the figure; writes it to ``path`` when given."""
        return plot_results(self.results(), path, v=v, weights=weights, title=self.network.name)

    def energy(self, profile: str = "davies2018") -> EnergyReport:
        """Energy (J) and chip time (s) per step and per core of the steps run so far, charged with the
        cost profile ``profile`` (docs/energy.md); needs ``Simulator(..., energy=True)``."""
        if not self._energy:
            raise ProbeError("energy(): build the Simulator with energy=True (it records what the estimate counts)")
        return estimate_energy(self.image, self.emulator.data, profile, inputs=self.input_array())

    # ------------------------------------------------------------------ float reference
    def input_array(self) -> np.ndarray:
        """uint8 [steps, n_axons]: the input every step run so far received."""
        prog, n_in = self.image.input_program, self.network.n_inputs
        parts = []
        for t0, steps, given in self._segments:
            if given is None:
                parts.append(program_array(prog, t0, t0 + steps) if prog is not None
                             else np.zeros((steps, n_in), np.uint8))
            elif given.ndim == 2 and given.shape == (steps, n_in) and (given.dtype.kind == "b" or n_in != 2
                                                                      or given.dtype == np.uint8):
                parts.append(given.astype(np.uint8))
            else:
                dense = np.zeros((steps, n_in), np.uint8)
                pairs = given.reshape(-1, 2).astype(np.int64)
                dense[pairs[:, 0], pairs[:, 1]] = 1
                parts.append(dense)
        return np.concatenate(parts) if parts else np.zeros((0, n_in), np.uint8)

    def reference(self, plastic: bool = True) -> Results:
        """The float reference (:class:`compiler.precision.reference.FloatSimulator`) of the same network,
        steps, inputs and probes, in model units. Probes of quantities the reference lacks (traces,
        ``wmant``, ``delay``, ``tag``) are left out; ``w`` columns follow the emulator's synapse order."""
        specs = [(s, q, e) for s, q, e in self._specs if q in FLOAT_QUANTITIES]
        pm = self.image.populations
        ref_probes, perm = [], None
        for s, q, e in specs:
            if q == "w":
                perm = self._w_permutation() if perm is None else perm
                ref_probes.append(Probe("w", None, e, probe_key(s, q)))
            else:
                ref_probes.append(Probe(q, tuple(pm.select(s, "compartment").tolist()), e, probe_key(s, q)))
        ref = FloatSimulator(self.network, ref_probes, plastic=plastic, seed=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.run(self.steps, self.input_array())
        arrays = {p.key: ref.data[p.key] for p in ref_probes}
        if "spike_events" in ref.data:
            arrays["spike_events"] = ref.data["spike_events"]
        records = []
        for p, (s, q, e) in zip(ref_probes, specs):
            idx = pm.select(s, "synapse" if q == "w" else "compartment")
            if q == "w":
                w = arrays[p.key]
                if not plastic:  # static weights: the initial ones, in the reference's synapse order
                    w0 = np.concatenate([pr.weight for pr in self.network.projections if pr.plastic])
                    w = np.repeat(w0[None, :], self.steps // e, axis=0)
                arrays[p.key] = w[:, perm][:, idx]
            records.append(ProbeRecord(p.key, q, s, e, idx))
        return Results(pm, records, arrays, self.steps, self.seed, self.image_hash, model_units=True)

    def _w_permutation(self) -> np.ndarray:
        """Reference plastic-synapse columns in the emulator's stable order (matched by (source, target))."""
        pm = self.image.populations
        ref = FloatSimulator(self.network, (), plastic=True).plastic_synapses()
        a = np.lexsort((ref["target"], ref["source"]))
        b = np.lexsort((pm.plastic_target, pm.plastic_source))
        if not (np.array_equal(ref["source"][a], pm.plastic_source[b])
                and np.array_equal(ref["target"][a], pm.plastic_target[b])):
            raise CompilerError("the float reference's plastic synapses do not match the image's")
        perm = np.empty_like(a)
        perm[b] = a
        return perm
