"""Partitioning: split populations into core-sized pieces, then pack pieces onto cores.

A *piece* is a contiguous range of one population's compartments that will
share a core with nothing but other whole pieces. Pieces are planned with the
counting rules of :mod:`loihi_emu.image.limits`, as upper bounds that only shrink
when pieces share a core, so the image always passes
:func:`loihi_emu.image.limits.validate`:

* input axons: the distinct sources (input axons or compartments) of the
  synapses into the piece;
* synapse memory: per synapse ``weight bits + 6 delay bits (when a format of
  that key has delays anywhere) + the widest target index a core can need``,
  plus per block (a row is cut into blocks of 64 synapses; blocks <= rows +
  synapses // 64) a header and at most one word of rounding;
* output axons: per compartment, the distinct pieces its synapses reach;
* profiles: distinct (decay_u, decay_v, refract), vth_mant, (vmin, vmax) of
  the piece's compartments; synapse formats of the projections into it;
  learning profiles and distinct trace settings of the plastic synapses into
  it (exact: the image's core holds the profiles of the plastic synapses that
  target it, and counts trace settings as distinct profile trace rows).

A plastic synapse whose profile has a ``dd`` rule costs delay bits, one with
a ``dt`` rule tag bits, as in :func:`loihi_emu.image.limits.synapse_memory_bits`.

Splitting is greedy along each population (the largest prefix that fits),
vectorised over synapses within a window of compartments; packing is
along the order a placement strategy chose, each piece on the first of the
last few cores it fits on (:func:`pack`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from compiler.errors import CapacityError
from compiler.passes.quantize import QuantizedNetwork
from loihi_emu.hw import LOIHI1, HardwareSpec
from loihi_emu.image.limits import core_limits

CHUNK = 1 << 20
"""Synapses handled at once by the passes that need per-synapse temporaries (memory, not results)."""

RESOURCES = tuple(core_limits(LOIHI1))
SETS = ("learning_profiles", "trace_profiles", "noise_settings")
"""Profile resources whose key -1 takes no entry (static synapses, compartments without noise)."""


@dataclass
class Piece:
    """Compartments ``start..stop-1`` of population ``population`` (global ``first + i``) and their bounds."""

    population: str
    pop_index: int
    start: int
    stop: int
    first: int
    input_axons: int = 0
    synapses: int = 0
    synapse_memory_bits: int = 0
    output_axons: int = 0
    profiles: dict[str, frozenset] = field(default_factory=dict)
    cut_by: str | None = None  # the resource that ended this piece before its population did (None: it did not)
    members: tuple[tuple[str, int], ...] = ()  # a dendritic tree's piece: (population, size) of each member

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(eq=False)
class SynapseIndex:
    """All synapses, globally numbered, sorted by target compartment.

    src: [M] source (external input axon ``a``, or ``n_in + g`` for
    compartment g); post: [M] target compartment (non-decreasing); both
    int32 when the numbering fits (it always does below 2^31 sources), else int64;
    bits: int16 [M] planning cost in bits; ptr: int64 [n + 1] CSR by target.
    order: [M] position of each sorted synapse in projection order.
    prof, tprof: int16 [M] learning profile (index into
    :meth:`QuantizedNetwork.learning_profiles`) and trace-settings id of each
    synapse, -1 for a static one; None when no synapse is plastic.
    """

    n_in: int
    src: np.ndarray
    post: np.ndarray
    bits: np.ndarray
    ptr: np.ndarray
    order: np.ndarray
    prof: np.ndarray | None = None
    tprof: np.ndarray | None = None

    def release_planning(self) -> None:
        """Drop the planning arrays (bits, order, prof, tprof) once lowering no longer needs them."""
        self.bits = self.order = self.prof = self.tprof = None


def index_bits_bound(spec: HardwareSpec) -> int:
    """Widest target-index field a row may need on a core (limits.py: ceil(log2(max target + 1)), clipped)."""
    need = int(np.ceil(np.log2(spec.compartments_per_core)))
    return int(np.clip(need, spec.target_index_bits_min, spec.target_index_bits_max))


def synapse_index(net, q: QuantizedNetwork, spec: HardwareSpec) -> SynapseIndex:
    """Gather every projection's synapses into a :class:`SynapseIndex`."""
    comp = net.compartment_ranges()
    axons = net.input_axons()
    n_in, n = net.n_inputs, net.n_compartments
    delayed = frozenset().union(*[pw.format_keys() for pw, pr in zip(q.projections, net.projections) if pr.has_delays])
    profiles, prof_of = q.learning_profiles()
    trace_ids: dict[tuple, int] = {}
    tprof_of = [-1 if i < 0 else trace_ids.setdefault(profiles[i].traces, len(trace_ids)) for i in prof_of]
    idx_bits = index_bits_bound(spec)
    m = net.n_synapses
    index_dtype = np.int32 if n_in + n < 2**31 else np.int64  # memory: 4 bytes per synapse, not 8
    src = np.empty(m, index_dtype)
    post = np.empty(m, index_dtype)
    bits = np.empty(m, np.int16)
    plastic = bool(profiles)
    prof = np.empty(m, np.int16) if plastic else None
    tprof = np.empty(m, np.int16) if plastic else None
    pos = 0
    for pw, pr, pi, ti in zip(q.projections, net.projections, prof_of, tprof_of):
        k = pr.n
        base = axons[pr.pre][0] if pr.pre in axons else n_in + comp[pr.pre][0]
        np.add(pr.pre_index, base, out=src[pos : pos + k], casting="unsafe")  # fits: checked by index_dtype
        np.add(pr.post_index, comp[pr.post][0], out=post[pos : pos + k], casting="unsafe")
        targets = {r.target for r in pr.program.rules} if pr.plastic else set()
        has_delay = bool(pw.format_keys() & delayed) or "dd" in targets
        bits[pos : pos + k] = (pw.weight_bits + (spec.delay_bits if has_delay else 0)
                               + (spec.tag_bits if "dt" in targets else 0) + idx_bits)
        if plastic:
            prof[pos : pos + k] = pi
            tprof[pos : pos + k] = ti
        pos += k
    order = np.argsort(post, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(post, minlength=n), out=ptr[1:])
    # permute in place of the unsorted arrays, one at a time (memory: one copy alive, not three)
    src = src[order]
    post = post[order]
    bits = bits[order]
    return SynapseIndex(n_in, src, post, bits, ptr, order,
                        None if prof is None else prof[order], None if tprof is None else tprof[order])


def prefix_distinct_set(keys: np.ndarray) -> np.ndarray:
    """``out[j]`` = number of distinct values other than -1 among ``keys[:j + 1]``."""
    if keys.size == 0:
        return np.zeros(0, np.int64)
    return prefix_distinct(keys) - (np.cumsum(keys == -1) > 0)


def prefix_distinct(keys: np.ndarray) -> np.ndarray:
    """``out[j]`` = number of distinct values among ``keys[:j + 1]``."""
    if keys.size == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(keys, kind="stable")
    s = keys[order]
    mark = np.zeros(keys.size, np.int64)
    first = np.ones(keys.size, bool)
    first[1:] = s[1:] != s[:-1]
    mark[order[first]] = 1  # stable sort: the first of each run is the earliest occurrence
    return np.cumsum(mark)


def noise_keys(net) -> np.ndarray:
    """Per global compartment, an int64 id of its population's noise setting, -1 without noise."""
    ids: dict[tuple, int] = {}
    parts = [np.full(p.size, -1 if not p.noisy else
                     ids.setdefault((p.noise_target, p.noise_exp, p.noise_offset), len(ids)), np.int64)
             for p in net.populations]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def compartment_keys(q: QuantizedNetwork, spec: HardwareSpec) -> dict[str, np.ndarray]:
    """Per global compartment, an int64 key for each profile table it occupies."""
    cat = {f: np.concatenate([getattr(p, f) for p in q.populations]) for f in
           ("decay_u_reg", "decay_v", "refract", "vth_mant", "vmin", "vmax")}
    rb = int(spec.refract_max).bit_length()
    vspan = np.int64(1) << (spec.v_bits + 1)
    return {
        "compartment_profiles": (cat["decay_u_reg"] << (spec.decay_bits + rb)) | (cat["decay_v"] << rb) | cat["refract"],
        "threshold_profiles": cat["vth_mant"],
        "vminmax_profiles": (cat["vmax"] - spec.v_min_limit) * vspan + (cat["vmin"] - spec.v_min_limit),
    }


class Splitter:
    """Greedy splitting of populations into pieces (see the module docstring)."""

    def __init__(self, net, q: QuantizedNetwork, syn: SynapseIndex, spec: HardwareSpec) -> None:
        self.net, self.q, self.syn, self.spec = net, q, syn, spec
        self.limits = core_limits(spec)
        self.keys = compartment_keys(q, spec)
        self.keys["noise_settings"] = noise_keys(net)
        self.block_cost = spec.synapse_header_bits + spec.synapse_word_bits - 1
        self.formats: dict[str, frozenset] = {}
        for pw in q.projections:
            self.formats[pw.post] = self.formats.get(pw.post, frozenset()) | pw.format_keys()

    def _curves(self, g0: int, g1: int) -> dict[str, np.ndarray]:
        """Resource use of compartments g0..b-1 for every b in g0+1..g1 (global indices)."""
        syn = self.syn
        s0, s1 = syn.ptr[g0], syn.ptr[g1]
        k = syn.ptr[g0 + 1 : g1 + 1] - s0
        rows_cum = prefix_distinct(syn.src[s0:s1])
        rows = np.where(k > 0, rows_cum[np.maximum(k - 1, 0)] if rows_cum.size else 0, 0)
        bits_cum = np.concatenate([[0], np.cumsum(syn.bits[s0:s1], dtype=np.int64)])
        out = {
            "compartments": np.arange(1, g1 - g0 + 1),
            "input_axons": rows,
            "synapse_memory_bits": bits_cum[k] + (rows + k // self.spec.synapses_per_block) * self.block_cost,
            "synapses": k,
        }
        for name, key in self.keys.items():
            out[name] = (prefix_distinct_set if name in SETS else prefix_distinct)(key[g0:g1])
        if syn.prof is not None:
            for name, key in (("learning_profiles", syn.prof), ("trace_profiles", syn.tprof)):
                cum = prefix_distinct_set(key[s0:s1])
                out[name] = np.where(k > 0, cum[np.maximum(k - 1, 0)] if cum.size else 0, 0)
        return out

    def _piece(self, pop_index: int, name: str, first: int, a: int, b: int, curves=None) -> Piece:
        c = curves if curves is not None else self._curves(first + a, first + b)
        j = b - a - 1
        g0, g1 = first + a, first + b
        profiles = {n: frozenset(np.unique(key[g0:g1]).tolist()) - ({-1} if n in SETS else set())
                    for n, key in self.keys.items()}
        profiles["synapse_formats"] = self.formats.get(name, frozenset())
        if self.syn.prof is not None:
            s0, s1 = self.syn.ptr[g0], self.syn.ptr[g1]
            for res, key in (("learning_profiles", self.syn.prof), ("trace_profiles", self.syn.tprof)):
                profiles[res] = frozenset(np.unique(key[s0:s1]).tolist()) - {-1}
        return Piece(name, pop_index, a, b, first, int(c["input_axons"][j]), int(c["synapses"][j]),
                     int(c["synapse_memory_bits"][j]), 0, profiles)

    def split_population(self, pop_index: int) -> list[Piece]:
        pop = self.net.populations[pop_index]
        first = self.net.compartment_ranges()[pop.name][0]
        nf = len(self.formats.get(pop.name, ()))
        if nf > self.limits["synapse_formats"]:
            raise CapacityError("synapse_formats", pop.label, nf, self.limits["synapse_formats"],
                                "its incoming projections use that many (weight bits, exponent, sign) formats; "
                                "give some of them the same weight_exp / weight_bits")
        cap = self.spec.compartments_per_core
        pieces, a, guess = [], 0, 64
        while a < pop.size:
            top = min(pop.size, a + cap)
            w = min(top - a, max(2 * guess, 16))
            while True:
                c = self._curves(first + a, first + a + w)
                ok = np.ones(w, bool)
                for res in RESOURCES:
                    if res in c:
                        ok &= c[res] <= self.limits[res]
                count = w if ok.all() else int(np.argmin(ok))
                if count < w or a + w == top:
                    break
                w = min(2 * w, top - a)
            if count == 0:
                self._raise_single(pop, a, c)
            piece = self._piece(pop_index, pop.name, first, a, a + count, c)
            if count < w:
                piece.cut_by = next(r for r in RESOURCES if r in c and c[r][count] > self.limits[r])
            elif a + count < pop.size:
                piece.cut_by = "compartments"
            pieces.append(piece)
            guess, a = count, a + count
        return pieces

    def _raise_single(self, pop, i: int, c: dict[str, np.ndarray]) -> None:
        for res in RESOURCES:
            if res in c and c[res][0] > self.limits[res]:
                hint = ("a single compartment cannot be split; give its plastic projections the same rule, traces, "
                        "epoch and rounding" if res in ("learning_profiles", "trace_profiles") else
                        "a single compartment cannot be split; reduce its fan-in or weight bits")
                raise CapacityError(res, f"{pop.label} compartment {i}", int(c[res][0]), self.limits[res], hint)
        raise AssertionError("unreachable: no resource exceeded")  # pragma: no cover

    def output_axons(self, pieces: list[Piece]) -> np.ndarray:
        """Per global compartment: the distinct pieces its synapses reach (its output axons, at most)."""
        syn, n = self.syn, self.net.n_compartments
        piece_of = np.empty(n, np.int64)
        for k, p in enumerate(pieces):
            piece_of[p.first + p.start : p.first + p.stop] = k
        # memory: per target range of about CHUNK synapses (synapses are sorted by target, so a
        # piece's synapses are contiguous); a (piece, source) pair never spans two chunks
        out = np.zeros(n, np.int64)
        bounds = [p.first + p.start for p in pieces] + [n]
        cut = sorted(set(bounds))
        edges, acc = [cut[0]], 0
        for a, b in zip(cut[:-1], cut[1:]):
            acc += int(syn.ptr[b] - syn.ptr[a])
            if acc >= CHUNK:
                edges.append(b)
                acc = 0
        if edges[-1] != cut[-1]:
            edges.append(cut[-1])
        for g0, g1 in zip(edges[:-1], edges[1:]):
            s0, s1 = syn.ptr[g0], syn.ptr[g1]
            src, post = syn.src[s0:s1], syn.post[s0:s1]
            from_comp = src >= syn.n_in
            key = np.sort(piece_of[post[from_comp]] * n + (src[from_comp] - syn.n_in))
            first = np.ones(key.size, bool)
            first[1:] = key[1:] != key[:-1]
            out += np.bincount(key[first] % n, minlength=n)
        return out

    def split_outputs(self, pieces: list[Piece], rounds: int = 32, slack: float = 0.875) -> list[Piece]:
        """Cut pieces whose compartments need more output axons than a core has; repeat until none do.

        A piece that must be cut is cut at ``slack`` of the limit: cutting a
        piece raises the output axons of the compartments that reach it, and
        the room keeps the cut pieces from needing another cut for that.
        """
        lim = self.limits["output_axons"]
        target = max(1, int(lim * slack))
        out = np.zeros(0, np.int64)
        for _ in range(rounds):
            out = self.output_axons(pieces)
            new, changed = [], False
            for p in pieces:
                per = out[p.first + p.start : p.first + p.stop]
                total = int(per.sum())
                if total <= lim:
                    p.output_axons = total
                    new.append(p)
                    continue
                if per.max() > lim or p.members:
                    i = int(np.argmax(per))
                    raise CapacityError("output_axons", f"population {p.population!r} compartment {p.start + i}",
                                        int(per[i]), lim, "its synapses reach that many cores")
                changed = True
                cum, a = np.cumsum(per), 0
                while a < p.size:
                    base = cum[a - 1] if a else 0
                    b = max(a + 1, int(np.searchsorted(cum, base + target, side="right")))
                    piece = self._piece(p.pop_index, p.population, p.first, p.start + a, p.start + b)
                    piece.output_axons = int(cum[b - 1] - base)
                    piece.cut_by = "output_axons" if b < p.size else p.cut_by
                    new.append(piece)
                    a = b
            pieces = new
            if not changed:
                return pieces
        worst = max(pieces, key=lambda p: int(out[p.first + p.start : p.first + p.stop].sum()))
        raise CapacityError("output_axons", f"population {worst.population!r} compartments {worst.start}.."
                            f"{worst.stop - 1}", int(out[worst.first + worst.start : worst.first + worst.stop].sum()),
                            lim, f"splitting did not converge in {rounds} rounds")

    def split_tree(self, tree) -> Piece:
        """One piece holding every compartment of a dendritic tree's population (a neuron is never split)."""
        ranges = self.net.compartment_ranges()
        names = [m.population for m in tree.members]
        first, total = ranges[names[0]][0], sum(ranges[n][1] for n in names)
        c = self._curves(first, first + total)
        over = [r for r in RESOURCES if r in c and c[r][-1] > self.limits[r]]
        formats = frozenset().union(*[self.formats.get(n, frozenset()) for n in names])
        if len(formats) > self.limits["synapse_formats"]:
            over.append("synapse_formats")
        if over:
            value = len(formats) if over[0] == "synapse_formats" else int(c[over[0]][-1])
            raise CapacityError(over[0], f"population {tree.root!r} ({len(names)} compartments per neuron)", value,
                                self.limits[over[0]], "the neurons of a population with compartments= share one "
                                "core (a neuron is never split); make several smaller populations")
        piece = self._piece(self.net.populations.index(self.net.population(tree.root)), tree.root, first, 0, total, c)
        piece.profiles["synapse_formats"] = formats
        piece.members = tuple((n, ranges[n][1]) for n in names)
        return piece

    def split(self) -> list[Piece]:
        pieces: list[Piece] = []
        trees = getattr(self.net, "trees", {})
        for i, pop in enumerate(self.net.populations):
            if pop.name in trees:
                pieces.append(self.split_tree(trees[pop.name]))
            elif pop.name not in getattr(self.net, "dendrite_of", {}):
                pieces += self.split_population(i)
        return self.split_outputs(pieces)


def split_network(net, q: QuantizedNetwork, syn: SynapseIndex, spec: HardwareSpec) -> list[Piece]:
    """Pieces of every population, in population order (see :class:`Splitter`)."""
    return Splitter(net, q, syn, spec).split()


ADDITIVE = ("compartments", "input_axons", "output_axons", "synapse_memory_bits")


def pack(pieces: list[Piece], order, spec: HardwareSpec, binding: list[str] | None = None,
         window: int = 4) -> list[list[int]]:
    """Pack pieces, in ``order``, onto cores; returns piece indices per core.

    Each piece goes to the first of the last ``window`` cores it fits on
    (1: next-fit), else onto a new core, so pieces stay near their
    neighbours in the order and a piece that cannot share with the previous
    one (say, another vmin/vmax pair) still fills an earlier core.

    binding: if given, filled with one entry per core: the resource that
    closed it (the one the first piece it could not take would have
    overflowed; for a core holding one piece its population was cut at, the
    one that cut it), ``"none"`` for a core that never turned a piece away.
    """
    limits = core_limits(spec)
    bins: list[list[int]] = []
    tots: list[dict[str, int]] = []
    sets: list[dict[str, frozenset]] = []
    reasons: list[str | None] = []
    for i in order:
        p = pieces[int(i)]
        use = {"compartments": p.size, "input_axons": p.input_axons, "output_axons": p.output_axons,
               "synapse_memory_bits": p.synapse_memory_bits}
        for b in range(max(0, len(bins) - window), len(bins)):
            merged = {k: sets[b][k] | p.profiles[k] for k in p.profiles}
            over = [k for k in RESOURCES if (k in ADDITIVE and tots[b][k] + use[k] > limits[k])
                    or (k in merged and len(merged[k]) > limits[k])]
            if not over:
                bins[b].append(int(i))
                tots[b] = {k: tots[b][k] + use[k] for k in ADDITIVE}
                sets[b] = merged
                break
            if reasons[b] is None:
                reasons[b] = max(over, key=lambda k: (tots[b][k] if k in ADDITIVE else len(sets[b][k])) / limits[k])
        else:
            bins.append([int(i)])
            tots.append(use)
            sets.append(dict(p.profiles))
            reasons.append(None)
    if binding is not None:
        binding[:] = [pieces[m[0]].cut_by if len(m) == 1 and pieces[m[0]].cut_by else (r or "none")
                      for m, r in zip(bins, reasons)]
    return bins


def binding_summary(binding: list[str]) -> str:
    """``"52 cores; binding: input axons on 40, threshold profiles on 12"`` from per-core reasons."""
    counts: dict[str, int] = {}
    for r in binding:
        counts[r] = counts.get(r, 0) + 1
    parts = [f"{k.replace('_', ' ')} on {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
             if k != "none"]
    if counts.get("none"):
        parts.append(f"not full on {counts['none']}")
    return f"{len(binding)} core{'s' if len(binding) != 1 else ''}; binding: " + ", ".join(parts)
