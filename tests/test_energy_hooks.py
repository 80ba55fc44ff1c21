"""The energy estimate is reachable from the Simulator and from ``loihi-emu run --energy``."""

from __future__ import annotations

import numpy as np
import pytest

import loihi_cli.main as cli
from compiler import Network, RateEncoder, Simulator, compile
from loihi_emu import save
from loihi_emu.energy import estimate_energy
from loihi_emu.errors import ProbeError
from loihi_emu.results import load_results


def _net() -> Network:
    net = Network("energy-hooks")
    net.add_input("in", encoder=RateEncoder(0.3, size=10, seed=2))
    net.add_population("a", 6, tau_u=3, tau_v=8, vth=1.0)
    net.connect("in", "a", weights=np.full((10, 6), 0.4))
    return net


def test_simulator_energy_equals_the_estimate_of_its_own_run():
    sim = Simulator(_net(), probes=[("a", "spikes")], energy=True)
    sim.run(40)
    rep = sim.energy("davies2018")
    again = estimate_energy(sim.image, sim.emulator.data, "davies2018", inputs=sim.input_array())
    assert rep.steps == 40 and rep.total_energy > 0
    assert rep.total_energy == again.total_energy and rep.total_time == again.total_time
    # another profile charges the same counts differently
    assert sim.energy("sanafe_loihi").total_energy != rep.total_energy


def test_simulator_energy_needs_the_option():
    sim = Simulator(_net(), probes=[("a", "spikes")])
    sim.run(5)
    with pytest.raises(ProbeError, match="energy=True"):
        sim.energy()


def test_run_energy_prints_and_saves_the_estimate(tmp_path, capsys):
    image, _ = compile(_net())
    save(image, tmp_path / "b.npz")
    out = tmp_path / "out.npz"
    assert cli.main(["run", str(tmp_path / "b.npz"), "--steps", "40", "--energy", "-o", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    sim = Simulator(_net(), probes=[("a", "spikes")], energy=True)
    sim.run(40)
    expected = sim.energy("davies2018")
    res = load_results(out)
    np.testing.assert_array_equal(res.extras["energy_step_J"], expected.per_step["energy"])
    assert "J" in printed
