"""Write the saved board images the format tests load (run once per new format version).

    PYTHONPATH=. python tests/data/make_board_files.py

``board-v1.npz`` (format ``loihi-image/1``) and ``board-v3.npz`` (format
``loihi-image/3``) hold the same image: a random recurrent network of 30
compartments on three cores of two chips, with delays, external inputs and
a plastic projection (one learning profile). ``board-expected.npz`` holds
the inputs it was run with and what it gave (spikes, v and the plastic
weights after each step), so a later version of the loader must reproduce it.
``board-v4.npz`` (format ``loihi-image/4``) is the same board with compartment
noise (docs/noise.md) on two of its three cores and a reward input (axon 3,
docs/reward.md) read by its learning rule; ``board-v4-expected.npz``
holds what it gave with seed 11. ``board-v5.npz`` (format ``loihi-image/5``) is
a compiled network of two-branch neurons (dendritic joins add, and, or;
docs/dendrites.md) on two cores; ``board-v5-expected.npz`` holds what it gave.
Existing files are never rewritten: a format's saved file is kept as it was.
"""

from __future__ import annotations

import os

import numpy as np

from loihi_emu import LOIHI1, Emulator, build_image
from loihi_emu.image.file import save as save_v1
from loihi_emu.image.profiles import LearningProfile
from loihi_emu.image.store import save as save_store  # the format the store writes today (5)

save_v3 = None  # board-v3.npz was written by the format-3 store; it is kept, never rewritten

HERE = os.path.dirname(os.path.abspath(__file__))
PROBES = ("spikes", "v", "w")
STEPS = 40


def board(noise: bool = False):
    rng = np.random.default_rng(13)
    n, n_in, m, s = 30, 4, 260, LOIHI1
    regs = dict(decay_u_reg=rng.integers(100, 1000, n), decay_v=rng.integers(50, 800, n),
                vth_mant=rng.integers(20, 200, n), bias_mant=rng.integers(0, 300, n), bias_exp=rng.integers(0, 3, n),
                refract=rng.integers(1, 4, n), vmin=np.full(n, s.v_min_limit), vmax=np.full(n, s.v_max_limit))
    core_of = np.where(np.arange(n) < 12, 0, np.where(np.arange(n) < 20, 1, s.cores_per_chip + 2))
    if noise:  # one setting per core: into u2 on core 0, into q on the core of chip 1, none on core 1
        regs.update(noise_mode=np.where(np.arange(n) < 12, 2, np.where(np.arange(n) < 20, 0, 1)),
                    noise_exp=np.where(np.arange(n) < 12, 13, 11), noise_offset=np.where(np.arange(n) < 12, 1, -2))
    learn = np.where(rng.random(m) < 0.4, 0, -1)
    syn = dict(syn_pre=rng.integers(0, n_in + n, m), syn_post=rng.integers(0, n, m),
               syn_wmant=np.where(learn >= 0, rng.integers(-200, 200, m), rng.integers(-256, 256, m)),
               syn_wexp=rng.integers(-2, 3, m), syn_delay=rng.integers(0, 4, m), syn_learning=learn)
    prof = LearningProfile.from_rule("dw = 2^-2*x1*y0 - 2^-2*y1*x0", traces={"x1": (40, 6), "y1": (40, 6)})
    if noise:  # the v4 board also has a reward channel on input axon 3 (docs/reward.md)
        prof = LearningProfile.from_rule("dw = 2^-2*x1*y0 - 2^-2*y1*x0 + 2^-3*y0*r1",
                                         traces={"x1": (40, 6), "y1": (40, 6), "r1": (50, 5)}, reward_axon=3)
    image = build_image(regs, core_of, n_in=n_in, learning_profiles=[prof], **syn)
    inputs = (rng.random((STEPS, n_in)) < 0.3).astype(np.uint8)
    return image, inputs


def run(image, inputs, seed: int = 0) -> dict[str, np.ndarray]:
    emu = Emulator(image, probes=PROBES, seed=seed)
    emu.run(inputs.shape[0], inputs)
    return {q: emu.data[q] for q in PROBES}


def main() -> None:
    image, inputs = board()
    for name, writer in (("board-v1.npz", save_v1), ("board-v3.npz", save_v3)):
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            writer(image, path)
            print("wrote", path)
    path = os.path.join(HERE, "board-expected.npz")
    if not os.path.exists(path):
        np.savez(path, inputs=inputs, **run(image, inputs))
        print("wrote", path)
    image, inputs = board(noise=True)
    for name, make in (("board-v4.npz", lambda p: None),  # kept as written by the format-4 store
                       ("board-v4-expected.npz", lambda p: np.savez(p, inputs=inputs, **run(image, inputs, seed=11)))):
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            make(path)
            print("wrote", path)
    image, inputs = dendrite_board()
    for name, make in (("board-v5.npz", lambda p: save_store(image, p)),
                       ("board-v5-expected.npz", lambda p: np.savez(p, inputs=inputs, **run(image, inputs, seed=5)))):
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            make(path)
            print("wrote", path)


def dendrite_board():
    """Two populations of three 3-compartment neurons (an ``add`` branch and an ``and`` / ``or`` one), 9
    compartments each, compiled with 12 compartments a core: one tree population per core."""
    import dataclasses
    import warnings

    from compiler import Network, compile

    rng = np.random.default_rng(5)
    net = Network("dend-v5")
    net.add_input("x", spikes=rng.random((STEPS, 4)) < 0.2)
    for name, op in (("p", "and"), ("q", "or")):
        net.add_population(name, 3, tau_u=2, tau_v=4, vth=8.0, refractory=2, compartments={
            "soma": {}, "a": {"parent": "soma", "join": "add", "tau_v": 8},
            "b": {"parent": "soma", "join": op, "vth": 1.0}})
        for c in ("a", "b"):
            net.connect("x", name, rng.uniform(0.1, 0.6, (4, 3)), compartment=c)
    net.connect("p", "q", np.full((3, 3), 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image, _ = compile(net, dataclasses.replace(LOIHI1, compartments_per_core=12))
    return image, net.input_array(STEPS)


if __name__ == "__main__":
    main()
