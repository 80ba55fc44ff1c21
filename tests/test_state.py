"""Checkpoints: save_state/load_state resume bit-identically, with learning and delays in flight; bad files are typed."""

import json
import os

import numpy as np
import pytest
from test_learning_engine import LEARN_PROBES, plastic_net

from loihi_emu import Emulator
from loihi_emu.errors import StateFileError
from loihi_emu.runtime.state import FORMAT

RULE = "dw = 2^-2*x1*y0 - 2^-3*y1*x0; dd = x0*sgn(w) - 2^-1*y0; dt = y0*(x2 + 1) - u2*sgn(t)"


@pytest.mark.parametrize("rounding, epoch, cut, backend", [("det", 1, 37, "numba"), ("stochastic", 3, 41, "numpy"),
                                                           ("stochastic", 2, 9, "numba")])
def test_resumed_run_is_bit_identical(tmp_path, rounding, epoch, cut, backend):
    _, _, _, image, inputs = plastic_net(3, rule=RULE, epoch=epoch, rounding=rounding, max_delay=6,
                                         core_of=np.arange(14) % 3)
    steps = inputs.shape[0]
    full = Emulator(image, seed=5, probes=LEARN_PROBES)
    full.run(steps, inputs)
    first = Emulator(image, seed=5, probes=LEARN_PROBES)
    first.run(cut, inputs[:cut])
    assert np.any(first._ring), "the test needs spikes in flight at the cut"
    first.save_state(tmp_path / "s.npz")
    second = Emulator(image, seed=5, probes=LEARN_PROBES, backend=backend)
    second.load_state(tmp_path / "s.npz")
    assert second.t == cut
    second.run(steps - cut, inputs[cut:])
    for k in LEARN_PROBES + ["spike_events"]:
        np.testing.assert_array_equal(second.data[k], full.data[k], err_msg=k)
    assert second.synaptic_events == full.synaptic_events and second.wraps == full.wraps
    np.testing.assert_array_equal(second.spike_counts, full.spike_counts)


def test_state_only_loads_into_the_same_image_seed_and_probes(tmp_path):
    _, _, _, image, inputs = plastic_net(4, rounding="stochastic")
    emu = Emulator(image, seed=1, probes=["spikes", "w"])
    emu.run(10, inputs[:10])
    emu.save_state(tmp_path / "s.npz")
    other_image = plastic_net(5)[3]
    for make in (lambda: Emulator(image, seed=2, probes=["spikes", "w"]),
                 lambda: Emulator(image, seed=1, probes=["spikes"]),
                 lambda: Emulator(other_image, seed=1, probes=["spikes", "w"])):
        fresh = make()
        with pytest.raises(StateFileError, match="belongs to another image, seed or probe set"):
            fresh.load_state(tmp_path / "s.npz")
        assert fresh.t == 0


def _rewrite(src, dst, **changes):
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    np.savez(dst, **arrays)


def test_malformed_checkpoints_are_typed_and_change_nothing(tmp_path):
    _, _, _, image, inputs = plastic_net(6)
    emu = Emulator(image, probes=["spikes", "v"])
    emu.run(12, inputs[:12])
    src = tmp_path / "s.npz"
    emu.save_state(src)
    with np.load(src) as f:
        header = json.loads(str(f["header"]))
        u = f["state.u"]
    cases = {
        "format": dict(header=np.array(json.dumps(dict(header, format="loihi-state/0")))),
        "t": dict(header=np.array(json.dumps(dict(header, t=-3)))),
        "missing": {"state.u": None},
        "dtype": {"state.u": u.astype(np.int64)},
        "shape": {"state.u": u[:-1]},
        "probe": {"probe.v": np.zeros((12, 3), np.int32)},
    }
    for name, change in cases.items():
        dst = tmp_path / f"{name}.npz"
        _rewrite(src, dst, **change)
        fresh = Emulator(image, probes=["spikes", "v"])
        with pytest.raises(StateFileError):
            fresh.load_state(dst)
        assert fresh.t == 0 and not fresh.u.any() and len(fresh.data["v"]) == 0, name
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(StateFileError, match="not a readable .npz"):
        Emulator(image).load_state(tmp_path / "junk.npz")
    assert header["format"] == FORMAT


def test_save_state_is_atomic(tmp_path, monkeypatch):
    _, _, _, image, inputs = plastic_net(6)
    emu = Emulator(image)
    emu.run(5, inputs[:5])
    emu.save_state(tmp_path / "s.npz")
    good = (tmp_path / "s.npz").read_bytes()

    def full_disk(fh, **arrays):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(OSError, match="No space left"):
        emu.save_state(tmp_path / "s.npz")
    assert (tmp_path / "s.npz").read_bytes() == good and os.listdir(tmp_path) == ["s.npz"]
