"""The CLI helpers of ``loihi-emu run --energy`` and the per-core plot."""

from __future__ import annotations

import argparse
import io

import numpy as np
import pytest

from loihi_cli import energy_out
from loihi_emu import Emulator, build_image
from loihi_emu.energy import EnergyProfileError, estimate_energy

BIG = (1 << 23) - 1


def small():
    regs = dict(decay_u_reg=4095, decay_v=0, vth_mant=1, bias_mant=[0, 0, 0, 2], bias_exp=0, refract=1, vmin=-BIG,
                vmax=BIG)
    regs = {k: np.broadcast_to(np.asarray(v), (4,)).copy() for k, v in regs.items()}
    image = build_image(regs, [0, 0, 4, 16], n_in=1, syn_pre=[0, 1, 2], syn_post=[0, 2, 3], syn_wmant=[2, 2, 2])
    inputs = np.zeros((30, 1), np.uint8)
    inputs[::3, 0] = 1
    return image, inputs


def parse(argv):
    p = argparse.ArgumentParser()
    energy_out.add_arguments(p)
    return p.parse_args(argv)


def test_run_energy_prints_and_returns_the_arrays():
    image, inputs = small()
    args = parse(["--energy"])
    assert args.energy == "davies2018"
    probes = energy_out.with_probes(args, ["u"])
    emu = Emulator(image, probes=probes)
    emu.run(30, inputs)
    out = io.StringIO()
    arrays = energy_out.report(args, image, emu.data, inputs, out=out)
    text = out.getvalue()
    rep = estimate_energy(image, emu.data, "davies2018", inputs=inputs)
    assert "energy estimate (davies2018)" in text and "  ..." in text  # 30 steps: first and last ten
    assert f"spikes {int(emu.spike_counts.sum())}, " in text and f"input spikes {int(inputs.sum())}" in text
    assert np.allclose(arrays["energy_step_J"], rep.per_step["energy"])
    assert np.allclose(arrays["energy_step_time_s"], rep.per_step["time"])
    assert list(arrays["energy_core_labels"]) == list(rep.labels)


def test_without_energy_nothing_changes():
    image, inputs = small()
    args = parse([])
    assert energy_out.with_probes(args, ["spikes"]) == ["spikes"]
    assert energy_out.report(args, image, {}, inputs, out=io.StringIO()) == {}


def test_an_unknown_profile_fails_before_the_run():
    with pytest.raises(EnergyProfileError, match="nope"):
        energy_out.with_probes(parse(["--energy", "nope"]), [])


def test_the_per_core_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from loihi_emu.energy.plot import plot_per_core

    image, inputs = small()
    args = parse(["--energy", "sanafe_loihi", "--energy-plot", str(tmp_path / "e.png")])
    emu = Emulator(image, probes=energy_out.with_probes(args, []))
    emu.run(30, inputs)
    energy_out.report(args, image, emu.data, inputs, out=io.StringIO())
    assert (tmp_path / "e.png").stat().st_size > 0
    fig = plot_per_core(estimate_energy(image, emu.data, inputs=inputs))
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) > 0
