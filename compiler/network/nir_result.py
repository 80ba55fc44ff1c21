"""What :func:`compiler.network.nir.from_nir` returns: the network, the mapping report, the layers, and the
converters between the producer's arrays and the network's input and output spikes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from compiler.errors import NIRError
from compiler.network.model import Network
from compiler.network.nir_neurons import ReportRow


@dataclass(frozen=True)
class Layer:
    """One NIR node that became a population: its population, shape, and hop lag in steps.

    lag: Loihi step ``t + lag`` holds the producer's step ``t`` of this layer
    (0 for inputs; one step per hop otherwise, less where Delay nodes absorb it).
    """

    node: str
    type: str
    population: str
    shape: tuple[int, ...]
    lag: int
    spiking: bool = True

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass
class NIRReport:
    """The mapping report: per NIR node and parameter, the Loihi value and its error; notes; the layers."""

    source: str
    convention: str
    dt: float
    reset: str
    rows: list[ReportRow]
    layers: dict[str, Layer]
    notes: list[str] = field(default_factory=list)

    def node(self, name: str) -> list[ReportRow]:
        return [r for r in self.rows if r.node == name]

    @property
    def exact(self) -> bool:
        """True when the float import is the producer's step (no note says otherwise)."""
        return all(r.mapping_error == 0 for r in self.rows) and not any("inexact" in n for n in self.notes)

    def to_dict(self) -> dict:
        return {
            "source": self.source, "convention": self.convention, "dt": self.dt, "reset": self.reset,
            "layers": {k: {"population": v.population, "type": v.type, "shape": list(v.shape), "lag": v.lag}
                       for k, v in self.layers.items()},
            "rows": [{"node": r.node, "nir": r.nir, "loihi": r.loihi, "mapping_error": r.mapping_error,
                      "chip_error": r.chip_error, "note": r.note} for r in self.rows],
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        lines = [f"NIR import of {self.source}: convention {self.convention!r}, dt = {self.dt:g} s, "
                 f"reset {self.reset!r}", "",
                 f"{'node':<16} {'type':<10} {'population':<16} {'shape':<14} {'lag':>4}"]
        for k, v in self.layers.items():
            lines.append(f"{k:<16} {v.type:<10} {v.population:<16} {str(list(v.shape)):<14} {v.lag:>4}")
        lines += ["", f"{'node':<16} {'NIR':<40} {'Loihi':<56} {'map err':>8} {'chip err':>9}"]
        for r in self.rows:
            chip = "" if r.chip_error is None else f"{r.chip_error:.2%}"
            lines.append(f"{r.node:<16} {r.nir:<40} {r.loihi:<56} {r.mapping_error:>8.2g} {chip:>9}"
                         + (f"  {r.note}" if r.note else ""))
        if self.notes:
            lines += ["", "notes:"] + [f"- {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _as_spikes(name: str, x, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim < 1 or int(np.prod(arr.shape[1:])) != int(np.prod(shape)):
        raise NIRError(f"input {name!r}: got an array of shape {list(arr.shape)}, expected [T, {', '.join(map(str, shape))}]",
                       name)
    flat = arr.reshape(arr.shape[0], -1)
    if flat.dtype.kind not in "biuf" or (flat.size and not np.isin(flat, (0, 1)).all()):
        bad = np.argwhere(~np.isin(flat, (0, 1)))[0] if flat.dtype.kind in "biuf" else (0, 0)
        raise NIRError(f"input {name!r}: value {flat[tuple(bad)]!r} at step {bad[0]}, channel {bad[1]} is not a "
                       f"spike: Loihi 1 input axons carry 0/1 spikes (encode real values first)", name)
    return flat.astype(bool)


class NIRImport:
    """A NIR graph imported as a :class:`~compiler.network.model.Network` (see :func:`from_nir`).

    network: the Network; report: the :class:`NIRReport`; layers: NIR node ->
    :class:`Layer`; outputs_of: NIR Output node -> the neuron node feeding it;
    lag: the largest hop lag (run ``steps(T) = T + lag`` Loihi steps for T
    producer steps).
    """

    def __init__(self, network: Network, report: NIRReport, layers: dict[str, Layer], outputs_of: dict[str, str],
                 output_shapes: dict[str, tuple[int, ...]], v_offset: dict[str, np.ndarray]) -> None:
        self.network = network
        self.report = report
        self.layers = layers
        self.outputs_of = outputs_of
        self.output_shapes = output_shapes
        self._v_offset = v_offset
        self.lag = max((ly.lag for ly in layers.values()), default=0)

    def __repr__(self) -> str:
        return f"NIRImport({self.network!r}, lag {self.lag})"

    @property
    def input_nodes(self) -> list[str]:
        """The Input nodes that take the caller's spikes (always-on inputs written by to_nir feed themselves)."""
        return [k for k, v in self.layers.items() if v.type == "Input"]

    def steps(self, producer_steps: int) -> int:
        """Loihi steps that cover ``producer_steps`` steps of every layer: ``T + lag``."""
        return int(producer_steps) + self.lag

    def inputs(self, x, steps: int | None = None) -> np.ndarray:
        """The ``[steps, n_axons]`` uint8 array for ``Emulator.run`` / ``FloatSimulator.run`` from producer input.

        x: the producer's input spikes ``[T, *shape]`` (one Input node) or a
        dict Input node -> array. steps: Loihi steps (default ``T + lag``;
        steps past T are silent). The bias axon (when the import has one) is
        on in every step.
        """
        names = self.input_nodes
        xs = dict(x) if isinstance(x, Mapping) else ({names[0]: x} if len(names) == 1 else None)
        if xs is None:
            raise NIRError(f"the graph has {len(names)} Input nodes {names}: give a dict node -> spikes")
        unknown = set(xs) - set(names)
        if unknown:
            raise NIRError(f"no Input node named {sorted(unknown)}; the graph has {names}", sorted(unknown)[0])
        arrays = {k: _as_spikes(k, v, self.layers[k].shape) for k, v in xs.items()}
        t_in = max((a.shape[0] for a in arrays.values()), default=0)
        steps = self.steps(t_in) if steps is None else int(steps)
        spikes = {}
        for k in names:
            out = np.zeros((steps, self.layers[k].size), bool)
            if k in arrays:
                m = min(steps, arrays[k].shape[0])
                out[:m] = arrays[k][:m]
            spikes[self.layers[k].population] = out
        return self.network.input_array(steps, spikes)

    def _layer_of_output(self, node: str | None) -> tuple[Layer, tuple[int, ...]]:
        if node is None:
            outs = list(self.outputs_of)
            if len(outs) != 1:
                raise NIRError(f"the graph has {len(outs)} Output nodes {outs}: name one (node=...)")
            node = outs[0]
        if node in self.outputs_of:
            src = self.outputs_of[node]
            if src not in self.layers:
                raise NIRError(f"Output node {node!r} is fed by {src!r}, not by a neuron layer: Loihi outputs are "
                               f"the spikes (or v) of a population", node)
            return self.layers[src], self.output_shapes[node]
        if node in self.layers:
            return self.layers[node], self.layers[node].shape
        raise NIRError(f"no Output node or layer named {node!r}; outputs {list(self.outputs_of)}, layers "
                       f"{list(self.layers)}", node)

    def outputs(self, result, node: str | None = None) -> np.ndarray:
        """An output's spikes (v for a non-spiking layer) in the producer's time and shape ``[T, *shape]``.

        result: a ``compiler.Simulator``-like object (``sim.spikes(pop)``), an
        Emulator / FloatSimulator (``.data``), a probe-data mapping
        (``data["spikes"]`` over all compartments, or ``data[pop]``), or an
        array ``[steps, n_compartments]`` / ``[steps, layer size]``. node: an
        Output node (default: the only one) or any layer. The layer's own lag
        is dropped and every layer gives ``T = steps - imp.lag`` steps.
        """
        layer, shape = self._layer_of_output(node)
        qty = "spikes" if layer.spiking else "v"
        arr = self._quantity(result, layer, qty)
        if arr.ndim != 2 or arr.shape[1] != layer.size:
            raise NIRError(f"layer {layer.node!r}: recorded array has shape {list(arr.shape)}, expected "
                           f"[steps, {layer.size}] (or all {self.network.n_compartments} compartments)", layer.node)
        t = max(arr.shape[0] - self.lag, 0)
        out = arr[layer.lag : layer.lag + t]
        if qty == "v":
            out = out.astype(np.float64) + self._v_offset.get(layer.node, 0.0)
        return out.reshape(out.shape[0], *shape)

    def _quantity(self, result, layer: Layer, qty: str) -> np.ndarray:
        pop = layer.population
        first, size = self.network.compartment_ranges()[pop]
        fn = getattr(result, "spikes", None)
        if qty == "spikes" and callable(fn):
            return np.asarray(fn(pop))
        data = result if isinstance(result, (np.ndarray, list)) else getattr(result, "data", result)
        if not isinstance(data, np.ndarray) and hasattr(data, "__getitem__"):
            for key in ((pop, qty), pop if qty == "spikes" else None, qty):
                if key is None:
                    continue
                try:
                    arr = np.asarray(data[key])
                except (KeyError, TypeError, IndexError):
                    continue
                if arr.ndim == 2 and arr.shape[1] == self.network.n_compartments and key == qty:
                    return arr[:, first : first + size]
                return arr
            raise NIRError(f"layer {layer.node!r}: the result records no {qty!r} (probe {qty!r} when running)",
                           layer.node)
        arr = np.asarray(data)
        if arr.ndim == 2 and arr.shape[1] == self.network.n_compartments != size:
            return arr[:, first : first + size]
        return arr
