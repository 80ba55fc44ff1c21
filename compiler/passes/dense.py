"""Dense packing: thresholds from a few shared profiles, each compartment's own threshold folded into its scale.

A core holds at most ``max_threshold_profiles`` (8) distinct thresholds. With
one scale per population (:mod:`compiler.passes.quantize`, packing
``"exact"``) every compartment with its own threshold is its own profile, so
heterogeneous populations fill 8 compartments per core. Dense packing gives
every compartment ``j`` its own scale ``s_j`` (v units per model unit) instead:

    vth_mant_j = T_p   (one of at most K network-wide profile values),
    s_j        = T_p * 2^6 / vth_j,

and maps its bias and every weight into it with ``s_j``. In real arithmetic
this is exact (the dynamics only see ``w / vth`` and ``bias / vth``); the
threshold itself is now exact, and what it costs is mantissa rounding, which
the profile choice keeps small:

* **Fill.** ``f_j = min over incoming projections P of M_P 2^6 / max_i |w_ij|``
  is the scale at which compartment j's strongest weight fills the mantissa
  at exponent 0 (the exact packing uses the population minimum of this).
* **Scale up, not down.** Exponents are per synapse (one synapse format per
  (weight bits, exponent, sign) on a core), so multiplying ``s_j`` by ``2^k``
  costs the strongest weights nothing (they move to exponent k) and gives
  every weaker weight k more mantissa bits, and the integer decays k more
  bits. A factor between powers of two costs the strongest weights
  ``ceil(x) - x`` bits (``x = log2(s_j / f_j)``); going below ``f_j`` costs
  ``log2(f_j / s_j)`` bits on every weight.
* **Headroom.** ``s_j`` stays at or below ``f_j`` times ``2^(n_exp - 1)``
  (the exponents the format budget leaves), the register ranges, and, unless
  ``f_j`` itself is higher, ``vth_mant <= 2^(17 - headroom_bits)``,
  ``s_j sum_i |w_ij| <= 2^21 - 1`` and ``s_j (sum_i |w_ij| / d_u + |bias_j|)
  <= 2^23 - 1``: scaling up can never make q, u or u2 wrap, even with every
  input spiking in every step.
* **Profiles.** The K values are chosen network-wide (so a core never holds
  more than K and placement cannot change a register) by greedy selection
  over candidate values, minimizing the summed cost in bits ``lost + gamma *
  unused headroom`` over all compartments, each compartment taking its
  cheapest profile under its ceiling.
* **Budget.** A population whose strongest weights lose more than
  ``budget_bits`` more than under the exact packing (mean over compartments;
  the exact packing's one scale per population leaves compartment j
  ``log2(f_j / s_pop)`` bits below its own fill) is quantized exactly
  instead. Populations with a fixed ``v_scale``, a plastic or fixed-exponent
  incoming projection, or a nonzero vmin/vmax are always exact.

Decay-gain compensation (per population, either packing) multiplies the
weights into a compartment by ``d_u' / d_u`` and its weights and bias by
``d_v' / d_v`` (``d'``: the decay fraction the registers hold), so the
steady-state u and v match the float model.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from compiler.errors import QuantizationError
from compiler.passes.quantize import (
    ErrorRow,
    ProjectionWeights,
    QuantizationTable,
    QuantizedNetwork,
    error_row,
    format_step,
    max_mantissa,
    projection_format,
    quantize_bias,
    weight_exponent,
)
from loihi_emu.hw import HardwareSpec

Q_LIMIT = 2**21 - 1  # input accumulator magnitude (SEMANTICS.md §2)
U_LIMIT = 2**23 - 1  # current magnitude


@dataclass
class DenseSettings:
    """Knobs of dense packing (see the module docstring). Units: bits of mantissa."""

    max_profiles: int | None = None  # None: spec.max_threshold_profiles
    headroom_bits: int = 3
    budget_bits: float = 0.25
    gamma: float = 0.05
    candidates: int = 192


@dataclass
class DenseSummary:
    """What dense packing chose: the profile values (vth_mant), per population the mean and worst bits the
    strongest weights lost and the mean bits of headroom used to scale up (``gain``), exponents per format
    class, and the populations kept exact (with why)."""

    profiles: list[int] = field(default_factory=list)
    lost_mean: dict[str, float] = field(default_factory=dict)
    vs_exact: dict[str, float] = field(default_factory=dict)
    lost_max: dict[str, float] = field(default_factory=dict)
    gain_mean: dict[str, float] = field(default_factory=dict)
    exponents: int = 0
    exact: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"profiles": list(self.profiles), "lost_mean": self.lost_mean, "vs_exact": self.vs_exact,
                "lost_max": self.lost_max,
                "gain_mean": self.gain_mean, "exponents": self.exponents, "exact": self.exact}

    def to_text(self) -> str:
        lines = [f"dense threshold profiles (vth_mant): {self.profiles}; exponents per format class: "
                 f"0..{self.exponents - 1}"]
        for name in self.lost_mean:
            lines.append(f"  {name:<20} strongest weights lose {self.lost_mean[name]:.3f} bits (mean), "
                         f"{self.lost_max[name]:.3f} (worst), {self.vs_exact[name]:+.3f} against exact; "
                         f"scaled up {self.gain_mean[name]:.2f} bits (mean)")
        for name, why in self.exact.items():
            lines.append(f"  {name:<20} exact: {why}")
        return "\n".join(lines)


def decay_gains(net, q: QuantizedNetwork, names, spec: HardwareSpec) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per population in ``names``: (weight gain, bias gain) per compartment compensating rounded decays."""
    out = {}
    for pop, regs in zip(net.populations, q.populations):
        if pop.name not in names:
            continue
        gu = np.ones(pop.size)
        gv = np.ones(pop.size)
        one = spec.decay_one
        if pop.tau_u is not None:
            gu = ((regs.decay_u_reg + 1) / one) / (1.0 / pop.tau_u)
        if pop.tau_v is not None:
            dv = 1.0 / pop.tau_v
            with np.errstate(divide="ignore", invalid="ignore"):
                gv = np.where((dv > 0) & (regs.decay_v > 0), (regs.decay_v / one) / dv, 1.0)
        out[pop.name] = (gu * gv, gv)
    return out


def _why_exact(pop, incoming) -> str | None:
    if pop.v_scale is not None:
        return "v_scale is fixed"
    for proj in incoming:
        if proj.plastic:
            return f"plastic projection from {proj.pre!r}"
        if proj.weight_exp is not None:
            return f"weight_exp fixed on the projection from {proj.pre!r}"
    for name in ("vmin", "vmax"):
        v = getattr(pop, name)
        if v is not None and np.any(v != 0):
            return f"{name} is set (one vmin/vmax profile per core)"
    return None


@dataclass
class _Need:
    """Per dense compartment (concatenated over dense populations): log2 fill, ceiling and target in vth_mant."""

    a: np.ndarray
    c: np.ndarray
    weighted: np.ndarray
    pop: np.ndarray


def _fill_and_caps(pop, incoming, spec: HardwareSpec, n_exp: int, settings: DenseSettings, d_u: np.ndarray,
                   gain: np.ndarray, bias_gain: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log2 of the fill threshold and of the ceiling (both in vth_mant units), and whether j has weights."""
    n = pop.size
    fill = np.full(n, np.inf)
    absum = np.zeros(n)
    for proj in incoming:
        if proj.n == 0:
            continue
        m = max_mantissa(*projection_format(proj, spec), spec)
        w = np.abs(proj.weight) * gain[proj.post_index]
        mx = np.zeros(n)
        np.maximum.at(mx, proj.post_index, w)
        np.add.at(absum, proj.post_index, w)
        with np.errstate(divide="ignore"):
            fill = np.minimum(fill, np.where(mx > 0, m * 2.0**spec.weight_shift / mx, np.inf))
    weighted = np.isfinite(fill)
    hard = spec.vth_mant_max * 2.0**spec.vth_shift / pop.vth
    b = np.abs(pop.bias) * bias_gain
    with np.errstate(divide="ignore"):
        hard = np.minimum(hard, np.where(b > 0, (spec.bias_mant_max - 0.5) * 2.0**spec.bias_exp_max / b, np.inf))
        head = 2.0 ** (spec.vth_mant_bits - settings.headroom_bits + spec.vth_shift) / pop.vth
        head = np.minimum(head, np.where(absum > 0, Q_LIMIT / absum, np.inf))
        # u = u (1 - d_u) + q never exceeds sum|w| / d_u, and u2 = u + bias must stay in 23 bits
        head = np.minimum(head, np.where(absum > 0, U_LIMIT / (absum / d_u + b), np.inf))
    ceil = np.minimum(hard, np.where(weighted, np.minimum(fill * 2.0 ** (n_exp - 1), np.maximum(fill, head)), hard))
    fill = np.minimum(np.where(weighted, fill, ceil), ceil)
    to_t = pop.vth / 2.0**spec.vth_shift
    return np.log2(fill * to_t), np.log2(ceil * to_t), weighted


def _costs(need: _Need, t: np.ndarray, logv: np.ndarray, gamma: float) -> np.ndarray:
    """Cost in bits [compartments, candidates]; inf where a candidate is above a compartment's ceiling."""
    lv = logv[None, :]
    a, c, tt = need.a[:, None], need.c[:, None], t[:, None]
    below = a - lv
    lost = np.where(lv < a, below, np.mod(tt - lv, 1.0))
    lost = np.where(need.weighted[:, None], lost, 0.0)
    cost = lost + gamma * np.maximum(c - lv, 0.0)
    return np.where(lv <= c + 1e-9, cost, np.inf)


def choose_profiles(need: _Need, k: int, settings: DenseSettings) -> np.ndarray:
    """At most ``k`` vth_mant values (int64, ascending) minimizing the summed cost (greedy, deterministic)."""
    t = np.where(need.weighted, need.a + np.floor(need.c - need.a + 1e-9), need.c)
    # compress compartments with (nearly) the same needs; weight each group by its size
    key = np.stack([np.round(need.a * 64), np.round(need.c * 64), need.weighted], axis=1)
    uniq, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    first = np.zeros(uniq.shape[0], np.int64)
    first[inv.ravel()[::-1]] = np.arange(inv.size)[::-1]
    g = _Need(need.a[first], need.c[first], need.weighted[first], need.pop[first])
    tg = t[first]
    cand = np.unique(np.floor(2.0 ** np.concatenate([tg, tg - 1.0, g.c])).astype(np.int64))
    cand = cand[cand >= 1]
    if cand.size > settings.candidates:
        cand = np.unique(cand[np.linspace(0, cand.size - 1, settings.candidates).round().astype(np.int64)])
    floor_all = int(np.floor(2.0 ** min(tg.min(), g.c.min())))
    cand = np.unique(np.concatenate([cand, [max(floor_all, 1)]]))
    cost = _costs(g, tg, np.log2(cand.astype(np.float64)), settings.gamma)
    feasible_all = np.isfinite(cost).all(axis=0)
    w = counts.astype(np.float64)
    total = np.where(feasible_all, (np.where(np.isfinite(cost), cost, 0) * w[:, None]).sum(axis=0), np.inf)
    chosen = [int(np.argmin(total))]
    best = cost[:, chosen[0]].copy()
    for _ in range(k - 1):
        gain = (np.maximum(best[:, None] - cost, 0.0) * w[:, None]).sum(axis=0)
        gain[chosen] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 1e-12:
            break
        chosen.append(j)
        best = np.minimum(best, cost[:, j])
    return np.sort(cand[chosen])


def _assign(need: _Need, t: np.ndarray, profiles: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Profile value (vth_mant) of every compartment and the bits its strongest weights lose."""
    logv = np.log2(profiles.astype(np.float64))
    cost = _costs(need, t, logv, gamma)
    idx = np.argmin(cost, axis=1)
    lv = logv[idx]
    lost = np.where(lv < need.a, need.a - lv, np.mod(t - lv, 1.0))
    return profiles[idx], np.where(need.weighted, lost, 0.0)


def _weights(proj, pw: ProjectionWeights, s_post: np.ndarray, gain: np.ndarray, n_exp: int,
             spec: HardwareSpec) -> tuple[ProjectionWeights, ErrorRow]:
    """Per-synapse exponent and mantissa of a projection into a dense population."""
    bits, sign = pw.weight_bits, pw.sign_mode
    p, m = format_step(bits, sign, spec), max_mantissa(bits, sign, spec)
    scale = s_post[proj.post_index] * gain[proj.post_index]
    x = proj.weight * scale / 2.0**spec.weight_shift
    e = np.zeros(x.size, np.int64)
    ax = np.abs(x)
    for k in range(1, n_exp):
        e[ax > m * 2.0 ** (k - 1)] = k
    if (ax > m * 2.0**e * (1 + 1e-9)).any():  # pragma: no cover - the ceiling rules it out
        raise QuantizationError(f"{proj.label}: dense packing put a weight beyond its format")
    wmant = np.clip(np.rint(x / (2.0**e * p)) * p, -m, m).astype(np.int16)
    quant = wmant * 2.0 ** (e + spec.weight_shift) / scale
    row = error_row(proj.label, "weight", "model", proj.weight, quant)
    return replace(pw, wmant=wmant, weight_exp=int(e.max()) if e.size else 0, wexp=e.astype(np.int8)), row


def densify(net, q: QuantizedNetwork, spec: HardwareSpec, settings: DenseSettings | None = None,
            gains: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> tuple[QuantizedNetwork, DenseSummary]:
    """``q`` (the exact quantization of ``net``) with the eligible populations re-quantized densely."""
    settings = settings or DenseSettings()
    gains = gains or {}
    k = settings.max_profiles or spec.max_threshold_profiles
    summary = DenseSummary()
    incoming: dict[str, list] = {}
    for proj in net.projections:
        incoming.setdefault(proj.post, []).append(proj)
    dense = []
    for pop in net.populations:
        why = _why_exact(pop, incoming.get(pop.name, []))
        if why is None:
            dense.append(pop)
        else:
            summary.exact[pop.name] = why
    if not dense:
        return q, summary
    names = {p.name for p in dense}
    classes = {projection_format(pr, spec) for pr in net.projections if pr.post in names}
    fixed = frozenset().union(*[pw.format_keys() for pw in q.projections if pw.post not in names])
    n_exp = int(np.clip((spec.max_synapse_formats - len(fixed)) // max(len(classes), 1), 1, spec.weight_exp_max + 1))
    summary.exponents = n_exp
    one = lambda pop: np.ones(pop.size)  # noqa: E731
    index = {p.name: i for i, p in enumerate(net.populations)}
    for _ in range(2):  # a second round without the populations over budget
        parts = []
        for i, pop in enumerate(dense):
            d_u = (q.populations[index[pop.name]].decay_u_reg + 1) / spec.decay_one
            a, c, wt = _fill_and_caps(pop, incoming.get(pop.name, []), spec, n_exp, settings, d_u,
                                      *gains.get(pop.name, (one(pop), one(pop))))
            if (c < 0).any():
                j = int(np.flatnonzero(c < 0)[0])
                raise QuantizationError(f"{pop.label}: vth[{j}] = {pop.vth[j]:g} is below one threshold step at "
                                        f"the largest scale its bias and weights allow")
            parts.append((a, c, wt, np.full(pop.size, i)))
        need = _Need(*[np.concatenate(x) for x in zip(*parts)])
        profiles = choose_profiles(need, k, settings)
        t = np.where(need.weighted, need.a + np.floor(need.c - need.a + 1e-9), need.c)
        vth_t, lost = _assign(need, t, profiles, settings.gamma)
        # the budget is against the exact packing: its one scale per population leaves compartment j
        # log2(fill_j / s_pop) bits below its own fill already
        excess = {}
        for i, p in enumerate(dense):
            sel = need.pop == i
            regs = q.populations[index[p.name]]
            exact_t = np.log2(regs.v_scale * p.vth / 2.0**spec.vth_shift)
            lost_exact = np.where(need.weighted[sel], np.maximum(need.a[sel] - exact_t, 0.0), 0.0)
            excess[p.name] = float((lost[sel] - lost_exact).mean())
        over = [p for p in dense if excess[p.name] > settings.budget_bits]
        if not over:
            break
        for p in over:
            summary.exact[p.name] = (f"dense packing would lose {excess[p.name]:.2f} more bits than exact "
                                     f"(budget {settings.budget_bits})")
        dense = [p for p in dense if p not in over]
        if not dense:
            return q, summary
    summary.profiles = [int(v) for v in profiles]
    pops = list(q.populations)
    pw_list = list(q.projections)
    labels = {p.label for p in dense}
    rows = [r for r in q.table.rows if not (r.item in labels and r.quantity in ("vth", "bias"))]
    drop = {pr.label for pr in net.projections if pr.post in {p.name for p in dense}}
    rows = [r for r in rows if r.item not in drop]
    scales = {}
    for i, pop in enumerate(dense):
        sel = need.pop == i
        gw, gb = gains.get(pop.name, (one(pop), one(pop)))
        vth_mant = vth_t[sel].astype(np.int64)
        s = vth_mant * 2.0**spec.vth_shift / pop.vth
        scales[pop.name] = (s, gw)
        summary.lost_mean[pop.name] = float(lost[sel].mean())
        summary.vs_exact[pop.name] = excess[pop.name]
        summary.lost_max[pop.name] = float(lost[sel].max())
        summary.gain_mean[pop.name] = float(np.mean(np.log2(vth_mant) - need.a[sel]))
        bm, be = quantize_bias(s * gb * pop.bias, spec)
        old = pops[index[pop.name]]
        vmin = np.full(pop.size, spec.v_min_limit) if pop.vmin is None else np.zeros(pop.size, np.int64)
        vmax = np.full(pop.size, spec.v_max_limit) if pop.vmax is None else np.zeros(pop.size, np.int64)
        pops[index[pop.name]] = replace(old, v_scale=float(np.median(s)), vth_mant=vth_mant, bias_mant=bm,
                                        bias_exp=be, vmin=vmin.astype(np.int64), vmax=vmax.astype(np.int64),
                                        scales=s)
        rows.append(error_row(pop.label, "vth", "model", pop.vth, vth_mant * 2.0**spec.vth_shift / s))
        rows.append(error_row(pop.label, "bias", "model", pop.bias, bm * 2.0**be / (s * gb)))
    for j, (proj, pw) in enumerate(zip(net.projections, q.projections)):
        if proj.post in scales:
            s, gw = scales[proj.post]
            pw_list[j], row = _weights(proj, pw, s, gw, n_exp, spec)
            rows.append(row)
    return QuantizedNetwork(pops, pw_list, QuantizationTable(rows)), summary


def compensate_exact(net, q: QuantizedNetwork, gains: dict[str, tuple[np.ndarray, np.ndarray]],
                     spec: HardwareSpec) -> QuantizedNetwork:
    """Decay-gain compensation for populations kept at one scale: weights and bias times the gains."""
    if not gains:
        return q
    pops, pws, rows = list(q.populations), list(q.projections), list(q.table.rows)
    for i, (pop, regs) in enumerate(zip(net.populations, q.populations)):
        if pop.name in gains and regs.scales is None:
            bm, be = quantize_bias(regs.v_scale * gains[pop.name][1] * pop.bias, spec)
            pops[i] = replace(regs, bias_mant=bm, bias_exp=be)
    for j, (proj, pw) in enumerate(zip(net.projections, q.projections)):
        regs = q.populations[[p.name for p in net.populations].index(proj.post)]
        if proj.post not in gains or regs.scales is not None or proj.n == 0:
            continue
        p, m = format_step(pw.weight_bits, pw.sign_mode, spec), max_mantissa(pw.weight_bits, pw.sign_mode, spec,
                                                                               plastic=proj.plastic)
        scale = regs.v_scale * gains[proj.post][0][proj.post_index]
        x = proj.weight * scale / 2.0**spec.weight_shift
        e = weight_exponent(float(np.abs(x).max()), m, spec) if proj.weight_exp is None else proj.weight_exp
        if e is None or np.abs(x).max() > m * 2.0**e:
            raise QuantizationError(f"{proj.label}: decay-gain compensation puts the largest weight beyond "
                                    f"{m} * 2^{spec.weight_exp_max}; turn it off for {proj.post!r}")
        wmant = (np.rint(x / (2.0**e * p)) * p).astype(np.int16)
        pws[j] = replace(pw, wmant=wmant, weight_exp=int(e))
        rows = [r for r in rows if not (r.item == proj.label and r.quantity == "weight")]
        rows.append(error_row(proj.label, "weight", "model", proj.weight, wmant * 2.0 ** (e + spec.weight_shift) / scale))
    return QuantizedNetwork(pops, pws, QuantizationTable(rows))
