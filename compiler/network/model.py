"""The network: a ``networkx.DiGraph`` of populations (nodes) and projections (edges).

Node attribute ``population`` holds a :class:`Population` or
:class:`InputPopulation`; edge attribute ``projection`` holds a
:class:`Projection` (arrays, never one object per synapse). Numbering is
fixed by declaration order and never by placement:

* global compartment ``g``: the compartments of the (non-input) populations,
  concatenated in the order they were added;
* external input axon ``a``: the channels of the input populations,
  concatenated in the order they were added.

Every ``add_*``/``connect`` validates first and changes nothing on error.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np

from compiler.errors import (
    DendriteError,
    DuplicateError,
    LearningError,
    NetworkError,
    ParameterError,
    ShapeError,
    UnknownPopulationError,
)
from compiler.network.dendrites import Tree, parse_tree
from compiler.network.encoders import Encoder, check_steps
from compiler.network.input_population import InputPopulation
from compiler.network.netcheck import did_you_mean
from compiler.network.population import Population, Projection
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.inputs import InputProgram
from loihi_emu.sizes import check_alloc


class Network:
    """A spiking network in float terms; see the module docstring for the numbering."""

    def __init__(self, name: str = "network", spec: HardwareSpec = LOIHI1) -> None:
        if not isinstance(name, str):
            raise ParameterError(f"a network name must be a string, got {name!r}")
        if not isinstance(spec, HardwareSpec):
            raise ParameterError(f"spec must be a HardwareSpec such as loihi_emu.LOIHI1, got {spec!r}")
        self.name = name
        self.spec = spec
        self.graph = nx.DiGraph()
        self.node_index: dict | None = None  # set by from_compartment_graph: node -> (population, index)
        self.trees: dict[str, Tree] = {}  # population name -> its dendritic tree (docs/dendrites.md)
        self.dendrite_of: dict[str, str] = {}  # hidden population of a non-root compartment -> its tree's root

    # ------------------------------------------------------------ building
    def _check_new(self, name: str) -> None:
        if name in self.graph:
            raise DuplicateError(f"a population named {name!r} already exists")

    def add_population(self, name: str, size: int, compartments: Mapping | None = None, **params) -> Population:
        """Add CUBA compartments; ``params`` are :class:`Population` fields (tau_u, vth, ...).

        compartments: a dendritic tree shared by every neuron (docs/dendrites.md):
        ``{"soma": {}, "a": {"parent": "soma", "join": "add", "vth": 2.0}}``;
        each non-root compartment becomes the population ``"<name>.<compartment>"``
        (probe it by that name; ``connect(..., compartment=...)`` reaches it).
        Returns the root's population.
        """
        if compartments is not None:
            return self._add_tree(name, size, compartments, params)
        fields = set(Population.__dataclass_fields__) - {"name", "size", "spec"}
        unknown = set(params) - fields
        if unknown:
            bad = sorted(map(str, unknown))
            raise ParameterError(f"population {name!r}: unknown parameter(s) {bad}{did_you_mean(bad[0], fields)}; "
                                 f"known: {', '.join(sorted(fields))}")
        for forms in (("tau_u", "decay_u", "decay_u_reg"), ("tau_v", "decay_v", "decay_v_reg")):
            given = [k for k in forms if params.get(k) is not None]
            if len(given) > 1:
                raise ParameterError(f"population {name!r}: give one of {', '.join(forms)}, not both "
                                     f"{' and '.join(given)} (one would silently win)")
        pop = Population(name, size, spec=self.spec, **params)
        self._check_new(name)
        self.graph.add_node(name, population=pop)
        return pop

    def _add_tree(self, name: str, size: int, spec: Mapping, params: dict) -> Population:
        tree = parse_tree(name, spec, params)
        for m in tree.members:
            self._check_new(m.population)
        pops = []
        for m in tree.members:  # validate all before adding any
            merged = dict(params)
            for forms in (("tau_u", "decay_u", "decay_u_reg"), ("tau_v", "decay_v", "decay_v_reg")):
                if any(k in m.params for k in forms):  # the compartment's own decay replaces the population's
                    for k in forms:
                        merged.pop(k, None)
            merged.update(m.params)
            try:
                pops.append(Population(m.population, size, spec=self.spec, **merged))
            except TypeError as exc:
                raise DendriteError(f"population {name!r} compartment {m.compartment!r}: {exc}") from None
        for m, pop in zip(tree.members, pops):
            self.graph.add_node(m.population, population=pop)
            if m.parent is not None:
                self.dendrite_of[m.population] = name
        self.trees[name] = tree
        return pops[-1]

    def join_registers(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Per global compartment: join op code and global parent (-1: root); None when the network has no tree."""
        if not self.trees:
            return None
        ranges = self.compartment_ranges()
        op = np.zeros(self.n_compartments, np.int64)
        parent = np.full(self.n_compartments, -1, np.int64)
        for tree in self.trees.values():
            for m in tree.members:
                if m.parent is not None:
                    start, size = ranges[m.population]
                    op[start : start + size] = m.op
                    parent[start : start + size] = ranges[m.parent][0] + np.arange(size)
        return op, parent

    def add_input(
        self, name: str, size: int | None = None, *, spikes: np.ndarray | None = None, encoder: Encoder | None = None
    ) -> InputPopulation:
        """Add external input axons fed from ``spikes`` [steps, size] or an ``encoder``."""
        pop = InputPopulation(name, size, spikes, encoder)
        self._check_new(name)
        self.graph.add_node(name, population=pop)
        return pop

    def connect(
        self,
        pre: str,
        post: str,
        weights: np.ndarray | None = None,
        *,
        sparse: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        delay: np.ndarray | int = 0,
        weight_bits: int | None = None,
        sign_mode: str | None = None,
        weight_exp: int | None = None,
        learning_rule: str | None = None,
        traces: Mapping[str, tuple[int, int]] | None = None,
        learning_epoch: int = 1,
        stochastic_rounding: bool = False,
        w_max: float | None = None,
        reward: str | None = None,
        compartment: str | None = None,
    ) -> Projection:
        """Add a projection ``pre -> post``.

        weights: dense [pre.size, post.size]; zero entries make no synapse
        (a plastic projection that starts from zero weights needs ``sparse``).
        sparse: ``(pre_index, post_index, weight)`` arrays, one entry per synapse.
        delay: steps, a scalar, per synapse [m] (sparse) or [pre.size, post.size] (dense).
        learning_rule, traces (name -> (impulse 0..127, tau 1..4095 steps)),
        learning_epoch (steps, 1..63), stochastic_rounding, w_max (the largest
        |weight| learning may reach, model units): make the projection plastic; see :class:`~compiler.network.population.Projection`. A source (or
        target compartment) has one set of x (y) traces: a plastic projection
        whose x (y) trace settings or rounding differ from those of another
        plastic projection sharing a source (target compartment) is a
        :class:`LearningError` naming both. reward: the name of a one-axon
        input population whose spikes are the rule's reward (r0, r1; docs/reward.md).
        compartment: the compartment of ``post``'s dendritic tree the synapses
        drive (default: its root; docs/dendrites.md). Only roots send spikes:
        ``pre`` must not be a non-root compartment.
        """
        if compartment is not None:
            if not isinstance(post, str) or post not in self.trees:
                raise DendriteError(f"projection {pre!r} -> {post!r}: compartment={compartment!r} needs a population "
                                    f"with compartments=, and {post!r} has none")
            post = self.trees[post].population_of(compartment)
        if isinstance(pre, str) and pre in self.dendrite_of:
            raise DendriteError(f"projection {pre!r} -> {post!r}: {pre!r} is a non-root compartment of population "
                                f"{self.dendrite_of[pre]!r}; only the root sends spikes")
        a, b = self.population(pre), self.population(post)
        label = f"projection {pre!r} -> {post!r}"
        if sparse is not None and (not isinstance(sparse, (tuple, list)) or len(sparse) != 3):
            raise ParameterError(f"{label}: sparse must be a tuple (pre_index, post_index, weight), got {sparse!r}")
        if isinstance(b, InputPopulation):
            raise NetworkError(f"{label}: {post!r} is an input population and cannot receive synapses")
        if self.graph.has_edge(pre, post):
            raise DuplicateError(f"{label} already exists; put all its synapses in one projection")
        if (weights is None) == (sparse is None):
            raise ParameterError(f"{label}: give either a dense weights matrix or sparse=(pre, post, w)")
        if weights is not None:
            try:
                w = np.asarray(weights)
            except (ValueError, TypeError):
                raise ShapeError(f"{label}: weights are not a rectangular [{a.size}, {b.size}] array") from None
            if w.shape != (a.size, b.size):
                raise ShapeError(f"{label}: weights have shape {w.shape}, expected ({a.size}, {b.size})")
            if w.dtype.kind not in "iuf":
                raise ParameterError(f"{label}: weights must be numeric, got {w.dtype}")
            if not np.isfinite(w).all():
                i, j = np.argwhere(~np.isfinite(w))[0]
                raise ParameterError(f"{label}: weight[{i}, {j}] = {w[i, j]} is not finite")
            pi, qi = np.nonzero(w)
            wv = w[pi, qi]
            try:
                d = np.asarray(delay)
            except (ValueError, TypeError):
                raise ParameterError(f"{label}: delay is not a rectangular array of numbers") from None
            if d.ndim == 2:
                if d.shape != w.shape:
                    raise ShapeError(f"{label}: delay has shape {d.shape}, expected {w.shape}")
                delay = d[pi, qi]
        else:
            try:
                pi, qi, wv = (np.asarray(x) for x in sparse)
            except (ValueError, TypeError):
                raise ShapeError(f"{label}: sparse arrays must be 1-D arrays of numbers") from None
        proj = Projection(
            pre, post, a.size, b.size, pi, qi, wv, delay, weight_bits, sign_mode, weight_exp, learning_rule,
            traces, learning_epoch, stochastic_rounding, w_max, reward, spec=self.spec,
        )
        if reward is not None:
            r = self.population(reward) if reward in self.graph else None
            if not isinstance(r, InputPopulation) or r.size != 1 or not proj.plastic:
                raise NetworkError(f"{label}: reward={reward!r} must name an input population of one axon, "
                                   "and the projection needs a learning_rule")
        if proj.plastic:
            self._check_trace_owners(proj)
        self.graph.add_edge(pre, post, projection=proj)
        return proj

    def _check_trace_owners(self, proj: Projection) -> None:
        """One set of x traces per source and of y traces per compartment (docs/learning-engine.md)."""
        for other in self.projections:
            if not other.plastic:
                continue
            for side, pop, mine, theirs, idx in (
                ("x", "pre", proj.x_settings(), other.x_settings(), "pre_index"),
                ("y", "post", proj.y_settings(), other.y_settings(), "post_index"),
            ):
                if getattr(other, pop) != getattr(proj, pop) or mine == theirs:
                    continue
                shared = np.intersect1d(getattr(proj, idx), getattr(other, idx))
                if shared.size:
                    owner = "source" if side == "x" else "target compartment"
                    raise LearningError(
                        f"{proj.label}: its {side} traces and rounding {mine} differ from those of {other.label} "
                        f"{theirs}, and both reach {owner} {int(shared[0])} of "
                        f"{getattr(proj, pop)!r}; a {owner} has one set of {side} traces: give both projections "
                        f"the same {'x1, x2' if side == 'x' else 'y1, y2, y3'} settings and rounding"
                    )

    # ------------------------------------------------------------ queries
    def population(self, name: str) -> Population | InputPopulation:
        if not isinstance(name, str):
            raise UnknownPopulationError(f"a population name must be a string, got {name!r}")
        if name not in self.graph:
            raise UnknownPopulationError(f"unknown population {name!r}; known: {sorted(self.graph.nodes)}")
        return self.graph.nodes[name]["population"]

    @property
    def populations(self) -> list[Population]:
        """Compartment populations in declaration (= global numbering) order."""
        return [d["population"] for _, d in self.graph.nodes(data=True) if isinstance(d["population"], Population)]

    @property
    def inputs(self) -> list[InputPopulation]:
        """Input populations in declaration (= input axon numbering) order."""
        return [
            d["population"] for _, d in self.graph.nodes(data=True) if isinstance(d["population"], InputPopulation)
        ]

    @property
    def projections(self) -> list[Projection]:
        return [d["projection"] for _, _, d in self.graph.edges(data=True)]

    def compartment_ranges(self) -> dict[str, tuple[int, int]]:
        """Population name -> (first global compartment, size)."""
        out, start = {}, 0
        for p in self.populations:
            out[p.name] = (start, p.size)
            start += p.size
        return out

    def input_axons(self) -> dict[str, tuple[int, int]]:
        """Input population name -> (first external input axon, size)."""
        out, start = {}, 0
        for p in self.inputs:
            out[p.name] = (start, p.size)
            start += p.size
        return out

    @property
    def n_compartments(self) -> int:
        return sum(p.size for p in self.populations)

    @property
    def n_inputs(self) -> int:
        return sum(p.size for p in self.inputs)

    @property
    def n_synapses(self) -> int:
        return sum(p.n for p in self.projections)

    def input_spikes(self, steps: int) -> dict[str, np.ndarray]:
        """Input population name -> bool spikes [steps, size] from its array or encoder."""
        return {p.name: p.spikes_for(steps) for p in self.inputs}

    def input_array(self, steps: int, spikes: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """The ``[steps, n_axons]`` uint8 array :meth:`loihi_emu.Emulator.run` takes.

        spikes: per input population, bool [steps, size] overriding its own
        array or encoder; populations not named use their own.
        """
        steps = check_steps(steps)
        if spikes is not None and not isinstance(spikes, Mapping):
            raise ParameterError(f"spikes must map input population names to arrays, got {type(spikes).__name__}")
        spikes = dict(spikes or {})
        check_alloc(f"input_array({steps}) of {self.n_inputs} input axons", steps * self.n_inputs, 2)
        out = np.zeros((steps, self.n_inputs), np.uint8)
        for name, (start, size) in self.input_axons().items():
            sp = spikes.pop(name) if name in spikes else self.population(name).spikes_for(steps)
            try:
                sp = np.asarray(sp)
            except (ValueError, TypeError):
                raise ShapeError(f"input population {name!r}: spikes are not a [steps, size] array") from None
            if sp.dtype.kind not in "biu" or (sp.size and (sp.min() < 0 or sp.max() > 1)):
                raise ParameterError(f"input population {name!r}: spikes must be booleans or 0/1 integers")
            if sp.shape != (steps, size):
                raise ShapeError(f"input population {name!r}: spikes have shape {sp.shape}, expected ({steps}, {size})")
            out[:, start : start + size] = sp.astype(bool)
        if spikes:
            raise UnknownPopulationError(f"no input population named {sorted(spikes)}; known: {sorted(self.input_axons())}")
        return out

    def input_program(self) -> InputProgram:
        """The board image's :class:`~loihi_emu.image.inputs.InputProgram`: every input population's
        encoder or spike train, which the emulator plays bit-identically to :meth:`input_array`."""
        return InputProgram(self.n_inputs, tuple(self.population(name).to_group(start)
                                                 for name, (start, _) in self.input_axons().items()))

    def population_graph(self) -> nx.Graph:
        """Undirected graph of all populations; edge weight = synapses between them (both directions)."""
        g = nx.Graph()
        for name, d in self.graph.nodes(data=True):
            g.add_node(name, size=d["population"].size)
        for proj in self.projections:
            w = g.edges[proj.pre, proj.post]["weight"] if g.has_edge(proj.pre, proj.post) else 0
            g.add_edge(proj.pre, proj.post, weight=w + proj.n)
        return g

    def __repr__(self) -> str:
        return (
            f"Network({self.name!r}: {len(self.populations)} populations, {self.n_compartments} compartments, "
            f"{self.n_inputs} inputs, {len(self.projections)} projections, {self.n_synapses} synapses)"
        )
