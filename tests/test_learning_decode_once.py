"""A learning rule is decoded once, when its table is built or loaded, and never again downstream."""

from __future__ import annotations

import numpy as np
import pytest

import loihi_emu.image.tables as tables
from compiler import Network, RateEncoder, compile
from loihi_emu import Emulator, load, save
from loihi_emu.image import validate


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = tables.disassemble

    def counting(code, spec):
        calls.append(len(code))
        return real(code, spec)

    monkeypatch.setattr(tables, "disassemble", counting)
    return calls


def _plastic_net() -> Network:
    net = Network("plastic")
    net.add_input("in", encoder=RateEncoder(0.2, size=20, seed=3))
    net.add_population("out", 4, tau_u=4, tau_v=10, vth=1.0)
    net.connect("in", "out", weights=np.full((20, 4), 0.1), learning_rule="2^-4*x1*y0 - 2^-4*y1*x0",
                traces={"x1": (20, 8), "y1": (20, 8)}, w_max=0.5)
    return net


def test_compile_validate_run_and_reload_decode_each_profile_once(decodes, tmp_path):
    image, _ = compile(_plastic_net())
    n_profiles = sum(c.learning.n for c in image.cores if c.learning is not None)
    assert n_profiles >= 1
    built = len(decodes)
    assert built == n_profiles  # building the image decoded each profile exactly once
    validate(image)
    emu = Emulator(image)
    emu.run(20, _plastic_net().input_array(20))
    assert len(decodes) == built  # limits, the report and the learning tables reused the decoded programs
    save(image, tmp_path / "p.npz")
    load(tmp_path / "p.npz")
    assert len(decodes) == built + n_profiles  # loading decodes once more, and only once
