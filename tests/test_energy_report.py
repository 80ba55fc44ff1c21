"""Energy = sum(count x cost), the step-time model, the profiles and their errors."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from loihi_emu import Emulator, build_image
from loihi_emu.energy import (
    EVENTS,
    Cost,
    EnergyProfileError,
    EventCounts,
    convert,
    energy_probes,
    estimate_energy,
    list_profiles,
    load_profile,
    profile_from_dict,
)
from loihi_emu.runtime.energy_counts import COUNT_NAMES

BIG = (1 << 23) - 1


def random_counts(steps=7, rows=4, seed=0) -> EventCounts:
    rng = np.random.default_rng(seed)
    arrays = {k: rng.integers(0, 50, (steps, rows)).astype(np.int64) for k in COUNT_NAMES}
    addr = np.array([[0, i] for i in range(rows)], np.int64)
    return EventCounts(labels=tuple(f"r{i}" for i in range(rows - 1)) + ("inputs",), addresses=addr,
                       tiles_in_use=3, **arrays)


def test_shipped_profiles_hold_the_published_numbers():
    assert {"davies2018", "sanafe_loihi"} <= set(list_profiles())
    d = load_profile("davies2018").costs
    assert d["neuron_access"].energy + d["neuron_active"].energy == pytest.approx(81e-12)
    assert d["neuron_access"].latency + d["neuron_active"].latency == pytest.approx(8.4e-9)
    assert (d["synaptic_op"].energy, d["synaptic_update"].energy) == pytest.approx((23.6e-12, 120e-12))
    assert (d["hop_ew"].latency, d["hop_ns"].latency) == pytest.approx((4.1e-9, 6.5e-9))
    s = load_profile("sanafe_loihi")
    assert s.costs["message_out"] == Cost(pytest.approx(111e-12), pytest.approx(5.1e-9))
    assert s.costs["hop_ns"].energy == pytest.approx(4.2e-12)
    # barriers: Davies 113 ns (1 tile) .. 465 ns (32 tiles); SANA-FE a table by tiles in use
    dv = load_profile("davies2018")
    assert dv.barrier(1) == pytest.approx(113e-9) and dv.barrier(32) == pytest.approx(465e-9)
    assert dv.barrier(16.5) == pytest.approx((113e-9 + 465e-9) / 2)
    assert [s.barrier(t) for t in (1, 2, 3, 4, 28, 29, 32)] == pytest.approx(
        [0.6e-6, 1.0e-6, 1.0e-6, 1.4e-6, 1.4e-6, 1.8e-6, 1.8e-6])


@pytest.mark.parametrize("name", ["davies2018", "sanafe_loihi"])
def test_energy_is_the_sum_of_counts_times_costs(name):
    counts = random_counts()
    rep = convert(counts, name)
    prof = rep.profile
    expect = np.zeros(counts.compartments.shape)
    for event, count in EVENTS.items():
        n = getattr(counts, count).astype(float)
        if event in ("neuron_access", "neuron_active", "spike"):
            n[:, -1] = 0  # the host's input spikes are not the chip's neuron work
        expect += n * prof.costs[event].energy
    assert np.allclose(rep.energy.sum(axis=2), expect, rtol=1e-12, atol=0)
    assert rep.total_energy == pytest.approx(expect.sum(), rel=1e-12)
    assert rep.per_step["energy"] == pytest.approx(expect.sum(axis=1), rel=1e-12)
    assert rep.per_core["energy"] == pytest.approx(expect.sum(axis=0), rel=1e-12)
    assert sum(rep.breakdown().values()) == pytest.approx(expect.sum(), rel=1e-12)


@pytest.mark.parametrize("combine", ["max", "sum"])
def test_step_time_is_the_slowest_core_plus_the_barrier(combine):
    counts = random_counts(seed=3)
    prof = replace(load_profile("sanafe_loihi"), combine=combine)
    rep = convert(counts, prof)
    c, L = counts, {k: v.latency for k, v in prof.costs.items()}
    host = np.ones(c.compartments.shape[1])
    host[-1] = 0
    send = (c.compartments * L["neuron_access"] + c.active * L["neuron_active"] + c.spikes * L["spike"]) * host \
        + c.messages * L["message_out"]
    recv = c.messages_in * L["message_in"] + c.synaptic_events * L["synaptic_op"]
    learn = c.learning_updates * L["synaptic_update"]
    work = np.maximum(send.max(1), recv.max(1)) if combine == "max" else (send + recv).max(1)
    expect = work + learn.max(1) + prof.barrier(3)
    assert rep.step_time == pytest.approx(expect, rel=1e-12)
    assert rep.total_time == pytest.approx(expect.sum(), rel=1e-12)


def test_profile_round_trips_through_a_file(tmp_path):
    prof = load_profile("sanafe_loihi")
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(prof.to_dict()))
    again = load_profile(path)
    assert again.costs.keys() == prof.costs.keys()
    assert all(again.costs[k].energy == pytest.approx(prof.costs[k].energy) for k in prof.costs)
    assert again.barrier(5) == pytest.approx(prof.barrier(5))
    assert load_profile(again) is again


def _broken(**change):
    d = load_profile("davies2018").to_dict()
    for path, value in change.items():
        *keys, last = path.split("__")
        node = d
        for k in keys:
            node = node[k]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return d


@pytest.mark.parametrize("change, message", [
    ({"format": "v0"}, "format"),
    ({"events__spike": None}, "lacks spike"),
    ({"events__spike__energy_pJ": -1.0}, r"events.spike.energy_pJ = -1.0"),
    ({"events__spike__colour": 1}, "unknown key"),
    ({"barrier__mode": "cubic"}, "barrier.mode"),
    ({"barrier__tiles": [4, 2]}, "must increase"),
    ({"barrier__tiles": [1.5, 32]}, "whole numbers"),
    ({"latency": {"combine": "min"}}, "latency.combine"),
])
def test_bad_profiles_name_the_key(change, message):
    with pytest.raises(EnergyProfileError, match=message):
        profile_from_dict(_broken(**change), "mine.json")


def test_unknown_profiles_and_bad_files_are_typed_errors(tmp_path):
    with pytest.raises(EnergyProfileError, match="no cost profile named 'nope'"):
        load_profile("nope")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": ')
    with pytest.raises(EnergyProfileError, match="bad.json: not JSON.*line 1"):
        load_profile(bad)


def test_a_sanafe_run_reproduced_step_by_step():
    """SANA-FE 2.2.9 on this network (loihi.yaml, timing_model="simple"; inputs on core 3) printed
    these per-step energies and times; benchmarks/compare_sanafe.py checks larger networks."""
    r = dict(decay_u_reg=4095, decay_v=0, vth_mant=2, bias_mant=0, bias_exp=0, refract=1, vmin=-BIG, vmax=BIG)
    image = build_image(r, np.array([0, 0, 5]), n_in=2, syn_pre=[0, 0, 3], syn_post=[0, 1, 2], syn_wmant=[1, 3, 3])
    inputs = np.zeros((5, 2), np.uint8)
    inputs[[0, 2, 3], 0] = 1
    emu = Emulator(image, probes=energy_probes())
    emu.run(5, inputs)
    rep = estimate_energy(image, emu.data, "sanafe_loihi", inputs=inputs, input_core=(0, 3))
    assert rep.per_step["energy"] == pytest.approx([3.356e-10, 4.168e-10, 4.481e-10, 5.988e-10, 5.770e-10], rel=1e-9)
    assert rep.per_step["time"] == pytest.approx([1.0236e-06, 1.0545e-06, 1.0397e-06, 1.0545e-06, 1.0845e-06],
                                                 rel=1e-9)
    text = rep.summary()
    assert "sanafe_loihi" in text and "2 tiles" in text and "chip 0 core 0" in text
