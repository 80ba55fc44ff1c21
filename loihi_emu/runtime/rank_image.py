"""The part of a board image one MPI rank runs: its chips, renumbered, with remote sources as input axons.

Rank r owns whole chips (:func:`loihi_emu.runtime.partition_ranks.assign_chips`).
Its *sub-image* is an ordinary :class:`~loihi_emu.image.core.Image`:

* compartments: those of its chips, numbered 0..n_r-1 in ascending global
  order (``local_g[i]`` is the global index of local compartment i);
* input axons: first the image's ``n_in`` external inputs (same numbers, routes
  kept only to its own cores), then one axon per *remote source*, a compartment
  of another rank with a route into this rank's cores, in ascending global
  order (``remote_g``); its routes are that compartment's routes into this rank;
* routes of its own compartments: only those to its own cores. The others are
  the ones :mod:`loihi_emu.runtime.distributed` sends each step: ``peer_ptr`` /
  ``peer_rank`` (a CSR over local compartments) lists the other ranks a
  compartment's spikes go to.

Routes are stored on the source side, so a rank learns the sources of its
input axons in one start-up exchange: every rank sends each peer the routes
of its compartments into that peer's chips.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from loihi_emu.errors import ImageError
from loihi_emu.image.core import Core, Image, RouteTable
from loihi_emu.image.file import load
from loihi_emu.image.inputs import InputProgram
from loihi_emu.image.popmap import PopulationMap
from loihi_emu.image.store import FORMAT as STORE_FORMAT
from loihi_emu.image.store import IMAGE_SECTIONS, ImageStore, format_of
from loihi_emu.runtime.partition_ranks import assign_chips, image_sizes


@dataclass
class OwnChips:
    """What rank ``rank`` reads of the whole image (nothing of other chips' tables)."""

    rank: int
    n_ranks: int
    owner: dict[int, int]
    cores: list[Core]
    inputs: RouteTable
    n: int
    spec: object
    input_program: InputProgram | None
    populations: PopulationMap | None


def own_chips(image_or_path: Image | str | os.PathLike, rank: int, n_ranks: int) -> OwnChips:
    """Assign chips to ranks and read this rank's cores; a ``loihi-image/3`` file is read chip by chip."""
    if isinstance(image_or_path, Image):
        img = image_or_path
    elif format_of(image_or_path) == STORE_FORMAT:
        st = ImageStore(image_or_path)
        owner = assign_chips(st.sizes, n_ranks)
        cores = [c for chip in st.chips if owner[chip] == rank for c in st.chip_cores(chip)]
        pos = {a: i for i, a in enumerate(st.addresses)}
        cores.sort(key=lambda c: pos[c.address])
        parts = {name: cls.from_arrays(*st.section(name)) for name, cls in IMAGE_SECTIONS.items()
                 if name in st.header["sections"]}
        n = sum(int(s["compartments"]) for s in st.sizes.values())
        return OwnChips(rank, n_ranks, owner, cores, st.inputs(), n, st.spec, parts.get("input_program"),
                        parts.get("population_map"))
    else:
        img = load(image_or_path)  # older formats hold no per-chip layout
    owner = assign_chips(image_sizes(img), n_ranks)
    cores = [c for c in img.cores if owner[c.chip] == rank]
    return OwnChips(rank, n_ranks, owner, cores, img.inputs, img.n_compartments, img.spec, img.input_program,
                    img.populations)


def _rank_of(owner: dict[int, int], chips: np.ndarray, label: str) -> np.ndarray:
    keys = np.array(sorted(owner), np.int64)
    ranks = np.array([owner[k] for k in keys], np.int64)
    at = np.minimum(np.searchsorted(keys, chips), keys.size - 1)
    bad = keys[at] != chips
    if bad.any():
        raise ImageError(f"{label} routes to chip {int(chips[np.flatnonzero(bad)[0]])}, which is not in the image")
    return ranks[at]


def _filter_routes(rt: RouteTable, keep: np.ndarray, where: str, spec) -> RouteTable:
    rows = np.repeat(np.arange(rt.n_sources), np.diff(rt.ptr))[keep]
    ptr = np.zeros(rt.n_sources + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=rt.n_sources), out=ptr[1:])
    return RouteTable(ptr, rt.dest_chip[keep], rt.dest_core[keep], rt.dest_axon[keep], where=where, spec=spec)


@dataclass
class RemoteRoutes:
    """The routes of one rank's compartments that leave the rank, before the start-up exchange."""

    per_peer: list[np.ndarray]  # int64 [k, 4] (global source compartment, chip, core, axon) per destination rank
    peer_ptr: np.ndarray  # int64 [n_local + 1]
    peer_rank: np.ndarray  # int64: ranks each local compartment sends to


def remote_routes(own: OwnChips, local_g: np.ndarray) -> RemoteRoutes:
    """Split this rank's routes into local and remote; the remote ones grouped by destination rank."""
    parts = []
    for c in own.cores:
        rt = c.routes
        if rt.n == 0:
            continue
        dest = _rank_of(own.owner, rt.dest_chip.astype(np.int64), c.label + "RouteTable")
        remote = dest != own.rank
        if remote.any():
            g = np.repeat(c.compartments.global_index, np.diff(rt.ptr))[remote]
            parts.append(np.stack([g, rt.dest_chip[remote], rt.dest_core[remote], rt.dest_axon[remote], dest[remote]],
                                  axis=1).astype(np.int64))
    allr = np.concatenate(parts) if parts else np.zeros((0, 5), np.int64)
    allr = allr[np.lexsort((allr[:, 0], allr[:, 4]))]  # by destination rank, then source
    bounds = np.searchsorted(allr[:, 4], np.arange(own.n_ranks + 1))
    per_peer = [allr[bounds[r]: bounds[r + 1], :4] for r in range(own.n_ranks)]
    pairs = np.unique(np.stack([np.searchsorted(local_g, allr[:, 0]), allr[:, 4]], axis=1), axis=0) \
        if allr.size else np.zeros((0, 2), np.int64)
    peer_ptr = np.zeros(local_g.size + 1, np.int64)
    np.cumsum(np.bincount(pairs[:, 0], minlength=local_g.size), out=peer_ptr[1:])
    return RemoteRoutes(per_peer, peer_ptr, pairs[:, 1].astype(np.int64))


@dataclass
class RankImage:
    """One rank's sub-image and the maps between its numbering and the global one (module doc)."""

    image: Image
    n_in: int
    n: int
    local_g: np.ndarray
    remote_g: np.ndarray
    peer_ptr: np.ndarray
    peer_rank: np.ndarray


def sub_image(own: OwnChips, local_g: np.ndarray, rr: RemoteRoutes, incoming: list[np.ndarray]) -> RankImage:
    """Build the sub-image from this rank's cores and the routes other ranks sent into them (``incoming``)."""
    spec, n_in = own.spec, own.inputs.n_sources
    cores = []
    for c in own.cores:
        t = c.compartments
        comp = replace(t, global_index=np.searchsorted(local_g, t.global_index).astype(np.int64))
        rt = c.routes
        keep = _rank_of(own.owner, rt.dest_chip.astype(np.int64), c.label) == own.rank if rt.n else np.zeros(0, bool)
        cores.append(Core(c.chip, c.index, comp, c.formats, c.synapses,
                          _filter_routes(rt, keep, c.label, spec) if rt.n else rt, c.learning))
    inp = own.inputs
    keep = _rank_of(own.owner, inp.dest_chip.astype(np.int64), "inputs") == own.rank if inp.n else np.zeros(0, bool)
    ext = _filter_routes(inp, keep, "inputs: ", spec) if inp.n else inp
    got = np.concatenate(incoming) if incoming else np.zeros((0, 4), np.int64)
    got = got[np.argsort(got[:, 0], kind="stable")]
    remote_g, counts = np.unique(got[:, 0], return_counts=True)
    ptr = np.concatenate([ext.ptr, ext.ptr[-1] + np.cumsum(counts)]).astype(np.int64)
    inputs = RouteTable(ptr, np.concatenate([ext.dest_chip, got[:, 1]]).astype(np.int32),
                        np.concatenate([ext.dest_core, got[:, 2]]).astype(np.int32),
                        np.concatenate([ext.dest_axon, got[:, 3]]).astype(np.int32), where="inputs: ", spec=spec)
    image = Image(tuple(cores), inputs, spec)
    return RankImage(image, n_in, own.n, local_g, remote_g.astype(np.int64), rr.peer_ptr, rr.peer_rank)


def local_globals(own: OwnChips) -> np.ndarray:
    """int64: the global indices of this rank's compartments, ascending."""
    parts = [c.compartments.global_index for c in own.cores]
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)


def axon_replies(incoming: list[np.ndarray], remote_g: np.ndarray) -> list[np.ndarray]:
    """For each origin rank: int64 [k, 2] (global source, its position in ``remote_g``) of the sources it sends us."""
    out = []
    for got in incoming:
        g = np.unique(got[:, 0]) if got.size else np.zeros(0, np.int64)
        out.append(np.stack([g, np.searchsorted(remote_g, g)], axis=1).astype(np.int64))
    return out


def peer_values(part: RankImage, replies: list[np.ndarray]) -> np.ndarray:
    """int64, aligned with ``part.peer_rank``: the remote-source position of each (compartment, peer) pair
    at that peer, what a spike of the compartment is sent as (the peer adds ``n_in``)."""
    c = np.repeat(np.arange(part.local_g.size), np.diff(part.peer_ptr))
    g = part.local_g[c]
    val = np.full(part.peer_rank.size, -1, np.int64)
    for q, rep in enumerate(replies):
        sel = np.flatnonzero(part.peer_rank == q)
        if sel.size:
            at = np.searchsorted(rep[:, 0], g[sel])
            if (at >= rep.shape[0]).any() or (rep[np.minimum(at, rep.shape[0] - 1), 0] != g[sel]).any():
                raise ImageError(f"rank {q} does not list every compartment whose routes reach it")
            val[sel] = rep[at, 1]
    return val
