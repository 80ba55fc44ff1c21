"""Run under ``mpiexec -n R python -m mpi_worker CASE DIR`` by tests/test_mpi.py (not collected by pytest).

Every case compares a distributed run with one process on rank 0 and prints
``world size R`` and ``OK <case>`` from rank 0 when the bits agree.
"""

from __future__ import annotations

import sys

import numpy as np
from netgen import random_network
from test_learning_engine import LEARN_PROBES, RULES, plastic_net

from loihi_emu import Emulator, build_image, save
from loihi_emu.errors import LoihiError
from loihi_emu.image.inputs import InputGroup, InputProgram

COMM = None  # MPI.COMM_WORLD when run as a script (importing this module for static_image starts no MPI)


def static_image(seed: int = 3, n: int = 48, chips: int = 4, program: bool = True):
    """A random recurrent network with delays over ``chips`` chips (2 cores each), with an input program."""
    regs, syn, inputs = random_network(seed, n=n, n_in=6, n_syn=500, max_delay=4)
    rng = np.random.default_rng(seed)
    core_of = rng.integers(0, chips, n) * 128 + rng.integers(0, 2, n)
    core_of[:chips] = np.arange(chips) * 128  # every chip in use
    img = build_image(regs, core_of, n_in=6, **syn)
    if program:
        prog = InputProgram(6, (InputGroup("r", 0, 6, "rate", seed=9, arrays={"p": np.full(6, 0.25)}),))
        img = img.with_parts(prog, None)
    return img, inputs


def same(d, e, keys) -> None:
    for k in [*keys, "spike_events"]:
        if not np.array_equal(d.data[k], e.data[k]):
            raise AssertionError(f"probe {k} differs from one process")


def case_bits(out_dir: str) -> None:
    """Static net (delays, input program and explicit inputs, step()), plastic nets (det and stochastic)."""
    img, inputs = static_image()
    path = f"{out_dir}/static.npz"
    if COMM.rank == 0:
        save(img, path)
    COMM.Barrier()
    probes = ["spikes", "u", "v"]
    d = Emulator(path, probes=probes, comm=COMM)  # each rank reads its chips of the file
    d.run(25)  # the image's input program
    d.run(30, inputs[:30])
    got = [d.step([0, 3]) for _ in range(3)]
    e = Emulator(img, probes=probes)
    e.run(25)
    e.run(30, inputs[:30])
    want = [e.step([0, 3]) for _ in range(3)]
    spiked = [np.sort(np.concatenate(COMM.allgather(g))) for g in got]
    if COMM.rank == 0:
        same(d, e, probes)
        assert all(np.array_equal(a, b) for a, b in zip(spiked, want)), "step() spikes differ"
        assert d.total_spikes() == int(e.spike_counts.sum())
    else:
        d.total_spikes()
    for rounding in ("det", "stochastic"):
        core_of = np.random.default_rng(4).integers(0, 4, 14) * 128
        core_of[:4] = np.arange(4) * 128
        *_, pimg, pin = plastic_net(7, RULES[0], 1, rounding, core_of=core_of)
        d = Emulator(pimg, probes=LEARN_PROBES, comm=COMM, seed=5)
        d.run(80, pin)
        if COMM.rank == 0:
            e = Emulator(pimg, probes=LEARN_PROBES, seed=5)
            e.run(80, pin)
            same(d, e, LEARN_PROBES)
            assert (e.data["wmant"][-1] != e.data["wmant"][0]).any(), "learning changed nothing"
            got, want = d.plastic_synapses(), e.plastic_synapses()
            for k in want:
                assert np.array_equal(got[k], want[k]), f"plastic_synapses()[{k!r}] differs"
        else:
            d.plastic_synapses()


def case_strict(out_dir: str) -> None:
    """A strict wrap on one rank stops every rank with an error (no hang)."""
    regs, syn, inputs = random_network(1, n=40, n_in=6, n_syn=600, extreme=True)
    core_of = np.arange(40) % 4 * 128
    img = build_image(regs, core_of, n_in=6, **syn)
    d = Emulator(img, strict=True, comm=COMM)
    try:
        d.run(60, inputs)
    except LoihiError as exc:
        print(f"rank {COMM.rank} stopped: {type(exc).__name__}", flush=True)
        sys.exit(3)
    print(f"rank {COMM.rank} ran through", flush=True)


def case_dendrites(out_dir: str) -> None:
    """Two dendritic-tree populations on two chips, one projection between them: the bits of one process."""
    import dataclasses
    import warnings

    from compiler import Network, compile
    from loihi_emu import LOIHI1

    rng = np.random.default_rng(5)
    net = Network("dend-mpi")
    net.add_input("x", spikes=rng.random((40, 4)) < 0.2)
    for name, op in (("p", "and"), ("q", "or")):
        net.add_population(name, 3, tau_u=2, tau_v=4, vth=4.0, refractory=2, compartments={
            "soma": {}, "a": {"parent": "soma", "join": "add", "tau_v": 8},
            "b": {"parent": "soma", "join": op, "vth": 1.0}})
        for c in ("a", "b"):
            net.connect("x", name, rng.uniform(0.1, 0.6, (4, 3)), compartment=c)
    net.connect("p", "q", np.full((3, 3), 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        img, _ = compile(net, dataclasses.replace(LOIHI1, compartments_per_core=12), placement=lambda pr: [[0], [1]])
    assert len(img.chips) == 2
    inputs = net.input_array(40)
    probes = ["spikes", "v"]
    d = Emulator(img, probes=probes, comm=COMM)
    d.run(40, inputs)
    if COMM.rank == 0:
        e = Emulator(img, probes=probes)
        e.run(40, inputs)
        same(d, e, probes)
        assert e.data["spikes"].any()


if __name__ == "__main__":
    from mpi4py import MPI

    COMM = MPI.COMM_WORLD
    case, out = sys.argv[1], sys.argv[2]
    if COMM.rank == 0:
        print(f"world size {COMM.size}", flush=True)
    globals()[f"case_{case}"](out)
    COMM.Barrier()
    if COMM.rank == 0:
        print(f"OK {case}", flush=True)
