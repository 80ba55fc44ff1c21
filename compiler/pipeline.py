"""``compile``: network -> quantize -> partition -> place -> lower -> validate -> report."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

import networkx as nx
import numpy as np

from compiler.errors import CapacityError, CompilerError, NetworkError, UnknownPopulationError
from compiler.network.convert import from_compartment_graph
from compiler.network.model import Network
from compiler.network.netfile import load_network
from compiler.passes.dense import DenseSettings, compensate_exact, decay_gains, densify
from compiler.passes.lower import lower, route_stats, synapse_crossings
from compiler.passes.partition import binding_summary, pack, split_network, synapse_index
from compiler.passes.placement import PlacementProblem, PlacementStrategy, check_order, resolve_placement
from compiler.passes.popmap import population_map
from compiler.passes.quantize import quantize_network
from compiler.passes.traffic import traffic_estimate
from compiler.report import CompileReport, CoreLearning, LearningEntry, PlacedPiece
from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import ROUND_STOCHASTIC, SIGN_MODES, TRACES, Image
from loihi_emu.image.limits import validate
from microcode import format_program

PACKINGS = ("auto", "dense", "exact")


def as_network(network: Network | nx.DiGraph | str | os.PathLike) -> Network:
    """A :class:`Network` from a Network, a per-compartment ``networkx.DiGraph`` or a JSON file path."""
    if isinstance(network, Network):
        return network
    if isinstance(network, nx.DiGraph):

        return from_compartment_graph(network)
    if isinstance(network, (str, os.PathLike)):

        return load_network(network)
    raise NetworkError(f"cannot compile a {type(network).__name__}; give a Network, a networkx.DiGraph or a JSON path")


def learning_by_core(image: Image, net: Network) -> list[CoreLearning]:
    """The learning profiles of every core that has some, read back from the image's tables.

    Each profile names the plastic projections of ``net`` whose settings it
    holds (matched by microcode, traces, epoch and rounding).
    """

    users: dict[tuple, list[str]] = {}
    for proj in net.projections:
        if proj.plastic:
            lp = proj.learning_profile
            users.setdefault((lp.microcode, lp.traces, lp.epoch, lp.rounding), []).append(proj.key)
    out = []
    for core in image.cores:
        lt = core.learning
        if lt.n == 0:
            continue
        entries = []
        for i in range(lt.n):
            flat = lt.trace_settings(i)
            traces = tuple((tr, flat[2 * j], flat[2 * j + 1]) for j, tr in enumerate(TRACES) if flat[2 * j + 1])
            rounding = "stochastic" if lt.rounding[i] == ROUND_STOCHASTIC else "det"
            key = (lt.microcode(i), traces, int(lt.epoch[i]), rounding)
            entries.append(LearningEntry(format_program(lt.program(i)).strip().replace("\n", "; "),
                                         {t: (imp, tau) for t, imp, tau in traces}, int(lt.epoch[i]), rounding,
                                         users.get(key, [])))
        out.append(CoreLearning(core.chip, core.index, entries))
    return out


def compile(
    network: Network | nx.DiGraph | str | os.PathLike,
    spec: HardwareSpec | None = None,
    placement: str | PlacementStrategy = "sequential",
    n_chips: int | None = None,
    *,
    warn_rel: float = 0.01,
    packing: str = "auto",
    decay_compensation: bool | Iterable[str] = False,
    dense: DenseSettings | None = None,
) -> tuple[Image, CompileReport]:
    """Compile ``network`` into a board image that fits ``spec`` (default: the network's, LOIHI1).

    placement: a name in :data:`compiler.passes.placement.PLACEMENTS` or a strategy callable.
    n_chips: system size; None allows as many chips as needed. A network that
    does not fit raises :class:`CapacityError` naming the resource and what
    bound the cores.
    warn_rel: relative quantization error above which a threshold, bias or decay warns.
    packing: ``"dense"``: per-compartment scales and at most
    ``max_threshold_profiles`` thresholds network-wide (docs/packing.md); a
    population that would lose more than ``dense.budget_bits`` (default 0.25)
    bits of weight mantissa, or that cannot be scaled per compartment, stays
    exact. ``"exact"``: one scale per population, every distinct threshold
    its own profile. ``"auto"`` (default): exact when the whole network has
    no more distinct thresholds than one core's profile table holds (then
    exact costs no cores), else dense. The report's ``packing`` says which.
    decay_compensation: True (every population) or population names whose
    weights and bias are scaled to keep the DC gain of the rounded decays.
    dense: :class:`~compiler.passes.dense.DenseSettings` (profiles, headroom, budget).
    Returns the image (already checked by :func:`loihi_emu.image.limits.validate`) and the report.
    """
    t0 = time.perf_counter()
    if spec is not None and not isinstance(spec, HardwareSpec):
        raise NetworkError(f"spec must be a HardwareSpec such as loihi_emu.LOIHI1, got {spec!r}")
    if n_chips is not None and (isinstance(n_chips, bool) or not isinstance(n_chips, (int, np.integer))
                                or n_chips < 1):
        raise NetworkError(f"n_chips must be a positive integer, got {n_chips!r}")
    if isinstance(warn_rel, bool) or not isinstance(warn_rel, (int, float)) or not warn_rel >= 0:
        raise NetworkError(f"warn_rel must be a number >= 0, got {warn_rel!r}")
    if not callable(placement) and not isinstance(placement, str):
        raise NetworkError(f"placement must be a strategy name or a callable, got {placement!r}")
    net = as_network(network)
    spec = spec or net.spec
    if net.n_compartments == 0:
        raise NetworkError(f"network {net.name!r} has no compartments to compile")
    min_cores = -(-net.n_compartments // spec.compartments_per_core)  # before any per-compartment work
    if n_chips is not None and min_cores > n_chips * spec.cores_per_chip:
        cpc = spec.cores_per_chip
        raise CapacityError("cores", f"a system of {n_chips} chip(s)", min_cores, n_chips * cpc,
                            f"the network needs at least {-(-min_cores // cpc)} chips; raise n_chips or shrink "
                            f"the network")
    name, strategy = resolve_placement(placement)
    if packing not in PACKINGS:
        raise NetworkError(f"unknown packing {packing!r}; known: {list(PACKINGS)}")
    names = {p.name for p in net.populations}
    comp = names if decay_compensation is True else set() if decay_compensation is False else set(decay_compensation)
    if comp - names:
        raise UnknownPopulationError(f"decay_compensation names no population {sorted(comp - names)[0]!r}")
    timings: dict[str, float] = {}

    def lap(stage: str) -> None:
        timings[stage] = time.perf_counter() - t0 - sum(timings.values())

    q = quantize_network(net, spec, warn_rel)
    gains = decay_gains(net, q, comp, spec)
    summary = None
    if packing == "auto":
        distinct = np.unique(np.concatenate([p.vth_mant for p in q.populations])).size
        packing = "exact" if distinct <= spec.max_threshold_profiles or net.trees else "dense"
    if packing == "dense" and net.trees:  # dense packing gives compartments their own scales; a tree needs one
        raise CompilerError(f"packing='dense' does not support dendritic trees (population {next(iter(net.trees))!r}); "
                            "use packing='exact'")
    if packing == "dense":
        q, summary = densify(net, q, spec, dense, gains)
    q = compensate_exact(net, q, gains, spec)
    lap("quantize")
    syn = synapse_index(net, q, spec)
    pieces = split_network(net, q, syn, spec)
    lap("partition")
    groups = check_order(strategy(PlacementProblem(pieces, net, spec, n_chips)), len(pieces), name)
    cpc = spec.cores_per_chip
    binding: list[str] = []
    bins: list[list[int]] = []
    core_ids: list[int] = []
    for group in groups:  # each group starts on a new chip
        part: list[str] = []
        new = pack(pieces, group, spec, part)
        start = -(-(core_ids[-1] + 1) // cpc) * cpc if core_ids else 0
        core_ids += range(start, start + len(new))
        bins += new
        binding += part
    lap("place")
    span = core_ids[-1] + 1 if core_ids else 0
    if n_chips is not None and span > n_chips * cpc:
        raise CapacityError("cores", f"a system of {n_chips} chip(s)", span, n_chips * cpc,
                            f"the network needs {-(-span // cpc)} chips ({binding_summary(binding)}); "
                            f"raise n_chips or shrink the network")
    core_of = np.empty(net.n_compartments, np.int64)
    placed = []
    for g, members in zip(core_ids, bins):
        for i in members:
            p = pieces[i]
            core_of[p.first + p.start : p.first + p.stop] = g
            for member, size in p.members or ((p.population, None),):  # a tree's piece: one entry per compartment
                placed.append(PlacedPiece(member, 0 if size else p.start, size or p.stop, g // cpc, g % cpc))
    crossings = synapse_crossings(syn, core_of, spec)
    image = lower(net, q, syn, core_of, spec)
    del syn
    scales = {p.name: p.v_scale for p in q.populations}
    per_cx = np.concatenate([p.compartment_scales() for p in q.populations]) if q.populations else np.zeros(0)
    uniform = all(np.all(p.compartment_scales() == p.v_scale) for p in q.populations)
    image = image.with_parts(net.input_program(), population_map(net, scales, image, None if uniform else per_cx))
    lap("lower")
    usage = validate(image, spec)
    routes = route_stats(image, crossings)
    traffic = traffic_estimate(net, image, spec)
    learning = learning_by_core(image, net)
    lap("validate")
    report = CompileReport(
        network=net.name, spec=spec, placement=name, n_compartments=net.n_compartments, n_inputs=net.n_inputs,
        n_synapses=net.n_synapses, cores=len(image.cores), chips=len(image.chips), n_chips=n_chips,
        core_usage=usage, pieces=placed, routes=routes, quantization=q.table,
        scales=scales,
        formats={f"{pw.pre}->{pw.post}": (pw.weight_bits, pw.weight_exp, SIGN_MODES[pw.sign_mode])
                 for pw in q.projections},
        compartments=net.compartment_ranges(), input_axons=net.input_axons(), learning=learning,
        seconds=time.perf_counter() - t0, timings=timings, packing=packing, binding=binding, dense=summary,
        compartment_scales=per_cx, traffic=traffic,
        trees={k: [m.compartment for m in t.members] for k, t in net.trees.items()},
    )
    return image, report
