"""The ``loihi-emu`` command line: conform, run, demo."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from netgen import image_on_cores, random_network

from loihi_cli.main import main
from loihi_emu import Emulator, save

VEC = Path(__file__).parent / "vectors" / "cuba"


def test_conform_folder_passes(capsys):
    assert main(["conform", str(VEC)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    n = len(list(VEC.glob("*.npz")))
    assert all(line.startswith("PASS ") for line in lines[:-1])
    assert lines[-1] == f"{n} passed, 0 failed"


def test_conform_reports_first_mismatch_and_fails(tmp_path, capsys):
    src = VEC / "cuba_00_feedforward_s9000.npz"
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["out_v"] = arrays["out_v"].copy()
    arrays["out_v"][11, 4] += 64
    np.savez(tmp_path / "broken.npz", **arrays)
    shutil.copy(src, tmp_path / "good.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert main(["conform", str(tmp_path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("FAIL feedforward-9000: out_v step 11 compartment 4: expected ")
    assert out[1] == "PASS feedforward-9000"
    assert out[2].startswith("FAIL junk.npz: ImageFileError")
    assert out[-1] == "1 passed, 2 failed"


def test_run_saves_probes(tmp_path, capsys):
    regs, syn, inputs = random_network(5, max_delay=2)
    image = image_on_cores(regs, syn, 6, np.arange(40) % 2)
    save(image, tmp_path / "b.npz")
    np.savez(tmp_path / "in.npz", spikes=inputs)
    rc = main(["run", str(tmp_path / "b.npz"), "--steps", "60", "--inputs", str(tmp_path / "in.npz"),
               "--probe", "spikes,v", "-o", str(tmp_path / "out.npz"), "--quiet"])
    assert rc == 0
    assert "ran 60 steps of 40 compartments" in capsys.readouterr().out
    emu = Emulator(image, probes=["spikes", "v"])
    emu.run(60, inputs)
    with np.load(tmp_path / "out.npz", allow_pickle=False) as out:
        np.testing.assert_array_equal(out["spikes"], emu.data["spikes"])
        np.testing.assert_array_equal(out["v"], emu.data["v"])
        np.testing.assert_array_equal(out["spike_events"], emu.data["spike_events"])


def test_run_bad_image_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "b.npz").write_bytes(b"garbage")
    assert main(["run", str(tmp_path / "b.npz"), "--steps", "3", "-o", str(tmp_path / "o.npz")]) == 1
    assert "ImageFileError" in capsys.readouterr().err


def test_demo_runs_and_reports(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["demo", "--steps", "100", "--plot", str(tmp_path / "r.png")]) == 0
    out = capsys.readouterr().out
    assert "synaptic events:" in out and "core" in out
    assert (tmp_path / "r.png").stat().st_size > 1000
