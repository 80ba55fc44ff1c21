"""Distributed runs on MPI ranks are bit-identical to one process (mpiexec subprocesses, with timeouts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loihi_emu import save
from loihi_emu.runtime.exchange_kernels import pack_numba, pack_numpy
from loihi_emu.runtime.partition_ranks import RankError, assign_chips

HERE = Path(__file__).resolve().parent
MPIEXEC = shutil.which("mpiexec") or shutil.which("mpiexec", path=str(Path(sys.executable).parent))
needs_mpi = pytest.mark.skipif(MPIEXEC is None or not __import__("importlib").util.find_spec("mpi4py"),
                               reason="no mpiexec / mpi4py (pip install 'loihi-emu[mpi]')")


def _env(extra_path: str | None = None) -> dict[str, str]:
    env = dict(os.environ, UCX_TLS="self,sm", NUMBA_NUM_THREADS="1")
    paths = [str(HERE.parent), *( [extra_path] if extra_path else []), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _mpiexec(n: int, args: list[str], cwd, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *args], cwd=cwd, env=_env(str(HERE)),
                          capture_output=True, text=True, timeout=timeout)


@needs_mpi
@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_ranks_give_the_bits_of_one_process(ranks, tmp_path):
    r = _mpiexec(ranks, ["-m", "mpi_worker", "bits", str(tmp_path)], tmp_path)
    assert f"world size {ranks}" in r.stdout, r.stdout + r.stderr  # not N singletons of another MPI
    assert r.returncode == 0 and "OK bits" in r.stdout, r.stdout + r.stderr


@needs_mpi
def test_dendritic_trees_on_two_ranks_give_the_bits_of_one_process(tmp_path):
    r = _mpiexec(2, ["-m", "mpi_worker", "dendrites", str(tmp_path)], tmp_path)
    assert r.returncode == 0 and "OK dendrites" in r.stdout, r.stdout + r.stderr


@needs_mpi
def test_a_failing_rank_stops_every_rank(tmp_path):
    r = _mpiexec(2, ["-m", "mpi_worker", "strict", str(tmp_path)], tmp_path)
    assert "world size 2" in r.stdout, r.stdout + r.stderr
    assert r.returncode != 0
    assert "rank 0 stopped" in r.stdout and "rank 1 stopped" in r.stdout, r.stdout
    assert "WrapError" in r.stdout and "RankError" in r.stdout


@needs_mpi
def test_cli_run_on_two_ranks_writes_the_one_process_results(tmp_path):
    sys.path.insert(0, str(HERE))
    from mpi_worker import static_image

    from loihi_emu import load_results

    img, inputs = static_image()
    save(img, tmp_path / "board.npz")
    np.savez(tmp_path / "in.npz", spikes=inputs[:40])
    args = ["board.npz", "--steps", "40", "--inputs", "in.npz", "--probe", "spikes,v", "--quiet"]
    one = subprocess.run([sys.executable, "-m", "loihi_cli.main", "run", *args, "-o", "one.npz"], cwd=tmp_path,
                         env=_env(), capture_output=True, text=True, timeout=240)
    assert one.returncode == 0, one.stderr
    r = _mpiexec(2, ["-m", "loihi_cli.main", "run", *args, "-o", "two.npz"], tmp_path)
    assert r.returncode == 0 and "on 2 ranks" in r.stdout, r.stdout + r.stderr
    a, b = load_results(tmp_path / "one.npz"), load_results(tmp_path / "two.npz")
    for key in ("spikes", "v", "spike_events"):
        np.testing.assert_array_equal(a.arrays[key], b.arrays[key], err_msg=key)
    # more ranks than chips: one clear message from rank 0, a non-zero exit, no output
    save(static_image(chips=2)[0], tmp_path / "board.npz")
    r = _mpiexec(3, ["-m", "loihi_cli.main", "run", *args, "-o", "three.npz"], tmp_path)
    assert r.returncode != 0 and r.stderr.count("fewer than the 3 ranks") == 1, r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "three.npz").exists()


def test_cli_under_a_launcher_without_mpi4py_says_so(tmp_path):
    fake = tmp_path / "fake"
    (fake / "mpi4py").mkdir(parents=True)
    (fake / "mpi4py" / "__init__.py").write_text("raise ImportError('no MPI here')\n")
    env = _env(str(fake))
    env["PMI_RANK"] = "0"
    r = subprocess.run([sys.executable, "-m", "loihi_cli.main", "run", "x.npz", "--steps", "3", "-o", "o.npz"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "mpi4py is not installed" in r.stderr and "Traceback" not in r.stderr


def test_chips_are_balanced_and_every_rank_gets_one():
    sizes = {c: {"synapses": s, "compartments": 10} for c, s in enumerate([100, 90, 10, 10, 5, 85])}
    owner = assign_chips(sizes, 3)
    assert sorted(set(owner.values())) == [0, 1, 2]
    load = np.zeros(3)
    for c, r in owner.items():
        load[r] += sizes[c]["synapses"]
    assert load.max() <= 110  # 100 | 90 + 10 | 85 + 10 + 5
    assert assign_chips(sizes, 3) == owner  # a pure function: every rank computes the same
    with pytest.raises(RankError, match="6 chip"):
        assign_chips(sizes, 7)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30), ranks=st.integers(1, 5))
def test_pack_kernel_matches_its_numpy_twin(seed, n, ranks):
    rng = np.random.default_rng(seed)
    per = rng.integers(0, ranks + 1, n)
    ptr = np.concatenate([[0], np.cumsum(per)]).astype(np.int64)
    peer = np.concatenate([rng.permutation(ranks)[:k] for k in per]).astype(np.int64) if ptr[-1] else \
        np.zeros(0, np.int64)
    val = rng.integers(0, 1000, ptr[-1]).astype(np.int64)
    spikes = np.flatnonzero(rng.random(n) < 0.5).astype(np.int64)
    outs = []
    for fn in (pack_numpy, pack_numba):
        counts, out = np.zeros(ranks, np.int64), np.zeros(max(ptr[-1], 1), np.int64)
        total = fn(spikes, ptr, peer, val, counts, out)
        outs.append((int(total), counts, out[:total]))
    assert outs[0][0] == outs[1][0] == int(outs[0][1].sum())
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    np.testing.assert_array_equal(outs[0][2], outs[1][2])


def test_the_chip_by_chip_digest_is_the_image_digest(tmp_path):
    sys.path.insert(0, str(HERE))
    from mpi_worker import static_image

    from loihi_emu.image.digest import image_digest, store_digest
    from loihi_emu.image.store import ImageStore

    img, _ = static_image()
    save(img, tmp_path / "b.npz")
    assert len(img.chips) == 4
    assert store_digest(ImageStore(tmp_path / "b.npz")) == image_digest(img)
    other, _ = static_image(seed=4)
    assert image_digest(other) != image_digest(img)


@needs_mpi
def test_a_launcher_of_another_mpi_is_named_not_run_as_singletons(tmp_path):
    env = _env()
    env.update(OMPI_COMM_WORLD_RANK="0", OMPI_COMM_WORLD_SIZE="2")  # what Open MPI's mpiexec sets
    r = subprocess.run([sys.executable, "-m", "loihi_cli.main", "run", "x.npz", "--steps", "3", "-o", "o.npz"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "another MPI" in r.stderr, r.stderr
