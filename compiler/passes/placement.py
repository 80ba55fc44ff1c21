"""Placement strategies: in which order pieces are laid onto cores and chips.

A strategy is a callable ``strategy(problem: PlacementProblem) -> order``
returning a permutation of the piece indices, or a list of groups of piece
indices that together are one (each group starts on a new chip). The
compiler packs pieces along that order (:func:`~compiler.passes.partition.pack`) onto cores 0, 1, 2, ...
(global core ``g`` is chip ``g // cores_per_chip``), so pieces that are
adjacent in the order share a core or at least a chip. Placement never changes the global compartment or
input-axon numbering, so spikes never depend on it.

Built in (:data:`PLACEMENTS`; add more with :func:`register_placement`):

* ``sequential``: populations in declaration order, pieces in index order;
* ``bisection``: traffic-aware. Recursively bisects the population graph
  (edge weight = synapses between two populations, both directions;
  Kernighan-Lin, seeded) and lays the halves next to each other, so densely
  connected populations share cores and chips and fewer spikes cross them.
* ``metis``: traffic-aware at piece granularity (needs the optional
  ``pymetis``, extra ``metis``). The graph's nodes are the pieces, weighted by
  the fraction of a core they fill (the largest of compartments, input axons,
  output axons and synapse memory over their limits), its edges the synapses
  between two pieces (both directions). METIS (seed 0) cuts it into k parts,
  for k from the chips the pieces need at 90 % fill up to 4 more and a few
  balance tolerances; the partition with the fewest cut synapses whose every
  part packs into one chip wins. Its parts are laid out as chip groups (each
  starts on a new chip), pieces in index order within a part, so the
  synapses METIS cut are the ones that cross chips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from compiler.errors import PlacementError
from compiler.passes.partition import Piece, pack
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


def _ordered(g: nx.Graph, nodes: list[str], rank: dict[str, int]) -> nx.Graph:
    """The subgraph on ``nodes`` with nodes and edges inserted in rank order (a subgraph view iterates a
    set, whose order changes with the interpreter's string hashing, and Kernighan-Lin follows that order)."""
    nodes = sorted(nodes, key=rank.get)
    keep = set(nodes)
    sub = nx.Graph()
    sub.add_nodes_from(nodes)
    edges = sorted(((min(u, v, key=rank.get), max(u, v, key=rank.get), d) for u, v, d in g.edges(nodes, data=True)
                    if u in keep and v in keep), key=lambda e: (rank[e[0]], rank[e[1]]))
    sub.add_edges_from(edges)
    return sub


def _bisect(g: nx.Graph, nodes: list[str], rank: dict[str, int]) -> list[str]:
    nodes = sorted(nodes, key=rank.get)
    sub = _ordered(g, nodes, rank)
    if len(nodes) <= 2 or sub.size(weight="weight") == 0:
        return nodes
    a, b = nx.community.kernighan_lin_bisection(sub, weight="weight", seed=0)
    a, b = sorted(a, key=rank.get), sorted(b, key=rank.get)
    return _bisect(g, list(a), rank) + _bisect(g, list(b), rank)


@register_placement("bisection")
def bisection(problem: PlacementProblem) -> list[int]:
    """Recursive bisection of the population graph weighted by synapse counts."""
    net = problem.network
    names = [p.name for p in net.populations]
    rank = {n: i for i, n in enumerate(names)}
    g = _ordered(net.population_graph(), names, rank)
    g.remove_edges_from(list(nx.selfloop_edges(g)))
    order = []
    for comp in sorted(nx.connected_components(g), key=lambda c: min(rank[n] for n in c)):
        order += _bisect(g, list(comp), rank)
    return problem.order_by_populations(order)


def piece_graph(problem: PlacementProblem) -> tuple[np.ndarray, np.ndarray]:
    """Synapses between pieces: (pairs int64 [k, 2] with a < b, counts int64 [k]); inputs and self-loops dropped."""
    net, pieces = problem.network, problem.pieces
    n = net.n_compartments
    piece_of = np.empty(n, np.int64)
    for k, p in enumerate(pieces):
        piece_of[p.first + p.start : p.first + p.stop] = k
    comp = net.compartment_ranges()
    keys = []
    for proj in net.projections:
        if proj.pre not in comp:
            continue
        a = piece_of[comp[proj.pre][0] + proj.pre_index.astype(np.int64)]
        b = piece_of[comp[proj.post][0] + proj.post_index.astype(np.int64)]
        keep = a != b
        lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        keys.append(lo * len(pieces) + hi)
    if not keys:
        return np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    uniq, counts = np.unique(np.concatenate(keys), return_counts=True)
    return np.stack([uniq // len(pieces), uniq % len(pieces)], axis=1), counts.astype(np.int64)


def piece_weight(p: Piece, spec: HardwareSpec) -> float:
    """The fraction of a core a piece fills: its largest additive use over the limit."""
    return max(p.size / spec.compartments_per_core, p.input_axons / spec.input_axons_per_core,
               p.output_axons / spec.output_axons_per_core, p.synapse_memory_bits / spec.synapse_memory_bits)


@register_placement("metis")
def metis(problem: PlacementProblem, fill: float = 0.9) -> list[list[int]]:
    """METIS partition of the piece graph into chip groups (module docstring); needs pymetis."""
    try:
        import pymetis
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise PlacementError("placement 'metis' needs pymetis: pip install 'loihi-emu[metis]'") from None
    pieces, spec = problem.pieces, problem.spec
    n = len(pieces)
    weights = np.array([piece_weight(p, spec) for p in pieces])
    first = max(1, int(np.ceil(weights.sum() / (spec.cores_per_chip * fill))))
    pairs, counts = piece_graph(problem)
    if n <= 1 or pairs.shape[0] == 0 or (first == 1 and len(pack(pieces, range(n), spec)) <= spec.cores_per_chip):
        return [list(range(n))]
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    ew = np.concatenate([counts, counts])
    order = np.lexsort((dst, src))
    src, dst, ew = src[order], dst[order], ew[order]
    xadj = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=xadj[1:])
    vw = np.maximum(1, np.rint(weights * 1000)).astype(np.int64).tolist()
    graph = pymetis.CSRAdjacency(xadj.tolist(), dst.tolist()) if hasattr(pymetis, "CSRAdjacency") else None
    csr = {"adjacency": graph} if graph is not None else {"xadj": xadj.tolist(), "adjncy": dst.tolist()}
    top = n if problem.n_chips is None else max(1, min(n, problem.n_chips))
    best, fallback = None, None
    for k in range(min(first, top), min(first + 4, top) + 1):
        for ufactor in (30, 200, 600):  # imbalance allowed, in 1/1000: clusters stay whole when parts may differ
            cut, member = pymetis.part_graph(k, **csr, vweights=vw, eweights=ew.tolist(),
                                             options=pymetis.Options(seed=0, ufactor=ufactor))
            member = np.asarray(member, np.int64)
            parts = sorted(np.unique(member).tolist(), key=lambda m: int(np.flatnonzero(member == m)[0]))
            groups = [np.flatnonzero(member == m).tolist() for m in parts]
            fits = all(len(pack(pieces, g, spec)) <= spec.cores_per_chip for g in groups)
            key = (int(cut), k, ufactor)
            if fits and (best is None or key < best[0]):
                best = (key, groups)
            if fallback is None or key < fallback[0]:
                fallback = (key, groups)
    return (best or fallback)[1]


def resolve_placement(placement: str | PlacementStrategy) -> tuple[str, PlacementStrategy]:
    """(name, callable) of a strategy given by name or as a callable."""
    if callable(placement):
        return getattr(placement, "__name__", "custom"), placement
    if placement not in PLACEMENTS:
        raise PlacementError(f"unknown placement {placement!r}; known: {sorted(PLACEMENTS)}")
    return placement, PLACEMENTS[placement]


def check_order(order, n: int, name: str) -> list[np.ndarray]:
    """The strategy's result as chip groups of piece indices; together they must be a permutation of 0..n-1.

    A strategy returns either one order (one group) or a list of groups
    (sequences of piece indices); each group starts on a new chip.
    """
    try:
        items = list(order) if not isinstance(order, np.ndarray) else [order]
        grouped = bool(items) and all(isinstance(g, (list, tuple, np.ndarray)) for g in items)
        raw = [np.asarray(list(g)) for g in items] if grouped else [np.asarray(items).ravel()]
    except (TypeError, ValueError):
        raise PlacementError(f"placement {name!r} must return a permutation of the {n} piece indices, "
                             f"got {type(order).__name__}") from None
    for g in raw:
        if g.size and g.dtype.kind not in "iu":
            raise PlacementError(f"placement {name!r} must return whole piece indices, got {g.dtype}")
    groups = [g.astype(np.int64).ravel() for g in raw]
    arr = np.concatenate(groups) if groups else np.zeros(0, np.int64)
    if arr.shape != (n,) or (n and not np.array_equal(np.sort(arr), np.arange(n))):
        raise PlacementError(f"placement {name!r} must return a permutation of the {n} piece indices (or chip "
                             f"groups of them), got {arr.size} values")
    return [g for g in groups if g.size]
