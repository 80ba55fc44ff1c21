"""Placement strategies: in which order pieces are laid onto cores and chips.

A strategy is a callable ``strategy(problem: PlacementProblem) -> order``
returning a permutation of the piece indices. The compiler packs pieces
next-fit along that order onto cores 0, 1, 2, ... (global core ``g`` is chip
``g // cores_per_chip``), so pieces that are adjacent in the order share a
core or at least a chip. Placement never changes the global compartment or
input-axon numbering, so spikes never depend on it.

Built in (:data:`PLACEMENTS`; add more with :func:`register_placement`):

* ``sequential``: populations in declaration order, pieces in index order;
* ``bisection``: traffic-aware. Recursively bisects the population graph
  (edge weight = synapses between two populations, both directions;
  Kernighan-Lin, seeded) and lays the halves next to each other, so densely
  connected populations share cores and chips and fewer spikes cross them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from compiler.errors import PlacementError
from compiler.passes.partition import Piece
from loihi_emu.hw import HardwareSpec

PlacementStrategy = Callable[["PlacementProblem"], Sequence[int]]


@dataclass
class PlacementProblem:
    """What a strategy may look at: the pieces, the network (populations, projections) and the spec."""

    pieces: list[Piece]
    network: object
    spec: HardwareSpec
    n_chips: int | None = None

    def pieces_of(self, population: str) -> list[int]:
        return [i for i, p in enumerate(self.pieces) if p.population == population]

    def order_by_populations(self, names: Sequence[str]) -> list[int]:
        """Piece indices: the given populations in that order, each population's pieces in index order."""
        by_pop: dict[str, list[int]] = {}
        for i, p in enumerate(self.pieces):
            by_pop.setdefault(p.population, []).append(i)
        return [i for name in names for i in by_pop.get(name, [])]


PLACEMENTS: dict[str, PlacementStrategy] = {}


def register_placement(name: str) -> Callable[[PlacementStrategy], PlacementStrategy]:
    """Decorator: make a strategy available as ``placement=name``."""

    def deco(fn: PlacementStrategy) -> PlacementStrategy:
        PLACEMENTS[name] = fn
        return fn

    return deco


@register_placement("sequential")
def sequential(problem: PlacementProblem) -> list[int]:
    """Declaration order."""
    return list(range(len(problem.pieces)))


def _bisect(g: nx.Graph, nodes: list[str], rank: dict[str, int]) -> list[str]:
    nodes = sorted(nodes, key=rank.get)
    sub = g.subgraph(nodes)
    if len(nodes) <= 2 or sub.size(weight="weight") == 0:
        return nodes
    a, b = nx.community.kernighan_lin_bisection(sub, weight="weight", seed=0)
    return _bisect(g, list(a), rank) + _bisect(g, list(b), rank)


@register_placement("bisection")
def bisection(problem: PlacementProblem) -> list[int]:
    """Recursive bisection of the population graph weighted by synapse counts."""
    net = problem.network
    names = [p.name for p in net.populations]
    rank = {n: i for i, n in enumerate(names)}
    g = net.population_graph().subgraph(names).copy()
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    order = []
    for comp in sorted(nx.connected_components(g), key=lambda c: min(rank[n] for n in c)):
        order += _bisect(g, list(comp), rank)
    return problem.order_by_populations(order)


def resolve_placement(placement: str | PlacementStrategy) -> tuple[str, PlacementStrategy]:
    """(name, callable) of a strategy given by name or as a callable."""
    if callable(placement):
        return getattr(placement, "__name__", "custom"), placement
    if placement not in PLACEMENTS:
        raise PlacementError(f"unknown placement {placement!r}; known: {sorted(PLACEMENTS)}")
    return placement, PLACEMENTS[placement]


def check_order(order: Sequence[int], n: int, name: str) -> np.ndarray:
    """The strategy's result as an int array; it must be a permutation of 0..n-1."""
    try:
        arr = np.asarray(list(order)) if not isinstance(order, np.ndarray) else order
    except (TypeError, ValueError):
        raise PlacementError(f"placement {name!r} must return a permutation of the {n} piece indices, "
                             f"got {type(order).__name__}") from None
    if arr.size and arr.dtype.kind not in "iu":
        raise PlacementError(f"placement {name!r} must return whole piece indices, got {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.shape != (n,) or (n and not np.array_equal(np.sort(arr), np.arange(n))):
        raise PlacementError(f"placement {name!r} must return a permutation of the {n} piece indices, got {arr.size} values")
    return arr
