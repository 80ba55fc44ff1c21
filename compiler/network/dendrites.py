"""Dendritic trees (docs/dendrites.md): the ``compartments=`` spec of a population, checked and put in tree order.

A spec maps compartment names to their settings; exactly one compartment
has no ``"parent"`` (the root: the neuron's output, the only one that
spikes and sends axons); every other one names its parent and its
``"join"`` op (``add``, ``block``, ``pass``, ``or``, ``and``; default
``add``). Any other key is a :class:`~compiler.network.population.Population`
CUBA parameter (tau_u, vth, bias, ...) overriding the population's for that
compartment. The network makes one hidden population per non-root
compartment, named ``"<population>.<compartment>"``, added before the root
so that children come before parents in the global numbering.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from compiler.errors import DendriteError
from compiler.network.netcheck import did_you_mean
from loihi_emu.image.joins import JOIN_OPS

COMPARTMENT_PARAMS = frozenset({
    "tau_u", "tau_v", "decay_u", "decay_v", "decay_u_reg", "decay_v_reg", "tau_convention", "vth", "bias",
    "refractory", "vmin", "vmax",
})
"""Population parameters a compartment may override (v_scale and noise are the population's)."""


@dataclass(frozen=True)
class TreeMember:
    """One compartment of a tree: its name, its hidden population, its parent's population (None: root), op code."""

    compartment: str
    population: str
    parent: str | None
    op: int
    params: Mapping


@dataclass(frozen=True)
class Tree:
    """The compartments of a population's neurons in tree order (children before parents, root last)."""

    root: str
    members: tuple[TreeMember, ...]
    spec: Mapping
    params: Mapping = None  # the population-level parameters the compartments override (as given)

    def population_of(self, compartment: str | None) -> str:
        """The population holding ``compartment`` (None: the root); DendriteError naming an unknown one."""
        if compartment is None:
            return self.root
        for m in self.members:
            if m.compartment == compartment:
                return m.population
        names = [m.compartment for m in self.members]
        raise DendriteError(f"population {self.root!r} has no compartment {compartment!r}"
                            f"{did_you_mean(compartment, names)}; its compartments: {names}")

    @property
    def root_compartment(self) -> str:
        return self.members[-1].compartment


def parse_tree(name: str, spec, params: Mapping | None = None) -> Tree:
    """Check ``spec`` (see the module doc) and order it; DendriteError naming population and compartment."""
    w = f"population {name!r}"
    if not isinstance(spec, Mapping) or not spec:
        raise DendriteError(f"{w}: compartments must be a non-empty mapping name -> settings, got {spec!r}")
    for c, cfg in spec.items():
        if not isinstance(c, str) or not c or "." in c:
            raise DendriteError(f"{w}: compartment name {c!r} must be a non-empty string without '.'")
        if not isinstance(cfg, Mapping):
            raise DendriteError(f"{w} compartment {c!r}: settings must be a mapping, got {cfg!r}")
        bad = sorted(set(cfg) - COMPARTMENT_PARAMS - {"parent", "join"})
        if bad:
            raise DendriteError(f"{w} compartment {c!r}: unknown key {bad[0]!r}"
                                f"{did_you_mean(bad[0], COMPARTMENT_PARAMS | {'parent', 'join'})}; a compartment "
                                f"takes parent, join and {sorted(COMPARTMENT_PARAMS)}")
    roots = [c for c, cfg in spec.items() if cfg.get("parent") is None]
    if len(roots) != 1:
        raise DendriteError(f"{w}: a tree has exactly one root (a compartment without parent), got {roots}")
    children: dict[str, list[str]] = {c: [] for c in spec}
    for c, cfg in spec.items():
        if c == roots[0]:
            if "join" in cfg:
                raise DendriteError(f"{w} compartment {c!r}: the root has no parent to join")
            continue
        p = cfg["parent"]
        if p not in spec:
            raise DendriteError(f"{w} compartment {c!r}: unknown parent {p!r}{did_you_mean(p, spec)}")
        op = cfg.get("join", "add")
        if op not in JOIN_OPS:
            raise DendriteError(f"{w} compartment {c!r}: unknown join {op!r}; known: {list(JOIN_OPS)}")
        children[p].append(c)
    order: list[str] = []

    def visit(c: str) -> None:  # post-order: a compartment's subtrees, then itself
        for k in children[c]:
            visit(k)
        order.append(c)

    visit(roots[0])
    if len(order) != len(spec):
        lost = next(c for c in spec if c not in order)
        raise DendriteError(f"{w} compartment {lost!r}: its parents form a cycle that never reaches the root "
                            f"{roots[0]!r}")
    pop = {c: name if c == roots[0] else f"{name}.{c}" for c in spec}
    members = tuple(TreeMember(c, pop[c], None if c == roots[0] else pop[spec[c]["parent"]],
                               0 if c == roots[0] else JOIN_OPS[spec[c].get("join", "add")],
                               {k: v for k, v in spec[c].items() if k not in ("parent", "join")})
                    for c in order)
    return Tree(name, members, {c: dict(cfg) for c, cfg in spec.items()}, dict(params or {}))
