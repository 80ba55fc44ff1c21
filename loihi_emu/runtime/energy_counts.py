"""What a Loihi cost model needs, counted per step and per core from a run.

The counts come from two places and never from the kernels:

* the image's static structure: placement (chip, core) of every
  compartment, the routes of every source (one spike message per route), the
  synapses of the input-axon row each route reaches (synaptic reads at the
  destination), biases, delays, plastic synapses and their learning epochs;
* the activity the emulator records with :func:`energy_probes`: the spikes
  of every compartment in every step and ``v`` at the end of every step, plus
  the external input spikes the run was given.

Counted, each an int64 array ``[steps, rows]``; a row is one image core (in
image order) and the last row is the external inputs (spikes the host injects
at the tile of ``input_core``; they have no compartments):

``compartments``   mapped compartments (every one is accessed each step)
``active``         compartments with non-zero v before the leak (v at the end
                   of the previous step), any synaptic input this step (a
                   synapse whose spike lands in this step, whatever its weight),
                   a non-zero bias or noise (docs/noise.md), or a spike this step
``spikes``         compartments that fired (the inputs row: input spikes)
``messages``       spike messages sent: one per route of a firing source, i.e.
                   one per firing compartment and destination core for images
                   ``build_image`` or the compiler make
``messages_in``    spike messages received (counted at the destination core)
``synaptic_events`` synapses read at the destination (static and plastic)
``ew_hops``, ``ns_hops``, ``chip_hops``  XY hops of the messages sent
                   (:mod:`loihi_emu.runtime.mesh`), counted at the sender
``learning_updates`` plastic synapses the learning engine evaluates: at the
                   last step of each learning epoch, every plastic synapse
                   whose source arrived or whose target fired in the epoch,
                   and every synapse of a profile whose uK product is due

``tiles_in_use`` is the number of tiles holding an image core: what the
end-of-step barrier waits for.

Known limit: synaptic input is found with the image's delays; a ``dd`` rule
that changes plastic delays during the run is not followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import InputError, ProbeError
from loihi_emu.image.core import Image
from loihi_emu.learning.flat import P_DEP, P_DEPK, VAR_U, flatten_learning
from loihi_emu.runtime.energy_kernels import KERNELS, ROUTE_OUT
from loihi_emu.runtime.mesh import LOIHI1_MESH, MeshLayout
from loihi_emu.runtime.probes import Probe

COUNT_NAMES = ("compartments", "active", "spikes", "messages", "messages_in", "synaptic_events",
               "ew_hops", "ns_hops", "chip_hops", "learning_updates")
INPUTS_LABEL = "inputs"


def energy_probes(probes=()) -> list:
    """``probes`` plus what :func:`count_events` reads: 'spikes' and 'v' of every compartment, every step.

    A probe already recording all of a quantity every step is reused; a
    partial one is kept and a full one named ``energy_spikes`` / ``energy_v``
    is added.
    """
    out = [p if isinstance(p, Probe) else Probe(p) for p in probes]
    for q in ("spikes", "v"):
        if any(p.quantity == q and p.compartments is None and p.every == 1 for p in out):
            continue
        keys = {p.key for p in out}
        out.append(Probe(q) if q not in keys else Probe(q, name=f"energy_{q}"))
    return out


def full_probe(data: Mapping, quantity: str, n: int) -> np.ndarray:
    """The recorded array of ``quantity`` for all ``n`` compartments, every step (see :func:`energy_probes`)."""
    for key in (f"energy_{quantity}", quantity):
        if key in data:
            arr = np.asarray(data[key])
            if arr.ndim == 2 and arr.shape[1] == n:
                return arr
    raise ProbeError(f"energy counts need a '{quantity}' probe of all {n} compartments every step; "
                     "run the Emulator with probes=energy_probes(...)")


def input_spikes(inputs, steps: int, n_in: int) -> np.ndarray:
    """External inputs as bool ``[steps, n_in]``: from a dense array or (step, axon) pairs, as ``Emulator.run`` takes them."""
    out = np.zeros((steps, n_in), bool)
    if inputs is None:
        return out
    arr = np.asarray(inputs)
    dense = arr.ndim == 2 and (arr.dtype.kind == "b" or arr.dtype == np.uint8 or (arr.shape[1] != 2 and arr.size))
    if dense:
        if arr.shape != (steps, n_in) or arr.dtype.kind not in "biu":
            raise InputError(f"input spike array has shape {arr.shape} and dtype {arr.dtype}, "
                             f"expected 0/1 [steps={steps}, n_axons={n_in}]")
        return arr != 0
    if arr.size == 0:
        return out
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise InputError(f"inputs must be [steps={steps}, n_axons={n_in}] or integer (step, axon) pairs [k, 2]; "
                         f"got shape {arr.shape}")
    s, a = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
    bad = (s < 0) | (s >= steps) | (a < 0) | (a >= n_in)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"input pair {i} = (step {s[i]}, axon {a[i]}) is outside {steps} steps x {n_in} axons")
    out[s, a] = True
    return out


@dataclass(frozen=True, eq=False)
class Structure:
    """The static part of the counts, built once per image (all int64 unless noted).

    labels: row names; addresses: [R, 2] (chip, core) of each row (the inputs
    row: ``input_core``). comp_row, bias_on (bool): [n] per compartment.
    r_src, r_from, r_to, r_syn, r_ew, r_ns, r_chip: per route, source
    (input i, compartment n_in + g), sending row, receiving row, synapses in
    the receiving axon row, hops. r_ptr: [n_src + 1] routes of each source
    (sorted by source). s_ptr, s_tgt, s_delay: synapses by source (CSR):
    global target and delay. Plastic: p_pre (n_src = never), p_post, p_row,
    p_epoch, p_uk (int64 [P, k]: the K of each due-able uK product of its
    profile, -1 padding).
    """

    n: int
    n_in: int
    labels: tuple[str, ...]
    addresses: np.ndarray
    comp_row: np.ndarray
    compartments: np.ndarray
    bias_on: np.ndarray
    r_ptr: np.ndarray
    r_from: np.ndarray
    r_to: np.ndarray
    r_syn: np.ndarray
    r_ew: np.ndarray
    r_ns: np.ndarray
    r_chip: np.ndarray
    s_ptr: np.ndarray
    s_tgt: np.ndarray
    s_delay: np.ndarray
    p_pre: np.ndarray
    p_post: np.ndarray
    p_row: np.ndarray
    p_epoch: np.ndarray
    p_uk: np.ndarray
    tiles_in_use: int

    @property
    def rows(self) -> int:
        return len(self.labels)


def structure(image: Image, mesh: MeshLayout = LOIHI1_MESH, input_core: tuple[int, int] = (0, 0)) -> Structure:
    """Build the static counts of ``image`` (see :class:`Structure`)."""
    cores, n_in, n = image.cores, image.n_inputs, image.n_compartments
    n_src, R = n_in + n, len(image.cores) + 1
    addr = np.array([c.address for c in cores] + [tuple(input_core)], np.int64).reshape(R, 2)
    comp_row = np.zeros(n, np.int64)
    bias_on = np.zeros(n, bool)
    row_off = np.zeros(len(cores) + 1, np.int64)
    for k, c in enumerate(cores):
        g = c.compartments.global_index
        comp_row[g] = k
        bias_on[g] = (c.compartments.bias_mant != 0) | c.compartments.noisy  # noise: an input every step
        row_off[k + 1] = row_off[k] + c.synapses.n_axons
    # per global axon row: its core, its synapse count, and its synapses (global target, delay)
    ax_core = np.repeat(np.arange(len(cores), dtype=np.int64), np.diff(row_off))
    ax_syn = np.concatenate([np.diff(c.synapses.axon_ptr) for c in cores]) if cores else np.zeros(0, np.int64)
    ax_ptr = np.concatenate([[0], np.cumsum(ax_syn)]).astype(np.int64)
    syn_tgt = np.concatenate([c.compartments.global_index[c.synapses.target.astype(np.intp)] for c in cores]
                             ) if cores else np.zeros(0, np.int64)
    syn_delay = np.concatenate([c.synapses.delay.astype(np.int64) for c in cores]) if cores else np.zeros(0, np.int64)

    r_src, r_row = image.route_pairs(row_off)  # sorted by source
    r_to = ax_core[r_row]
    r_from = np.where(r_src < n_in, R - 1, comp_row[np.maximum(r_src - n_in, 0)] if n else 0)
    ew, ns, ch = mesh.hops(addr[r_from, 0], addr[r_from, 1], addr[r_to, 0], addr[r_to, 1])
    r_ptr = np.searchsorted(r_src, np.arange(n_src + 1)).astype(np.int64)

    # synapses by source: every route expanded into its axon row
    counts = ax_syn[r_row]
    first = np.repeat(ax_ptr[r_row] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    syn = first + np.arange(int(counts.sum()), dtype=np.int64)
    s_ptr = np.concatenate([[0], np.cumsum(np.bincount(np.repeat(r_src, counts), minlength=n_src))]).astype(np.int64)

    flat = flatten_learning(image)
    if flat is None:
        z = np.zeros(0, np.int64)
        p_pre = p_post = p_row = p_epoch = z
        p_uk = np.zeros((0, 1), np.int64)
    else:
        p_pre, p_post = flat.pl_pre.astype(np.int64), flat.pl_post.astype(np.int64)
        p_row, p_epoch = flat.core_pos.astype(np.int64), flat.prof_epoch[flat.pl_prof].astype(np.int64)
        uks = []
        for g in range(flat.prof_epoch.size):
            prods = flat.prods[flat.prof_prod[g, 0] : flat.prof_prod[g, 3]]
            uks.append(sorted({int(k) for d, k in prods[:, [P_DEP, P_DEPK]] if d == VAR_U}))
        width = max([len(u) for u in uks] + [1])
        table = np.full((len(uks), width), -1, np.int64)
        for g, u in enumerate(uks):
            table[g, : len(u)] = u
        p_uk = table[flat.pl_prof]
    tiles = {int(mesh.tile_id(c.chip, c.index)) for c in cores if c.compartments.n}
    labels = tuple(f"chip {c.chip} core {c.index}" for c in cores) + (INPUTS_LABEL,)
    comp = np.array([c.compartments.n for c in cores] + [0], np.int64)
    return Structure(
        n=n, n_in=n_in, labels=labels, addresses=addr, comp_row=comp_row, compartments=comp, bias_on=bias_on,
        r_ptr=r_ptr, r_from=r_from.astype(np.int64), r_to=r_to, r_syn=counts.astype(np.int64), r_ew=ew, r_ns=ns,
        r_chip=ch, s_ptr=s_ptr, s_tgt=syn_tgt[syn], s_delay=syn_delay[syn], p_pre=p_pre, p_post=p_post,
        p_row=p_row, p_epoch=p_epoch, p_uk=p_uk, tiles_in_use=len(tiles),
    )


@dataclass(frozen=True, eq=False)
class EventCounts:
    """Counts per step and row (int64 ``[steps, rows]`` each, names in :data:`COUNT_NAMES`).

    labels: row names (``"chip 0 core 3"``, ..., ``"inputs"``); addresses:
    int64 [rows, 2]; tiles_in_use: tiles holding image cores.
    """

    labels: tuple[str, ...]
    addresses: np.ndarray
    tiles_in_use: int
    compartments: np.ndarray
    active: np.ndarray
    spikes: np.ndarray
    messages: np.ndarray
    messages_in: np.ndarray
    synaptic_events: np.ndarray
    ew_hops: np.ndarray
    ns_hops: np.ndarray
    chip_hops: np.ndarray
    learning_updates: np.ndarray

    @property
    def steps(self) -> int:
        return self.compartments.shape[0]

    def totals(self) -> dict[str, np.ndarray]:
        """Each count summed over the steps: int64 [rows]."""
        return {k: getattr(self, k).sum(axis=0) for k in COUNT_NAMES}


def count_events(st: Structure, spikes: np.ndarray, v: np.ndarray, inputs: np.ndarray,
                 backend: str = "numba") -> EventCounts:
    """Counts of a run from its spikes and v (``[steps, n]`` each) and input spikes (bool ``[steps, n_in]``).

    backend: 'numba' or 'numpy' (the twins of :mod:`loihi_emu.runtime.energy_kernels`; same counts).
    """
    steps, R, n, n_in = spikes.shape[0], st.rows, st.n, st.n_in
    if spikes.shape != (steps, n) or v.shape != (steps, n):
        raise ProbeError(f"spikes {spikes.shape} and v {v.shape} must both be [steps, {n}]")
    if inputs.shape != (steps, n_in):
        raise InputError(f"input spikes have shape {inputs.shape}, expected [{steps}, {n_in}]")
    if backend not in KERNELS:
        raise ProbeError(f"unknown backend {backend!r}; choose from {sorted(KERNELS)}")
    fired = spikes.astype(bool)
    # every spike of the run as (step, source): inputs are sources 0..n_in-1, compartment g is n_in + g
    ti, ai = np.nonzero(inputs)
    tc, gc = np.nonzero(fired)
    ev_t = np.concatenate([ti, tc]).astype(np.int64)
    ev_s = np.concatenate([ai, n_in + gc]).astype(np.int64)
    route_events, mark_received = KERNELS[backend]
    routed = np.zeros((len(ROUTE_OUT), steps, R), np.int64)
    route_events(ev_t, ev_s, st.r_ptr, st.r_from, st.r_to, st.r_syn, st.r_ew, st.r_ns, st.r_chip, routed)
    received = np.zeros((steps, n), np.bool_)
    mark_received(ev_t, ev_s, st.s_ptr, st.s_tgt, st.s_delay, received)
    out = dict(zip(ROUTE_OUT, routed))
    v_before = np.zeros((steps, n), bool)
    v_before[1:] = v[:-1] != 0
    active = v_before | received | st.bias_on[None, :] | fired
    spk, act = _by_row(fired, st.comp_row, R), _by_row(active, st.comp_row, R)
    spk[:, R - 1] = inputs.sum(axis=1)
    return EventCounts(
        labels=st.labels, addresses=st.addresses, tiles_in_use=st.tiles_in_use,
        compartments=np.broadcast_to(st.compartments, (steps, R)).copy(), active=act,
        spikes=spk, learning_updates=_learning(st, fired, inputs), **out,
    )


def _by_row(flags: np.ndarray, comp_row: np.ndarray, rows: int) -> np.ndarray:
    """int64 [steps, rows]: per step, the flagged compartments of each row."""
    out = np.zeros((flags.shape[0], rows), np.int64)
    order = np.argsort(comp_row, kind="stable")
    bounds = np.searchsorted(comp_row[order], np.arange(rows + 1))
    for r in range(rows):
        if bounds[r + 1] > bounds[r]:
            out[:, r] = flags[:, order[bounds[r] : bounds[r + 1]]].sum(axis=1)
    return out


def _learning(st: Structure, fired: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """learning_updates [steps, rows] (see the module doc)."""
    steps, R = fired.shape[0], st.rows
    out = np.zeros((steps, R), np.int64)
    if st.p_pre.size == 0 or steps == 0:
        return out
    for epoch in np.unique(st.p_epoch):
        sel = np.flatnonzero(st.p_epoch == epoch)
        pre, post, T = st.p_pre[sel], st.p_post[sel], int(epoch)
        from_in, from_cx = np.flatnonzero(pre < st.n_in), np.flatnonzero((pre >= st.n_in) & (pre < st.n_in + st.n))
        for t in range(T - 1, steps, T):
            # arrivals in the epoch's steps t-T+1..t are the spikes of steps t-T..t-1 (none for an unreached row)
            a, b = max(t - T, 0), t
            arrived = np.zeros(sel.size, bool)
            arrived[from_in] = inputs[a:b, pre[from_in]].any(axis=0)
            arrived[from_cx] = fired[a:b, pre[from_cx] - st.n_in].any(axis=0)
            hit = arrived | fired[a:b, post].any(axis=0)
            uk = st.p_uk[sel]
            first = t - T + 1
            for k in np.unique(uk[uk >= 0]):
                period = 1 << int(k)
                if t // period - (first - 1) // period > 0:  # a multiple of 2^K in first..t
                    hit |= (uk == k).any(axis=1)
            out[t] += np.bincount(st.p_row[sel][hit], minlength=R)
    return out


def counts_from_run(image: Image, data: Mapping, inputs=None, mesh: MeshLayout = LOIHI1_MESH,
                    input_core: tuple[int, int] = (0, 0), backend: str = "numba") -> EventCounts:
    """:func:`count_events` of a run: ``data`` is ``Emulator.data`` recorded with :func:`energy_probes`."""
    n = image.n_compartments
    spikes, v = full_probe(data, "spikes", n), full_probe(data, "v", n)
    if spikes.shape[0] != v.shape[0]:
        raise ProbeError(f"spikes cover {spikes.shape[0]} steps but v {v.shape[0]}; probe both every step")
    ins = input_spikes(inputs, spikes.shape[0], image.n_inputs)
    return count_events(structure(image, mesh, input_core), spikes, v, ins, backend)
