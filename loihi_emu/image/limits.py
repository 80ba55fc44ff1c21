"""Per-core resource use of a board image, and the check against the spec's limits.

Synapse memory is counted as the public Loihi 1 toolchain counts it
(docs/semantics.md, "limits"): each input-axon row is stored in blocks of at most
``synapses_per_block`` synapses; a block costs a header plus, per synapse,
weight bits + delay bits + tag bits + target-index bits, rounded up to whole
64-bit words. A format's delay field is 6 bits wide when any of its synapses
on the core has a delay or its learning profile has a ``dd`` rule, else
absent; the tag field is present when the format's profile has a ``dt`` rule
or a synapse of the format has a nonzero tag;
every row is sparse (it names its targets) with the narrowest index field
(6..12 bits) that holds the row's largest local target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loihi_emu.errors import ResourceError
from loihi_emu.hw import HardwareSpec
from loihi_emu.image.core import TRACES, Core, Image


def core_limits(spec: HardwareSpec) -> dict[str, int]:
    """Resource name -> the spec's per-core limit for it (counts; bits for synapse memory).

    The one resource table: the compiler's partitioner packs against it and
    :func:`validate` checks images against it.
    """
    return {
        "compartments": spec.compartments_per_core,
        "input_axons": spec.input_axons_per_core,
        "output_axons": spec.output_axons_per_core,
        "synapse_memory_bits": spec.synapse_memory_bits,
        "compartment_profiles": spec.max_compartment_profiles,
        "threshold_profiles": spec.max_threshold_profiles,
        "synapse_formats": spec.max_synapse_formats,
        "vminmax_profiles": spec.max_vminmax_profiles,
        "learning_profiles": spec.max_learning_profiles,
        "trace_profiles": spec.max_trace_profiles,
        "noise_settings": spec.max_noise_settings,
    }


@dataclass(frozen=True)
class CoreUsage:
    """What one core uses of each limited resource (counts, or bits for memory)."""

    chip: int
    core: int
    compartments: int
    input_axons: int
    output_axons: int
    synapses: int
    synapse_memory_bits: int
    compartment_profiles: int
    threshold_profiles: int
    synapse_formats: int
    vminmax_profiles: int
    learning_profiles: int = 0
    trace_profiles: int = 0
    noise_settings: int = 0

    def limits(self, spec: HardwareSpec) -> dict[str, int]:
        """Resource name -> the spec's limit for it (:func:`core_limits`)."""
        return core_limits(spec)

    def utilisation(self, spec: HardwareSpec) -> dict[str, float]:
        """Resource name -> use / limit (0..1 on a valid core)."""
        return {k: getattr(self, k) / v for k, v in core_limits(spec).items()}

    def fullest(self, spec: HardwareSpec) -> str:
        """The resource this core uses the largest fraction of (first in table order on ties)."""
        u = self.utilisation(spec)
        return max(u, key=u.get)


PROFILE_RESOURCES = (
    "compartment_profiles", "threshold_profiles", "synapse_formats", "vminmax_profiles", "learning_profiles",
    "trace_profiles",
)


def noise_settings(core: Core) -> int:
    """Distinct (noise_mode, noise_exp, noise_offset) among the core's noisy compartments (docs/noise.md)."""
    c = core.compartments
    on = c.noisy
    return _distinct_rows(c.noise_mode[on], c.noise_exp[on], c.noise_offset[on]) if on.any() else 0


def _distinct_rows(*cols: np.ndarray) -> int:
    if cols[0].size == 0:
        return 0
    return int(np.unique(np.stack(cols, axis=1), axis=0).shape[0])


def synapse_memory_bits(core: Core, spec: HardwareSpec) -> int:
    """Synapse memory this core's rows occupy, in bits (whole words)."""
    syn, fmts = core.synapses, core.formats
    if syn.n == 0:
        return 0
    axon = syn.axon_of_synapse()
    has_delay = np.zeros(fmts.n, bool)
    has_delay[np.unique(syn.fmt[syn.delay > 0])] = True
    has_tag = np.zeros(fmts.n, bool)
    has_tag[np.unique(syn.fmt[syn.tag != 0])] = True
    for f in np.flatnonzero(fmts.plastic):
        prog = core.learning.program(int(fmts.learning_profile[f]))
        has_delay[f] |= prog.rule("dd") is not None
        has_tag[f] |= prog.rule("dt") is not None
    per_syn = (fmts.weight_bits.astype(np.int64)[syn.fmt] + np.where(has_delay[syn.fmt], spec.delay_bits, 0)
               + np.where(has_tag[syn.fmt], spec.tag_bits, 0))
    # index field per row: narrowest width holding the row's largest target
    row_max = np.zeros(syn.n_axons, np.int64)
    np.maximum.at(row_max, axon, syn.target.astype(np.int64))
    idx_bits = np.clip(np.ceil(np.log2(row_max + 1)).astype(np.int64), spec.target_index_bits_min, spec.target_index_bits_max)
    per_syn = per_syn + idx_bits[axon]
    # blocks of synapses_per_block within each row
    pos_in_row = np.arange(syn.n, dtype=np.int64) - syn.axon_ptr[axon]
    block = axon * (syn.n // spec.synapses_per_block + 1) + pos_in_row // spec.synapses_per_block
    _, block_id = np.unique(block, return_inverse=True)
    block_bits = np.bincount(block_id.ravel(), weights=per_syn).astype(np.int64) + spec.synapse_header_bits
    word = spec.synapse_word_bits
    return int((-(-block_bits // word) * word).sum())


def core_usage(core: Core, spec: HardwareSpec) -> CoreUsage:
    """Count what ``core`` uses of every limited resource."""
    c = core.compartments
    return CoreUsage(
        chip=core.chip,
        core=core.index,
        compartments=c.n,
        input_axons=core.synapses.n_axons,
        output_axons=core.routes.n,
        synapses=core.synapses.n,
        synapse_memory_bits=synapse_memory_bits(core, spec),
        compartment_profiles=_distinct_rows(c.decay_u_reg, c.decay_v, c.refract),
        threshold_profiles=_distinct_rows(c.vth_mant),
        synapse_formats=core.formats.n,
        vminmax_profiles=_distinct_rows(c.vmin, c.vmax),
        learning_profiles=core.learning.n,
        trace_profiles=_distinct_rows(*(getattr(core.learning, f"{tr}_{k}") for tr in TRACES for k in ("impulse", "tau"))),
        noise_settings=noise_settings(core),
    )


def usage(image: Image, spec: HardwareSpec | None = None) -> list[CoreUsage]:
    """Resource use of every core of ``image``, in image order."""
    spec = spec or image.spec
    return [core_usage(core, spec) for core in image.cores]


def validate(image: Image, spec: HardwareSpec | None = None, *, profiles: bool = True) -> list[CoreUsage]:
    """Check every per-core limit of ``spec``; raise :class:`ResourceError` on the first excess.

    ``profiles=False`` skips the profile-table counts (distinct compartment
    settings, thresholds, synapse formats, vmin/vmax pairs, learning profiles,
    distinct trace settings of the learning profiles), as conformance
    vectors need. Register ranges are checked when the tables are built.
    Returns the per-core usage.
    """
    spec = spec or image.spec
    for core in image.cores:
        if core.index >= spec.cores_per_chip:
            raise ResourceError(
                f"chip {core.chip} core {core.index}: a chip holds {spec.cores_per_chip} cores (0..{spec.cores_per_chip - 1})"
            )
    out = []
    for core in image.cores:
        use = core_usage(core, spec)
        for name, limit in core_limits(spec).items():
            if not profiles and name in PROFILE_RESOURCES:
                continue
            value = getattr(use, name)
            if value > limit:
                raise ResourceError(
                    f"chip {core.chip} core {core.index}: uses {value} {name.replace('_', ' ')}; "
                    f"the limit is {limit} (over by {value - limit})"
                )
        out.append(use)
    return out
